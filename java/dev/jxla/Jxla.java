package dev.jxla;

import dev.jxla.internal.Native;

/** Engine-wide entry points: sync, metrics and memory statistics. */
public final class Jxla {
  private Jxla() {}

  /**
   * Compiles (cached by graph structure) and runs every pending tensor traced by the calling
   * thread, as one graph per device. Like PyTorch/XLA's {@code mark_step()}.
   */
  public static void sync() {
    Native.sync();
  }

  /** All metrics and counters in PyTorch/XLA's text format. */
  public static String metricsReport() {
    return Native.metricsReport(false);
  }

  /** The metrics and counters that explain a slow step (compiles, fallbacks, transfers). */
  public static String shortMetricsReport() {
    return Native.metricsReport(true);
  }

  /** Resets every metric and counter. */
  public static void clearMetrics() {
    Native.metricsClear();
  }

  /** The value of a counter (0 if it was never incremented), e.g. "UncachedCompile". */
  public static long counter(String name) {
    if (name == null) {
      throw new IllegalArgumentException("counter: name is null");
    }
    return Native.counter(name);
  }

  /** Bytes of tensor data the engine holds right now, on all devices. */
  public static long liveBytes() {
    return Native.liveBytes();
  }

  /** Native tensor handles alive right now. */
  public static long liveTensors() {
    return Native.liveTensors();
  }

  /** Parses, verifies and re-prints a graph in the text IR (tools and tests). */
  public static String roundTripIr(String text) {
    if (text == null) {
      throw new IllegalArgumentException("roundTripIr: text is null");
    }
    return Native.irRoundtrip(text);
  }

  /**
   * An engine-internal gauge, for leak and growth checks: {@code "live_tensors"},
   * {@code "live_bytes"}, {@code "live_nodes"} (IR nodes alive), {@code "compile_cache_entries"},
   * {@code "pending_tensors"} (traced by the calling thread and not yet synced or freed).
   */
  public static long engineStat(String name) {
    if (name == null) {
      throw new IllegalArgumentException("engineStat: name is null");
    }
    return Native.stat(name);
  }

  // ---- TPU emulator (issue 4) ----

  /**
   * Sets the process-wide MXU precision of f32 matmuls/convolutions on emulated TPUs that do not
   * name one ({@code matmul(other)} rather than {@code matmul(other, precision)}). Like JAX's
   * {@code jax_default_matmul_precision}; the host backend ignores it.
   */
  public static void setMatmulPrecision(Precision precision) {
    if (precision == null) {
      throw new IllegalArgumentException("setMatmulPrecision: precision is null");
    }
    Native.setMatmulPrecision(precision.id());
  }

  /** The process-wide default MXU precision (initially {@link Precision#DEFAULT}). */
  public static Precision matmulPrecision() {
    return Precision.values()[Native.matmulPrecision()];
  }

  // ---- compiled functions (issue 6) ----

  /**
   * Compiles a function of tensors: it is traced once per input signature (dtypes and shapes)
   * and each call runs the cached executable with no tracing. See {@link CompiledFunction}.
   */
  public static CompiledFunction compile(TensorFunction fn) {
    return new CompiledFunction(fn, Bucketing.none(), new int[0]);
  }

  /** Like {@link #compile(TensorFunction)}, padding the batch dimension to {@code bucketing}'s buckets. */
  public static CompiledFunction compile(TensorFunction fn, Bucketing bucketing) {
    return new CompiledFunction(fn, bucketing, new int[0]);
  }

  /**
   * Like {@link #compile(TensorFunction, Bucketing)}; the inputs at {@code staticInputs} (small
   * integer tensors such as shapes or axes) are traced with their values, which become part of
   * the signature (JAX's static_argnums): the function may read them with {@code toLongArray()}.
   */
  public static CompiledFunction compile(TensorFunction fn, Bucketing bucketing, int... staticInputs) {
    return new CompiledFunction(fn, bucketing, staticInputs == null ? new int[0] : staticInputs);
  }

  /**
   * Compiles a function for {@code device}: it is traced on the host (device-independent IR) and
   * every signature is compiled for and runs on {@code device}, e.g. {@code Device.tpu("v5e")}.
   * Weights the function captures must be host tensors; they are uploaded to the device once.
   * Inputs may be host or device tensors; outputs live on the device.
   */
  public static CompiledFunction compile(TensorFunction fn, Device device) {
    return compile(fn, device, Bucketing.none());
  }

  /** Like {@link #compile(TensorFunction, Device)} with bucketing and static inputs. */
  public static CompiledFunction compile(TensorFunction fn, Device device, Bucketing bucketing, int... staticInputs) {
    if (device == null) {
      throw new IllegalArgumentException("compile: device is null");
    }
    return new CompiledFunction(fn, device, bucketing, staticInputs == null ? new int[0] : staticInputs);
  }

  /**
   * Number of kernels of the last executable the calling thread ran (-1 before the first
   * sync). With fusion on, an element-wise chain is 1 kernel and a matmul with its bias and
   * activation is 1 kernel.
   */
  public static long lastKernelCount() {
    return Native.lastKernelCount();
  }

  /**
   * Turns kernel fusion on or off for the whole process (initially the environment variable
   * {@code JXLA_FUSION}, default on). Off runs one kernel per op. Changing it clears the compile
   * cache. Meant for benchmarks and debugging; results are the same either way.
   */
  public static void setFusionEnabled(boolean on) {
    Native.setFusionEnabled(on);
  }

  /** Whether kernel fusion is on (see {@link #setFusionEnabled}). */
  public static boolean fusionEnabled() {
    return Native.fusionEnabled();
  }

  // ---- subnormals on the host (session 6) ----

  /**
   * Flushes subnormal float and double values to zero in host computations (on) or keeps IEEE
   * subnormals (off, the default; initially on when the environment variable {@code JXLA_FTZ=1}),
   * for the whole process: PyTorch's {@code torch.set_flush_denormal}; XLA on CPU always flushes.
   * Subnormal operands and results take a slow path on x86 CPUs, and training produces them (Adam's
   * moments of rarely active weights decay towards zero): with it on, the MNIST demo's step is
   * about 20% faster. Results differ only where a value below 1.2e-38 (f32) or 2.2e-308 (f64)
   * occurs. Compiled functions use the mode at each call; the calling Java thread's own floating
   * point mode is left unchanged.
   */
  public static void setFlushDenormals(boolean on) {
    Native.setFlushDenormals(on);
  }

  /** Whether host computations flush subnormals to zero (see {@link #setFlushDenormals}). */
  public static boolean flushDenormals() {
    return Native.flushDenormals();
  }

  // ---- TPU MXU fast path (issue 4, mxufast) ----

  /**
   * Turns the emulated MXU's blocked kernel on or off for the whole process (initially on where
   * the CPU has AVX2, off with the environment variable {@code JXLA_TPU_FASTPATH=0}). Off runs
   * the scalar reference kernel, the numerics' specification. Results are bit-identical either
   * way (NaN payloads aside); meant for benchmarks and debugging.
   */
  public static void setTpuFastPath(boolean on) {
    Native.setTpuFastPath(on);
  }

  /** Whether the emulated MXU runs its blocked kernel (false on CPUs without AVX2). */
  public static boolean tpuFastPath() {
    return Native.tpuFastPath();
  }
}
