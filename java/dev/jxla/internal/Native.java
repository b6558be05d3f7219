package dev.jxla.internal;

import dev.jxla.JxlaException;
import dev.jxla.ResourceExhaustedException;
import java.nio.Buffer;
import java.nio.charset.StandardCharsets;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Checked wrappers over {@link JxlaLib}: every engine status becomes a typed exception, handles
 * are plain {@code long}s, and per-thread scratch pointers hold out-parameters so a traced op
 * costs one JNI call and no allocation besides the result object.
 */
public final class Native {
  static final int OK = 0;
  static final int ERR_INVALID_ARGUMENT = 1;
  static final int ERR_STATE = 2;
  static final int ERR_INTERNAL = 3;
  static final int ERR_RESOURCE_EXHAUSTED = 4;
  static final int ERR_UNIMPLEMENTED = 5;

  private static final class Scratch {
    final LongPointer out = new LongPointer(1);
    final IntPointer iout = new IntPointer(1);
    final LongPointer dims = new LongPointer(8);
    LongPointer outs = new LongPointer(8);

    LongPointer outs(int n) {
      if (outs.capacity() < n) {
        outs.close();
        outs = new LongPointer(Math.max(n, 2 * outs.capacity()));
      }
      return outs;
    }
  }

  static {
    JxlaLib.load();  // before any Pointer (the scratch below): JxlaLib configures JavaCPP first
  }

  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  private Native() {}

  /** Throws the exception that matches a non-zero engine status. */
  public static void check(int status) {
    if (status == OK) {
      return;
    }
    BytePointer p = JxlaLib.jxla_last_error();
    String msg = p == null || p.isNull() ? "engine error " + status : p.getString(StandardCharsets.UTF_8);
    switch (status) {
      case ERR_INVALID_ARGUMENT:
        throw new IllegalArgumentException(msg);
      case ERR_STATE:
        throw new IllegalStateException(msg);
      case ERR_RESOURCE_EXHAUSTED:
        throw new ResourceExhaustedException(msg);
      case ERR_UNIMPLEMENTED:
        throw new UnsupportedOperationException(msg);
      default:
        throw new JxlaException(msg);
    }
  }

  /** Id of an op of the engine's op table, by name. */
  public static int opId(String name) {
    Scratch s = SCRATCH.get();
    check(JxlaLib.jxla_op_lookup(name, s.iout));
    return s.iout.get();
  }

  public static int opCount() {
    return JxlaLib.jxla_op_count();
  }

  public static long hostDevice() {
    Scratch s = SCRATCH.get();
    check(JxlaLib.jxla_device_host(s.out));
    return s.out.get();
  }

  public static long tpuDevice(String generation, int cores, long hbmBytes) {
    Scratch s = SCRATCH.get();
    check(JxlaLib.jxla_device_tpu(generation, cores, hbmBytes, s.out));
    return s.out.get();
  }

  public static String describeDevice(long dev) {
    return readString((buf, cap, len) -> JxlaLib.jxla_device_describe(dev, buf, cap, len));
  }

  /** Creates a tensor from a direct buffer or JavaCPP pointer holding row-major data. */
  public static long fromBuffer(long dev, int dtype, long[] shape, Buffer data, long nbytes) {
    Scratch s = SCRATCH.get();
    check(JxlaLib.jxla_tensor_from_data(dev, dtype, shape, shape.length, data, nbytes, s.out));
    return s.out.get();
  }

  public static long fromArray(long dev, int dtype, long[] shape, float[] a) {
    Scratch s = SCRATCH.get();
    check(JxlaLib.jxla_tensor_from_data(dev, dtype, shape, shape.length, a, 4L * a.length, s.out));
    return s.out.get();
  }

  public static long fromArray(long dev, int dtype, long[] shape, double[] a) {
    Scratch s = SCRATCH.get();
    check(JxlaLib.jxla_tensor_from_data(dev, dtype, shape, shape.length, a, 8L * a.length, s.out));
    return s.out.get();
  }

  public static long fromArray(long dev, int dtype, long[] shape, int[] a) {
    Scratch s = SCRATCH.get();
    check(JxlaLib.jxla_tensor_from_data(dev, dtype, shape, shape.length, a, 4L * a.length, s.out));
    return s.out.get();
  }

