package dev.jxla.internal;

import org.bytedeco.javacpp.Pointer;

/**
 * Owns one native tensor handle. {@link #release()} frees it exactly once; if the owner is
 * garbage collected first, JavaCPP's deallocator frees it (a fallback, never the plan).
 *
 * <p>Native-memory pressure: a tensor's Java object is tiny while its buffer may be large, so
 * the Java heap alone would rarely trigger the GC that frees dropped tensors. JavaCPP's own
 * safety net (a process-RSS probe on every deallocator registration) costs about 7 us per
 * traced op, so {@link JxlaLib} turns it off unless the user configured it, and this class keeps
 * a cheaper one: every {@value #CHECK_EVERY} new handles it reads the engine's live-bytes
 * counter and requests a GC when it passed a threshold ({@code -Djxla.gcThresholdBytes}, default
 * the maximum heap size) that then doubles with the working set, like a GC heuristic.
 */
public final class TensorRef extends Pointer {
  static final int CHECK_EVERY = 1024;
  private static final Object LOCK = new Object();
  private static int sinceCheck;  // racy on purpose: an approximate count is enough
  private static long threshold = Long.getLong("jxla.gcThresholdBytes", Runtime.getRuntime().maxMemory());
  private static long nextGcAt = threshold;
  private static boolean gcRequested;
  private static long gcCount;

  private static final class Free implements Pointer.Deallocator {
    private final long handle;

    Free(long handle) {
      this.handle = handle;
    }

    @Override
    public void deallocate() {
      JxlaLib.jxla_tensor_free(handle);
    }
  }

  private final long handle;

  /** Takes ownership of a handle returned by the engine. */
  public TensorRef(long handle) {
    super((Pointer) null);
    this.handle = handle;
    this.address = handle;
    deallocator(new Free(handle));
    pressureCheck();
  }

  private static void pressureCheck() {
    if (++sinceCheck < CHECK_EVERY) {
      return;  // the traced-op fast path takes no lock
    }
    boolean gc = false;
    synchronized (LOCK) {
      if (sinceCheck < CHECK_EVERY) {
        return;  // another thread just did the check
      }
      sinceCheck = 0;
      if (gcRequested) {
        // free what the requested GC found unreachable here, not only on JavaCPP's deallocator
        // thread: on a loaded machine that thread lags, the live bytes read below would still
        // count the garbage, and the next threshold would double from a wrong working set
        Pointer.deallocateReferences();
      }
      long live = Native.liveBytes();
      if (gcRequested) {
        // what survived the last collection is the working set: collect again when it doubles
        gcRequested = false;
        nextGcAt = Math.max(threshold, 2 * live);
      } else if (live > nextGcAt) {
        gcRequested = true;
        gcCount++;
        gc = true;
      }
    }
    if (gc) {
      System.gc();  // JavaCPP's deallocator thread then frees the unreachable tensors
    }
  }

  /** Sets the pressure threshold in bytes (tests); returns the previous one. */
  public static long gcThresholdBytes(long bytes) {
    synchronized (LOCK) {
      long old = threshold;
      threshold = bytes;
      nextGcAt = bytes;
      gcRequested = false;
      return old;
    }
  }

  /** GCs requested by the pressure check so far. */
  public static long pressureGcCount() {
    synchronized (LOCK) {
      return gcCount;
    }
  }

  /** The raw handle (valid until released). */
  public long handle() {
    return handle;
  }

  /** Frees the native tensor now. Idempotent. */
  public synchronized void release() {
    if (!isNull()) {
      deallocate();
      setNull();
    }
  }
}
