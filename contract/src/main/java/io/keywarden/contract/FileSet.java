package io.keywarden.contract;

import java.util.List;
import java.util.Objects;

/**
 * Which files to write and how, parsed by {@link FileSetParser} from pod annotations or CSI volume
 * attributes.
 *
 * @param files sorted by file name
 * @param fileMode POSIX mode bits of every file, grammar {@link FileMode}
 */
public record FileSet(List<FileEntry> files, int fileMode, Refresh refresh) {

  public FileSet {
    files = List.copyOf(files);
    Objects.requireNonNull(refresh, "refresh");
  }
}