  public static long fromArray(long dev, int dtype, long[] shape, long[] a) {
    Scratch s = SCRATCH.get();
    check(JxlaLib.jxla_tensor_from_data(dev, dtype, shape, shape.length, a, 8L * a.length, s.out));
    return s.out.get();
  }

  public static long fromArray(long dev, int dtype, long[] shape, byte[] a) {
    Scratch s = SCRATCH.get();
    check(JxlaLib.jxla_tensor_from_data(dev, dtype, shape, shape.length, a, a.length, s.out));
    return s.out.get();
  }

  public static long unary(int op, long x) {
    Scratch s = SCRATCH.get();
    check(JxlaLib.jxla_tensor_unary(op, x, s.out));
    return s.out.get();
  }

  public static long binary(int op, long a, long b) {
    Scratch s = SCRATCH.get();
    check(JxlaLib.jxla_tensor_binary(op, a, b, s.out));
    return s.out.get();
  }

  /** Any op; attrs in the text-IR attribute syntax. dev is used by leaf ops only (0 = host). */
  public static long op(int op, long[] inputs, String attrs, long dev) {
    Scratch s = SCRATCH.get();
    check(JxlaLib.jxla_tensor_op(op, inputs, inputs.length, attrs, dev, s.out));
    return s.out.get();
  }

  public static long toDevice(long x, long dev) {
    Scratch s = SCRATCH.get();
    check(JxlaLib.jxla_tensor_to_device(x, dev, s.out));
    return s.out.get();
  }

  public static int dtype(long t) {
    Scratch s = SCRATCH.get();
    check(JxlaLib.jxla_tensor_dtype(t, s.iout));
    return s.iout.get();
  }

  public static long[] shape(long t) {
    Scratch s = SCRATCH.get();
    check(JxlaLib.jxla_tensor_rank(t, s.iout));
    int rank = s.iout.get();
    check(JxlaLib.jxla_tensor_shape(t, s.dims, 8));
    long[] out = new long[rank];
    s.dims.get(out, 0, rank);
    return out;
  }

  public static boolean isMaterialized(long t) {
    Scratch s = SCRATCH.get();
    check(JxlaLib.jxla_tensor_is_materialized(t, s.iout));
    return s.iout.get() != 0;
  }

  public static void read(long t, int dtype, float[] dst) {
    check(JxlaLib.jxla_tensor_read(t, dtype, dst, 4L * dst.length));
  }

  public static void read(long t, int dtype, double[] dst) {
    check(JxlaLib.jxla_tensor_read(t, dtype, dst, 8L * dst.length));
  }

  public static void read(long t, int dtype, int[] dst) {
    check(JxlaLib.jxla_tensor_read(t, dtype, dst, 4L * dst.length));
  }

  public static void read(long t, int dtype, long[] dst) {
    check(JxlaLib.jxla_tensor_read(t, dtype, dst, 8L * dst.length));
  }

  public static void read(long t, int dtype, byte[] dst) {
    check(JxlaLib.jxla_tensor_read(t, dtype, dst, dst.length));
  }

  public static void read(long t, int dtype, Buffer dst, long nbytes) {
    check(JxlaLib.jxla_tensor_read(t, dtype, dst, nbytes));
  }

  public static String ir(long t) {
    return readString((buf, cap, len) -> JxlaLib.jxla_tensor_ir(t, buf, cap, len));
  }

  public static void free(long t) {
    check(JxlaLib.jxla_tensor_free(t));
  }

  public static void sync() {
    check(JxlaLib.jxla_sync());
  }

  public static void syncTensors(long[] ts) {
    check(JxlaLib.jxla_sync_tensors(ts, ts.length));
  }

  public static String irRoundtrip(String text) {
    return readString((buf, cap, len) -> JxlaLib.jxla_ir_roundtrip(text, buf, cap, len));
  }

  public static String metricsReport(boolean shortForm) {
    return readString((buf, cap, len) -> JxlaLib.jxla_metrics_report(shortForm ? 1 : 0, buf, cap, len));
  }

  public static void metricsClear() {
    check(JxlaLib.jxla_metrics_clear());
  }

  public static long counter(String name) {
    Scratch s = SCRATCH.get();
    check(JxlaLib.jxla_metrics_counter(name, s.out));
    return s.out.get();
  }

  public static long liveBytes() {
    Scratch s = SCRATCH.get();
    check(JxlaLib.jxla_memory_live_bytes(s.out));
    return s.out.get();
  }

