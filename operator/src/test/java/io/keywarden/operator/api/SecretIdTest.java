package io.keywarden.operator.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.operator.access.Caller;
import io.keywarden.operator.failure.Failure;
import io.keywarden.operator.failure.RequestException;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** SecretId in its three forms, and the ARN Keywarden answers. */
class SecretIdTest {

  private static final SecretArns ARNS = new SecretArns("eu-west-1", "123456789012");
  private static final Caller APP =
      new Caller("system:serviceaccount:team-a:app", "uid", List.of(), Map.of());
  private static final Caller USER = new Caller("alice", "uid", List.of(), Map.of());

  private static ManagedSecret secret(String namespace, String name, String uid) {
    ManagedSecret secret = new ManagedSecret();
    secret.setMetadata(
        new ObjectMetaBuilder().withNamespace(namespace).withName(name).withUid(uid).build());
    return secret;
  }

  static Stream<Arguments> accepted() {
    return Stream.of(
        Arguments.of("bare name: the caller's namespace", "db", "team-a", "db", null),
        Arguments.of("namespace/name", "team-b/db.main", "team-b", "db.main", null),
        Arguments.of(
            "the ARN",
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:team-b/db-pass-Ab3xY9",
            "team-b",
            "db-pass",
            "Ab3xY9"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("accepted")
  void parses(String name, String raw, String namespace, String secret, String suffix) {
    SecretId id = SecretId.parse("SecretId", raw, APP, ARNS);

    assertThat(id).isEqualTo(new SecretId(namespace, secret, suffix));
  }

  static Stream<Arguments> refused() {
    return Stream.of(
        Arguments.of("two slashes", "a/b/c", APP, "more than one '/'"),
        Arguments.of("upper case", "team-a/DB", APP, "no ManagedSecret name"),
        Arguments.of("bad namespace", "Team_A/db", APP, "no Kubernetes namespace name"),
        Arguments.of("bare name of a user", "db", USER, "alice is no ServiceAccount"),
        Arguments.of("not Secrets Manager", "arn:aws:kms:eu-west-1:1:key/x", APP, "not a Secrets"),
        Arguments.of(
            "partial ARN",
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:team-a/db",
            APP,
            "must end in <namespace>/<name>-<6 characters>"),
        Arguments.of(
            "ARN without namespace",
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-Ab3xY9",
            APP,
            "must end in"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refused")
  void refusesNamingTheField(String name, String raw, Caller caller, String message) {
    assertThatThrownBy(() -> SecretId.parse("SecretIdList[2]", raw, caller, ARNS))
        .isInstanceOf(RequestException.class)
        .hasMessageStartingWith("SecretIdList[2]")
        .hasMessageContaining(message)
        .satisfies(e -> assertThat(Failure.of(e)).isEqualTo(Failure.INVALID_PARAMETER));
  }

  @Test
  void anArnOfAnotherRegionOrAccountIsNotFound() {
    assertThatThrownBy(
            () ->
                SecretId.parse(
                    "SecretId",
                    "arn:aws:secretsmanager:us-east-1:123456789012:secret:team-a/db-Ab3xY9",
                    APP,
                    ARNS))
        .satisfies(e -> assertThat(Failure.of(e)).isEqualTo(Failure.NOT_FOUND))
        .hasMessageContaining("this Keywarden answers for region eu-west-1");
  }

  @Test
  void theArnRoundTripsAndStopsMatchingARecreatedSecret() {
    ManagedSecret first = secret("team-a", "db-pass", "0b5f2c1e-1111-4a4a-9c9c-000000000001");
    ManagedSecret again = secret("team-a", "db-pass", "0b5f2c1e-2222-4a4a-9c9c-000000000002");
    String arn = ARNS.arn(first);

    SecretId id = SecretId.parse("SecretId", arn, USER, ARNS);

    assertThat(arn)
        .matches(
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:team-a/db-pass-[A-Za-z0-9]{6}");
    assertThat(id.qualified()).isEqualTo("team-a/db-pass");
    assertThat(SecretArns.matches(id, first)).isTrue();
    assertThat(SecretArns.matches(id, again)).isFalse();
    assertThat(SecretArns.matches(SecretId.of("team-a", "db-pass"), again)).isTrue();
  }
}
