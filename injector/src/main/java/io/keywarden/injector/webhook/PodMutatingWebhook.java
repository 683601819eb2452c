package io.keywarden.injector.webhook;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionRequest;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReview;
import io.javaoperatorsdk.webhook.admission.AdmissionController;
import io.javaoperatorsdk.webhook.admission.Operation;
import io.smallrye.common.annotation.NonBlocking;
import io.vertx.core.http.HttpServerRequest;
import jakarta.inject.Inject;
import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import java.util.List;

/**
 * The mutating admission webhook (admission.k8s.io/v1). The framework clones the pod, lets {@link
 * PodMutator} change it and answers with the JSONPatch between the two.
 */
@Path(PodMutatingWebhook.PATH)
public class PodMutatingWebhook {

  public static final String PATH = "/mutate-pods";

  private final AdmissionController<Pod> controller;
  private final PodMutator mutator;

  @Inject
  public PodMutatingWebhook(PodMutator mutator) {
    this.controller = new AdmissionController<>(mutator);
    this.mutator = mutator;
  }

  /**
   * Non-blocking: the mutation is pure in-memory work of well under a millisecond, so it runs on
   * the event loop without a worker-thread hop.
   */
  @POST
  @NonBlocking
  @Consumes(MediaType.APPLICATION_JSON)
  @Produces(MediaType.APPLICATION_JSON)
  public AdmissionReview mutate(AdmissionReview review, @Context HttpServerRequest http) {
    // The plain HTTP port exists for kubelet probes; the apiserver only ever calls over TLS.
    if (!http.isSSL()) {
      throw new NotFoundException();
    }
    return handle(review);
  }

  /** The admission logic without the transport, for tests. */
  public AdmissionReview handle(AdmissionReview review) {
    AdmissionRequest request = review.getRequest();
    if (request == null || !(request.getObject() instanceof Pod)) {
      throw new BadRequestException("expected an AdmissionReview with a Pod");
    }
    // Namespace-based rules must not depend on whether the client put the namespace in the object.
    HasMetadata pod = (HasMetadata) request.getObject();
    if (pod.getMetadata().getNamespace() == null) {
      pod.getMetadata().setNamespace(request.getNamespace());
    }
    // The framework mutates a copy, so the request still holds the pod as submitted.
    Pod submitted = (Pod) request.getObject();
    AdmissionReview answer = controller.handle(review);
    if (answer.getResponse() != null && Boolean.TRUE.equals(answer.getResponse().getAllowed())) {
      List<String> warnings =
          mutator.warnings(submitted, Operation.valueOf(request.getOperation()));
      if (!warnings.isEmpty()) {
        answer.getResponse().setWarnings(warnings);
      }
    }
    return answer;
  }
}
