package dev.jxla.internal;

import org.bytedeco.javacpp.Pointer;

/**
 * Owns one native tensor handle. {@link #release()} frees it exactly once; if the owner is
 * garbage collected first, JavaCPP's deallocator frees it (a fallback, never the plan).
 */
public final class TensorRef extends Pointer {
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
