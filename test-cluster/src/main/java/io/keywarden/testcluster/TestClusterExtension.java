package io.keywarden.testcluster;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * Attaches to the control plane once per JUnit run (kept in the root store, which JUnit closes at
 * the end of the run, also when tests failed) and gives each test that asks a fresh namespace. When
 * it starts the control plane itself (no scripts/test around it, or a later Failsafe fork), it
 * starts it once per JVM, with the node too if the first test class to ask needs one.
 */
public final class TestClusterExtension
    implements BeforeAllCallback, ParameterResolver, AfterEachCallback {

  private static final ExtensionContext.Namespace STORE =
      ExtensionContext.Namespace.create(TestClusterExtension.class);
  private static final Duration SERVICE_ACCOUNT_TIMEOUT = Duration.ofSeconds(60);

  public static TestCluster cluster(ExtensionContext context) {
    return context
        .getRoot()
        .getStore(STORE)
        .getOrComputeIfAbsent(
            TestCluster.class,
            key -> {
              TestCluster cluster =
                  new TestCluster(ControlPlane.fromEnvironment(needsNode(context)));
              var version = cluster.version();
              System.out.printf(
                  "Keywarden integration tests run against kube-apiserver %s (%s)%n",
                  version.getGitVersion(), cluster.admin().getMasterUrl());
              return cluster;
            },
            TestCluster.class);
  }

  private static boolean needsNode(ExtensionContext context) {
    return AnnotationSupport.findAnnotation(context.getTestClass(), KubernetesIT.class)
        .map(KubernetesIT::node)
        .orElse(false);
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    if (needsNode(context)) {
      cluster(context).node(); // fails the class at once, saying how to get a node
    }
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    return type == TestCluster.class
        || type == TestNamespace.class
        || type == KubernetesClient.class
        || type == ClusterNode.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    TestCluster cluster = cluster(context);
    if (type == TestCluster.class) {
      return cluster;
    }
    if (type == KubernetesClient.class) {
      return cluster.admin();
    }
    if (type == ClusterNode.class) {
      return cluster.node();
    }
    return context
        .getStore(STORE)
        .getOrComputeIfAbsent(
            TestNamespace.class, key -> create(cluster, context), TestNamespace.class);
  }

  private static TestNamespace create(TestCluster cluster, ExtensionContext context) {
    String method = context.getTestMethod().map(m -> m.getName()).orElse("test");
    String base =
        method
            .replaceAll("([a-z])([A-Z])", "$1-$2")
            .toLowerCase(Locale.ROOT)
            .replaceAll("[^a-z0-9-]", "-");
    if (base.length() > 40) {
      base = base.substring(0, 40);
    }
    String name =
        "kw-"
            + base.replaceAll("-+$", "")
            + "-"
            + Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36 * 36), 36);
    KubernetesClient admin = cluster.admin();
    admin
        .namespaces()
        .resource(
            new NamespaceBuilder()
                .withNewMetadata()
                .withName(name)
                .addToLabels("keywarden.io/test", "true")
                .endMetadata()
                .build())
        .create();
    // Pods and token requests need the namespace's default ServiceAccount, which the controller
    // manager adds.
    if (cluster.controlPlane().stateDir().isPresent()) {
      admin
          .serviceAccounts()
          .inNamespace(name)
          .withName("default")
          .waitUntilCondition(
              sa -> sa != null, SERVICE_ACCOUNT_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    }
    return new TestNamespace(name);
  }

  @Override
  public void afterEach(ExtensionContext context) {
    TestNamespace namespace =
        context.getStore(STORE).remove(TestNamespace.class, TestNamespace.class);
    if (namespace != null) {
      cluster(context).admin().namespaces().withName(namespace.name()).delete();
    }
  }
}
