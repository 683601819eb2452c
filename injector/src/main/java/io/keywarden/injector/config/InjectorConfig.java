package io.keywarden.injector.config;

import io.keywarden.injector.InjectionMode;
import io.keywarden.tls.LifetimeConfig;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** Injector configuration (application.properties, or env KEYWARDEN_INJECTOR_*). */
@ConfigMapping(prefix = "keywarden.injector")
public interface InjectorConfig {

  /** Image of the agent the injector adds to opted-in pods. */
  @WithDefault("ghcr.io/keywarden/agent:0.1.0")
  String agentImage();

  /**
   * The operator's secret-value API as agents reach it. Absent: the operator's Service,
   * https://keywarden-operator.&lt;operator-namespace&gt;.svc:8443 (a name the API's generated
   * serving certificate carries).
   */
  Optional<String> apiUrl();

  /** Where the CA that agents trust for the API comes from. */
  ApiCa apiCa();

  interface ApiCa {
    /**
     * config-map: the ConfigMap the operator publishes its generated CA in, watched so a renewed CA
     * reaches the next pods; file: a PEM file read at start; system: no CA is passed and agents use
     * their runtime's trust store (an API certificate from a public or corporate CA in the image).
     */
    @WithDefault("config-map")
    Source source();

    /** The ConfigMap in {@link #operatorNamespace()} (source config-map). */
    @WithDefault("keywarden-api-ca")
    String configMap();

    /** The key of the PEM in that ConfigMap. */
    @WithDefault("ca.crt")
    String key();

    /** PEM file with the CA certificate(s) (source file). */
    Optional<Path> file();

    enum Source {
      CONFIG_MAP,
      FILE,
      SYSTEM
    }
  }

  /**
   * Kubernetes 1.29+ native sidecars (init container with restartPolicy Always, KEP-753). False for
   * older clusters: a one-shot init container plus a classic sidecar.
   */
  @WithDefault("true")
  boolean nativeSidecars();

  /**
   * Before readiness reports UP, send one synthetic pod through the webhook's own HTTPS endpoint,
   * so the first real admission does not pay for class loading and JIT (it took over 5 s, beyond
   * the apiserver's timeout). False only to measure the difference (docs/benchmarks.md).
   */
  @WithDefault("true")
  boolean admissionWarmup();

  /**
   * The region app containers get with keywarden.io/aws-sdk (AWS_REGION, AWS_DEFAULT_REGION) unless
   * keywarden.io/aws-region says otherwise; set it to the operator's keywarden.aws.region.
   */
  @WithDefault("us-east-1")
  String awsRegion();

  /**
   * How a pod without keywarden.io/mode gets its files: sidecar (the agent in the pod) or csi (an
   * inline volume of the Keywarden CSI node plugin, which must run on the nodes; docs/csi.md).
   */
  @WithDefault("sidecar")
  InjectionMode defaultMode();

  /**
   * The CSIDriver object's name in csi mode's inline volumes: the node plugin's
   * KEYWARDEN_CSI_DRIVER_NAME.
   */
  @WithDefault("csi.keywarden.io")
  String csiDriver();

  /** Pods here are never mutated, like kube-system. */
  @WithDefault("keywarden-system")
  String operatorNamespace();

  /** The injector's own namespace (its Secret lives here); set it from the downward API. */
  @WithDefault("keywarden-system")
  String namespace();

  /** The Service in front of the injector; its DNS names go into the serving certificate. */
  @WithDefault("keywarden-injector")
  String serviceName();

  /** The MutatingWebhookConfiguration whose caBundle the injector keeps up to date. */
  @WithDefault("keywarden-injector")
  String webhookConfiguration();

  /** HTTPS port of the webhook (quarkus.http.ssl-port follows it). */
  @WithDefault("8443")
  int port();

  Tls tls();

  /** Lifetimes (validity, ca-validity, renew-before, ca-overlap) and checks of the certificate. */
  interface Tls extends LifetimeConfig {
    /**
     * Secret in {@link #namespace()} holding the CA and the serving certificate, shared by
     * replicas.
     */
    @WithDefault("keywarden-injector-tls")
    String secretName();

    /** Extra DNS names or IP addresses for the serving certificate (e.g. 127.0.0.1 in tests). */
    Optional<List<String>> extraSans();

    /**
     * How often the Secret is read again (another replica's renewal adopted, the caBundle
     * re-patched); a renewal itself happens at its renewal point, not at the next check.
     */
    @WithDefault("24h")
    Duration checkInterval();
  }
}
