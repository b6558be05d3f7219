package dev.jxla;

/**
 * Device memory is exhausted. The message names the requested, padded, in-use and limit bytes
 * and the largest live buffers. The device stays usable after this exception.
 */
public final class ResourceExhaustedException extends JxlaException {
  private static final long serialVersionUID = 1L;

  /** Creates an exception with the engine's message. */
  public ResourceExhaustedException(String message) {
    super(message);
  }
}