  public static long liveTensors() {
    Scratch s = SCRATCH.get();
    check(JxlaLib.jxla_memory_live_tensors(s.out));
    return s.out.get();
  }

  // ---- engine statistics and op names (apitests) ----

  /** A named engine gauge (see jxla_stats_get in jxla.h). */
  public static long stat(String name) {
    Scratch s = SCRATCH.get();
    check(JxlaLib.jxla_stats_get(name, s.out));
    return s.out.get();
  }

  /** The op table's name of op id {@code op} (used on error paths only). */
  public static String opName(int op) {
    return readString((buf, cap, len) -> JxlaLib.jxla_op_name(op, buf, cap, len));
  }

  // ---- TPU emulator (issue 4) ----

  public static void setMatmulPrecision(int precision) {
    check(JxlaLib.jxla_set_matmul_precision(precision));
  }

  public static int matmulPrecision() {
    Scratch s = SCRATCH.get();
    check(JxlaLib.jxla_get_matmul_precision(s.iout));
    return s.iout.get();
  }

  public static String deviceProfile(long dev, boolean clear) {
    // the clear must happen once, after a successful full read: read, then clear separately
    String text = readString((buf, cap, len) -> JxlaLib.jxla_device_profile(dev, 0, buf, cap, len));
    if (clear) {
      try (LongPointer len = new LongPointer(1)) {
        check(JxlaLib.jxla_device_profile(dev, 1, null, 0, len));
      }
    }
    return text;
  }

  /** {in use, peak, limit} HBM bytes of a TPU device. */
  public static long[] deviceMemory(long dev) {
    try (LongPointer a = new LongPointer(1); LongPointer b = new LongPointer(1); LongPointer c = new LongPointer(1)) {
      check(JxlaLib.jxla_device_memory(dev, a, b, c));
      return new long[] {a.get(), b.get(), c.get()};
    }
  }

  public static double deviceSimTime(long dev) {
    try (DoublePointer d = new DoublePointer(1)) {
      check(JxlaLib.jxla_device_sim_time(dev, d));
      return d.get();
    }
  }

  // ---- autodiff (training) ----

  /** Gradients of a one-element loss w.r.t. each wrt handle; 0 where the loss does not depend on it. */
  public static long[] grad(long loss, long[] wrt) {
    long[] out = new long[wrt.length];
    check(JxlaLib.jxla_tensor_grad(loss, wrt, wrt.length, out));
    return out;
  }

  /** Vector-Jacobian product; 0 where y does not depend on a wrt handle. */
  public static long[] vjp(long y, long cotangent, long[] wrt) {
    long[] out = new long[wrt.length];
    check(JxlaLib.jxla_tensor_vjp(y, cotangent, wrt, wrt.length, out));
    return out;
  }

  public static long detach(long x) {
    Scratch s = SCRATCH.get();
    check(JxlaLib.jxla_tensor_detach(x, s.out));
    return s.out.get();
  }

  public static void assign(long dst, long src) {
    check(JxlaLib.jxla_tensor_assign(dst, src));
  }

  // ---- fused optimizer tracing (issue 5, trainfast) ----
  public static void adamUpdate(long p, long g, long m, long v, long[] scalars) {
    check(JxlaLib.jxla_optim_adam_update(p, g, m, v, scalars));
  }

  // ---- compiled functions (CompiledFunction; issue 6) ----

  /** Builds a native function from placeholder data tensors and traced outputs. */
  public static long functionCreate(long[] params, long[] outputs) {
    Scratch s = SCRATCH.get();
    check(JxlaLib.jxla_function_create(params, params.length, outputs, outputs.length, s.out));
    return s.out.get();
  }

  /** Calls a function; returns new data tensor handles (owned by the caller). */
  public static long[] functionCall(long fn, long[] inputs, int nout, boolean padded) {
    Scratch s = SCRATCH.get();
    LongPointer outs = s.outs(nout);
    check(padded ? JxlaLib.jxla_function_call_padded(fn, inputs, inputs.length, outs)
        : JxlaLib.jxla_function_call(fn, inputs, inputs.length, outs));
    long[] r = new long[nout];
    outs.get(r, 0, nout);
    return r;
  }

