package dev.jxla;

import dev.jxla.internal.Native;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Argument checks, error messages and op-attribute text for {@link Tensor}.
 *
 * <p>Invariants: a bad argument throws {@link IllegalArgumentException} whose message starts with
 * the op's name (the public method's, {@code "of: ..."}, or for a null operand of a traced op the
 * engine's, {@code "select: ..."}), so it reads the same whichever helper caught it; the one
 * exception is a null int list in attribute text ({@code "null list argument"}). Shapes that pass
 * {@link #checkShape} are copies the caller may keep. Attribute text uses the engine's text-IR
 * syntax: lists as {@code [a,b]} (no spaces), doubles through {@link #num} (so NaN and infinities
 * parse), flags as 0/1.
 */
final class TensorArgs {
  private TensorArgs() {}

  /**
   * The device of an op's result given the device so far and the next operand's: the engine
   * accepts differing operands only under a trace target (host and the target device mixed while
   * {@link CompiledFunction} traces for a device), and puts such a node on the host.
   */
  static Device resultDevice(Device d, Device operand) {
    return operand == d || operand.equals(d) ? d : Device.host();
  }

  /** Throws {@code "op: what is null"} if {@code v} is null. */
  static void requireNonNull(String op, String what, Object v) {
    if (v == null) {
      throw new IllegalArgumentException(op + ": " + what + " is null");
    }
  }

  static void requireData(String op, Object data) {
    requireNonNull(op, "data", data);
  }

  /**
   * A copy of {@code shape} after checking it has no negative dimension and, if {@code n >= 0},
   * exactly {@code n} elements.
   */
  static long[] checkShape(String op, long[] shape, long n) {
    if (shape == null) {
      throw new IllegalArgumentException(op + ": shape is null");
    }
    long prod = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException(op + ": negative dimension in shape " + list(shape));
      }
      prod *= d;
    }
    if (n >= 0 && prod != n) {
      throw new IllegalArgumentException(
          op + ": " + n + " elements do not fill shape " + list(shape) + " (" + prod + " elements)");
    }
    return shape.clone();
  }

  /**
   * The checked shape of {@code Tensor.of(array, shape)}: no shape given means a 1-D tensor of
   * the whole array (a single element stays 0-d, which is how {@code scalar} builds its tensors).
   */
  static long[] arrayShape(Object array, long[] shape) {
    requireData("of", array);
    int n = java.lang.reflect.Array.getLength(array);
    long[] s = shape.length == 0 && n != 1 ? new long[] {n} : shape;
    return checkShape("of", s, n);
  }

  /** {@code n} elements as a Java array length. */
  static int arrayLength(long n) {
    if (n > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException("tensor has " + n + " elements, too many for a Java array");
    }
    return (int) n;
  }

  private static final ConcurrentHashMap<String, Integer> OP_IDS = new ConcurrentHashMap<>();

  /** The id of op {@code name} in the engine's op table (looked up once per name). */
  static int opId(String name) {
    return OP_IDS.computeIfAbsent(name, Native::opId);
  }

  /** The number of elements of {@code shape}. */
  static long product(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  /** {@code axis} in [0, rank) (negative counts from the end). */
  static int normAxis(String op, int axis, int rank) {
    int a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank) {
      throw new IllegalArgumentException(op + ": axis " + axis + " is out of range for rank " + rank);
    }
    return a;
  }

  /** The handles of {@code ts} for {@code op}; a null element is {@code "op: what i is null"}. */
  static long[] handles(String op, String what, Tensor[] ts) {
    long[] hs = new long[ts.length];
    for (int i = 0; i < ts.length; i++) {
      if (ts[i] == null) {
        throw new IllegalArgumentException(op + ": " + what + " " + i + " is null");
      }
      hs[i] = ts[i].handle(op);
    }
    return hs;
  }

  /** The message for a null operand {@code i} of traced op {@code op} (0 is the receiver). */
  static IllegalArgumentException nullOperand(int op, int i) {
    return new IllegalArgumentException(Native.opName(op) + ": operand " + i + " is null");
  }

  static String list(long[] v) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < v.length; i++) {
      if (i > 0) {
        sb.append(',');
      }
      sb.append(v[i]);
    }
    return sb.append(']').toString();
  }

  static String list(int[] v) {
    if (v == null) {
      throw new IllegalArgumentException("null list argument");
    }
    long[] l = new long[v.length];
    for (int i = 0; i < v.length; i++) {
      l[i] = v[i];
    }
    return list(l);
  }

  static String num(double v) {
    if (Double.isNaN(v)) {
      return "nan";
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "inf" : "-inf";
    }
    String s = Double.toString(v);
    return s.replace("E", "e");
  }

  /** conv2d's attributes; {@code extra} ("" or ", precision=N") keeps the names sorted. */
  static String convAttrs(int[] stride, int[] padding, int[] dilation, int groups, String extra) {
    return "dilation=" + list(dilation) + ", groups=" + groups + ", padding=" + list(padding) + extra
        + ", stride=" + list(stride);
  }

  static int flag(boolean b) {
    return b ? 1 : 0;
  }
}
