package io.keywarden.contract;

/** An on/off switch, spelled exactly {@code true} or {@code false}. */
public final class Flag {

  private Flag() {}

  public static boolean parse(String text) {
    return switch (text) {
      case "true" -> true;
      case "false" -> false;
      default ->
          throw new GrammarException(
              "value " + GrammarException.quote(text) + " must be true or false");
    };
  }
}
