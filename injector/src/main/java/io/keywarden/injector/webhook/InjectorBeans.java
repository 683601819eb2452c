package io.keywarden.injector.webhook;

import io.keywarden.injector.config.AgentSettings;
import io.keywarden.injector.config.InjectorConfig;
import io.keywarden.injector.mutation.PodInjector;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Wires the plain (framework-free) mutation classes into CDI from the configuration. */
public class InjectorBeans {

  @Produces
  @Singleton
  AgentSettings agentSettings(InjectorConfig config) {
    return AgentSettings.from(config);
  }

  @Produces
  @Singleton
  PodMutator podMutator(AgentSettings settings, InjectorConfig config) {
    // Set.of would reject the usual case of operator and injector sharing a namespace.
    Set<String> untouched = Stream.of("kube-system", config.operatorNamespace(), config.namespace())
        .collect(Collectors.toSet());
    return new PodMutator(new PodInjector(settings), untouched);
  }
}
