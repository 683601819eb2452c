package io.keywarden.operator.api;

import io.keywarden.api.v1alpha1.ManagedSecret;
import io.keywarden.operator.failure.RequestException;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * ListSecrets' and BatchGetSecretValue's Filters, as AWS documents them: each value is a prefix
 * (case-sensitive), a value starting with '!' negates; the values of one filter are alternatives,
 * several filters must all match. Keys: {@code name} (the bare name or {@code namespace/name}, so
 * {@code team-a/} selects a namespace), {@code description}, {@code tag-key} and {@code tag-value}
 * (the ManagedSecret's labels), {@code primary-region} (the configured region), {@code
 * owning-service} (no Keywarden secret has one), {@code all} (any of them).
 */
public record SecretFilters(List<Filter> filters) {

  public static final List<String> KEYS =
      List.of(
          "description", "name", "tag-key", "tag-value", "primary-region", "owning-service", "all");

  public record Filter(String key, List<String> values) {
    public Filter {
      if (!KEYS.contains(key)) {
        throw RequestException.invalidParameter(
            "Filters Key must be one of " + String.join(", ", KEYS) + ", not '" + key + "'");
      }
      values = List.copyOf(values);
    }
  }

  public static final SecretFilters NONE = new SecretFilters(List.of());

  public SecretFilters {
    filters = List.copyOf(filters);
  }

  public boolean matches(ManagedSecret secret, String region) {
    return filters.stream().allMatch(f -> matches(f, secret, region));
  }

  private static boolean matches(Filter filter, ManagedSecret secret, String region) {
    List<String> candidates = candidates(filter.key(), secret, region).toList();
    return filter.values().stream()
        .anyMatch(
            value -> {
              boolean negated = value.startsWith("!");
              String prefix = negated ? value.substring(1) : value;
              boolean found = candidates.stream().anyMatch(c -> c.startsWith(prefix));
              return negated != found;
            });
  }

  private static Stream<String> candidates(String key, ManagedSecret secret, String region) {
    Map<String, String> labels =
        secret.getMetadata().getLabels() == null ? Map.of() : secret.getMetadata().getLabels();
    String description = secret.getSpec() == null ? null : secret.getSpec().getDescription();
    return switch (key) {
      case "name" ->
          Stream.of(
              secret.getMetadata().getName(),
              secret.getMetadata().getNamespace() + "/" + secret.getMetadata().getName());
      case "description" -> description == null ? Stream.empty() : Stream.of(description);
      case "tag-key" -> labels.keySet().stream();
      case "tag-value" -> labels.values().stream();
      case "primary-region" -> Stream.of(region);
      case "owning-service" -> Stream.empty();
      default ->
          KEYS.stream().filter(k -> !k.equals("all")).flatMap(k -> candidates(k, secret, region));
    };
  }

  /** The filters as text, so a NextToken is only taken back for the same query. */
  String fingerprint() {
    return filters.toString();
  }
}
