package io.keywarden.operator.access.aws;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.keywarden.operator.access.Caller;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;

/**
 * Credentials sealed with the operator's real session key (read from its Secret, as a replica
 * does), issued at a chosen moment: how a test obtains credentials that expired an hour ago without
 * waiting for it.
 */
public final class MintedCredentials {

  private MintedCredentials() {}

  public static SessionTokens.Credentials issuedAt(
      KubernetesClient admin,
      String operatorNamespace,
      Caller caller,
      Instant at,
      Duration lifetime) {
    SessionKeyStore keys =
        new SessionKeyStore(
            admin,
            operatorNamespace,
            "keywarden-aws-session-keys",
            Duration.ZERO,
            Clock.systemUTC());
    return new SessionTokens(keys, new ObjectMapper(), Clock.fixed(at, ZoneOffset.UTC))
        .issue(caller, at.plus(lifetime));
  }
}
