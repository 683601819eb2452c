package io.keywarden.bench.restvsvertx;

import io.smallrye.common.annotation.NonBlocking;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/** Quarkus REST: the same answer on the event loop (@NonBlocking) and on a worker (the default). */
@Path("/rest/value")
public class RestResource {

  @GET
  @NonBlocking
  @Produces(MediaType.APPLICATION_JSON)
  public Response onEventLoop(@HeaderParam("Authorization") String authorization) {
    return respond(authorization);
  }

  @GET
  @Path("/worker")
  @Produces(MediaType.APPLICATION_JSON)
  public Response onWorker(@HeaderParam("Authorization") String authorization) {
    return respond(authorization);
  }

  private static Response respond(String authorization) {
    ValueAnswer answer = Answers.answer(authorization);
    if (answer == null) {
      return Response.status(401).build();
    }
    return Response.ok(answer).header("Cache-Control", "no-store").build();
  }
}
