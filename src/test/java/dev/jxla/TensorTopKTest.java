package dev.jxla;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Tensor.topk against a naive rank-counting loop (an element's output slot = how many elements
 * rank before it): every axis, every k from 0 to the size, both directions, with ties (values drawn
 * from a handful of integers), NaN and -0.0; int dtypes; the gradient of the values (closed form:
 * 1 where an element was selected); bad arguments; and the emulated TPU matching the host exactly
 * (the TPU runs top_k through the same reference kernel, so exact equality is the right bar).
 */
class TensorTopKTest {

  /** i ranks before j: NaN above everything, then by value, ties by the lower index. */
  private static boolean before(double a, int i, double b, int j, boolean largest) {
    boolean na = Double.isNaN(a), nb = Double.isNaN(b);
    if (na != nb) {
      return largest ? na : nb;
    }
    if (!na && a != b) {
      return largest ? a > b : a < b;
    }
    return i < j;
  }

  /** Naive top-k indices of x (row-major, shape s) along ax. */
  static long[] naive(double[] x, long[] s, int ax, int k, boolean largest) {
    int outer = 1, inner = 1, len = (int) s[ax];
    for (int d = 0; d < ax; d++) {
      outer *= (int) s[d];
    }
    for (int d = ax + 1; d < s.length; d++) {
      inner *= (int) s[d];
    }
    long[] out = new long[outer * k * inner];
    for (int o = 0; o < outer; o++) {
      for (int in = 0; in < inner; in++) {
        for (int j = 0; j < len; j++) {
          double vj = x[(o * len + j) * inner + in];
          int rank = 0;
          for (int i = 0; i < len; i++) {
            if (i != j && before(x[(o * len + i) * inner + in], i, vj, j, largest)) {
              rank++;
            }
          }
          if (rank < k) {
            out[(o * k + rank) * inner + in] = j;
          }
        }
      }
    }
    return out;
  }

  /** The values selected by idx along ax (the gather the naive check expects). */
  static double[] take(double[] x, long[] s, int ax, int k, long[] idx) {
    int outer = 1, inner = 1, len = (int) s[ax];
    for (int d = 0; d < ax; d++) {
      outer *= (int) s[d];
    }
    for (int d = ax + 1; d < s.length; d++) {
      inner *= (int) s[d];
    }
    double[] v = new double[idx.length];
    for (int o = 0; o < outer; o++) {
      for (int j = 0; j < k; j++) {
        for (int in = 0; in < inner; in++) {
          int p = (o * k + j) * inner + in;
          v[p] = x[(o * len + (int) idx[p]) * inner + in];
        }
      }
    }
    return v;
  }

  private static float[] f32(double[] d) {
    float[] f = new float[d.length];
    for (int i = 0; i < d.length; i++) {
      f[i] = (float) d[i];
    }
    return f;
  }