  /**
   * Zero-copy call (jxla_function_call_host): input i read in place from the direct buffer
   * {@code in[i]} (its remaining elements, native order, dtype id dtypes[i], shape shapes[i]);
   * output j converted to outDtypes[j] and written into the direct buffer {@code out[j]} at its
   * position (its remaining bytes are the capacity; a null buffer skips output j). The buffers
   * stay reachable until the engine returns.
   */
  public static void functionCallHost(long fn, Buffer[] in, int[] dtypes, long[][] shapes, boolean padded, Buffer[] out,
      int[] outDtypes) {
    int n = in.length, total = 0;
    long[] data = new long[n];
    int[] ranks = new int[n];
    for (int i = 0; i < n; i++) {
      data[i] = address(in[i]);
      ranks[i] = shapes[i].length;
      total += ranks[i];
    }
    long[] dims = new long[total];
    for (int i = 0, k = 0; i < n; k += ranks[i], i++) {
      System.arraycopy(shapes[i], 0, dims, k, ranks[i]);
    }
    long[] outs = new long[out.length], caps = new long[out.length];
    int[] od = outDtypes.clone();
    for (int j = 0; j < out.length; j++) {
      if (out[j] != null) {
        outs[j] = address(out[j]);
        caps[j] = (long) out[j].remaining() * elementBytes(out[j]);
      } else {
        od[j] = 0;  // a valid id for a skipped output
      }
    }
    try {
      check(JxlaLib.jxla_function_call_host(fn, n, dtypes, ranks, dims, data, padded ? 1 : 0, out.length, od, outs, caps));
    } finally {
      java.lang.ref.Reference.reachabilityFence(in);
      java.lang.ref.Reference.reachabilityFence(out);
    }
  }

  /** The address of a direct buffer's element at its position. */
  private static long address(Buffer b) {
    // a Pointer over the buffer from element 0: its address is the buffer's start (JavaCPP's
    // Pointer(Buffer) conventions for a nonzero position aside)
    return new Pointer(b.duplicate().position(0)).address() + (long) b.position() * elementBytes(b);
  }

  private static int elementBytes(Buffer b) {
    if (b instanceof java.nio.ByteBuffer) {
      return 1;
    } else if (b instanceof java.nio.ShortBuffer || b instanceof java.nio.CharBuffer) {
      return 2;
    } else if (b instanceof java.nio.FloatBuffer || b instanceof java.nio.IntBuffer) {
      return 4;
    }
    return 8;
  }

  /** {number of parameters, number of outputs}. */
  public static int[] functionArity(long fn) {
    try (IntPointer a = new IntPointer(1); IntPointer b = new IntPointer(1)) {
      check(JxlaLib.jxla_function_arity(fn, a, b));
      return new int[] {a.get(), b.get()};
    }
  }

  public static String functionIr(long fn) {
    return readString((buf, cap, len) -> JxlaLib.jxla_function_ir(fn, buf, cap, len));
  }

  public static void functionFree(long fn) {
    check(JxlaLib.jxla_function_free(fn));
  }

  public static long deviceCore(long dev, int index) {
    Scratch s = SCRATCH.get();
    check(JxlaLib.jxla_device_core(dev, index, s.out));
    return s.out.get();
  }

  /** A pod collective; returns one new handle per input (input i on core i). */
  public static long[] collective(String kind, long[] inputs, String attrs) {
    long[] outs = new long[inputs.length];
    check(JxlaLib.jxla_collective(kind, inputs, inputs.length, attrs, outs));
    return outs;
  }

  public static String deviceTrace(long dev) {
    return readString((buf, cap, len) -> JxlaLib.jxla_device_trace(dev, buf, cap, len));
  }

  /** A (buf, cap, len) string call. */
  interface StringCall {
    int call(BytePointer buf, long cap, LongPointer len);
  }

  static String readString(StringCall c) {
    try (LongPointer len = new LongPointer(1)) {
      long cap = 4096;
      while (true) {
        try (BytePointer buf = new BytePointer(cap)) {
          check(c.call(buf, cap, len));
          long n = len.get();
          if (n < cap) {
            byte[] b = new byte[(int) n];
            buf.get(b);
            return new String(b, StandardCharsets.UTF_8);
          }
          cap = n + 1;
        }
      }
    }
  }

