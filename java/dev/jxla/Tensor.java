package dev.jxla;

import static dev.jxla.TensorArgs.arrayShape;
import static dev.jxla.TensorArgs.checkShape;
import static dev.jxla.TensorArgs.flag;
import static dev.jxla.TensorArgs.list;
import static dev.jxla.TensorArgs.num;
import static dev.jxla.TensorArgs.requireData;
import static dev.jxla.TensorArgs.requireNonNull;
import static dev.jxla.TensorData.random;

import dev.jxla.internal.Native;
import dev.jxla.internal.Ops;
import dev.jxla.internal.TensorRef;
import java.nio.Buffer;
import java.nio.FloatBuffer;
import java.util.Arrays;

// This file is the public API; the work behind it lives in package-private helpers:
// TensorArgs (argument checks, error messages, attribute text), TensorData (buffers, booleans,
// item, scalars, ranges, random), TensorShapes (broadcast, slice, squeeze, matmul) and
// TensorGrad (autograd leaves, backward, fused Adam). Invariant: every method that records IR
// goes through apply/un/bin, which check the handles (use after close) and the operands (null)
// before the one JNI call.

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
  final Device device;  // immutable; read directly by TensorGrad (device() throws once closed)
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

  /** The handle, or 0 once closed (for autograd, which skips leaves closed by another thread). */
  long handleOrZero() {
    return closed ? 0 : ref.handle();
  }

  /** The native handle for traced op {@code op} (its name is looked up only on error). */
  private long handleFor(int op) { return closed ? handle(Native.opName(op)) : ref.handle(); }

  private Tensor wrap(long h) { return new Tensor(h, device); }

  // ------------------------------------------------------------------ creation

  /** A float32 tensor of {@code data} with {@code shape} (a 1-D tensor if no shape is given). */
  public static Tensor of(float[] data, long... shape) {
    return new Tensor(Native.fromArray(0, DType.F32.id(), arrayShape(data, shape), data), Device.host());
  }

  /** A float64 tensor. */
  public static Tensor of(double[] data, long... shape) {
    return new Tensor(Native.fromArray(0, DType.F64.id(), arrayShape(data, shape), data), Device.host());
  }

  /** An int32 tensor. */
  public static Tensor of(int[] data, long... shape) {
    return new Tensor(Native.fromArray(0, DType.S32.id(), arrayShape(data, shape), data), Device.host());
  }

  /** An int64 tensor. */
  public static Tensor of(long[] data, long... shape) {
    return new Tensor(Native.fromArray(0, DType.S64.id(), arrayShape(data, shape), data), Device.host());
  }

  /** A bool tensor. */
  public static Tensor of(boolean[] data, long... shape) {
    long[] s = arrayShape(data, shape);
    return new Tensor(Native.fromArray(0, DType.BOOL.id(), s, TensorData.toBytes(data)), Device.host());
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
    return new Tensor(TensorData.fromBuffer(data, dtype, shape), Device.host());
  }

  /** A 0-d float32 tensor. */
  public static Tensor scalar(float v) { return of(new float[] {v}, new long[0]); }
  /** A 0-d float64 tensor. */
  public static Tensor scalar(double v) { return of(new double[] {v}, new long[0]); }
  /** A 0-d int32 tensor. */
  public static Tensor scalar(int v) { return of(new int[] {v}, new long[0]); }
  /** A 0-d int64 tensor. */
  public static Tensor scalar(long v) { return of(new long[] {v}, new long[0]); }
  /** A 0-d bool tensor. */
  public static Tensor scalar(boolean v) { return of(new boolean[] {v}, new long[0]); }

  /** A 0-d tensor of {@code dtype} holding {@code v} (data, so changing values never recompiles). */
  public static Tensor scalar(double v, DType dtype) {
    try (Tensor t = scalar(v)) {
      return t.to(dtype).materialized();
    }
  }

  /** A tensor filled with {@code value} (a constant of the graph). */
  public static Tensor full(double value, DType dtype, long... shape) { return full(Device.host(), value, dtype, shape); }

  /** A tensor filled with {@code value} on {@code device}. */
  public static Tensor full(Device device, double value, DType dtype, long... shape) {
    long[] s = checkShape("full", shape, -1);
    String attrs = "dtype=" + dtype.irName() + ", shape=" + list(s) + ", value=" + num(value);
    return new Tensor(Native.op(Ops.FULL, new long[0], attrs, device.handle()), device);
  }

  /** Zeros. */
  public static Tensor zeros(DType dtype, long... shape) { return full(0, dtype, shape); }
  /** Ones. */
  public static Tensor ones(DType dtype, long... shape) { return full(1, dtype, shape); }
  /** 0, 1, ..., n-1 as int64. */
  public static Tensor arange(long n) { return arange(n, DType.S64); }

  /** 0, 1, ..., n-1 as {@code dtype}. */
  public static Tensor arange(long n, DType dtype) {
    if (n < 0) {
      throw new IllegalArgumentException("arange: n must be >= 0, got " + n);
    }
    return iota(dtype, 0, n);
  }

  /** start, start+step, ... below end (above end for a negative step), as {@code dtype}. */
  public static Tensor arange(double start, double end, double step, DType dtype) {
    return TensorData.arange(start, end, step, dtype);
  }

  /** Iota along {@code axis} of {@code shape}. */
  public static Tensor iota(DType dtype, int axis, long... shape) {
    long[] s = checkShape("iota", shape, -1);
    return new Tensor(Native.op(Ops.IOTA, new long[0], "axis=" + axis + ", dtype=" + dtype.irName() + ", shape=" + list(s), 0),
        Device.host());
  }

  /** Standard normal samples from {@code rng}. */
  public static Tensor randn(Rng rng, DType dtype, long... shape) { return random(Ops.RNG_NORMAL, rng, dtype, shape); }
  /** Uniform samples in [0, 1) from {@code rng}. */
  public static Tensor rand(Rng rng, DType dtype, long... shape) { return random(Ops.RNG_UNIFORM, rng, dtype, shape); }

  /** Concatenates along {@code axis}. */
  public static Tensor concat(int axis, Tensor... ts) {
    if (ts == null || ts.length == 0) {
      throw new IllegalArgumentException("concat: no tensors");
    }
    long[] hs = TensorArgs.handles("concat", "tensor", ts);
    long h = Native.op(Ops.CONCAT, hs, "axis=" + axis, 0);
    Device dev = ts[0].device;
    for (Tensor t : ts) {
      dev = TensorArgs.resultDevice(dev, t.device);
    }
    return new Tensor(h, dev);
  }

  /** Element-wise {@code cond ? a : b} with broadcasting; cond must be bool. */
  public static Tensor where(Tensor cond, Tensor a, Tensor b) { return cond.apply(Ops.SELECT, "", a, b); }

  // ------------------------------------------------------------------ element-wise

  private Tensor un(int op) { return wrap(Native.unary(op, handleFor(op))); }

  private Tensor bin(int op, Tensor o) {
    if (o == null) {
      throw TensorArgs.nullOperand(op, 1);
    }
    return wrap(Native.binary(op, handleFor(op), o.handleFor(op)));
  }

  private Tensor binScalar(int op, double v) {
    try (Tensor s = scalarLike(v)) {
      return bin(op, s);
    }
  }

  /** A 0-d tensor of this tensor's dtype (data, not a graph constant). */
  private Tensor scalarLike(double v) { return TensorData.scalarLike(v, dtype(), device); }

  Tensor apply(int op, String attrs, Tensor... others) {
    long[] hs = new long[others.length + 1];
    hs[0] = handleFor(op);
    Device dev = device;
    for (int i = 0; i < others.length; i++) {
      if (others[i] == null) {
        throw TensorArgs.nullOperand(op, i + 1);
      }
      hs[i + 1] = others[i].handleFor(op);
      dev = TensorArgs.resultDevice(dev, others[i].device);
    }
    long h = Native.op(op, hs, attrs, device.handle());
    return dev == device ? wrap(h) : new Tensor(h, dev);
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
  public Tensor clamp(Tensor lo, Tensor hi) { return apply(Ops.CLAMP, "", lo, hi); }

  /** Clamps to [lo, hi]. */
  public Tensor clamp(double lo, double hi) {
    try (Tensor l = scalarLike(lo); Tensor h = scalarLike(hi)) {
      return clamp(l, h);
    }
  }

  /** Converts to {@code dtype} (floats to integers truncate and saturate; NaN becomes 0). */
  public Tensor to(DType dtype) { return apply(Ops.CONVERT, "dtype=" + dtype.irName()); }

  /** Copies this tensor's value to {@code target} (materializing it first). */
  public Tensor to(Device target) {
    requireNonNull("to", "device", target);
    return new Tensor(Native.toDevice(handle("to"), target.handle()), target);
  }

  // ------------------------------------------------------------------ shape

  /** Reshape; one dimension may be -1. */
  public Tensor reshape(long... shape) {
    requireNonNull("reshape", "shape", shape);
    return apply(Ops.RESHAPE, "shape=" + list(shape));
  }

  /** Permutes dimensions: result dim i is this tensor's dim {@code perm[i]}. */
  public Tensor permute(int... perm) {
    requireNonNull("permute", "perm", perm);
    return apply(Ops.TRANSPOSE, "perm=" + list(perm));
  }

  /** Swaps two dimensions. */
  public Tensor transpose(int a, int b) { return permute(TensorShapes.swapPerm(a, b, rank())); }
  /** Broadcasts to {@code shape} (NumPy rules). */
  public Tensor broadcastTo(long... shape) { return TensorShapes.broadcastTo(this, shape); }
  /** Same as {@link #broadcastTo(long...)} (PyTorch's name). */
  public Tensor expand(long... shape) { return broadcastTo(shape); }

  /** Elements start, start+step, ... below end along {@code axis} (negative indices count from the end). */
  public Tensor slice(int axis, long start, long end, long step) {
    return apply(Ops.SLICE, TensorShapes.sliceAttrs(shape(), axis, start, end, step));
  }

  /** Slice with step 1. */
  public Tensor slice(int axis, long start, long end) { return slice(axis, start, end, 1); }

  /** Constant padding: {@code low[i]}/{@code high[i]} elements before/after dimension i. */
  public Tensor pad(long[] low, long[] high, double value) {
    return apply(Ops.PAD, "high=" + list(high) + ", low=" + list(low) + ", value=" + num(value));
  }

  /** Removes dimension {@code axis}, which must have size 1. */
  public Tensor squeeze(int axis) { return reshape(TensorShapes.squeezed(shape(), axis)); }
  /** Inserts a dimension of size 1 at {@code axis} (0..rank). */
  public Tensor unsqueeze(int axis) { return reshape(TensorShapes.unsqueezed(shape(), axis)); }

  // ------------------------------------------------------------------ indexing

  /** NumPy take / index_select: picks {@code indices} (integer, any rank) along {@code axis}. */
  public Tensor gather(Tensor indices, int axis) { return apply(Ops.GATHER, "axis=" + axis, indices); }
  /** PyTorch's name for {@link #gather(Tensor, int)} with 1-D indices. */
  public Tensor indexSelect(int axis, Tensor indices) { return gather(indices, axis); }
  /** NumPy take_along_axis. */
  public Tensor takeAlongAxis(Tensor indices, int axis) { return apply(Ops.TAKE_ALONG_AXIS, "axis=" + axis, indices); }

  /** Adds {@code updates} at {@code indices} along {@code axis} (the inverse of takeAlongAxis). */
  public Tensor scatterAdd(int axis, Tensor indices, Tensor updates) {
    return apply(Ops.SCATTER_ADD, "axis=" + axis, indices, updates);
  }

  /** One-hot encoding of integer indices with {@code depth} classes (out-of-range rows are zero). */
  public Tensor oneHot(int depth, DType dtype) { return apply(Ops.ONE_HOT, "depth=" + depth + ", dtype=" + dtype.irName()); }

  // ------------------------------------------------------------------ reductions

  private Tensor reduce(int op, int[] axes, boolean keepDims) {
    String a = list(axes == null || axes.length == 0 ? TensorShapes.identity(rank()) : axes);
    return apply(op, "axes=" + a + ", keepdims=" + flag(keepDims));
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
  public Tensor argmax(int axis, boolean keepDims) { return apply(Ops.ARGMAX, "axis=" + axis + ", keepdims=" + flag(keepDims)); }
  public Tensor argmin(int axis) { return argmin(axis, false); }
  public Tensor argmin(int axis, boolean keepDims) { return apply(Ops.ARGMIN, "axis=" + axis + ", keepdims=" + flag(keepDims)); }
  /**
   * The {@code k} largest (or smallest) elements along {@code axis}, like ONNX TopK: returns
   * {@code {values, indices}} (indices int64), sorted descending for largest (ascending
   * otherwise), equal values in index order, NaN ranked above +inf. Details in {@link TensorSort}.
   *
   * @throws IllegalArgumentException for a scalar or bool tensor, a bad axis, or k outside [0, size]
   */
  public Tensor[] topk(int k, int axis, boolean largest) { return TensorSort.topk(this, k, axis, largest); }
  /** Softmax along {@code axis}. */
  public Tensor softmax(int axis) { return apply(Ops.SOFTMAX, "axis=" + axis); }
  /** Log-softmax along {@code axis}. */
  public Tensor logSoftmax(int axis) { return apply(Ops.LOG_SOFTMAX, "axis=" + axis); }

  // ------------------------------------------------------------------ linear algebra

  /** NumPy matmul: 1-D operands are promoted, batch dimensions broadcast. */
  public Tensor matmul(Tensor other) { return matmul(other, null); }
  /** Matmul at an MXU precision (used by the TPU device; the host computes in full precision). */
  public Tensor matmul(Tensor other, Precision precision) { return TensorShapes.matmul(this, other, precision); }

  /** XLA dot_general: result dims are batch, then this tensor's free dims, then other's free dims. */
  public Tensor dotGeneral(Tensor other, int[] contract, int[] otherContract, int[] batch, int[] otherBatch) {
    return TensorShapes.dot(this, other, contract, otherContract, batch, otherBatch, "");
  }

  /** 2-D convolution, input NCHW, weight OIHW; padding is symmetric per spatial dim. */
  public Tensor conv2d(Tensor weight, int[] stride, int[] padding, int[] dilation, int groups) {
    return apply(Ops.CONV2D, TensorArgs.convAttrs(stride, padding, dilation, groups, ""), weight);
  }

  /** {@link #conv2d(Tensor, int[], int[], int[], int)} at an MXU precision (used by the TPU device). */
  public Tensor conv2d(Tensor weight, int[] stride, int[] padding, int[] dilation, int groups, Precision precision) {
    requireNonNull("conv2d", "precision", precision);
    String prec = ", precision=" + precision.id();
    return apply(Ops.CONV2D, TensorArgs.convAttrs(stride, padding, dilation, groups, prec), weight);
  }

  /** Convolution with stride 1, no padding. */
  public Tensor conv2d(Tensor weight) { return conv2d(weight, new int[] {1, 1}, new int[] {0, 0}, new int[] {1, 1}, 1); }

  /** Max pooling over NCHW input. */
  public Tensor maxPool2d(int[] kernel, int[] stride, int[] padding) {
    return apply(Ops.MAX_POOL2D, "kernel=" + list(kernel) + ", padding=" + list(padding) + ", stride=" + list(stride));
  }

  /** Average pooling over NCHW input. */
  public Tensor avgPool2d(int[] kernel, int[] stride, int[] padding, boolean countIncludePad) {
    return apply(Ops.AVG_POOL2D, "count_include_pad=" + flag(countIncludePad) + ", kernel=" + list(kernel)
        + ", padding=" + list(padding) + ", stride=" + list(stride));
  }

  // ================================================================== autograd (issue 5: training)
  // PyTorch semantics on the lazy IR (TensorGrad has the leaf registry and backward). A gradient
  // is owned by its tensor (never by a TensorScope); zeroGrad()/close() free it.

  private volatile boolean requiresGrad;
  Tensor grad;  // written by TensorGrad (backward, setGrad)

  /**
   * Marks this tensor as a leaf whose gradient {@link #backward()} accumulates into
   * {@link #grad()} (floating-point tensors only). Returns this tensor.
   */
  public Tensor requiresGrad(boolean on) {
    handle();
    TensorGrad.track(this, on);  // checks the dtype first
    requiresGrad = on;
    return this;
  }

  /** True if {@link #backward()} accumulates a gradient into this tensor. */
  public boolean requiresGrad() { return requiresGrad; }

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
    TensorGrad.setGrad(this, g);
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
  public Tensor detach() { return wrap(Native.detach(handle())); }
  /** Backpropagates from this one-element floating-point tensor (the loss). */
  public void backward() { backward(null); }

  /**
   * Backpropagates {@code gradient} (this tensor's shape and dtype; null means 1 for a
   * one-element tensor): every live tensor with {@link #requiresGrad(boolean)} that this tensor
   * depends on gets d(sum(this * gradient))/d(it) added to its {@link #grad()}.
   */
  public void backward(Tensor gradient) { TensorGrad.backward(this, handle(), gradient); }

  /**
   * In-place update: this tensor now holds {@code value}'s value (lazily: value's pending IR, if
   * any). dtype, shape and device must match. Used by optimizers and state-dict loading; the
   * tensor keeps its identity, its requiresGrad flag and its scope.
   */
  public Tensor assign(Tensor value) {
    requireNonNull("assign", "value", value);
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
    TensorGrad.adamUpdate(p, g, m, v, s);
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
  public DType dtype() { return DType.ofId(Native.dtype(handle("dtype"))); }
  /** Dimensions (a copy). */
  public long[] shape() { return Native.shape(handle("shape")); }
  /** Number of dimensions. */
  public int rank() { return shape().length; }
  /** Number of elements. */
  public long numel() { return TensorArgs.product(shape()); }

  /** The device holding (or that will compute) this tensor. */
  public Device device() {
    handle();
    return device;
  }

  /** True once the value is computed (after a sync or a read). */
  public boolean isMaterialized() { return Native.isMaterialized(handle("isMaterialized")); }

  /** Materializes this tensor and returns it. */
  public Tensor materialized() {
    Native.syncTensors(new long[] {handle("materialized")});
    return this;
  }

  /** The element count as an array length; {@code op} names the call if the tensor is closed. */
  private int count(String op) {
    handle(op);
    return TensorArgs.arrayLength(numel());
  }

  /** The elements as float (converted), row-major. Materializes what is needed. */
  public float[] toFloatArray() {
    float[] out = new float[count("toFloatArray")];
    Native.read(handle(), DType.F32.id(), out);
    return out;
  }

  /** The elements as double (converted). */
  public double[] toDoubleArray() {
    double[] out = new double[count("toDoubleArray")];
    Native.read(handle(), DType.F64.id(), out);
    return out;
  }

  /** The elements as int (converted: truncating, saturating). */
  public int[] toIntArray() {
    int[] out = new int[count("toIntArray")];
    Native.read(handle(), DType.S32.id(), out);
    return out;
  }

  /** The elements as long (converted). */
  public long[] toLongArray() {
    long[] out = new long[count("toLongArray")];
    Native.read(handle(), DType.S64.id(), out);
    return out;
  }

  /** The elements as boolean (non-zero is true). */
  public boolean[] toBooleanArray() {
    byte[] b = new byte[count("toBooleanArray")];
    Native.read(handle(), DType.BOOL.id(), b);
    return TensorData.toBooleans(b);
  }

  /** Copies the elements, converted to {@code dtype}, into a direct buffer (native order) at its position. */
  public void copyTo(Buffer dst, DType dtype) { TensorData.copyTo(this, handle("copyTo"), dst, dtype); }

  /** The single element as a double. */
  public double item() { return TensorData.item(this, handle("item")); }

  /** The pending computation of this tensor in the text IR (for debugging). */
  public String ir() { return Native.ir(handle("ir")); }

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
  public boolean isClosed() { return closed; }

  @Override
  public String toString() {
    return closed ? "Tensor(closed)" : "Tensor(" + dtype().irName() + list(shape()) + ", " + device + ")";
  }

  // ------------------------------------------------------------------ generic op (issue 6: ONNX import)

  /**
   * Any op of the engine's op table by name (native/ir/ops.def) with attributes in the text-IR
   * syntax, e.g. {@code Tensor.op("max_pool2d", "kernel=[2,2], ceil_mode=1", x)}. For importers
   * that need attributes the typed methods do not expose. Needs at least one input.
   */
  public static Tensor op(String name, String attrs, Tensor... inputs) {
    if (name == null || inputs == null || inputs.length == 0 || inputs[0] == null) {
      throw new IllegalArgumentException("op: a name and at least one input are required");
    }
    Tensor[] rest = Arrays.copyOfRange(inputs, 1, inputs.length);
    return inputs[0].apply(TensorArgs.opId(name), attrs == null ? "" : attrs, rest);
  }
}
