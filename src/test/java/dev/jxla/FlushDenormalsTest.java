package dev.jxla;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The host's subnormal switch ({@link Jxla#setFlushDenormals}): off (the default), host results
 * are Java's own IEEE results, subnormals included; on, subnormal results and operands become
 * zero, on the pool's workers too (the tensors are large enough to be split across threads); and
 * the calling thread's floating-point mode is left as it was (Java arithmetic after a flushed
 * run still produces subnormals).
 */
class FlushDenormalsTest {
  private final boolean initial = Jxla.flushDenormals();
  private static final int N = 1 << 20;

  @AfterEach
  void restore() {
    Jxla.setFlushDenormals(initial);
  }

  private static float[] squareAndDouble(float[] x, float[] d) {
    try (TensorScope s = new TensorScope()) {
      Tensor sq = Tensor.of(x, N).mul(Tensor.of(x, N));
      Tensor dd = Tensor.of(d, N).add(Tensor.of(d, N));
      float[] a = sq.toFloatArray();
      float[] b = dd.toFloatArray();
      float[] r = new float[2 * N];
      System.arraycopy(a, 0, r, 0, N);
      System.arraycopy(b, 0, r, N, N);
      return r;
    }
  }

  @Test
  void offKeepsIeeeSubnormalsAndOnFlushesThemOnEveryThread() {
    float[] x = new float[N];
    float[] d = new float[N];
    java.util.Arrays.fill(x, 1e-20f);
    java.util.Arrays.fill(d, 1e-40f);
    float sq = x[0] * x[0];  // Java's IEEE results: subnormal
    float dd = d[0] + d[0];
    assertTrue(sq != 0 && sq < Float.MIN_NORMAL && dd != 0 && dd < Float.MIN_NORMAL);

    Jxla.setFlushDenormals(false);
    assertFalse(Jxla.flushDenormals());
    float[] ieee = squareAndDouble(x, d);
    for (int i = 0; i < N; i++) {
      assertEquals(Float.floatToRawIntBits(sq), Float.floatToRawIntBits(ieee[i]), "x*x at " + i);
      assertEquals(Float.floatToRawIntBits(dd), Float.floatToRawIntBits(ieee[N + i]), "d+d at " + i);
    }

    Jxla.setFlushDenormals(true);
    assertTrue(Jxla.flushDenormals());
    float[] flushed = squareAndDouble(x, d);
    for (int i = 0; i < 2 * N; i++) {
      assertEquals(0, Float.floatToRawIntBits(flushed[i]), "flushed at " + i);
    }
    // the calling thread's mode was restored: Java still computes subnormals
    float again = x[1] * x[2];
    assertEquals(Float.floatToRawIntBits(sq), Float.floatToRawIntBits(again));
  }
}
