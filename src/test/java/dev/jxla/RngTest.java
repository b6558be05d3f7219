package dev.jxla;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/**
 * Tensor.rand / Tensor.randn: range, moments and reproducibility. The exact Philox bits and the
 * uniform/normal transforms are checked against NumPy in the rng fixtures (OpFixtureTest); this
 * class checks the statistics of large samples and the counter-based stream properties.
 *
 * <p>Statistical bounds are 5 standard errors of the estimator for the sample size n (a correct
 * generator fails one with probability below 1e-6): mean of U(0,1): sd sqrt(1/12/n); variance:
 * sd sqrt((E(U-1/2)^4 - 1/144)/n) = sqrt(1/180/n); normal mean: sqrt(1/n); normal variance:
 * sqrt(2/n); skewness sqrt(6/n); excess kurtosis sqrt(24/n); a probability p: sqrt(p(1-p)/n).
 * The chi-square bound is the 0.999 quantile of chi^2 with 19 degrees of freedom (43.82).
 */
final class RngTest {
  private static final DType[] FLOATS = {DType.F32, DType.F64, DType.BF16, DType.F16};
  private static final int N = 200_000;

  private static double[] uniform(Rng r, DType dt, int n) {
    try (Tensor t = Tensor.rand(r, dt, n)) {
      return t.toDoubleArray();
    }
  }

  private static double[] normal(Rng r, DType dt, int n) {
    try (Tensor t = Tensor.randn(r, dt, n)) {
      return t.toDoubleArray();
    }
  }

  private static byte[] bits(Tensor t) {
    ByteBuffer b = ByteBuffer.allocateDirect((int) t.numel() * t.dtype().byteSize()).order(ByteOrder.nativeOrder());
    t.copyTo(b, t.dtype());
    byte[] out = new byte[b.capacity()];
    b.get(out);
    return out;
  }

  private static void within(String what, double got, double want, double sd) {
    assertTrue(Math.abs(got - want) <= 5 * sd, what + ": " + got + " is not within 5 sd (" + 5 * sd + ") of " + want);
  }

  @Test
  void uniformStaysInTheUnitIntervalInEveryDtype() {
    for (DType dt : FLOATS) {
      double[] u = uniform(new Rng(11), dt, N);
      double min = 1, max = 0;
      for (double v : u) {
        assertTrue(v >= 0 && v < 1, dt + ": sample " + v + " is outside [0, 1)");
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      // the whole interval is used: the extreme order statistics of n samples are within ~1e-4
      assertTrue(min < 1e-3 && max > 0.99, dt + ": range [" + min + ", " + max + "]");
    }
  }

  @Test
  void uniformMomentsAndHistogram() {
    for (DType dt : FLOATS) {
      double[] u = uniform(new Rng(2026), dt, N);
      double mean = 0;
      for (double v : u) {
        mean += v;
      }
      mean /= N;
      double var = 0;
      int[] bins = new int[20];
      for (double v : u) {
        var += (v - 0.5) * (v - 0.5);
        bins[(int) (v * 20)]++;
      }
      var /= N;
      within(dt + " uniform mean", mean, 0.5, Math.sqrt(1.0 / 12 / N));
      within(dt + " uniform variance", var, 1.0 / 12, Math.sqrt(1.0 / 180 / N));
      if (dt != DType.BF16) {  // bf16 has 256 values per binade: bins of width 1/20 are uneven
        double chi2 = 0, e = N / 20.0;
        for (int b : bins) {
          chi2 += (b - e) * (b - e) / e;
        }
        assertTrue(chi2 < 43.82, dt + ": chi-square " + chi2 + " over 20 bins");
      }
    }
  }

  @Test
  void normalMoments() {
    for (DType dt : FLOATS) {
      double[] z = normal(new Rng(99), dt, N);
      double m1 = 0, m2 = 0, m3 = 0, m4 = 0;
      int in1 = 0, in2 = 0;
      for (double v : z) {
        assertTrue(Double.isFinite(v), dt + ": non-finite normal sample " + v);
        m1 += v;
        m2 += v * v;
        m3 += v * v * v;
        m4 += v * v * v * v;
        in1 += Math.abs(v) < 1 ? 1 : 0;
        in2 += Math.abs(v) < 2 ? 1 : 0;
      }
      m1 /= N;
      m2 /= N;
      m3 /= N;
      m4 /= N;
      within(dt + " normal mean", m1, 0, Math.sqrt(1.0 / N));
      within(dt + " normal variance", m2, 1, Math.sqrt(2.0 / N));
      within(dt + " normal skewness", m3, 0, Math.sqrt(6.0 / N));
      within(dt + " normal excess kurtosis", m4 - 3, 0, Math.sqrt(24.0 / N));
      double p1 = 0.6826894921370859, p2 = 0.9544997361036416;  // P(|Z| < 1), P(|Z| < 2)
      within(dt + " P(|z|<1)", in1 / (double) N, p1, Math.sqrt(p1 * (1 - p1) / N));
      within(dt + " P(|z|<2)", in2 / (double) N, p2, Math.sqrt(p2 * (1 - p2) / N));
    }
  }

  @Test
  void sameSeedGivesIdenticalBits() {
    for (DType dt : FLOATS) {
      try (TensorScope s = new TensorScope()) {
        Rng a = new Rng(42), b = new Rng(42);
        assertArrayEquals(bits(Tensor.rand(a, dt, 3, 333)), bits(Tensor.rand(b, dt, 3, 333)), dt + " rand");
        assertArrayEquals(bits(Tensor.randn(a, dt, 1000)), bits(Tensor.randn(b, dt, 1000)), dt + " randn");
      }
    }
  }

  @Test
  void theStreamIsCounterBased() {
    // draws of 10 then 20 numbers are the first 30 numbers of the stream, whatever the shapes
    Rng a = new Rng(5), b = new Rng(5);
    double[] first = uniform(a, DType.F64, 10), second = uniform(a, DType.F64, 20);
    assertEquals(30, a.position());
    double[] all;
    try (Tensor t = Tensor.rand(b, DType.F64, 5, 6)) {
      all = t.toDoubleArray();
    }
    for (int i = 0; i < 30; i++) {
      assertEquals(all[i], i < 10 ? first[i] : second[i - 10], "element " + i);
    }
  }

  @Test
  void differentCountersAndSeedsGiveDifferentNumbers() {
    Rng a = new Rng(7);
    double[] x = uniform(a, DType.F32, 1000), y = uniform(a, DType.F32, 1000);
    double[] z = uniform(new Rng(8), DType.F32, 1000);
    int sameXy = 0, sameXz = 0;
    for (int i = 0; i < 1000; i++) {
      sameXy += x[i] == y[i] ? 1 : 0;
      sameXz += x[i] == z[i] ? 1 : 0;
    }
    // two independent f32 uniforms are equal with probability about 2^-24
    assertEquals(0, sameXy, "the second draw repeats the first");
    assertEquals(0, sameXz, "seeds 7 and 8 give the same numbers");
    double[] n1 = normal(a, DType.F64, 500), n2 = normal(a, DType.F64, 500);
    for (int i = 0; i < 500; i++) {
      assertTrue(n1[i] != n2[i], "normal draws repeat at " + i);
    }
  }
}
