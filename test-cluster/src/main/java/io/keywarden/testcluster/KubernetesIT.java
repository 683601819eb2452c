package io.keywarden.testcluster;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class that runs against the real control plane. Test methods may take a {@link
 * TestCluster} (shared by the whole run) and a {@link TestNamespace} (fresh per test); with {@code
 * node = true} also a {@link ClusterNode}, and the class fails before its first test if the run has
 * no node (see {@link TestCluster#node()}).
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag("integration")
@ExtendWith(TestClusterExtension.class)
public @interface KubernetesIT {

  /** The tests run pods: they need the test cluster's node. */
  boolean node() default false;
}
