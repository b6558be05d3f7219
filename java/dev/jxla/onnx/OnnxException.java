package dev.jxla.onnx;

/**
 * A model that cannot be imported: a malformed or truncated file, an unsupported operator,
 * attribute, opset or element type. The message names the node, the operator and the value
 * at fault (and, for unsupported operators, every one of them).
 */
public final class OnnxException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  /** An import error with a message. */
  public OnnxException(String message) {
    super(message);
  }

  /** An import error caused by {@code cause}. */
  public OnnxException(String message, Throwable cause) {
    super(message, cause);
  }
}
