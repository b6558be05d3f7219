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
}
