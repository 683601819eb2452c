package io.keywarden.helm;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.keywarden.testcluster.KubernetesIT;
import io.keywarden.testcluster.TestCluster;
import io.keywarden.testcluster.TestNamespace;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every file in examples/ is accepted by the apiserver with the CRDs installed: files without
 * namespaces are applied for real into a fresh namespace (so a Pod finds its ServiceAccount), files
 * that name their namespaces with a server-side dry run. Reaching Ready is the operator tests'
 * part.
 */
@KubernetesIT
class ExamplesIT {

  @Test
  void everyExampleApplies(TestCluster cluster, TestNamespace ns) throws IOException {
    cluster.installCrds();
    Tools tools = new Tools(cluster);
    List<Path> examples;
    try (Stream<Path> files = Files.list(Tools.ROOT.resolve("examples"))) {
      examples =
          files
              .filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml"))
              .sorted()
              .toList();
    }
    assertThat(examples).isNotEmpty();

    List<String> failures = new ArrayList<>();
    for (Path example : examples) {
      Set<String> namespaces = namespacesNamedIn(cluster.admin(), example);
      Tools.Result result;
      if (namespaces.isEmpty()) {
        result = tools.kubectl("apply", "--namespace", ns.name(), "-f", example.toString());
      } else {
        List<String> created = ensureNamespaces(cluster.admin(), namespaces);
        try {
          result =
              tools.kubectl(
                  "apply",
                  "--server-side",
                  "--force-conflicts",
                  "--dry-run=server",
                  "-f",
                  example.toString());
        } finally {
          created.forEach(name -> cluster.admin().namespaces().withName(name).delete());
        }
      }
      if (!result.ok()) {
        failures.add(Tools.ROOT.relativize(example) + ": " + result.stderr().strip());
      }
    }
    assertThat(failures).as("examples the apiserver refused").isEmpty();
  }

  private static Set<String> namespacesNamedIn(KubernetesClient client, Path example)
      throws IOException {
    Set<String> namespaces = new TreeSet<>();
    try (var in = Files.newInputStream(example)) {
      client
          .load(in)
          .items()
          .forEach(
              object -> {
                if (object.getMetadata().getNamespace() != null) {
                  namespaces.add(object.getMetadata().getNamespace());
                }
              });
    }
    return namespaces;
  }

  /** The namespaces that did not exist yet (and are removed again afterwards). */
  private static List<String> ensureNamespaces(KubernetesClient admin, Set<String> namespaces) {
    List<String> created = new ArrayList<>();
    for (String name : namespaces) {
      if (admin.namespaces().withName(name).get() == null) {
        admin
            .namespaces()
            .resource(
                new NamespaceBuilder()
                    .withNewMetadata()
                    .withName(name)
                    .addToLabels("keywarden.io/test", "true")
                    .endMetadata()
                    .build())
            .create();
        created.add(name);
      }
    }
    return created;
  }
}
