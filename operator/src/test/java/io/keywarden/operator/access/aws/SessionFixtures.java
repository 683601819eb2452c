package io.keywarden.operator.access.aws;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.keywarden.operator.crypto.AesGcm;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.identity.spi.AwsSessionCredentialsIdentity;

/** Session keys without a cluster, and requests signed the way the AWS SDK for Java signs them. */
public final class SessionFixtures {

  static final String BODY = "{\"SecretId\":\"db-password\"}";

  private SessionFixtures() {}

  /** Session keys as the Secret would hold them, without a cluster. */
  public static final class Keys extends SessionKeyStore {
    final TreeMap<Integer, SessionKey> keys = new TreeMap<>();

    public Keys() {
      super(null, "ns", "keys", Duration.ofMinutes(1), Clock.systemUTC());
      add(1);
    }

    void add(int id) {
      keys.put(id, SessionKey.derive(id, AesGcm.newKey()));
    }

    @Override
    public SessionKey primary() {
      return keys.lastEntry().getValue();
    }

    @Override
    public SessionKey byId(int id) {
      return keys.get(id);
    }
  }

  /** Session tokens sealed with fresh {@link Keys}, whose expiry is judged by {@code clock}. */
  public static SessionTokens sessions(Clock clock) {
    return new SessionTokens(new Keys(), new ObjectMapper(), clock);
  }

  /** A GetSecretValue request signed by the AWS SDK for Java v2 signer at {@code signedAt}. */
  public static RequestParts signed(
      SessionTokens.Credentials credentials, Instant signedAt, String service) {
    SdkHttpRequest request =
        SdkHttpRequest.builder()
            .method(SdkHttpMethod.POST)
            .uri(URI.create("https://keywarden-operator.keywarden-system.svc:8443/"))
            .putHeader("Content-Type", "application/x-amz-json-1.1")
            .putHeader("X-Amz-Target", "secretsmanager.GetSecretValue")
            .build();
    var signed =
        AwsV4HttpSigner.create()
            .sign(
                r ->
                    r.request(request)
                        .payload(ContentStreamProvider.fromUtf8String(BODY))
                        .identity(
                            AwsSessionCredentialsIdentity.create(
                                credentials.accessKeyId(),
                                credentials.secretAccessKey(),
                                credentials.sessionToken()))
                        .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, service)
                        .putProperty(AwsV4HttpSigner.REGION_NAME, "us-east-1")
                        .putProperty(
                            HttpSigner.SIGNING_CLOCK, Clock.fixed(signedAt, ZoneOffset.UTC)));
    Map<String, List<String>> headers = new HashMap<>(signed.request().headers());
    return new RequestParts("POST", "/", "", headers, BODY.getBytes(StandardCharsets.UTF_8));
  }
}
