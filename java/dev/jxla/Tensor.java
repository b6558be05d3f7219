package dev.jxla;

import dev.jxla.internal.Native;
import dev.jxla.internal.Ops;
import dev.jxla.internal.TensorRef;
import java.nio.Buffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * A lazy tensor. Operations record a node of the engine's IR (one JNI call each, with shape
 * inference: shape, dtype and axis errors throw {@link IllegalArgumentException} right here);
 * nothing runs until {@link Jxla#sync()} or a read such as {@link #toFloatArray()}.
 *
 * <p>Data is row-major; buffers use native byte order (little-endian on x86-64). Element-wise
 * ops broadcast like NumPy and promote dtypes along bool &lt; s32 &lt; s64 &lt; bf16/f16 &lt; f32 &lt; f64.
 *
 * <p>A tensor owns native memory: close it, or create it inside a {@link TensorScope}. Closing is
 * idempotent; any use after close throws {@link IllegalStateException}. A tensor may be read from
 * any thread, but must not be closed while another thread uses it.
 */
public final class Tensor implements AutoCloseable {
  private final TensorRef ref;
  private final Device device;
  private volatile boolean closed;

  Tensor(long handle, Device device) {
    this.ref = new TensorRef(handle);
    this.device = device;
    TensorScope.register(this);
  }

  long handle() {
    return handle("tensor");
  }

  /** The native handle; {@code op} names the call in the use-after-close message. */
  long handle(String op) {
    if (closed) {
      throw new IllegalStateException(op + ": the tensor is closed (used after close())");
    }
    return ref.handle();
  }

  /** The native handle for traced op {@code op} (its name is looked up only on error). */
  private long handleFor(int op) {
    return closed ? handle(Native.opName(op)) : ref.handle();
  }

  private Tensor wrap(long h) {
    return new Tensor(h, device);
  }

  // ------------------------------------------------------------------ creation

  private static long[] checkShape(String op, long[] shape, long n) {
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

  private static long[] vectorShape(long[] shape, long n) {
    return shape.length == 0 && n != 1 ? new long[] {n} : shape;
  }

  /** A float32 tensor of {@code data} with {@code shape} (a 1-D tensor if no shape is given). */
  public static Tensor of(float[] data, long... shape) {
    requireData("of", data);
    long[] s = checkShape("of", vectorShape(shape, data.length), data.length);
    return new Tensor(Native.fromArray(0, DType.F32.id(), s, data), Device.host());
  }

  /** A float64 tensor. */
  public static Tensor of(double[] data, long... shape) {
    requireData("of", data);
    long[] s = checkShape("of", vectorShape(shape, data.length), data.length);
    return new Tensor(Native.fromArray(0, DType.F64.id(), s, data), Device.host());
  }

  /** An int32 tensor. */
  public static Tensor of(int[] data, long... shape) {
    requireData("of", data);
    long[] s = checkShape("of", vectorShape(shape, data.length), data.length);
    return new Tensor(Native.fromArray(0, DType.S32.id(), s, data), Device.host());
  }

  /** An int64 tensor. */
  public static Tensor of(long[] data, long... shape) {
    requireData("of", data);
    long[] s = checkShape("of", vectorShape(shape, data.length), data.length);
    return new Tensor(Native.fromArray(0, DType.S64.id(), s, data), Device.host());
  }

  /** A bool tensor. */
  public static Tensor of(boolean[] data, long... shape) {
    requireData("of", data);
    long[] s = checkShape("of", vectorShape(shape, data.length), data.length);
    byte[] b = new byte[data.length];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) (data[i] ? 1 : 0);
    }
    return new Tensor(Native.fromArray(0, DType.BOOL.id(), s, b), Device.host());
  }

  /** A float32 tensor from the remaining elements of a buffer (direct buffers are not copied twice). */
  public static Tensor of(FloatBuffer data, long... shape) {
    requireData("of", data);
    return of(data, DType.F32, shape);
  }

  /**
   * A tensor of {@code dtype} from a buffer's remaining bytes. Direct buffers must use native byte
   * order; heap buffers are copied.
   */
  public static Tensor of(Buffer data, DType dtype, long... shape) {
    requireData("of", data);
    long[] s = checkShape("of", shape, -1);
    long n = 1;
    for (long d : s) {
      n *= d;
    }
    long elemBytes = data instanceof java.nio.ByteBuffer ? 1 : bufferElementBytes(data);
    long nbytes = (long) data.remaining() * elemBytes;
    if (nbytes != n * dtype.byteSize()) {
      throw new IllegalArgumentException("of: buffer holds " + nbytes + " bytes but " + dtype.irName()
          + list(s) + " needs " + n * dtype.byteSize());
    }
    if (data.isDirect()) {
      checkOrder("of", data);
      return new Tensor(Native.fromBuffer(0, dtype.id(), s, data, nbytes), Device.host());
    }
    if (data instanceof FloatBuffer) {
      float[] a = new float[data.remaining()];
      ((FloatBuffer) data).duplicate().get(a);
      return new Tensor(Native.fromArray(0, dtype.id(), s, a), Device.host());
    }
    throw new IllegalArgumentException("of: only direct buffers or heap FloatBuffers are supported, got "
        + data.getClass().getSimpleName());
  }

  private static void checkOrder(String op, Buffer b) {
    ByteOrder o = null;
    if (b instanceof java.nio.ByteBuffer) {
      return;  // raw bytes: the caller lays out the elements
    } else if (b instanceof FloatBuffer) {
      o = ((FloatBuffer) b).order();
    } else if (b instanceof java.nio.DoubleBuffer) {
      o = ((java.nio.DoubleBuffer) b).order();
    } else if (b instanceof java.nio.IntBuffer) {
      o = ((java.nio.IntBuffer) b).order();
    } else if (b instanceof java.nio.LongBuffer) {
      o = ((java.nio.LongBuffer) b).order();
    } else if (b instanceof java.nio.ShortBuffer) {
      o = ((java.nio.ShortBuffer) b).order();
    }
    if (o != null && o != ByteOrder.nativeOrder()) {
      throw new IllegalArgumentException(op + ": direct buffer has byte order " + o + ", expected native " + ByteOrder.nativeOrder());
    }
  }

  private static long bufferElementBytes(Buffer b) {
    if (b instanceof FloatBuffer || b instanceof java.nio.IntBuffer) {
      return 4;
    }
    if (b instanceof java.nio.DoubleBuffer || b instanceof java.nio.LongBuffer) {
      return 8;
    }
    if (b instanceof java.nio.ShortBuffer || b instanceof java.nio.CharBuffer) {
      return 2;
    }
    return 1;
  }

  private static void requireData(String op, Object data) {
    if (data == null) {
      throw new IllegalArgumentException(op + ": data is null");
    }
  }

  /** A 0-d float32 tensor. */
  public static Tensor scalar(float v) {
    return of(new float[] {v}, new long[0]);
  }

  /** A 0-d float64 tensor. */
  public static Tensor scalar(double v) {
    return of(new double[] {v}, new long[0]);
  }

  /** A 0-d int32 tensor. */
  public static Tensor scalar(int v) {
    return of(new int[] {v}, new long[0]);
  }

  /** A 0-d int64 tensor. */
  public static Tensor scalar(long v) {
    return of(new long[] {v}, new long[0]);
  }

  /** A 0-d bool tensor. */
  public static Tensor scalar(boolean v) {
    return of(new boolean[] {v}, new long[0]);
  }

  /** A 0-d tensor of {@code dtype} holding {@code v} (data, so changing values never recompiles). */
  public static Tensor scalar(double v, DType dtype) {
    try (Tensor t = scalar(v)) {
      return t.to(dtype).materialized();
    }
  }

  /** A tensor filled with {@code value} (a constant of the graph). */
  public static Tensor full(double value, DType dtype, long... shape) {
    return full(Device.host(), value, dtype, shape);
  }

  /** A tensor filled with {@code value} on {@code device}. */
  public static Tensor full(Device device, double value, DType dtype, long... shape) {
    long[] s = checkShape("full", shape, -1);
    String attrs = "dtype=" + dtype.irName() + ", shape=" + list(s) + ", value=" + num(value);
    return new Tensor(Native.op(Ops.FULL, new long[0], attrs, device.handle()), device);
  }

  /** Zeros. */
  public static Tensor zeros(DType dtype, long... shape) {
    return full(0, dtype, shape);
  }

  /** Ones. */
  public static Tensor ones(DType dtype, long... shape) {
    return full(1, dtype, shape);
  }

  /** 0, 1, ..., n-1 as int64. */
  public static Tensor arange(long n) {
    return arange(n, DType.S64);
  }

  /** 0, 1, ..., n-1 as {@code dtype}. */
  public static Tensor arange(long n, DType dtype) {
    if (n < 0) {
      throw new IllegalArgumentException("arange: n must be >= 0, got " + n);
    }
    return new Tensor(Native.op(Ops.IOTA, new long[0], "axis=0, dtype=" + dtype.irName() + ", shape=[" + n + "]", 0),
        Device.host());
  }

  /** start, start+step, ... below end (above end for a negative step), as {@code dtype}. */
  public static Tensor arange(double start, double end, double step, DType dtype) {
    if (step == 0 || Double.isNaN(step) || Double.isNaN(start) || Double.isNaN(end)) {
      throw new IllegalArgumentException("arange: bad range start=" + start + " end=" + end + " step=" + step);
    }
    long n = Math.max(0, (long) Math.ceil((end - start) / step));
    try (Tensor i = arange(n, DType.F64)) {
      try (Tensor a = i.mul(step)) {
        try (Tensor b = a.add(start)) {
          return b.to(dtype);
        }
      }
    }
  }

  /** Iota along {@code axis} of {@code shape}. */
  public static Tensor iota(DType dtype, int axis, long... shape) {
    long[] s = checkShape("iota", shape, -1);
    return new Tensor(Native.op(Ops.IOTA, new long[0], "axis=" + axis + ", dtype=" + dtype.irName() + ", shape=" + list(s), 0),
        Device.host());
  }

  /** Standard normal samples from {@code rng}. */
  public static Tensor randn(Rng rng, DType dtype, long... shape) {
    return random(Ops.RNG_NORMAL, rng, dtype, shape);
  }

  /** Uniform samples in [0, 1) from {@code rng}. */
  public static Tensor rand(Rng rng, DType dtype, long... shape) {
    return random(Ops.RNG_UNIFORM, rng, dtype, shape);
  }

  private static Tensor random(int op, Rng rng, DType dtype, long... shape) {
    if (rng == null) {
      throw new IllegalArgumentException("rand: rng is null");
    }
    long[] s = checkShape("rand", shape, -1);
    long n = 1;
    for (long d : s) {
      n *= d;
    }
    try (Tensor key = of(new long[] {rng.seed(), rng.take(n)}, 2)) {
      return new Tensor(Native.op(op, new long[] {key.handle()}, "dtype=" + dtype.irName() + ", shape=" + list(s), 0),
          Device.host());
    }
  }

  /** Concatenates along {@code axis}. */
  public static Tensor concat(int axis, Tensor... ts) {
    if (ts == null || ts.length == 0) {
      throw new IllegalArgumentException("concat: no tensors");
    }
    long[] hs = new long[ts.length];
    for (int i = 0; i < ts.length; i++) {
      if (ts[i] == null) {
        throw new IllegalArgumentException("concat: tensor " + i + " is null");
      }
      hs[i] = ts[i].handle("concat");
    }
    return new Tensor(Native.op(Ops.CONCAT, hs, "axis=" + axis, 0), ts[0].device);
  }

  /** Element-wise {@code cond ? a : b} with broadcasting; cond must be bool. */
  public static Tensor where(Tensor cond, Tensor a, Tensor b) {
    return cond.apply(Ops.SELECT, "", a, b);
  }

  // ------------------------------------------------------------------ element-wise

  private Tensor un(int op) {
    return wrap(Native.unary(op, handleFor(op)));
  }

  private Tensor bin(int op, Tensor o) {
    if (o == null) {
      throw new IllegalArgumentException(Native.opName(op) + ": operand 1 is null");
    }
    return wrap(Native.binary(op, handleFor(op), o.handleFor(op)));
  }

  private Tensor binScalar(int op, double v) {
    try (Tensor s = scalarLike(v)) {
      return bin(op, s);
    }
  }

  /** A 0-d tensor of this tensor's dtype (data, not a graph constant). */
  private Tensor scalarLike(double v) {
    DType dt = dtype();
    Tensor s;
    switch (dt) {
      case F64:
        s = scalar(v);
        break;
      case S32:
        s = scalar((int) v);
        break;
      case S64:
        s = scalar((long) v);
        break;
      case BOOL:
        s = scalar(v != 0);
        break;
      case BF16:
      case F16:
        s = scalar(v, dt);  // rounded once from v; an f32 scalar would promote the result to f32
        break;
      default:
        s = scalar((float) v);
        break;
    }
    if (!device.isHost()) {
      try (Tensor h = s) {
        return h.to(device);
      }
    }
    return s;
  }

  Tensor apply(int op, String attrs, Tensor... others) {
    long[] hs = new long[others.length + 1];
    hs[0] = handleFor(op);
    for (int i = 0; i < others.length; i++) {
      if (others[i] == null) {
        throw new IllegalArgumentException(Native.opName(op) + ": operand " + (i + 1) + " is null");
      }
      hs[i + 1] = others[i].handleFor(op);
    }
    return wrap(Native.op(op, hs, attrs, device.handle()));
  }

  public Tensor neg() { return un(Ops.NEG); }
  public Tensor abs() { return un(Ops.ABS); }
  public Tensor exp() { return un(Ops.EXP); }
  public Tensor log() { return un(Ops.LOG); }
  public Tensor log1p() { return un(Ops.LOG1P); }
  public Tensor expm1() { return un(Ops.EXPM1); }
  public Tensor sqrt() { return un(Ops.SQRT); }
  public Tensor rsqrt() { return un(Ops.RSQRT); }
  public Tensor tanh() { return un(Ops.TANH); }
  public Tensor sigmoid() { return un(Ops.SIGMOID); }
  public Tensor relu() { return un(Ops.RELU); }
  /** GELU, exact (erf) form. */
  public Tensor gelu() { return un(Ops.GELU); }
  /** GELU; {@code tanhApproximation} selects the tanh form. */
  public Tensor gelu(boolean tanhApproximation) { return un(tanhApproximation ? Ops.GELU_TANH : Ops.GELU); }
  public Tensor erf() { return un(Ops.ERF); }
  public Tensor sin() { return un(Ops.SIN); }
  public Tensor cos() { return un(Ops.COS); }
  public Tensor floor() { return un(Ops.FLOOR); }
  public Tensor ceil() { return un(Ops.CEIL); }
  /** Rounds half to even, like NumPy. */
  public Tensor round() { return un(Ops.ROUND); }
  public Tensor sign() { return un(Ops.SIGN); }
  /** Logical not (bool) or bitwise not (integers). */
  public Tensor not() { return un(Ops.NOT); }

  public Tensor add(Tensor o) { return bin(Ops.ADD, o); }
  public Tensor sub(Tensor o) { return bin(Ops.SUB, o); }
  public Tensor mul(Tensor o) { return bin(Ops.MUL, o); }
  /** Division; integers truncate toward zero (x / 0 = -1, as XLA). */
  public Tensor div(Tensor o) { return bin(Ops.DIV, o); }
  public Tensor pow(Tensor o) { return bin(Ops.POW, o); }
  /** Element-wise maximum (NaN propagates). */
  public Tensor max(Tensor o) { return bin(Ops.MAX, o); }
  /** Element-wise minimum (NaN propagates). */
  public Tensor min(Tensor o) { return bin(Ops.MIN, o); }
  public Tensor eq(Tensor o) { return bin(Ops.EQ, o); }
  public Tensor ne(Tensor o) { return bin(Ops.NE, o); }
  public Tensor lt(Tensor o) { return bin(Ops.LT, o); }
  public Tensor le(Tensor o) { return bin(Ops.LE, o); }
  public Tensor gt(Tensor o) { return bin(Ops.GT, o); }
  public Tensor ge(Tensor o) { return bin(Ops.GE, o); }
  public Tensor and(Tensor o) { return bin(Ops.AND, o); }
  public Tensor or(Tensor o) { return bin(Ops.OR, o); }
  public Tensor xor(Tensor o) { return bin(Ops.XOR, o); }

  public Tensor add(double v) { return binScalar(Ops.ADD, v); }
  public Tensor sub(double v) { return binScalar(Ops.SUB, v); }
  public Tensor mul(double v) { return binScalar(Ops.MUL, v); }
  public Tensor div(double v) { return binScalar(Ops.DIV, v); }
  public Tensor pow(double v) { return binScalar(Ops.POW, v); }
  public Tensor max(double v) { return binScalar(Ops.MAX, v); }
  public Tensor min(double v) { return binScalar(Ops.MIN, v); }
  public Tensor eq(double v) { return binScalar(Ops.EQ, v); }
  public Tensor lt(double v) { return binScalar(Ops.LT, v); }
  public Tensor gt(double v) { return binScalar(Ops.GT, v); }

  /** Clamps to [lo, hi] (tensors broadcast to this shape). */
  public Tensor clamp(Tensor lo, Tensor hi) {
    return apply(Ops.CLAMP, "", lo, hi);
  }

  /** Clamps to [lo, hi]. */
  public Tensor clamp(double lo, double hi) {
    try (Tensor l = scalarLike(lo); Tensor h = scalarLike(hi)) {
      return clamp(l, h);
    }
  }

  /** Converts to {@code dtype} (floats to integers truncate and saturate; NaN becomes 0). */
  public Tensor to(DType dtype) {
    return apply(Ops.CONVERT, "dtype=" + dtype.irName());
  }

  /** Copies this tensor's value to {@code target} (materializing it first). */
  public Tensor to(Device target) {
    if (target == null) {
      throw new IllegalArgumentException("to: device is null");
    }
    return new Tensor(Native.toDevice(handle("to"), target.handle()), target);
  }

  // ------------------------------------------------------------------ shape

  /** Reshape; one dimension may be -1. */
  public Tensor reshape(long... shape) {
    if (shape == null) {
      throw new IllegalArgumentException("reshape: shape is null");
    }
    return apply(Ops.RESHAPE, "shape=" + list(shape));
  }

  /** Permutes dimensions: result dim i is this tensor's dim {@code perm[i]}. */
  public Tensor permute(int... perm) {
    if (perm == null) {
      throw new IllegalArgumentException("permute: perm is null");
    }
    return apply(Ops.TRANSPOSE, "perm=" + list(perm));
  }

  /** Swaps two dimensions. */
  public Tensor transpose(int a, int b) {
    int r = rank();
    int[] perm = new int[r];
    for (int i = 0; i < r; i++) {
      perm[i] = i;
    }
    int na = normAxis("transpose", a, r), nb = normAxis("transpose", b, r);
    perm[na] = nb;
    perm[nb] = na;
    return permute(perm);
  }

  /** Broadcasts to {@code shape} (NumPy rules). */
  public Tensor broadcastTo(long... shape) {
    if (shape == null) {
      throw new IllegalArgumentException("broadcastTo: shape is null");
    }
    long[] s = shape();
    if (s.length > shape.length) {
      throw new IllegalArgumentException("broadcastTo: cannot broadcast " + list(s) + " to " + list(shape));
    }
    int off = shape.length - s.length;
    long[] kept = new long[s.length];
    int[] dims = new int[s.length];
    int k = 0;
    for (int i = 0; i < s.length; i++) {
      if (s[i] == shape[off + i]) {
        kept[k] = s[i];
        dims[k++] = off + i;
      } else if (s[i] != 1) {
        throw new IllegalArgumentException("broadcastTo: cannot broadcast " + list(s) + " to "
            + list(shape) + " (dimension " + i + ")");
      }
    }
    long[] keptShape = Arrays.copyOf(kept, k);
    int[] keptDims = Arrays.copyOf(dims, k);
    if (k == s.length) {
      return apply(Ops.BROADCAST, "dims=" + list(keptDims) + ", shape=" + list(shape));
    }
    try (Tensor r = reshape(keptShape)) {
      return r.apply(Ops.BROADCAST, "dims=" + list(keptDims) + ", shape=" + list(shape));
    }
  }

  /** Same as {@link #broadcastTo(long...)} (PyTorch's name). */
  public Tensor expand(long... shape) {
    return broadcastTo(shape);
  }

  /** Elements start, start+step, ... below end along {@code axis} (negative indices count from the end). */
  public Tensor slice(int axis, long start, long end, long step) {
    long[] s = shape();
    int ax = normAxis("slice", axis, s.length);
    long n = s[ax];
    long st = start < 0 ? start + n : start;
    long en = end < 0 ? end + n : end;
    st = Math.max(0, Math.min(n, st));
    en = Math.max(st, Math.min(n, en));
    if (step < 1) {
      throw new IllegalArgumentException("slice: step " + step + " must be >= 1");
    }
    long[] lo = new long[s.length];
    long[] hi = s.clone();
    long[] sd = new long[s.length];
    Arrays.fill(sd, 1);
    lo[ax] = st;
    hi[ax] = en;
    sd[ax] = step;
    return apply(Ops.SLICE, "limit=" + list(hi) + ", start=" + list(lo) + ", stride=" + list(sd));
  }

  /** Slice with step 1. */
  public Tensor slice(int axis, long start, long end) {
    return slice(axis, start, end, 1);
  }

  /** Constant padding: {@code low[i]}/{@code high[i]} elements before/after dimension i. */
  public Tensor pad(long[] low, long[] high, double value) {
    return apply(Ops.PAD, "high=" + list(high) + ", low=" + list(low) + ", value=" + num(value));
  }

  /** Removes dimension {@code axis}, which must have size 1. */
  public Tensor squeeze(int axis) {
    long[] s = shape();
    int ax = normAxis("squeeze", axis, s.length);
    if (s[ax] != 1) {
      throw new IllegalArgumentException("squeeze: dimension " + axis + " of " + list(s) + " has size " + s[ax] + ", not 1");
    }
    long[] r = new long[s.length - 1];
    for (int i = 0, k = 0; i < s.length; i++) {
      if (i != ax) {
        r[k++] = s[i];
      }
    }
    return reshape(r);
  }

  /** Inserts a dimension of size 1 at {@code axis} (0..rank). */
  public Tensor unsqueeze(int axis) {
    long[] s = shape();
    int ax = axis < 0 ? axis + s.length + 1 : axis;
    if (ax < 0 || ax > s.length) {
      throw new IllegalArgumentException("unsqueeze: axis " + axis + " is out of range for rank " + s.length);
    }
    long[] r = new long[s.length + 1];
    for (int i = 0, k = 0; i < r.length; i++) {
      r[i] = i == ax ? 1 : s[k++];
    }
    return reshape(r);
  }

  // ------------------------------------------------------------------ indexing

  /** NumPy take / index_select: picks {@code indices} (integer, any rank) along {@code axis}. */
  public Tensor gather(Tensor indices, int axis) {
    return apply(Ops.GATHER, "axis=" + axis, indices);
  }

  /** PyTorch's name for {@link #gather(Tensor, int)} with 1-D indices. */
  public Tensor indexSelect(int axis, Tensor indices) {
    return gather(indices, axis);
  }

  /** NumPy take_along_axis. */
  public Tensor takeAlongAxis(Tensor indices, int axis) {
    return apply(Ops.TAKE_ALONG_AXIS, "axis=" + axis, indices);
  }

  /** Adds {@code updates} at {@code indices} along {@code axis} (the inverse of takeAlongAxis). */
  public Tensor scatterAdd(int axis, Tensor indices, Tensor updates) {
    return apply(Ops.SCATTER_ADD, "axis=" + axis, indices, updates);
  }

  /** One-hot encoding of integer indices with {@code depth} classes (out-of-range rows are zero). */
  public Tensor oneHot(int depth, DType dtype) {
    return apply(Ops.ONE_HOT, "depth=" + depth + ", dtype=" + dtype.irName());
  }

  // ------------------------------------------------------------------ reductions

  private Tensor reduce(int op, int[] axes, boolean keepDims) {
    String a = axes == null || axes.length == 0 ? allAxes() : list(axes);
    return apply(op, "axes=" + a + ", keepdims=" + (keepDims ? 1 : 0));
  }

  private String allAxes() {
    int r = rank();
    int[] a = new int[r];
    for (int i = 0; i < r; i++) {
      a[i] = i;
    }
    return list(a);
  }

  /** Sum over {@code axes} (all axes if none). */
  public Tensor sum(int... axes) { return reduce(Ops.REDUCE_SUM, axes, false); }
  public Tensor sum(boolean keepDims, int... axes) { return reduce(Ops.REDUCE_SUM, axes, keepDims); }
  public Tensor mean(int... axes) { return reduce(Ops.REDUCE_MEAN, axes, false); }
  public Tensor mean(boolean keepDims, int... axes) { return reduce(Ops.REDUCE_MEAN, axes, keepDims); }
  /** Maximum over {@code axes} (all axes if none). */
  public Tensor max(int... axes) { return reduce(Ops.REDUCE_MAX, axes, false); }
  public Tensor max(boolean keepDims, int... axes) { return reduce(Ops.REDUCE_MAX, axes, keepDims); }
  public Tensor min(int... axes) { return reduce(Ops.REDUCE_MIN, axes, false); }
  public Tensor min(boolean keepDims, int... axes) { return reduce(Ops.REDUCE_MIN, axes, keepDims); }
  public Tensor prod(int... axes) { return reduce(Ops.REDUCE_PROD, axes, false); }
  public Tensor prod(boolean keepDims, int... axes) { return reduce(Ops.REDUCE_PROD, axes, keepDims); }
  public Tensor logsumexp(int... axes) { return reduce(Ops.LOGSUMEXP, axes, false); }
  public Tensor logsumexp(boolean keepDims, int... axes) { return reduce(Ops.LOGSUMEXP, axes, keepDims); }

  /** Index of the first maximum along {@code axis}, as int64. */
  public Tensor argmax(int axis) { return argmax(axis, false); }
  public Tensor argmax(int axis, boolean keepDims) { return apply(Ops.ARGMAX, "axis=" + axis + ", keepdims=" + (keepDims ? 1 : 0)); }
  public Tensor argmin(int axis) { return argmin(axis, false); }
  public Tensor argmin(int axis, boolean keepDims) { return apply(Ops.ARGMIN, "axis=" + axis + ", keepdims=" + (keepDims ? 1 : 0)); }

  /** Softmax along {@code axis}. */
  public Tensor softmax(int axis) { return apply(Ops.SOFTMAX, "axis=" + axis); }
  /** Log-softmax along {@code axis}. */
  public Tensor logSoftmax(int axis) { return apply(Ops.LOG_SOFTMAX, "axis=" + axis); }

  // ------------------------------------------------------------------ linear algebra

  /** NumPy matmul: 1-D operands are promoted, batch dimensions broadcast. */
  public Tensor matmul(Tensor other) {
    return matmul(other, null);
  }

  /** Matmul at an MXU precision (used by the TPU device; the host computes in full precision). */
  public Tensor matmul(Tensor other, Precision precision) {
    if (other == null) {
      throw new IllegalArgumentException("matmul: other is null");
    }
    long[] a = shape(), b = other.shape();
    if (a.length == 0 || b.length == 0) {
      throw new IllegalArgumentException("matmul: operands must have rank >= 1, got " + list(a) + " and " + list(b));
    }
    String prec = precision == null ? "" : ", precision=" + precision.id();
    if (a.length <= 2 && b.length <= 2) {
      if (a.length == 2 && b.length == 2 && a[1] != b[0] || a.length == 1 && b.length == 2 && a[0] != b[0]
          || a.length == 2 && b.length == 1 && a[1] != b[0] || a.length == 1 && b.length == 1 && a[0] != b[0]) {
        throw new IllegalArgumentException("matmul: shapes " + list(a) + " and " + list(b)
            + " are not aligned (contracting dimensions differ)");
      }
      return dotGeneral(other, new int[] {a.length - 1}, new int[] {0}, new int[0], new int[0], prec);
    }
    // batched: broadcast batch dims, then dot_general with batch dims
    Tensor l = this, r = other;
    boolean squeezeL = false, squeezeR = false;
    try (TensorScope scope = new TensorScope()) {
      if (a.length == 1) {
        l = unsqueeze(0);
        squeezeL = true;
      }
      if (b.length == 1) {
        r = other.unsqueeze(1);
        squeezeR = true;
      }
      long[] ls = l.shape(), rs = r.shape();
      int lb = ls.length - 2, rb = rs.length - 2, nb = Math.max(lb, rb);
      long[] batch = new long[nb];
      for (int i = 0; i < nb; i++) {
        long dl = i - (nb - lb) >= 0 ? ls[i - (nb - lb)] : 1;
        long dr = i - (nb - rb) >= 0 ? rs[i - (nb - rb)] : 1;
        if (dl != dr && dl != 1 && dr != 1) {
          throw new IllegalArgumentException("matmul: batch dimensions of " + list(a) + " and " + list(b) + " do not broadcast");
        }
        batch[i] = Math.max(dl, dr);
      }
      if (ls[ls.length - 1] != rs[rs.length - 2]) {
        throw new IllegalArgumentException("matmul: shapes " + list(a) + " and " + list(b)
            + " are not aligned (" + ls[ls.length - 1] + " vs " + rs[rs.length - 2] + ")");
      }
      long[] lt = Arrays.copyOf(batch, nb + 2);
      lt[nb] = ls[ls.length - 2];
      lt[nb + 1] = ls[ls.length - 1];
      long[] rt = Arrays.copyOf(batch, nb + 2);
      rt[nb] = rs[rs.length - 2];
      rt[nb + 1] = rs[rs.length - 1];
      Tensor lB = Arrays.equals(ls, lt) ? l : l.broadcastTo(lt);
      Tensor rB = Arrays.equals(rs, rt) ? r : r.broadcastTo(rt);
      int[] bd = new int[nb];
      for (int i = 0; i < nb; i++) {
        bd[i] = i;
      }
      Tensor out = lB.dotGeneral(rB, new int[] {nb + 1}, new int[] {nb}, bd, bd, prec);
      if (squeezeL) {
        out = out.squeeze(-2);
      }
      if (squeezeR) {
        out = out.squeeze(-1);
      }
      return scope.keep(out);
    }
  }

  /** XLA dot_general: result dims are batch, then this tensor's free dims, then other's free dims. */
  public Tensor dotGeneral(Tensor other, int[] contract, int[] otherContract, int[] batch, int[] otherBatch) {
    return dotGeneral(other, contract, otherContract, batch, otherBatch, "");
  }

  private Tensor dotGeneral(Tensor other, int[] lc, int[] rc, int[] lb, int[] rb, String extra) {
    return apply(Ops.DOT_GENERAL, "lhs_batch=" + list(lb) + ", lhs_contract=" + list(lc) + ", rhs_batch=" + list(rb)
        + ", rhs_contract=" + list(rc) + extra, other);
  }

  /** 2-D convolution, input NCHW, weight OIHW; padding is symmetric per spatial dim. */
  public Tensor conv2d(Tensor weight, int[] stride, int[] padding, int[] dilation, int groups) {
    return apply(Ops.CONV2D, "dilation=" + list(dilation) + ", groups=" + groups + ", padding=" + list(padding)
        + ", stride=" + list(stride), weight);
  }

  /** {@link #conv2d(Tensor, int[], int[], int[], int)} at an MXU precision (used by the TPU device). */
  public Tensor conv2d(Tensor weight, int[] stride, int[] padding, int[] dilation, int groups, Precision precision) {
    if (precision == null) {
      throw new IllegalArgumentException("conv2d: precision is null");
    }
    return apply(Ops.CONV2D, "dilation=" + list(dilation) + ", groups=" + groups + ", padding=" + list(padding)
        + ", precision=" + precision.id() + ", stride=" + list(stride), weight);
  }

  /** Convolution with stride 1, no padding. */
  public Tensor conv2d(Tensor weight) {
    return conv2d(weight, new int[] {1, 1}, new int[] {0, 0}, new int[] {1, 1}, 1);
  }

  /** Max pooling over NCHW input. */
  public Tensor maxPool2d(int[] kernel, int[] stride, int[] padding) {
    return apply(Ops.MAX_POOL2D, "kernel=" + list(kernel) + ", padding=" + list(padding) + ", stride=" + list(stride));
  }

  /** Average pooling over NCHW input. */
  public Tensor avgPool2d(int[] kernel, int[] stride, int[] padding, boolean countIncludePad) {
    return apply(Ops.AVG_POOL2D, "count_include_pad=" + (countIncludePad ? 1 : 0) + ", kernel=" + list(kernel)
        + ", padding=" + list(padding) + ", stride=" + list(stride));
  }


  // ================================================================== autograd (issue 5: training)
  // PyTorch semantics on the lazy IR: backward() asks the engine for the gradients of this
  // (one-element) tensor w.r.t. every live tensor that requires grad and accumulates them into
  // their .grad (the gradients are lazy IR, so forward + backward + update make one graph).
  // A gradient is owned by its tensor (never by a TensorScope); zeroGrad()/close() free it.

  private static final java.util.Set<Tensor> GRAD_LEAVES =
      java.util.Collections.synchronizedSet(java.util.Collections.newSetFromMap(new java.util.WeakHashMap<>()));
  private volatile boolean requiresGrad;
  private Tensor grad;

  /**
   * Marks this tensor as a leaf whose gradient {@link #backward()} accumulates into
   * {@link #grad()} (floating-point tensors only). Returns this tensor.
   */
  public Tensor requiresGrad(boolean on) {
    handle();
    if (on && !dtype().isFloatingPoint()) {
      throw new IllegalArgumentException("requiresGrad: only floating-point tensors have gradients, got " + dtype());
    }
    requiresGrad = on;
    if (on) {
      GRAD_LEAVES.add(this);
    } else {
      GRAD_LEAVES.remove(this);
    }
    return this;
  }

  /** True if {@link #backward()} accumulates a gradient into this tensor. */
  public boolean requiresGrad() {
    return requiresGrad;
  }

  /** The accumulated gradient (a tensor owned by this one), or null if none was computed. */
  public Tensor grad() {
    handle();
    return grad;
  }

  /**
   * Replaces the gradient (PyTorch's {@code p.grad = g}): this tensor takes ownership of
   * {@code g} (it leaves any open scope); null clears it. g must have this tensor's shape and dtype.
   */
  public void setGrad(Tensor g) {
    handle();
    if (g != null && (g.dtype() != dtype() || !Arrays.equals(g.shape(), shape()) || !g.device.equals(device))) {
      throw new IllegalArgumentException("setGrad: gradient " + g.dtype() + Arrays.toString(g.shape()) + " on " + g.device
          + " does not match the tensor " + dtype() + Arrays.toString(shape()) + " on " + device);
    }
    Tensor old = grad;
    grad = g == null ? null : TensorScope.escape(g);
    if (old != null && old != g) {
      old.close();
    }
  }

  /** Frees the accumulated gradient; {@link #grad()} is null afterwards (PyTorch set_to_none). */
  public void zeroGrad() {
    Tensor g = grad;
    grad = null;
    if (g != null) {
      g.close();
    }
  }

  /** The same value, cut from the gradient graph (no data is copied). */
  public Tensor detach() {
    return wrap(Native.detach(handle()));
  }

  /** Backpropagates from this one-element floating-point tensor (the loss). */
  public void backward() {
    backward(null);
  }

  /**
   * Backpropagates {@code gradient} (this tensor's shape and dtype; null means 1 for a
   * one-element tensor): every live tensor with {@link #requiresGrad(boolean)} that this tensor
   * depends on gets d(sum(this * gradient))/d(it) added to its {@link #grad()}.
   */
  public void backward(Tensor gradient) {
    long self = handle();
    java.util.List<Tensor> leaves = new java.util.ArrayList<>();
    synchronized (GRAD_LEAVES) {
      for (Tensor t : GRAD_LEAVES) {
        if (!t.closed && t.requiresGrad && t.device.equals(device)) {
          leaves.add(t);
        }
      }
    }
    long[] wrt = new long[leaves.size()];
    for (int i = 0; i < wrt.length; i++) {
      Tensor t = leaves.get(i);
      wrt[i] = t.closed ? 0 : t.ref.handle();  // closed meanwhile by another thread: skipped below
    }
    int live = 0;
    for (int i = 0; i < wrt.length; i++) {
      if (wrt[i] != 0) {
        wrt[live] = wrt[i];
        leaves.set(live++, leaves.get(i));
      }
    }
    wrt = Arrays.copyOf(wrt, live);
    leaves = leaves.subList(0, live);
    long[] gs = gradient == null ? Native.grad(self, wrt) : Native.vjp(self, gradient.handle(), wrt);
    for (int i = 0; i < gs.length; i++) {
      if (gs[i] == 0) {
        continue;
      }
      Tensor leaf = leaves.get(i);
      Tensor g = new Tensor(gs[i], device);
      TensorScope.escape(g);
      if (leaf.grad == null) {
        leaf.grad = g;
      } else {
        Tensor sum = leaf.grad.add(g);
        TensorScope.escape(sum);
        leaf.grad.close();
        g.close();
        leaf.grad = sum;
      }
    }
  }

  /**
   * In-place update: this tensor now holds {@code value}'s value (lazily: value's pending IR, if
   * any). dtype, shape and device must match. Used by optimizers and state-dict loading; the
   * tensor keeps its identity, its requiresGrad flag and its scope.
   */
  public Tensor assign(Tensor value) {
    if (value == null) {
      throw new IllegalArgumentException("assign: value is null");
    }
    Native.assign(handle(), value.handle());
    return this;
  }
  // ================================================================== end of autograd block

  // ================================================================== fused optimizer block (trainfast)
  /**
   * Traces Adam's update of parameter {@code p} in ONE engine call and assigns {@code p},
   * {@code m} and {@code v} in place (lazily, like {@link #assign}): {@code m = m*s[0] + g*s[1]},
   * {@code v = v*s[3] + (g*g)*s[4]}, {@code p = p - ((m*s[2]) / (sqrt(v*s[5]) + s[6]))*s[7]}.
   * The graph is the one the same ops traced one by one would give (same results), at a fraction
   * of the tracing cost. {@code s}: eight one-element tensors of p's dtype (beta1, 1-beta1,
   * 1/bias_correction1, beta2, 1-beta2, 1/bias_correction2, eps, lr); g, m and v match p's dtype,
   * shape and device. Used by {@link dev.jxla.optim.Adam}.
   */
  public static void adamUpdate(Tensor p, Tensor g, Tensor m, Tensor v, Tensor... s) {
    if (p == null || g == null || m == null || v == null || s == null || s.length != 8) {
      throw new IllegalArgumentException("adamUpdate: needs p, g, m, v and 8 scalars");
    }
    long[] sh = new long[8];
    for (int i = 0; i < 8; i++) {
      if (s[i] == null) {
        throw new IllegalArgumentException("adamUpdate: scalar " + i + " is null");
      }
      sh[i] = s[i].handle("adamUpdate");
    }
    Native.adamUpdate(p.handle("adamUpdate"), g.handle("adamUpdate"), m.handle("adamUpdate"), v.handle("adamUpdate"), sh);
  }
  // ================================================================== end of fused optimizer block

  // ------------------------------------------------------------------ dynamic shape (host, eager)

  /** Indices of non-zero elements as int64 [n, rank] (evaluated now: the shape depends on data). */
  public Tensor nonzero() { return apply(Ops.NONZERO, ""); }
  /** Sorted unique values, 1-D (evaluated now). */
  public Tensor unique() { return apply(Ops.UNIQUE, ""); }
  /** Elements where {@code mask} (bool, same shape) is true, 1-D (evaluated now). */
  public Tensor maskedSelect(Tensor mask) { return apply(Ops.MASKED_SELECT, "", mask); }

  // ------------------------------------------------------------------ metadata and data out

  /** Element type. */
  public DType dtype() {
    return DType.ofId(Native.dtype(handle("dtype")));
  }

  /** Dimensions (a copy). */
  public long[] shape() {
    return Native.shape(handle("shape"));
  }

  /** Number of dimensions. */
  public int rank() {
    return shape().length;
  }

  /** Number of elements. */
  public long numel() {
    long n = 1;
    for (long d : shape()) {
      n *= d;
    }
    return n;
  }

  /** The device holding (or that will compute) this tensor. */
  public Device device() {
    handle();
    return device;
  }

  /** True once the value is computed (after a sync or a read). */
  public boolean isMaterialized() {
    return Native.isMaterialized(handle("isMaterialized"));
  }

  /** Materializes this tensor and returns it. */
  public Tensor materialized() {
    Native.syncTensors(new long[] {handle("materialized")});
    return this;
  }

  private int count() {
    long n = numel();
    if (n > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException("tensor has " + n + " elements, too many for a Java array");
    }
    return (int) n;
  }

  /** The elements as float (converted), row-major. Materializes what is needed. */
  public float[] toFloatArray() {
    long h = handle("toFloatArray");
    float[] out = new float[count()];
    Native.read(h, DType.F32.id(), out);
    return out;
  }

  /** The elements as double (converted). */
  public double[] toDoubleArray() {
    long h = handle("toDoubleArray");
    double[] out = new double[count()];
    Native.read(h, DType.F64.id(), out);
    return out;
  }

  /** The elements as int (converted: truncating, saturating). */
  public int[] toIntArray() {
    long h = handle("toIntArray");
    int[] out = new int[count()];
    Native.read(h, DType.S32.id(), out);
    return out;
  }

  /** The elements as long (converted). */
  public long[] toLongArray() {
    long h = handle("toLongArray");
    long[] out = new long[count()];
    Native.read(h, DType.S64.id(), out);
    return out;
  }

  /** The elements as boolean (non-zero is true). */
  public boolean[] toBooleanArray() {
    long h = handle("toBooleanArray");
    byte[] b = new byte[count()];
    Native.read(h, DType.BOOL.id(), b);
    boolean[] out = new boolean[b.length];
    for (int i = 0; i < b.length; i++) {
      out[i] = b[i] != 0;
    }
    return out;
  }

  /** Copies the elements, converted to {@code dtype}, into a direct buffer (native order) at its position. */
  public void copyTo(Buffer dst, DType dtype) {
    long h = handle("copyTo");
    if (dst == null || !dst.isDirect()) {
      throw new IllegalArgumentException("copyTo: a direct buffer is required");
    }
    checkOrder("copyTo", dst);
    long nbytes = numel() * dtype.byteSize();
    long have = (long) dst.remaining() * (dst instanceof java.nio.ByteBuffer ? 1 : bufferElementBytes(dst));
    if (have < nbytes) {
      throw new IllegalArgumentException("copyTo: buffer has " + have + " bytes, " + nbytes + " needed");
    }
    Native.read(h, dtype.id(), dst, nbytes);
  }

  /** The single element as a double. */
  public double item() {
    long h = handle("item");
    long n = numel();
    if (n != 1) {
      throw new IllegalStateException("item: tensor of shape " + list(shape()) + " has " + n + " elements, not 1");
    }
    double[] out = new double[1];
    Native.read(h, DType.F64.id(), out);
    return out[0];
  }

  /** The pending computation of this tensor in the text IR (for debugging). */
  public String ir() {
    return Native.ir(handle("ir"));
  }

  /** Frees the native tensor. Idempotent. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      ref.release();
      zeroGrad();  // autograd: the gradient is owned by this tensor
    }
  }

  /** True after {@link #close()}. */
  public boolean isClosed() {
    return closed;
  }

  @Override
  public String toString() {
    if (closed) {
      return "Tensor(closed)";
    }
    return "Tensor(" + dtype().irName() + list(shape()) + ", " + device + ")";
  }

  // ------------------------------------------------------------------ helpers

  static int normAxis(String op, int axis, int rank) {
    int a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank) {
      throw new IllegalArgumentException(op + ": axis " + axis + " is out of range for rank " + rank);
    }
    return a;
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
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < v.length; i++) {
      if (i > 0) {
        sb.append(',');
      }
      sb.append(v[i]);
    }
    return sb.append(']').toString();
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

  // ------------------------------------------------------------------ generic op (issue 6: ONNX import)

  private static final java.util.concurrent.ConcurrentHashMap<String, Integer> OP_IDS = new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * Any op of the engine's op table by name (native/ir/ops.def) with attributes in the text-IR
   * syntax, e.g. {@code Tensor.op("max_pool2d", "kernel=[2,2], ceil_mode=1", x)}. For importers
   * that need attributes the typed methods do not expose. Needs at least one input.
   */
  public static Tensor op(String name, String attrs, Tensor... inputs) {
    if (name == null || inputs == null || inputs.length == 0 || inputs[0] == null) {
      throw new IllegalArgumentException("op: a name and at least one input are required");
    }
    int id = OP_IDS.computeIfAbsent(name, Native::opId);
    Tensor[] rest = java.util.Arrays.copyOfRange(inputs, 1, inputs.length);
    return inputs[0].apply(id, attrs == null ? "" : attrs, rest);
  }
}
