package dev.jxla.internal;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The benchmark-only C entry jxla_bench_stream_triad as mapped for JMH: it runs, reports a vector
 * width the CPU has, and a bad argument is an IllegalArgumentException naming the entry (the engine stays
 * usable). The triad's values are checked natively (test_stream_triad.cpp).
 */
final class BenchDiagnosticsTest {
  @Test
  void triadRunsAndReportsItsVectorWidth() {
    for (boolean nt : new boolean[] {false, true}) {
      int bits = Native.benchStreamTriad(100_003, 3f, nt);
      assertTrue(bits == 128 || bits == 256 || bits == 512, "vector bits " + bits);
    }
    Native.benchStreamTriad(0, 0f, false);  // frees the arrays
  }

  @Test
  void negativeLengthIsAnError() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Native.benchStreamTriad(-5, 1f, false));
    assertTrue(e.getMessage().contains("bench_stream_triad"), e.getMessage());
    assertTrue(Native.benchStreamTriad(64, 1f, false) >= 128);
    Native.benchStreamTriad(0, 0f, false);
  }
}