  static double[] tiesAndNaNs(int n, long seed) {
    Random r = new Random(seed);
    double[] x = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = r.nextInt(5) - 2;
      if (r.nextInt(8) == 0) {
        x[i] = Double.NaN;
      } else if (x[i] == 0 && r.nextBoolean()) {
        x[i] = -0.0;
      }
    }
    return x;
  }

  @Test
  void f32MatchesNaiveOnEveryAxisAndK() {
    long[] s = {4, 6, 5};
    double[] x = tiesAndNaNs(120, 7);
    try (TensorScope scope = new TensorScope()) {
      Tensor t = Tensor.of(f32(x), s);
      for (int ax = 0; ax < 3; ax++) {
        for (int k = 0; k <= s[ax]; k++) {
          for (boolean largest : new boolean[] {true, false}) {
            Tensor[] r = t.topk(k, k % 2 == 0 ? ax : ax - 3, largest);
            long[] want = naive(x, s, ax, k, largest);
            long[] ws = s.clone();
            ws[ax] = k;
            String at = "axis " + ax + " k " + k + " largest " + largest;
            assertArrayEquals(ws, r[0].shape(), at);
            assertEquals(DType.S64, r[1].dtype(), at);
            assertArrayEquals(want, r[1].toLongArray(), at);
            assertArrayEquals(f32(take(x, s, ax, k, want)), r[0].toFloatArray(), at);  // NaN == NaN here
          }
        }
      }
    }
  }

  @Test
  void intAndDoubleDtypes() {
    long[] s = {3, 9};
    double[] x = new double[27];
    Random r = new Random(3);
    int[] xi = new int[27];
    long[] xl = new long[27];
    for (int i = 0; i < 27; i++) {
      xi[i] = r.nextInt(7) - 3;
      xl[i] = xi[i] * 3_000_000_000L;  // beyond int and f32 exactness
      x[i] = xi[i];
    }
    try (TensorScope scope = new TensorScope()) {
      for (boolean largest : new boolean[] {true, false}) {
        long[] want = naive(x, s, 1, 4, largest);
        Tensor[] a = Tensor.of(xi, s).topk(4, 1, largest);
        assertArrayEquals(want, a[1].toLongArray());
        assertEquals(DType.S32, a[0].dtype());
        double[] wv = take(x, s, 1, 4, want);
        int[] wi = new int[wv.length];
        long[] wl = new long[wv.length];
        for (int i = 0; i < wv.length; i++) {
          wi[i] = (int) wv[i];
          wl[i] = (long) wv[i] * 3_000_000_000L;
        }
        assertArrayEquals(wi, a[0].toIntArray());
        Tensor[] b = Tensor.of(xl, s).topk(4, 1, largest);
        assertArrayEquals(want, b[1].toLongArray());
        assertArrayEquals(wl, b[0].toLongArray());
        Tensor[] c = Tensor.of(x, s).topk(4, 0 - 1, largest);
        assertArrayEquals(want, c[1].toLongArray());
        assertArrayEquals(wv, c[0].toDoubleArray(), 0);
      }
    }
  }

  @Test
  void gradientOfValuesIsOneWhereSelected() {
    try (TensorScope scope = new TensorScope()) {
      Tensor x = Tensor.of(new float[] {3, 1, 4, 1, 5, 9, 2, 6}, 2, 4).requiresGrad(true);
      Tensor[] r = x.topk(2, 1, true);
      r[0].mul(r[0]).sum().backward();  // d/dx sum(v^2) = 2v at the selected slots
      assertArrayEquals(new float[] {6, 0, 8, 0, 0, 18, 0, 12}, x.grad().toFloatArray());
    }
  }

  @Test
  void badArguments() {
    try (TensorScope scope = new TensorScope()) {
      Tensor t = Tensor.of(new float[6], 2, 3);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.topk(4, 1, true));
      assertTrue(e.getMessage().startsWith("topk: k = 4") && e.getMessage().contains("axis 1")
          && e.getMessage().contains("[2,3]"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> t.topk(-1, 0, true));
      assertTrue(e.getMessage().contains("k = -1"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> t.topk(1, 2, true));
      assertTrue(e.getMessage().startsWith("topk: axis 2"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> Tensor.scalar(1f).topk(1, 0, true));
      assertTrue(e.getMessage().contains("rank >= 1"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class,
          () -> Tensor.of(new boolean[] {true, false}, 2).topk(1, 0, true));
      assertTrue(e.getMessage().contains("bool"), e.getMessage());
    }
  }

  @Test
  void tpuMatchesHost() {
    long[] s = {8, 33};
    double[] x = tiesAndNaNs(264, 11);
    Device tpu = Device.tpu("v5e");
    try (TensorScope scope = new TensorScope()) {
      Tensor h = Tensor.of(f32(x), s);
      Tensor d = h.to(tpu);
      for (boolean largest : new boolean[] {true, false}) {
        Tensor[] hr = h.topk(5, 1, largest);
        Tensor[] dr = d.topk(5, 1, largest);
        assertEquals(tpu, dr[0].device());
        long[] want = naive(x, s, 1, 5, largest);
        assertArrayEquals(want, hr[1].toLongArray());
        assertArrayEquals(want, dr[1].toLongArray());
        assertArrayEquals(hr[0].toFloatArray(), dr[0].toFloatArray());
      }
    }
  }
}
