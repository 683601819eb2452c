package io.keywarden.injector.apica;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.keywarden.injector.config.InjectorConfig;
import io.keywarden.injector.config.InjectorConfig.ApiCa.Source;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * The CA agents are told to trust for the operator's API (KEYWARDEN_API_CA), from the source {@code
 * keywarden.injector.api-ca.source} names.
 *
 * <p>config-map (the default): the operator publishes its generated CA in the ConfigMap
 * keywarden-api-ca of its namespace. A pod cannot mount a ConfigMap of another namespace, so the
 * injector watches that one object (an informer with a name field selector: RBAC get, list, watch
 * on that resourceName) and copies the PEM into each agent's environment. A renewed CA therefore
 * reaches every pod created afterwards without an injector restart; running pods keep the CA they
 * started with, which is why a CA change should publish old and new CA together for a while. While
 * the ConfigMap is missing or holds no certificate, opted-in pods are denied with a message saying
 * so: an agent without the CA could never fetch, and its pod would hang in its startup probe.
 */
@ApplicationScoped
public class ApiCaSource {

  private static final Logger LOG = Logger.getLogger(ApiCaSource.class);

  private final KubernetesClient client;
  private final InjectorConfig.ApiCa config;
  private final String namespace;
  private volatile State state;
  private SharedIndexInformer<ConfigMap> informer;

  /** What admissions see: a bundle, or the reason there is none. */
  private record State(Optional<CaBundle> bundle, String problem) {}

  public ApiCaSource(KubernetesClient client, InjectorConfig config) {
    this.client = client;
    this.config = config.apiCa();
    this.namespace = config.operatorNamespace();
    this.state =
        new State(Optional.empty(), "the injector is still starting (API CA not loaded yet)");
  }

  void start(@Observes StartupEvent event) {
    switch (config.source()) {
      case SYSTEM -> state = new State(Optional.empty(), null);
      case FILE -> state = new State(Optional.of(readFile()), null);
      case CONFIG_MAP -> watchConfigMap();
    }
  }

  void stop(@Observes ShutdownEvent event) {
    if (informer != null) {
      informer.close();
    }
  }

  /**
   * The PEM to pass to agents, empty for source system.
   *
   * @throws ApiCaUnavailableException when the ConfigMap is missing or holds no certificate
   */
  public Optional<String> currentPem() {
    State current = state;
    if (current.problem() != null) {
      throw new ApiCaUnavailableException(current.problem());
    }
    return current.bundle().map(CaBundle::pem);
  }

  /**
   * For readiness: the source has been read (for config-map: the informer's first list is done).
   */
  public boolean loaded() {
    return config.source() != Source.CONFIG_MAP || (informer != null && informer.hasSynced());
  }

  private CaBundle readFile() {
    Path file =
        config
            .file()
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "keywarden.injector.api-ca.source is file but keywarden.injector.api-ca.file is not set"));
    try {
      CaBundle bundle =
          CaBundle.parse(
              Files.readString(file, StandardCharsets.US_ASCII),
              "keywarden.injector.api-ca.file " + file);
      LOG.infof("agents trust the API CA from %s: %s", file, bundle.describe());
      return bundle;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read keywarden.injector.api-ca.file " + file, e);
    }
  }

  private void watchConfigMap() {
    // Every event just re-reads the informer's store, which is updated before handlers run: the
    // store is the one truth, also for the check right after the first list.
    informer =
        client.configMaps().inNamespace(namespace).withName(config.configMap()).runnableInformer(0);
    informer.addEventHandler(
        new ResourceEventHandler<>() {
          @Override
          public void onAdd(ConfigMap configMap) {
            refresh();
          }

          @Override
          public void onUpdate(ConfigMap before, ConfigMap after) {
            refresh();
          }

          @Override
          public void onDelete(ConfigMap configMap, boolean finalStateUnknown) {
            refresh();
          }
        });
    // Waits for the first list; fails the start when the injector may not read the ConfigMap
    // (RBAC).
    informer.run();
    refresh();
  }

  private synchronized void refresh() {
    ConfigMap configMap = informer.getStore().getByKey(namespace + "/" + config.configMap());
    String origin = "ConfigMap " + namespace + "/" + config.configMap();
    State next;
    if (configMap == null) {
      next =
          new State(
              Optional.empty(),
              "the operator API's CA is not available: "
                  + origin
                  + " does not exist; is the Keywarden operator running in namespace "
                  + namespace
                  + " (keywarden.injector.operator-namespace)?");
    } else {
      String pem = configMap.getData() == null ? null : configMap.getData().get(config.key());
      try {
        next = new State(Optional.of(CaBundle.parse(pem, origin + " key " + config.key())), null);
      } catch (IllegalArgumentException e) {
        next =
            new State(Optional.empty(), "the operator API's CA is not usable: " + e.getMessage());
      }
    }
    State previous = state;
    state = next;
    if (next.problem() != null) {
      LOG.warnf("%s (opted-in pods are denied until then)", next.problem());
    } else if (!Objects.equals(
        previous.bundle().map(CaBundle::pem), next.bundle().map(CaBundle::pem))) {
      LOG.infof(
          "agents trust the API CA from %s: %s", origin, next.bundle().orElseThrow().describe());
    }
  }
}
