package io.keywarden.operator.crypto;

/** A stored envelope that cannot be read or does not authenticate: altered, truncated or moved. */
public class CorruptEnvelopeException extends RuntimeException {
  public CorruptEnvelopeException(String message) {
    super(message);
  }

  public CorruptEnvelopeException(String message, Throwable cause) {
    super(message, cause);
  }
}
