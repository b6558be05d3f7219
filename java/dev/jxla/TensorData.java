package dev.jxla;

import static dev.jxla.TensorArgs.checkShape;
import static dev.jxla.TensorArgs.list;

import dev.jxla.internal.Native;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;

/**
 * Data in and out of {@link Tensor}: NIO buffers (size and byte-order checks), boolean arrays
 * (stored as one byte per element), {@code item()}, scalars of a tensor's dtype, float ranges
 * and random tensors.
 *
 * <p>Invariants: a direct buffer is handed to the engine only if its element order is the
 * native one (a {@link ByteBuffer} is raw bytes, laid out by the caller); sizes are compared in
 * bytes, {@code remaining()} times the buffer's element size; nothing here keeps a reference to
 * a caller's buffer or array after returning.
 */
final class TensorData {
  private TensorData() {}

  /** The native tensor of {@code Tensor.of(data, dtype, shape)} (data is not null). */
  static long fromBuffer(Buffer data, DType dtype, long[] shape) {
    long[] s = checkShape("of", shape, -1);
    long n = TensorArgs.product(s);
    long nbytes = (long) data.remaining() * elementBytes(data);
    if (nbytes != n * dtype.byteSize()) {
      throw new IllegalArgumentException("of: buffer holds " + nbytes + " bytes but " + dtype.irName()
          + list(s) + " needs " + n * dtype.byteSize());
    }
    if (data.isDirect()) {
      checkOrder("of", data);
      return Native.fromBuffer(0, dtype.id(), s, data, nbytes);
    }
    if (data instanceof FloatBuffer) {
      float[] a = new float[data.remaining()];
      ((FloatBuffer) data).duplicate().get(a);
      return Native.fromArray(0, dtype.id(), s, a);
    }
    throw new IllegalArgumentException("of: only direct buffers or heap FloatBuffers are supported, got "
        + data.getClass().getSimpleName());
  }

  /** {@code Tensor.copyTo}: {@code t}'s elements as {@code dtype} into {@code dst} ({@code h} is t's handle). */
  static void copyTo(Tensor t, long h, Buffer dst, DType dtype) {
    if (dst == null || !dst.isDirect()) {
      throw new IllegalArgumentException("copyTo: a direct buffer is required");
    }
    checkOrder("copyTo", dst);
    long nbytes = t.numel() * dtype.byteSize();
    long have = (long) dst.remaining() * elementBytes(dst);
    if (have < nbytes) {
      throw new IllegalArgumentException("copyTo: buffer has " + have + " bytes, " + nbytes + " needed");
    }
    Native.read(h, dtype.id(), dst, nbytes);
  }

  private static void checkOrder(String op, Buffer b) {
    ByteOrder o = null;
    if (b instanceof ByteBuffer) {
      return;  // raw bytes: the caller lays out the elements
    } else if (b instanceof FloatBuffer) {
      o = ((FloatBuffer) b).order();
    } else if (b instanceof DoubleBuffer) {
      o = ((DoubleBuffer) b).order();
    } else if (b instanceof IntBuffer) {
      o = ((IntBuffer) b).order();
    } else if (b instanceof LongBuffer) {
      o = ((LongBuffer) b).order();
    } else if (b instanceof ShortBuffer) {
      o = ((ShortBuffer) b).order();
    }
    if (o != null && o != ByteOrder.nativeOrder()) {
      throw new IllegalArgumentException(op + ": direct buffer has byte order " + o + ", expected native " + ByteOrder.nativeOrder());
    }
  }

  /** Bytes per element of {@code b} (1 for a ByteBuffer). */
  private static long elementBytes(Buffer b) {
    if (b instanceof FloatBuffer || b instanceof IntBuffer) {
      return 4;
    }
    if (b instanceof DoubleBuffer || b instanceof LongBuffer) {
      return 8;
    }
    if (b instanceof ShortBuffer || b instanceof CharBuffer) {
      return 2;
    }
    return 1;
  }

  /** {@code Tensor.item}: the single element of {@code t} ({@code h} is its handle) as a double. */
  static double item(Tensor t, long h) {
    long n = t.numel();
    if (n != 1) {
      throw new IllegalStateException("item: tensor of shape " + list(t.shape()) + " has " + n + " elements, not 1");
    }
    double[] out = new double[1];
    Native.read(h, DType.F64.id(), out);
    return out[0];
  }

  static byte[] toBytes(boolean[] data) {
    byte[] b = new byte[data.length];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) (data[i] ? 1 : 0);
    }
    return b;
  }

  static boolean[] toBooleans(byte[] b) {
    boolean[] out = new boolean[b.length];
    for (int i = 0; i < b.length; i++) {
      out[i] = b[i] != 0;
    }
    return out;
  }

  /** A 0-d tensor of {@code dt} on {@code device} holding {@code v} (data, not a graph constant). */
  static Tensor scalarLike(double v, DType dt, Device device) {
    Tensor s;
    switch (dt) {
      case F64:
        s = Tensor.scalar(v);
        break;
      case S32:
        s = Tensor.scalar((int) v);
        break;
      case S64:
        s = Tensor.scalar((long) v);
        break;
      case BOOL:
        s = Tensor.scalar(v != 0);
        break;
      case BF16:
      case F16:
        s = Tensor.scalar(v, dt);  // rounded once from v; an f32 scalar would promote the result to f32
        break;
      default:
        s = Tensor.scalar((float) v);
        break;
    }
    if (!device.isHost()) {
      try (Tensor h = s) {
        return h.to(device);
      }
    }
    return s;
  }

  /** {@code Tensor.arange(start, end, step, dtype)}: computed in f64, then converted. */
  static Tensor arange(double start, double end, double step, DType dtype) {
    if (step == 0 || Double.isNaN(step) || Double.isNaN(start) || Double.isNaN(end)) {
      throw new IllegalArgumentException("arange: bad range start=" + start + " end=" + end + " step=" + step);
    }
    long n = Math.max(0, (long) Math.ceil((end - start) / step));
    try (Tensor i = Tensor.arange(n, DType.F64)) {
      try (Tensor a = i.mul(step)) {
        try (Tensor b = a.add(start)) {
          return b.to(dtype);
        }
      }
    }
  }

  /** Samples of {@code op} (rng_normal or rng_uniform); the key takes {@code numel} draws from rng. */
  static Tensor random(int op, Rng rng, DType dtype, long[] shape) {
    if (rng == null) {
      throw new IllegalArgumentException("rand: rng is null");
    }
    long[] s = checkShape("rand", shape, -1);
    long n = TensorArgs.product(s);
    try (Tensor key = Tensor.of(new long[] {rng.seed(), rng.take(n)}, 2)) {
      return new Tensor(Native.op(op, new long[] {key.handle()}, "dtype=" + dtype.irName() + ", shape=" + list(s), 0),
          Device.host());
    }
  }
}
