package io.keywarden.injector.mutation;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.keywarden.injector.InjectionConfig;
import io.keywarden.injector.InjectionConfig.OnChange;
import io.keywarden.injector.InjectionConfig.Refresh;
import io.keywarden.injector.SecretFile;
import io.keywarden.injector.config.AgentSettings;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The agent's instructions, as environment variables: the contract between injector and agent.
 *
 * <ul>
 *   <li>KEYWARDEN_API_URL, KEYWARDEN_API_CA (PEM, only when configured), KEYWARDEN_TOKEN_FILE
 *   <li>KEYWARDEN_OUTPUT_DIR: the mount path; KEYWARDEN_NAMESPACE: the pod's namespace (downward
 *       API)
 *   <li>KEYWARDEN_FILES: compact JSON array of {file, secret, key (or null), format, stage}
 *   <li>KEYWARDEN_FILE_MODE: four octal digits; KEYWARDEN_REFRESH: watch, none, or an ISO-8601
 *       interval in seconds such as 300s; KEYWARDEN_ON_CHANGE: signal:SIGHUP, exec:cmd, or empty
 *   <li>KEYWARDEN_ONE_SHOT=true: write the files once and exit (the classic-sidecar init container)
 * </ul>
 */
final class AgentEnvironment {

  private static final ObjectMapper JSON = new ObjectMapper();

  private AgentEnvironment() {}

  static List<EnvVar> of(AgentSettings settings, InjectionConfig config, boolean oneShot) {
    List<EnvVar> env = new ArrayList<>();
    env.add(value("KEYWARDEN_API_URL", settings.apiUrl()));
    settings.apiCaPem().ifPresent(pem -> env.add(value("KEYWARDEN_API_CA", pem)));
    env.add(value("KEYWARDEN_TOKEN_FILE", Volumes.TOKEN_FILE));
    env.add(value("KEYWARDEN_OUTPUT_DIR", config.mountPath()));
    env.add(
        new EnvVarBuilder()
            .withName("KEYWARDEN_NAMESPACE")
            .withNewValueFrom()
            .withNewFieldRef()
            .withApiVersion("v1")
            .withFieldPath("metadata.namespace")
            .endFieldRef()
            .endValueFrom()
            .build());
    env.add(value("KEYWARDEN_FILES", files(config.files())));
    env.add(value("KEYWARDEN_FILE_MODE", String.format("%04o", config.fileMode())));
    env.add(value("KEYWARDEN_REFRESH", refresh(config.refresh())));
    // An empty value is stored without "value"; null keeps the built and the stored variable equal.
    env.add(
        new EnvVarBuilder()
            .withName("KEYWARDEN_ON_CHANGE")
            .withValue(config.onChange().map(AgentEnvironment::onChange).orElse(null))
            .build());
    if (oneShot) {
      env.add(value("KEYWARDEN_ONE_SHOT", "true"));
    }
    return env;
  }

  static String files(List<SecretFile> files) {
    List<Map<String, Object>> list =
        files.stream()
            .map(
                file -> {
                  Map<String, Object> entry = new LinkedHashMap<>();
                  entry.put("file", file.fileName());
                  entry.put("secret", file.secretName());
                  entry.put("key", file.key().orElse(null));
                  entry.put("format", file.format().annotationValue());
                  entry.put("stage", file.stage().name());
                  return entry;
                })
            .toList();
    try {
      return JSON.writeValueAsString(list);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot render KEYWARDEN_FILES", e);
    }
  }

  private static String refresh(Refresh refresh) {
    if (refresh instanceof Refresh.Every every) {
      // The agent's own interval syntax (30s, 5m), not ISO-8601.
      return every.interval().toSeconds() + "s";
    }
    return refresh instanceof Refresh.Never ? "none" : "watch";
  }

  private static String onChange(OnChange onChange) {
    if (onChange instanceof OnChange.Signal signal) {
      return "signal:" + signal.name();
    }
    return "exec:" + ((OnChange.Exec) onChange).command();
  }

  private static EnvVar value(String name, String value) {
    return new EnvVarBuilder().withName(name).withValue(value).build();
  }
}
