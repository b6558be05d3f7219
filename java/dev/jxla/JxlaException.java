package dev.jxla;

/** An engine failure (not caused by bad arguments). Unchecked. */
public class JxlaException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Creates an exception with the engine's message. */
  public JxlaException(String message) {
    super(message);
  }
}
