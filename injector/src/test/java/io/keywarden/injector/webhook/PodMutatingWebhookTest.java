package io.keywarden.injector.webhook;

import static io.keywarden.injector.mutation.TestPods.NATIVE;
import static io.keywarden.injector.mutation.TestPods.pod;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponse;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReview;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReviewBuilder;
import io.keywarden.injector.InjectionMode;
import io.keywarden.injector.apica.ApiCaUnavailableException;
import io.keywarden.injector.mutation.CsiVolumeInjector;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The admission round trip as the apiserver sees it, without the HTTP transport. */
class PodMutatingWebhookTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Map<String, String> ONE_FILE =
      Map.of("keywarden.io/secret.db", "db-password");

  private final PodMutatingWebhook webhook =
      new PodMutatingWebhook(
          new PodMutator(
              () -> NATIVE, Set.of("kube-system", "keywarden-system", "keywarden-injector")));

  @Test
  void optedInPodGetsAJsonPatch() throws Exception {
    AdmissionResponse response = send("CREATE", "apps", pod(ONE_FILE, "app"));
    assertThat(response.getAllowed()).isTrue();
    assertThat(response.getUid()).isEqualTo("uid-1");
    assertThat(response.getPatchType()).isEqualTo("JSONPatch");
    JsonNode patch = patch(response);
    assertThat(patch)
        .extracting(op -> op.get("path").asText())
        .contains("/spec/initContainers", "/spec/volumes", "/spec/containers/0/volumeMounts");
  }

  @Test
  void awsSettingsAContainerKeepsAreAdmissionWarnings() {
    Pod pod = pod(Map.of("keywarden.io/aws-sdk", "true"), "app");
    pod.getSpec()
        .getContainers()
        .get(0)
        .setEnv(
            List.of(
                new io.fabric8.kubernetes.api.model.EnvVarBuilder()
                    .withName("AWS_DEFAULT_REGION")
                    .withValue("eu-west-1")
                    .build()));

    AdmissionResponse response = send("CREATE", "apps", pod);

    assertThat(response.getAllowed()).isTrue();
    assertThat(response.getWarnings())
        .containsExactly(
            "keywarden.io/aws-sdk: container app keeps its own AWS_DEFAULT_REGION instead of"
                + " us-east-1 (set keywarden.io/aws-region to the same region to silence this)");
    assertThat(send("CREATE", "apps", pod(ONE_FILE, "app")).getWarnings()).isNullOrEmpty();
  }

  @Test
  void responseIsAnAdmissionReviewV1() {
    AdmissionReview review = webhook.handle(review("CREATE", "apps", pod(ONE_FILE, "app")));
    assertThat(review.getApiVersion()).isEqualTo("admission.k8s.io/v1");
    assertThat(review.getKind()).isEqualTo("AdmissionReview");
  }

  @Test
  void malformedAnnotationDeniesWithTheParserMessage() {
    AdmissionResponse response =
        send(
            "CREATE",
            "apps",
            pod(Map.of("keywarden.io/secret.db", "db", "keywarden.io/format.db", "xml"), "app"));
    assertThat(response.getAllowed()).isFalse();
    assertThat(response.getPatch()).isNull();
    assertThat(response.getStatus().getCode()).isEqualTo(403);
    assertThat(response.getStatus().getMessage())
        .isEqualTo(
            "annotation keywarden.io/format.db: unknown format 'xml' (expected raw, json, env or properties)");
  }

  @Test
  void unavailableApiCaDeniesOptedInPodsOnly() throws Exception {
    PodMutatingWebhook withoutCa =
        new PodMutatingWebhook(
            new PodMutator(
                () -> {
                  throw new ApiCaUnavailableException(
                      "the operator API's CA is not available: ConfigMap keywarden-system/keywarden-api-ca"
                          + " does not exist");
                },
                Set.of("kube-system")));
    AdmissionResponse denied =
        withoutCa.handle(review("CREATE", "apps", pod(ONE_FILE, "app"))).getResponse();
    assertThat(denied.getAllowed()).isFalse();
    assertThat(denied.getStatus().getMessage())
        .contains("ConfigMap keywarden-system/keywarden-api-ca does not exist");

    Pod unlabelled = pod(ONE_FILE, "app");
    unlabelled.getMetadata().getLabels().clear();
    AdmissionResponse allowed =
        withoutCa.handle(review("CREATE", "apps", unlabelled)).getResponse();
    assertThat(allowed.getAllowed()).isTrue();
  }

  @Test
  void csiModeNeedsNoApiCaAndTheDefaultModeIsTheInjectors() throws Exception {
    PodMutator csiByDefault =
        new PodMutator(
            () -> {
              throw new ApiCaUnavailableException("the operator API's CA is not available");
            },
            Set.of("kube-system"),
            InjectionMode.CSI,
            new CsiVolumeInjector("csi.keywarden.io"));
    PodMutatingWebhook webhook = new PodMutatingWebhook(csiByDefault);

    AdmissionResponse csi =
        webhook.handle(review("CREATE", "apps", pod(ONE_FILE, "app"))).getResponse();
    assertThat(csi.getAllowed()).isTrue();
    assertThat(patch(csi))
        .extracting(op -> op.get("path").asText())
        .contains("/spec/volumes", "/spec/containers/0/volumeMounts")
        .doesNotContain("/spec/initContainers");
    assertThat(patch(csi).toString())
        .contains("csi.keywarden.io")
        .doesNotContain("keywarden-agent");

    AdmissionResponse sidecar =
        webhook
            .handle(
                review(
                    "CREATE",
                    "apps",
                    pod(
                        Map.of("keywarden.io/secret.db", "db", "keywarden.io/mode", "sidecar"),
                        "app")))
            .getResponse();
    assertThat(sidecar.getAllowed()).as("a sidecar pod still needs the CA").isFalse();
    assertThat(sidecar.getStatus().getMessage()).contains("CA is not available");
  }

  static Stream<Arguments> untouched() {
    Pod unlabelled = pod(ONE_FILE, "app");
    unlabelled.getMetadata().getLabels().clear();
    Pod labelledFalse = pod(ONE_FILE, "app");
    labelledFalse.getMetadata().getLabels().put("keywarden.io/inject", "false");
    return Stream.of(
        arguments("no inject label", "CREATE", "apps", unlabelled),
        arguments("inject label not 'true'", "CREATE", "apps", labelledFalse),
        arguments("kube-system", "CREATE", "kube-system", pod(ONE_FILE, "app")),
        arguments("the operator namespace", "CREATE", "keywarden-system", pod(ONE_FILE, "app")),
        arguments("the injector namespace", "CREATE", "keywarden-injector", pod(ONE_FILE, "app")),
        arguments(
            "namespace only in the request, kube-system",
            "CREATE",
            "kube-system",
            withoutNamespace(pod(ONE_FILE, "app"))),
        arguments("an update", "UPDATE", "apps", pod(ONE_FILE, "app")),
        arguments(
            "malformed annotations in kube-system are not even parsed",
            "CREATE",
            "kube-system",
            pod(Map.of("keywarden.io/format.db", "xml"), "app")));
  }

  @ParameterizedTest(name = "allowed unchanged: {0}")
  @MethodSource("untouched")
  void allowedUnchanged(String name, String operation, String namespace, Pod pod) throws Exception {
    AdmissionResponse response = send(operation, namespace, pod);
    assertThat(response.getAllowed()).isTrue();
    assertThat(patch(response)).isEmpty();
  }

  private AdmissionResponse send(String operation, String namespace, Pod pod) {
    // Through JSON, as over the wire: the framework must find a Pod in request.object.
    AdmissionReview review =
        JSON.convertValue(
            JSON.valueToTree(review(operation, namespace, pod)), AdmissionReview.class);
    return webhook.handle(review).getResponse();
  }

  private static AdmissionReview review(String operation, String namespace, Pod pod) {
    if (pod.getMetadata().getNamespace() != null) {
      pod.getMetadata().setNamespace(namespace);
    }
    return new AdmissionReviewBuilder()
        .withNewRequest()
        .withUid("uid-1")
        .withOperation(operation)
        .withNamespace(namespace)
        .withNewKind("", "Pod", "v1")
        .withNewResource("", "pods", "v1")
        .withObject(pod)
        .endRequest()
        .build();
  }

  private static Pod withoutNamespace(Pod pod) {
    pod.getMetadata().setNamespace(null);
    return pod;
  }

  private static JsonNode patch(AdmissionResponse response) throws Exception {
    return JSON.readTree(Base64.getDecoder().decode(response.getPatch()));
  }
}
