package io.keywarden.injector.mutation;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.keywarden.contract.AgentEnv;
import io.keywarden.contract.FileEntry;
import io.keywarden.contract.FileMode;
import io.keywarden.contract.OnChange;
import io.keywarden.contract.Refresh;
import io.keywarden.injector.InjectionConfig;
import io.keywarden.injector.SecretFile;
import io.keywarden.injector.config.AgentSettings;
import java.util.ArrayList;
import java.util.List;

/**
 * The agent's instructions, as environment variables named and spelled by the injector-agent
 * contract ({@link AgentEnv}, module {@code contract}), which the agent parses with the same
 * grammars.
 */
final class AgentEnvironment {

  private AgentEnvironment() {}

  static List<EnvVar> of(AgentSettings settings, InjectionConfig config, boolean oneShot) {
    List<EnvVar> env = new ArrayList<>();
    env.add(value(AgentEnv.API_URL, settings.apiUrl()));
    settings.apiCaPem().ifPresent(pem -> env.add(value(AgentEnv.API_CA, pem)));
    env.add(value(AgentEnv.TOKEN_FILE, Volumes.TOKEN_FILE));
    env.add(value(AgentEnv.OUTPUT_DIR, config.mountPath()));
    env.add(
        new EnvVarBuilder()
            .withName(AgentEnv.NAMESPACE)
            .withNewValueFrom()
            .withNewFieldRef()
            .withApiVersion("v1")
            .withFieldPath("metadata.namespace")
            .endFieldRef()
            .endValueFrom()
            .build());
    env.add(value(AgentEnv.FILES, files(config.files())));
    env.add(value(AgentEnv.FILE_MODE, FileMode.render(config.fileMode())));
    env.add(value(AgentEnv.REFRESH, Refresh.render(config.refresh())));
    // An empty value is stored without "value"; null keeps the built and the stored variable equal.
    env.add(
        new EnvVarBuilder()
            .withName(AgentEnv.ON_CHANGE)
            .withValue(config.onChange().map(OnChange::render).orElse(null))
            .build());
    if (oneShot) {
      env.add(value(AgentEnv.ONE_SHOT, "true"));
    }
    if (config.aws().endpoint()) {
      env.add(value(AgentEnv.AWS_ENDPOINT_PORT, Integer.toString(config.aws().endpointPort())));
      // The token apps send in X-Aws-Parameters-Secrets-Token: the pod's keywarden.io token, which
      // the app containers mount too (a value in the pod spec would be readable by anyone who may
      // read the pod).
      env.add(value(AgentEnv.SSRF_TOKEN, "file://" + Volumes.TOKEN_FILE));
    }
    if (!oneShot && AwsAppEnvironment.relaysCredentials(config.aws())) {
      env.add(value(AgentEnv.AWS_CREDENTIALS_PORT, Integer.toString(config.aws().endpointPort())));
    }
    if (AwsAppEnvironment.writesCa(settings, config.aws())) {
      env.add(value(AgentEnv.AWS_DIR, Volumes.AWS_DIR));
    }
    return env;
  }

  static String files(List<SecretFile> files) {
    return FileEntry.render(
        files.stream()
            .map(
                file ->
                    new FileEntry(
                        file.fileName(),
                        file.secretName(),
                        file.key().orElse(null),
                        file.format(),
                        file.stage()))
            .toList());
  }

  private static EnvVar value(String name, String value) {
    return new EnvVarBuilder().withName(name).withValue(value).build();
  }
}
