package dev.jxla;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A seeded, counter-based random stream (Philox-4x32-10). Each draw of n numbers takes the next
 * n counters, so the numbers depend only on the seed and the order of draws: the same on every
 * device and with any thread count. Thread-safe.
 */
public final class Rng {
  private final long seed;
  private final AtomicLong counter = new AtomicLong();

  /** A stream for {@code seed}, starting at counter 0. */
  public Rng(long seed) {
    this.seed = seed;
  }

  /** The seed. */
  public long seed() {
    return seed;
  }

  /** The next unused counter. */
  public long position() {
    return counter.get();
  }

  /** Reserves {@code n} counters and returns the first. */
  long take(long n) {
    return counter.getAndAdd(Math.max(n, 1));
  }
}
