package io.keywarden.injector.webhook;

import io.keywarden.injector.apica.ApiCaSource;
import io.keywarden.injector.config.AgentSettings;
import io.keywarden.injector.config.InjectorConfig;
import io.keywarden.injector.mutation.CsiVolume;
import io.keywarden.injector.mutation.CsiVolumeInjector;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Wires the plain (framework-free) mutation classes into CDI from the configuration. */
public class InjectorBeans {

  @Produces
  @Singleton
  PodMutator podMutator(InjectorConfig config, ApiCaSource apiCa) {
    // Set.of would reject the usual case of operator and injector sharing a namespace.
    Set<String> untouched =
        Stream.of("kube-system", config.operatorNamespace(), config.namespace())
            .collect(Collectors.toSet());
    AgentSettings settings = AgentSettings.from(config);
    // The CA is read per admission: a renewed one reaches the next pod.
    return new PodMutator(
        () -> settings.withApiCa(apiCa.currentPem()),
        untouched,
        config.defaultMode(),
        new CsiVolumeInjector(
            CsiVolume.driverName("keywarden.injector.csi-driver", config.csiDriver())));
  }
}
