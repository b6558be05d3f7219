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

  /** Core {@code i} of a multi-core TPU. */
  public Device core(int i) {
    if (generation == null || i < 0 || i >= cores) {
      throw new IllegalArgumentException("core: index " + i + " is out of range for " + name);
    }
    return new Device(handle, name + ":" + i, generation, cores, i, hbmBytes);
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
