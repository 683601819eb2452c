package io.keywarden.injector.mutation;

import java.util.List;
import java.util.function.Function;

/**
 * Puts an injector-owned element (container, volume, mount) into a list by name, leaving a stored
 * element that already matches untouched (see {@link JsonSubset}), so mutation is idempotent.
 */
final class NamedElements {

  private NamedElements() {}

  /**
   * @param first where a missing element goes: first, or last
   */
  static <T> void put(List<T> list, T wanted, Function<T, String> name, boolean first) {
    String wantedName = name.apply(wanted);
    for (int i = 0; i < list.size(); i++) {
      if (wantedName.equals(name.apply(list.get(i)))) {
        if (!JsonSubset.covers(list.get(i), wanted)) {
          list.set(i, wanted);
        }
        return;
      }
    }
    if (first) {
      list.add(0, wanted);
    } else {
      list.add(wanted);
    }
  }

  static <T> void remove(List<T> list, String removed, Function<T, String> name) {
    list.removeIf(element -> removed.equals(name.apply(element)));
  }
}
