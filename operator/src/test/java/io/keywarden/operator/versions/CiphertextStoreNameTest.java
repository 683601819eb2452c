package io.keywarden.operator.versions;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class CiphertextStoreNameTest {

  // The rule as it was written before the hand check, kept here as its specification.
  private static final Pattern DNS_LABEL_64 = Pattern.compile("[a-z0-9]([-a-z0-9]{0,62}[a-z0-9])?");

  @Test
  void theHandCheckAgreesWithTheRegexOnEdgesAndOnRandomIds() {
    List<String> edges =
        List.of(
            "",
            "a",
            "-",
            "a-",
            "-a",
            "a-b",
            "A",
            "a.b",
            "a_b",
            "0",
            "9z",
            "405d61fd-d1c9-4c0a-ab14-d6a27fdaa030",
            "405D61FD-d1c9-4c0a-ab14-d6a27fdaa030",
            "a".repeat(63),
            "a".repeat(64),
            "a".repeat(65),
            "é",
            "a b");
    for (String id : edges) {
      assertThat(CiphertextStore.isDnsLabel(id))
          .as(id)
          .isEqualTo(DNS_LABEL_64.matcher(id).matches());
    }
    String alphabet = "ab09-.A_ ";
    Random random = new Random(42);
    for (int n = 0; n < 20_000; n++) {
      StringBuilder id = new StringBuilder();
      int length = random.nextInt(67);
      for (int i = 0; i < length; i++) {
        id.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
      String s = id.toString();
      assertThat(CiphertextStore.isDnsLabel(s)).as(s).isEqualTo(DNS_LABEL_64.matcher(s).matches());
    }
  }

  @Test
  void plainIdsNameTheirObjectAsTheyAreAndOthersByDigest() {
    assertThat(CiphertextStore.objectName("u1", "v-1")).isEqualTo("kw-u1-v-1");
    assertThat(CiphertextStore.objectName("u1", "Version_1"))
        .startsWith("kw-u1.h")
        .hasSize("kw-u1.h".length() + 40);
  }
}
