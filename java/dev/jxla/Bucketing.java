package dev.jxla;

import java.util.Arrays;

/**
 * Shape bucketing for {@link CompiledFunction}: the leading (batch) dimension of every input is
 * padded with zero rows up to a bucket size and the results are sliced back, so variable batch
 * sizes reuse a few executables instead of compiling one per size (PyTorch/XLA's most common
 * recompilation). The function must treat rows independently (row i of each output depends only
 * on row i of the inputs); outputs whose leading dimension is the bucket size are sliced.
 */
public final class Bucketing {
  private static final Bucketing NONE = new Bucketing(null, false);
  private static final Bucketing POW2 = new Bucketing(null, true);

  private final long[] sizes;
  private final boolean pow2;

  private Bucketing(long[] sizes, boolean pow2) {
    this.sizes = sizes;
    this.pow2 = pow2;
  }

  /** No bucketing: one executable per exact input signature. */
  public static Bucketing none() {
    return NONE;
  }

  /** Buckets 1, 2, 4, 8, ...: at most log2(max batch) + 1 executables. */
  public static Bucketing powersOfTwo() {
    return POW2;
  }

  /** The given bucket sizes (ascending after sorting); a batch above the largest is not padded. */
  public static Bucketing of(long... sizes) {
    if (sizes == null || sizes.length == 0) {
      throw new IllegalArgumentException("Bucketing.of: at least one bucket size is needed");
    }
    long[] s = sizes.clone();
    Arrays.sort(s);
    if (s[0] < 1) {
      throw new IllegalArgumentException("Bucketing.of: bucket sizes must be >= 1, got " + Arrays.toString(sizes));
    }
    return new Bucketing(s, false);
  }

  /** True unless this is {@link #none()}. */
  public boolean enabled() {
    return pow2 || sizes != null;
  }

  /** The bucket a batch of {@code n} rows is padded to ({@code n} itself when no bucket fits). */
  public long bucket(long n) {
    if (n < 1 || !enabled()) {
      return n;
    }
    if (pow2) {
      long b = Long.highestOneBit(n);
      return b == n ? n : b << 1;
    }
    for (long s : sizes) {
      if (s >= n) {
        return s;
      }
    }
    return n;
  }

  @Override
  public String toString() {
    return pow2 ? "powersOfTwo" : sizes == null ? "none" : "of" + Arrays.toString(sizes);
  }
}