  // ---- fusion compiler (issue 3) ----
  public static long lastKernelCount() {
    Scratch s = SCRATCH.get();
    check(JxlaLib.jxla_last_kernel_count(s.out));
    return s.out.get();
  }

  public static void setFusionEnabled(boolean on) {
    check(JxlaLib.jxla_fusion_set_enabled(on ? 1 : 0));
  }

  public static boolean fusionEnabled() {
    Scratch s = SCRATCH.get();
    check(JxlaLib.jxla_fusion_enabled(s.iout));
    return s.iout.get() != 0;
  }

  // ---- subnormals on the host (session 6) ----
  public static void setFlushDenormals(boolean on) {
    check(JxlaLib.jxla_host_set_flush_denormals(on ? 1 : 0));
  }

  public static boolean flushDenormals() {
    Scratch s = SCRATCH.get();
    check(JxlaLib.jxla_host_flush_denormals(s.iout));
    return s.iout.get() != 0;
  }

  // ---- TPU MXU fast path (issue 4, mxufast) ----
  public static void setTpuFastPath(boolean on) {
    check(JxlaLib.jxla_tpu_fastpath_set_enabled(on ? 1 : 0));
  }

  public static boolean tpuFastPath() {
    Scratch s = SCRATCH.get();
    check(JxlaLib.jxla_tpu_fastpath_enabled(s.iout));
    return s.iout.get() != 0;
  }

  // ---- compiled functions on a target device (issue 6: ONNX on the emulated TPU) ----
  /** A function traced on the trace device and compiled for {@code device} (0: the trace device). */
  public static long functionCreateOn(long[] params, long[] outputs, long device) {
    Scratch s = SCRATCH.get();
    check(JxlaLib.jxla_function_create_on(params, params.length, outputs, outputs.length, device, s.out));
    return s.out.get();
  }

  // ---- compiled training steps (issue 5, session 5: optim.TrainStep) ----
  /**
   * Calls a function whose last {@code targets.length} outputs become the targets' new values in
   * place (donating their old buffers where provably unread); returns handles of the other
   * {@code nout - targets.length} outputs.
   */
  public static long[] functionCallUpdate(long fn, long[] inputs, long[] targets, int nout) {
    Scratch s = SCRATCH.get();
    int nr = nout - targets.length;
    LongPointer outs = s.outs(Math.max(nr, 1));
    check(JxlaLib.jxla_function_call_update(fn, inputs, inputs.length, targets, targets.length, outs));
    long[] r = new long[Math.max(nr, 0)];
    outs.get(r, 0, r.length);
    return r;
  }

  /**
   * Sets this thread's trace target (0 clears): while set, ops may mix host and {@code device}
   * operands (a function traced on the host for that device captures its weights in place).
   * Returns the previous target (0: none) for the caller to restore.
   */
  public static long traceTargetSet(long device) {
    Scratch s = SCRATCH.get();
    check(JxlaLib.jxla_trace_target_set(device, s.out));
    return s.out.get();
  }

  /** Opens a trace guard on this thread: a sync or data read fails, naming {@code what}. */
  public static void traceGuardBegin(String what) {
    check(JxlaLib.jxla_trace_guard_begin(what));
  }

  /** A second handle on x's own data leaf (the same autodiff variable). */
  public static long alias(long x) {
    Scratch s = SCRATCH.get();
    check(JxlaLib.jxla_tensor_alias(x, s.out));
    return s.out.get();
  }

  /** dst holds src's data leaf itself. */
  public static void share(long dst, long src) {
    check(JxlaLib.jxla_tensor_share(dst, src));
  }

  /** Closes the innermost trace guard of this thread. */
  public static void traceGuardEnd() {
    check(JxlaLib.jxla_trace_guard_end());
  }

  // ---- benchmark diagnostics (issue 3 target (a)); not part of the tensor API ----
  /**
   * Runs the native STREAM triad a[i] = b[i] + scalar * c[i] once over n floats held by the
   * library (allocated on the first call with this n; n = 0 frees them), on the engine's thread
   * pool; {@code nontemporal} selects streaming stores. Returns the vector width used in bits.
   */
  public static int benchStreamTriad(long n, float scalar, boolean nontemporal) {
    Scratch s = SCRATCH.get();
    check(JxlaLib.jxla_bench_stream_triad(n, scalar, nontemporal ? 1 : 0, null, s.iout));
    return s.iout.get();
  }
}
