package dev.jxla;

import dev.jxla.internal.Native;
import java.util.Objects;

/**
 * Where tensors live and graphs run: the host CPU ({@link #host()}) or an emulated TPU
 * ({@link #tpu(String)}). Devices are immutable values; equal devices share one engine device.
 */
public final class Device {
  private static volatile Device host;

  private final long handle;
  private final String name;
  private final String generation;
  private final int cores;
  private final int coreIndex;
  private final long hbmBytes;

  private Device(long handle, String name, String generation, int cores, int coreIndex, long hbmBytes) {
    this.handle = handle;
    this.name = name;
    this.generation = generation;
    this.cores = cores;
    this.coreIndex = coreIndex;
    this.hbmBytes = hbmBytes;
  }

  /** The host CPU backend. */
  public static Device host() {
    Device h = host;
    if (h == null) {
      synchronized (Device.class) {
        if (host == null) {
          host = new Device(Native.hostDevice(), "host", null, 1, -1, 0);
        }
        h = host;
      }
    }
    return h;
  }

  /** An emulated TPU of the given generation ("v4", "v5e", "v5p", "v6e") with one core. */
  public static Device tpu(String generation) {
    return tpu(generation, 1);
  }

  /** An emulated TPU with {@code cores} cores; {@link #core(int)} addresses each. */
  public static Device tpu(String generation, int cores) {
    Objects.requireNonNull(generation, "generation");
    if (cores < 1) {
      throw new IllegalArgumentException("Device.tpu: cores must be >= 1, got " + cores);
    }
    long h = Native.tpuDevice(generation, cores, 0);
    return new Device(h, "tpu:" + generation + (cores > 1 ? "x" + cores : ""), generation, cores, -1, 0);
  }

  /** The same TPU with its HBM capacity overridden (tests of memory limits). */
  public Device withHbmBytes(long bytes) {
    if (generation == null) {
      throw new IllegalArgumentException("withHbmBytes: " + name + " is not a TPU device");
    }
    if (bytes <= 0) {
      throw new IllegalArgumentException("withHbmBytes: bytes must be > 0, got " + bytes);
    }
    long h = Native.tpuDevice(generation, cores, bytes);
    return new Device(h, name, generation, cores, coreIndex, bytes);
  }

  /**
   * Core {@code i} of a multi-core TPU. Each core has its own HBM and simulated clock; graphs on
   * different cores are run concurrently (one host thread per core) by {@link Jxla#sync()}.
   */
  public Device core(int i) {
    if (generation == null || i < 0 || i >= cores) {
      throw new IllegalArgumentException("core: index " + i + " is out of range for " + name);
    }
    long h = i == 0 ? handle : Native.deviceCore(handle, i);
    return new Device(h, name + ":" + i, generation, cores, i, hbmBytes);
  }

  /** "host", "tpu:v5e", "tpu:v4x8", ... */
  public String name() {
    return name;
  }

  /** True for the host CPU. */
  public boolean isHost() {
    return generation == null;
  }

  /** Number of cores (1 for the host and single-core TPUs). */
  public int cores() {
    return cores;
  }

  /** The engine's description of this device (chip table entry for TPUs). */
  public String describe() {
    return Native.describeDevice(handle);
  }

  // ---- TPU emulator (issue 4) ----

  /**
   * The simulated per-kernel profile of this TPU as text: a header, then one line per kernel or
   * transfer: {@code start_us sim_us kernel type flops bytes bound mxu_util}.
   */
  public String profile() {
    return Native.deviceProfile(tpuHandle("profile"), false);
  }

  /** The profile, then clears it (and resets the HBM peak to the bytes in use). */
  public String profileAndClear() {
    return Native.deviceProfile(tpuHandle("profileAndClear"), true);
  }

  /**
   * The simulated timeline of every core of this TPU pod in Chrome trace format (JSON for
   * Perfetto / chrome://tracing): one event per kernel or transfer, one track per core.
   */
  public String chromeTrace() {
    return Native.deviceTrace(tpuHandle("chromeTrace"));
  }

  /** HBM bytes in use on this TPU, counted in the TPU tiled layout (padding included). */
  public long hbmInUse() {
    return Native.deviceMemory(tpuHandle("hbmInUse"))[0];
  }

  /** Highest {@link #hbmInUse()} since creation or the last {@link #profileAndClear()}. */
  public long hbmPeak() {
    return Native.deviceMemory(tpuHandle("hbmPeak"))[1];
  }

  /** HBM capacity of this TPU (the chip's, or the {@link #withHbmBytes(long)} override). */
  public long hbmLimit() {
    return Native.deviceMemory(tpuHandle("hbmLimit"))[2];
  }

  /** Simulated device time (seconds) this TPU has spent since it was created. */
  public double simulatedSeconds() {
    return Native.deviceSimTime(tpuHandle("simulatedSeconds"));
  }

  private long tpuHandle(String what) {
    if (generation == null) {
      throw new IllegalArgumentException(what + ": " + name + " is not a TPU device");
    }
    return handle;
  }

  long handle() {
    return handle;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Device && ((Device) o).handle == handle && ((Device) o).coreIndex == coreIndex;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(handle) * 31 + coreIndex;
  }

  @Override
  public String toString() {
    return name;
  }
}
