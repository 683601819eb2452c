package io.keywarden.helm;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A helm release of the chart in a test namespace. Its webhook only ever matches namespaces
 * labelled for this release, so other suites sharing the control plane never reach it (there is no
 * injector behind its Service here, and its failurePolicy is Fail).
 */
final class Release implements AutoCloseable {

  static final String NAME = "keywarden";
  static final String WEBHOOK_NAMESPACE_LABEL = "keywarden.io/helm-test";

  private final Tools tools;
  private final String namespace;
  private final Tools.Result installed;

  private Release(Tools tools, String namespace, Tools.Result installed) {
    this.tools = tools;
    this.namespace = namespace;
    this.installed = installed;
  }

  /** helm install; {@code values} are extra helm arguments (--set, -f). */
  /**
   * The release namespace and an apps namespace whose pods this release's webhook (and only this
   * release's) mutates.
   */
  static void createNamespaces(KubernetesClient admin, String system, String apps) {
    admin
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(system).endMetadata().build())
        .create();
    admin
        .namespaces()
        .resource(
            new NamespaceBuilder()
                .withNewMetadata()
                .withName(apps)
                .addToLabels(WEBHOOK_NAMESPACE_LABEL, system)
                .endMetadata()
                .build())
        .create();
  }

  static Release install(Tools tools, String namespace, String... values) {
    Tools.Result installed = tools.helm(args(namespace, "install", values));
    installed.orFail();
    return new Release(tools, namespace, installed);
  }

  /**
   * What {@code helm install} printed; its stderr holds the apiserver's warnings about the objects
   * (client-go logs them there).
   */
  Tools.Result installed() {
    return installed;
  }

  Tools.Result upgrade(String... values) {
    return tools.helm(args(namespace, "upgrade", values));
  }

  private static String[] args(String namespace, String action, String... values) {
    List<String> args =
        new ArrayList<>(
            List.of(
                action,
                NAME,
                Tools.CHART.toString(),
                "--namespace",
                namespace,
                "--set-string",
                "injector.webhook.namespaceSelector.matchLabels."
                    + WEBHOOK_NAMESPACE_LABEL.replace(".", "\\.")
                    + "="
                    + namespace));
    args.addAll(List.of(values));
    return args.toArray(String[]::new);
  }

  String namespace() {
    return namespace;
  }

  /** The objects of the release as helm rendered them (CRDs excluded: helm keeps those apart). */
  List<HasMetadata> manifest(KubernetesClient client) {
    String yaml = tools.helm("get", "manifest", NAME, "--namespace", namespace).orFail();
    List<HasMetadata> objects = new ArrayList<>();
    for (String document : yaml.split("(?m)^---\\s*$")) {
      if (document.lines().anyMatch(line -> line.startsWith("kind:"))) {
        objects.add(
            client
                .getKubernetesSerialization()
                .unmarshal(document, GenericKubernetesResource.class));
      }
    }
    return objects;
  }

  /** The live object, or null. */
  static GenericKubernetesResource live(KubernetesClient client, HasMetadata object) {
    var resources = client.genericKubernetesResources(object.getApiVersion(), object.getKind());
    String ns = object.getMetadata().getNamespace();
    return ns == null
        ? resources.withName(object.getMetadata().getName()).get()
        : resources.inNamespace(ns).withName(object.getMetadata().getName()).get();
  }

  static String describe(HasMetadata object) {
    return object.getKind()
        + " "
        + (object.getMetadata().getNamespace() == null
            ? ""
            : object.getMetadata().getNamespace() + "/")
        + object.getMetadata().getName();
  }

  @Override
  public void close() {
    Tools.Result result =
        tools.helm("uninstall", NAME, "--namespace", namespace, "--ignore-not-found");
    Objects.requireNonNull(result);
    result.orFail();
  }
}
