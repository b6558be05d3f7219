package dev.jxla;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Kernel counts seen from Java (Jxla.lastKernelCount) and results independent of fusion. The
 * element-wise chain is checked exactly against the same float operations in Java (IEEE f32
 * + - * sqrt are correctly rounded, so fused and Java results are bit-identical).
 */
final class FusionTest {
  @AfterEach
  void restore() {
    Jxla.setFusionEnabled(true);
  }

  private static float[] random(int n, long seed) {
    Random r = new Random(seed);
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) (r.nextDouble() * 4 - 2);
    }
    return a;
  }

  private static float[] chain(float[] x, float[] y, boolean fused) {
    Jxla.setFusionEnabled(fused);
    try (TensorScope scope = new TensorScope()) {
      Tensor tx = Tensor.of(x, 100, 333);
      Tensor ty = Tensor.of(y, 100, 333);
      Tensor r = tx.mul(ty).add(Tensor.scalar(0.5f)).mul(Tensor.scalar(2f)).relu().neg().abs()
          .add(Tensor.scalar(1f)).sqrt();
      Jxla.sync();
      // unfused: one kernel per op = the 8 element-wise ops + the 3 broadcasts of the scalars
      assertEquals(fused ? 1 : 11, Jxla.lastKernelCount());
      return r.toFloatArray();
    }
  }

  @Test
  void elementwiseChainIsOneKernelAndExact() {
    float[] x = random(33300, 1), y = random(33300, 2);
    float[] expect = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      float v = (x[i] * y[i] + 0.5f) * 2f;
      v = Math.abs(-(v > 0 ? v : 0f)) + 1f;
      expect[i] = (float) Math.sqrt(v);
    }
    assertArrayEquals(expect, chain(x, y, true));
    assertArrayEquals(expect, chain(x, y, false));
  }

  /** x * a + b with a, b one-element data tensors: cached reruns must see the new scalars. */
  private static float[] scaleShift(float[] x, float a, float b) {
    try (TensorScope scope = new TensorScope()) {
      Tensor r = Tensor.of(x, x.length).mul(Tensor.of(new float[] {a})).add(Tensor.of(new float[] {b}));
      Jxla.sync();
      assertEquals(1, Jxla.lastKernelCount());
      return r.toFloatArray();
    }
  }

  @Test
  void scalarDataOperandsAreReadFreshEveryRun() {
    // 50,000 elements = several blocks per thread; the same executable runs with new scalars,
    // and a different kernel runs between them on the same threads
    float[] x = random(50000, 3), y = random(7000, 4);
    float[][] ab = {{1.5f, -2f}, {-0.25f, 3f}, {1.5f, -2f}, {7f, 0.125f}};
    for (float[] p : ab) {
      float[] got = scaleShift(x, p[0], p[1]);
      float[] other = scaleShift(y, p[1], p[0]);
      for (int i = 0; i < x.length; i++) {
        assertEquals(x[i] * p[0] + p[1], got[i], 0f, "element " + i);
      }
      for (int i = 0; i < y.length; i++) {
        assertEquals(y[i] * p[1] + p[0], other[i], 0f, "element " + i);
      }
    }
  }

  @Test
  void softmaxAndMlpKernelCounts() {
    try (TensorScope scope = new TensorScope()) {
      float[] xs = random(64 * 50, 3);
      Tensor s = Tensor.of(xs, 64, 50).softmax(1);
      Jxla.sync();
      assertTrue(Jxla.lastKernelCount() <= 2, "softmax kernels: " + Jxla.lastKernelCount());
      float[] out = s.toFloatArray();
      for (int r = 0; r < 64; r++) {  // closed form: exp(x - max) / sum, in double
        double m = Double.NEGATIVE_INFINITY, sum = 0;
        for (int c = 0; c < 50; c++) m = Math.max(m, xs[r * 50 + c]);
        for (int c = 0; c < 50; c++) sum += Math.exp(xs[r * 50 + c] - m);
        for (int c = 0; c < 50; c++) {
          double e = Math.exp(xs[r * 50 + c] - m) / sum;
          assertEquals(e, out[r * 50 + c], 1e-6 + 1e-5 * e);
        }
      }
      Tensor h = Tensor.of(random(8 * 20, 4), 8, 20);
      for (int layer = 0; layer < 3; layer++) {
        Tensor w = Tensor.of(random(20 * 20, 10 + layer), 20, 20);
        Tensor b = Tensor.of(random(20, 20 + layer), 20);
        h = h.matmul(w).add(b);
        if (layer < 2) {
          h = h.relu();
        }
      }
      Jxla.sync();
      assertEquals(3, Jxla.lastKernelCount());
    }
  }
}
