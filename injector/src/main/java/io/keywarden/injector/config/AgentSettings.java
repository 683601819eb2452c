package io.keywarden.injector.config;

import java.util.Objects;
import java.util.Optional;

/**
 * The injector-wide part of every agent container, as one admission sees it: the CA can change
 * while the injector runs (see {@code ApiCaSource}), so each admission takes a fresh value.
 *
 * @param apiUrl the secret-value API as agents reach it
 * @param apiCaPem PEM of the CA(s) agents trust for the API; empty: the agent's system trust store
 * @param awsRegion the region app containers get with keywarden.io/aws-sdk, unless annotated
 */
public record AgentSettings(
    String image,
    String apiUrl,
    Optional<String> apiCaPem,
    boolean nativeSidecars,
    String awsRegion) {

  /** The operator's Service name; the API's generated serving certificate is issued for it. */
  public static final String OPERATOR_SERVICE = "keywarden-operator";

  public static final int API_PORT = 8443;

  /** With the default AWS region. */
  public AgentSettings(
      String image, String apiUrl, Optional<String> apiCaPem, boolean nativeSidecars) {
    this(image, apiUrl, apiCaPem, nativeSidecars, io.keywarden.contract.AwsRegion.DEFAULT);
  }

  public AgentSettings {
    Objects.requireNonNull(awsRegion, "awsRegion");
    Objects.requireNonNull(image, "image");
    Objects.requireNonNull(apiUrl, "apiUrl");
    Objects.requireNonNull(apiCaPem, "apiCaPem");
  }

  /** The settings from the configuration, without a CA. */
  public static AgentSettings from(InjectorConfig config) {
    return new AgentSettings(
        config.agentImage(),
        config.apiUrl().orElseGet(() -> defaultApiUrl(config.operatorNamespace())),
        Optional.empty(),
        config.nativeSidecars(),
        io.keywarden.contract.AwsRegion.parse(config.awsRegion()));
  }

  /** The operator's Service in its namespace, by the cluster DNS name every pod can resolve. */
  public static String defaultApiUrl(String operatorNamespace) {
    return "https://" + OPERATOR_SERVICE + "." + operatorNamespace + ".svc:" + API_PORT;
  }

  public AgentSettings withApiCa(Optional<String> pem) {
    return new AgentSettings(image, apiUrl, pem, nativeSidecars, awsRegion);
  }
}
