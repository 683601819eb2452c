package io.keywarden.helm;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.TestCluster;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the chart's ServiceAccounts may do, asked of the apiserver's own authorizer with {@code
 * kubectl auth can-i --as}: every call the code makes is allowed, and the neighbouring calls it
 * never makes are not. {@link ChartServiceAccountsIT} runs the real processes under these
 * identities.
 */
@KubernetesIT
class ChartRbacIT {

  private static final String RUN =
      Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36), 36);
  private static final String SYSTEM = "kw-helm-rbac-" + RUN;
  private static final String TENANT = "kw-helm-tenant-" + RUN;

  private static Tools tools;
  private static Release release;

  @BeforeAll
  static void install(TestCluster cluster) {
    tools = new Tools(cluster);
    for (String ns : List.of(SYSTEM, TENANT)) {
      cluster
          .admin()
          .namespaces()
          .resource(
              new NamespaceBuilder()
                  .withNewMetadata()
                  .withName(ns)
                  .addToLabels("keywarden.io/test", "true")
                  .endMetadata()
                  .build())
          .create();
    }
    release = Release.install(tools, SYSTEM);
  }

  @AfterAll
  static void uninstall(TestCluster cluster) {
    if (release != null) {
      release.close();
    }
    for (String ns : List.of(SYSTEM, TENANT)) {
      cluster.admin().namespaces().withName(ns).delete();
    }
  }

  @Test
  void operatorMayMakeEveryCallItsCodeMakes() {
    List<String> denied = new ArrayList<>();
    // Cluster-wide (every namespace): the custom resources and what the reconcilers write there.
    expect(
        denied,
        true,
        "operator",
        "-A",
        "get,list,watch,patch,update",
        "managedsecrets.keywarden.io");
    // The API's DeleteSecret and RestoreSecret (after the caller's own access review).
    expect(denied, true, "operator", "-A", "create,delete", "managedsecrets.keywarden.io");
    expect(
        denied,
        true,
        "operator",
        "-A",
        "get,list,watch,patch,update",
        "rotationschedules.keywarden.io");
    expect(
        denied,
        true,
        "operator",
        "-A",
        "get,patch,update",
        "managedsecrets.keywarden.io",
        "--subresource=status");
    expect(
        denied,
        true,
        "operator",
        "-A",
        "get,patch,update",
        "rotationschedules.keywarden.io",
        "--subresource=status");
    expect(
        denied,
        true,
        "operator",
        "-A",
        "update",
        "managedsecrets.keywarden.io",
        "--subresource=finalizers");
    // spec.access: Roles granting managedsecrets/value, which RBAC allows only to holders of it;
    // watched, so a deleted one comes back at once.
    expect(
        denied,
        true,
        "operator",
        TENANT,
        "get,update,rotate",
        "managedsecrets.keywarden.io",
        "--subresource=value");
    expect(
        denied,
        true,
        "operator",
        TENANT,
        "get,list,watch,create,patch,delete",
        "roles.rbac.authorization.k8s.io");
    expect(
        denied,
        true,
        "operator",
        TENANT,
        "get,list,watch,create,patch,delete",
        "rolebindings.rbac.authorization.k8s.io");
    // The API's decision cache forgets decisions at RBAC changes: all of RBAC watched.
    for (String kind : List.of("roles", "rolebindings", "clusterroles", "clusterrolebindings")) {
      expect(denied, true, "operator", "-A", "list,watch", kind + ".rbac.authorization.k8s.io");
    }
    expect(denied, true, "operator", TENANT, "create,patch", "events");
    // spec.fromSecret (get) and spec.syncToSecret (watch across namespaces, write, remove).
    expect(denied, true, "operator", "-A", "get,list,watch", "secrets");
    expect(denied, true, "operator", TENANT, "create,update,delete", "secrets");
    expect(denied, true, "operator", TENANT, "create", "tokenreviews.authentication.k8s.io");
    expect(denied, true, "operator", TENANT, "create", "subjectaccessreviews.authorization.k8s.io");
    // Its own namespace: ciphertext and master keys, the API CA, the Lease, hook tokens.
    expect(denied, true, "operator", SYSTEM, "patch,deletecollection", "secrets");
    expect(denied, true, "operator", SYSTEM, "create", "configmaps");
    expect(denied, true, "operator", SYSTEM, "get,patch,update", "configmaps/keywarden-api-ca");
    expect(denied, true, "operator", SYSTEM, "create", "leases.coordination.k8s.io");
    expect(
        denied,
        true,
        "operator",
        SYSTEM,
        "get,update,patch",
        "leases.coordination.k8s.io/keywarden-operator");
    expect(
        denied,
        true,
        "operator",
        SYSTEM,
        "create",
        "serviceaccounts/keywarden-operator",
        "--subresource=token");

    assertThat(denied).as("calls the operator makes that its RBAC refuses").isEmpty();
  }

  @Test
  void operatorMayDoNothingElse() {
    List<String> allowed = new ArrayList<>();
    // Ciphertext and configuration writes stay in its own namespace.
    expect(allowed, false, "operator", TENANT, "patch,deletecollection", "secrets");
    expect(allowed, false, "operator", TENANT, "get,create", "configmaps");
    expect(
        allowed,
        false,
        "operator",
        SYSTEM,
        "get,patch,update,delete",
        "configmaps/kube-root-ca.crt");
    expect(allowed, false, "operator", TENANT, "create,get,update", "leases.coordination.k8s.io");
    expect(
        allowed,
        false,
        "operator",
        SYSTEM,
        "get,update,delete",
        "leases.coordination.k8s.io/another-lease");
    // Tokens only for itself: no other ServiceAccount's identity.
    expect(
        allowed,
        false,
        "operator",
        SYSTEM,
        "create",
        "serviceaccounts/keywarden-injector",
        "--subresource=token");
    expect(
        allowed,
        false,
        "operator",
        TENANT,
        "create",
        "serviceaccounts/default",
        "--subresource=token");
    // Never creates or deletes the custom resources, never grants beyond what it holds.
    expect(allowed, false, "operator", "-A", "create,delete", "rotationschedules.keywarden.io");
    expect(allowed, false, "operator", TENANT, "escalate,bind", "roles.rbac.authorization.k8s.io");
    expect(allowed, false, "operator", TENANT, "update", "roles.rbac.authorization.k8s.io");
    expect(
        allowed,
        false,
        "operator",
        "-A",
        "create,patch,bind,escalate",
        "clusterroles.rbac.authorization.k8s.io");
    expect(
        allowed,
        false,
        "operator",
        "-A",
        "create,patch",
        "clusterrolebindings.rbac.authorization.k8s.io");
    // Nothing about workloads, nodes, namespaces or admission.
    expect(allowed, false, "operator", TENANT, "get,list,create,delete", "pods");
    expect(allowed, false, "operator", TENANT, "create", "pods/exec");
    expect(allowed, false, "operator", TENANT, "impersonate", "serviceaccounts");
    expect(allowed, false, "operator", "-A", "delete", "namespaces");
    expect(allowed, false, "operator", "-A", "get", "nodes");
    expect(
        allowed,
        false,
        "operator",
        "-A",
        "patch",
        "mutatingwebhookconfigurations.admissionregistration.k8s.io");
    expect(
        allowed,
        false,
        "operator",
        "-A",
        "create,update",
        "customresourcedefinitions.apiextensions.k8s.io");

    assertThat(allowed).as("calls outside what the operator needs").isEmpty();
  }

  @Test
  void injectorMayOnlyKeepItsCertificateAndCaBundleAndReadTheApiCa() {
    List<String> wrong = new ArrayList<>();
    expect(wrong, true, "injector", SYSTEM, "create", "secrets");
    expect(wrong, true, "injector", SYSTEM, "get,update", "secrets/keywarden-injector-tls");
    expect(
        wrong,
        true,
        "injector",
        "-A",
        "get,patch",
        "mutatingwebhookconfigurations.admissionregistration.k8s.io/keywarden-injector");
    expect(wrong, true, "injector", SYSTEM, "get,list,watch", "configmaps/keywarden-api-ca");
    expect(wrong, false, "injector", SYSTEM, "list,update", "configmaps");
    expect(wrong, false, "injector", TENANT, "get", "configmaps/keywarden-api-ca");

    // It reads no Secret but its own: not the operator's ciphertext or master keys, nothing of
    // tenants.
    expect(wrong, false, "injector", SYSTEM, "get,list,watch", "secrets");
    expect(wrong, false, "injector", SYSTEM, "get,update,delete", "secrets/keywarden-master-keys");
    expect(wrong, false, "injector", SYSTEM, "delete", "secrets/keywarden-injector-tls");
    expect(wrong, false, "injector", TENANT, "get,create", "secrets");
    expect(
        wrong,
        false,
        "injector",
        "-A",
        "list,create,delete",
        "mutatingwebhookconfigurations.admissionregistration.k8s.io");
    expect(
        wrong,
        false,
        "injector",
        "-A",
        "patch",
        "mutatingwebhookconfigurations.admissionregistration.k8s.io/other-webhook");
    expect(
        wrong,
        false,
        "injector",
        "-A",
        "patch",
        "validatingwebhookconfigurations.admissionregistration.k8s.io");
    expect(wrong, false, "injector", TENANT, "get,list,create", "pods");
    expect(wrong, false, "injector", TENANT, "get", "managedsecrets.keywarden.io");
    expect(
        wrong,
        false,
        "injector",
        TENANT,
        "get",
        "managedsecrets.keywarden.io",
        "--subresource=value");
    expect(wrong, false, "injector", TENANT, "create", "tokenreviews.authentication.k8s.io");

    assertThat(wrong).as("injector permissions that differ from its needs").isEmpty();
  }

  /** Records every verb whose answer differs from {@code allowed}. */
  private static void expect(
      List<String> mismatches,
      boolean allowed,
      String component,
      String namespace,
      String verbs,
      String resource,
      String... flags) {
    for (String verb : verbs.split(",")) {
      List<String> args =
          new ArrayList<>(
              List.of(
                  "auth",
                  "can-i",
                  verb,
                  resource,
                  "--as=system:serviceaccount:" + SYSTEM + ":keywarden-" + component));
      args.addAll(List.of(flags));
      args.addAll(
          "-A".equals(namespace) ? List.of("--all-namespaces") : List.of("--namespace", namespace));
      Tools.Result result = tools.kubectl(args.toArray(String[]::new));
      String answer = result.stdout().strip();
      if (!answer.equals("yes") && !answer.equals("no")) {
        throw new AssertionError("kubectl auth can-i gave no answer: " + result.stderr() + answer);
      }
      if (answer.equals("yes") != allowed) {
        mismatches.add(
            component
                + " "
                + verb
                + " "
                + resource
                + " "
                + String.join(" ", flags)
                + " in "
                + namespace
                + ": "
                + answer);
      }
    }
  }
}
