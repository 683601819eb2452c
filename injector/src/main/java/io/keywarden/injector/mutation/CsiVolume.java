package io.keywarden.injector.mutation;

import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.keywarden.contract.FileMode;
import io.keywarden.contract.FileSetParser;
import io.keywarden.contract.Refresh;
import io.keywarden.injector.InjectionConfig;
import io.keywarden.injector.SecretFile;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The inline CSI volume of csi mode: the node plugin's {@code volumeAttributes} are the pod's file
 * annotations without the {@code keywarden.io/} prefix, rendered in the canonical spelling of the
 * one grammar ({@link FileSetParser}) that both the injector and the plugin parse, so what the
 * annotations say is exactly what the plugin reads. Every value is written out, defaults included,
 * so {@code kubectl get pod -o yaml} shows the whole file set.
 *
 * <p>No token volume: the CSIDriver object's {@code tokenRequests} makes kubelet hand the plugin a
 * token of the pod's ServiceAccount for audience {@code keywarden.io} on every (re)publish.
 */
public final class CsiVolume {

  /** The CSIDriver object's name the plugin registers by default. */
  public static final String DEFAULT_DRIVER = "csi.keywarden.io";

  // Kubernetes' CSIDriver name rule (ValidateCSIDriverName): at most 63 characters.
  private static final java.util.regex.Pattern DRIVER_NAME =
      java.util.regex.Pattern.compile("([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]");

  private CsiVolume() {}

  /**
   * {@code name} when it can be a CSIDriver object's name.
   *
   * @throws IllegalArgumentException naming {@code setting} otherwise
   */
  public static String driverName(String setting, String name) {
    if (name.length() > 63 || !DRIVER_NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          setting
              + " '"
              + name
              + "' is not a CSI driver name (letters, digits, '-', '_' and '.', at most 63"
              + " characters, starting and ending with a letter or digit)");
    }
    return name;
  }

  /** The volume {@link Volumes#SECRETS}: read-only, of {@code driver}, with the attributes. */
  public static Volume of(String driver, InjectionConfig config) {
    return new VolumeBuilder()
        .withName(Volumes.SECRETS)
        .withNewCsi()
        .withDriver(driver)
        .withReadOnly(true)
        .withVolumeAttributes(attributes(config))
        .endCsi()
        .build();
  }

  /** {@code secret.<file>}, {@code key.<file>}, ..., {@code file-mode}, {@code refresh}; sorted. */
  public static SortedMap<String, String> attributes(InjectionConfig config) {
    SortedMap<String, String> attributes = new TreeMap<>();
    for (SecretFile file : config.files()) {
      String name = file.fileName();
      attributes.put(FileSetParser.SECRET + name, file.secretName());
      file.key().ifPresent(key -> attributes.put(FileSetParser.KEY + name, key));
      attributes.put(FileSetParser.FORMAT + name, file.format().configName());
      attributes.put(FileSetParser.STAGE + name, file.stage().name());
    }
    attributes.put(FileSetParser.FILE_MODE, FileMode.render(config.fileMode()));
    attributes.put(FileSetParser.REFRESH, Refresh.render(config.refresh()));
    return attributes;
  }
}
