package io.keywarden.testcluster;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.authentication.TokenRequest;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.VersionInfo;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** The control plane of this test run and an admin client for it. */
public final class TestCluster implements AutoCloseable {

  private final ControlPlane controlPlane;
  private final KubernetesClient admin;

  TestCluster(ControlPlane controlPlane) {
    this.controlPlane = controlPlane;
    this.admin = clientFor(controlPlane);
  }

  private static KubernetesClient clientFor(ControlPlane plane) {
    try {
      String yaml = Files.readString(plane.kubeconfig(), StandardCharsets.UTF_8);
      return new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(yaml)).build();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public ControlPlane controlPlane() {
    return controlPlane;
  }

  /**
   * The node pods run on. Fails with how to get one when this run has none: scripts/test starts it
   * unless {@code KEYWARDEN_TEST_NODE=0} or {@code KEYWARDEN_TEST_KUBECONFIG} is set.
   */
  public ClusterNode node() {
    return controlPlane
        .node()
        .orElseThrow(
            () ->
                new IllegalStateException(
                    "this test needs the test cluster's node, and this run has none: run it under"
                        + " scripts/test without "
                        + ControlPlane.NODE_ENV
                        + "=0 (or with "
                        + ControlPlane.CLUSTER_DIR_ENV
                        + " naming a cluster of `test-cluster/up --node`); "
                        + ControlPlane.KUBECONFIG_ENV
                        + " clusters have no node known to the tests"));
  }

  /** A cluster-admin client: it bypasses RBAC, so authorization tests must act with real tokens. */
  public KubernetesClient admin() {
    return admin;
  }

  public VersionInfo version() {
    return admin.getKubernetesVersion();
  }

  /** A bound ServiceAccount token from the TokenRequest API. */
  public String token(
      String namespace, String serviceAccount, String audience, long expirationSeconds) {
    TokenRequest request =
        new TokenRequestBuilder()
            .withNewSpec()
            .withAudiences(audience)
            .withExpirationSeconds(expirationSeconds)
            .endSpec()
            .build();
    return admin
        .serviceAccounts()
        .inNamespace(namespace)
        .withName(serviceAccount)
        .tokenRequest(request)
        .getStatus()
        .getToken();
  }

  /** A client that authenticates with the given bearer token instead of the admin certificate. */
  public KubernetesClient clientWithToken(String token) {
    Config config =
        new io.fabric8.kubernetes.client.ConfigBuilder(admin.getConfiguration())
            .withClientCertData(null)
            .withClientKeyData(null)
            .withClientCertFile(null)
            .withClientKeyFile(null)
            .withOauthToken(token)
            .build();
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  /**
   * Applies the committed CRD YAML under crds/ (what users apply) and waits until the apiserver
   * serves every definition.
   */
  public void installCrds() {
    Path dir = RepositoryRoot.find().resolve("crds");
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".yml")).sorted().toList()) {
        try (InputStream in = Files.newInputStream(file)) {
          CustomResourceDefinition crd =
              admin.getKubernetesSerialization().unmarshal(in, CustomResourceDefinition.class);
          admin
              .apiextensions()
              .v1()
              .customResourceDefinitions()
              .resource(crd)
              .forceConflicts()
              .fieldManager("keywarden-tests")
              .serverSideApply();
          admin
              .apiextensions()
              .v1()
              .customResourceDefinitions()
              .withName(crd.getMetadata().getName())
              .waitUntilCondition(TestCluster::established, 60, TimeUnit.SECONDS);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static boolean established(CustomResourceDefinition crd) {
    return crd != null
        && crd.getStatus() != null
        // A CRD just created may have a status without conditions yet.
        && crd.getStatus().getConditions() != null
        && crd.getStatus().getConditions().stream()
            .anyMatch(c -> "Established".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  @Override
  public void close() {
    admin.close();
    controlPlane.close();
  }
}
