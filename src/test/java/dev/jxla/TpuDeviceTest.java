package dev.jxla;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The emulated TPU through the public API: chip table, MXU precision (per op and global), HBM
 * accounting in the tiled layout and its out-of-memory error, host fallback, and the simulated
 * profile against hand arithmetic.
 */
class TpuDeviceTest {
  @AfterEach
  void resetPrecision() {
    Jxla.setMatmulPrecision(Precision.DEFAULT);
  }

  @Test
  void chipTableAndInterning() {
    Device a = Device.tpu("v5e");
    Device b = Device.tpu("v5e");
    assertEquals(a, b);
    String d = a.describe();
    assertTrue(d.contains("bf16 peak 197.0 TFLOP/s"), d);
    assertTrue(d.contains("HBM 16.0 GiB at 819 GB/s"), d);
    assertEquals(16L << 30, a.hbmLimit());
    assertTrue(Device.tpu("v6e").describe().contains("MXU(s) 256x256"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Device.tpu("v9"));
    assertTrue(e.getMessage().contains("v4, v5e, v5p, v6e"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Device.host().hbmInUse());
  }

  private static float[] randn(Random r, int n, double scale) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (r.nextGaussian() * scale);
    }
    return v;
  }

  /** max over outputs of |c - exact| / sum_k |a_ik b_kj| (exact in double). */
  private static double maxRelErr(float[] a, float[] b, float[] c, int m, int k, int n) {
    double worst = 0;
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double exact = 0;
        double abs = 0;
        for (int t = 0; t < k; t++) {
          double p = (double) a[i * k + t] * b[t * n + j];
          exact += p;
          abs += Math.abs(p);
        }
        worst = Math.max(worst, Math.abs(c[i * n + j] - exact) / abs);
      }
    }
    return worst;
  }

  @Test
  void matmulPrecisionOnTheMxu() {
    Device tpu = Device.tpu("v5e");
    int m = 24;
    int k = 200;
    int n = 16;
    Random r = new Random(3);
    float[] a = randn(r, m * k, 2.0);
    float[] b = randn(r, k * n, 1.0);
    try (TensorScope scope = new TensorScope()) {
      Tensor ta = Tensor.of(a, m, k).to(tpu);
      Tensor tb = Tensor.of(b, k, n).to(tpu);
      float[] def = ta.matmul(tb).toFloatArray();
      float[] high = ta.matmul(tb, Precision.HIGH).toFloatArray();
      float[] highest = ta.matmul(tb, Precision.HIGHEST).toFloatArray();
      float[] host = Tensor.of(a, m, k).matmul(Tensor.of(b, k, n)).toFloatArray();
      double u = Math.pow(2, -24);
      // bounds derived in docs/tpu-model.md: (e_p + 1.1 (K + P) u) * sum |a||b|
      assertTrue(maxRelErr(a, b, def, m, k, n) <= Math.pow(2, -7) + Math.pow(2, -16) + 1.1 * (k + 1) * u);
      assertTrue(maxRelErr(a, b, high, m, k, n) <= 1.01 * Math.pow(2, -13) + 1.1 * (k + 3) * u);
      assertTrue(maxRelErr(a, b, highest, m, k, n) <= 1.01 * Math.pow(2, -20) + 1.1 * (k + 6) * u);
      // DEFAULT really rounds operands to bf16: clearly coarser than the host's f32 GEMM
      assertTrue(maxRelErr(a, b, def, m, k, n) > 10 * maxRelErr(a, b, host, m, k, n));
      // the global default applies to matmuls without a precision, and is read at run time
      // (the compiled graph is cached: the same graph must follow the new setting)
      Jxla.setMatmulPrecision(Precision.HIGHEST);
      assertSame(Precision.HIGHEST, Jxla.matmulPrecision());
      assertArrayEquals(highest, ta.matmul(tb).toFloatArray());
      Jxla.setMatmulPrecision(Precision.DEFAULT);
      assertArrayEquals(def, ta.matmul(tb).toFloatArray());
    }
  }

  @Test
  void conv2dPrecisionOnTheMxu() {
    Device tpu = Device.tpu("v5p");
    Random r = new Random(5);
    float[] x = randn(r, 2 * 3 * 6 * 6, 1.0);
    float[] w = randn(r, 4 * 3 * 3 * 3, 1.0);
    int[] one = {1, 1};
    try (TensorScope scope = new TensorScope()) {
      Tensor hx = Tensor.of(x, 2, 3, 6, 6);
      Tensor hw = Tensor.of(w, 4, 3, 3, 3);
      float[] host = hx.conv2d(hw, one, one, one, 1).toFloatArray();
      Tensor tx = hx.to(tpu);
      Tensor tw = hw.to(tpu);
      float[] def = tx.conv2d(tw, one, one, one, 1, Precision.DEFAULT).toFloatArray();
      float[] highest = tx.conv2d(tw, one, one, one, 1, Precision.HIGHEST).toFloatArray();
      double errDef = 0;
      double errHighest = 0;
      double scale = 0;
      for (int i = 0; i < host.length; i++) {
        errDef = Math.max(errDef, Math.abs(def[i] - host[i]));
        errHighest = Math.max(errHighest, Math.abs(highest[i] - host[i]));
        scale = Math.max(scale, Math.abs(host[i]));
      }
      // the host reference convolves in double and rounds once to f32 (half an ulp of |y|);
      // sum |x||w| over the 27 taps <= 27 max|x| max|w|; bounds as for matmul (docs/tpu-model.md)
      double mx = 0;
      double mw = 0;
      for (float v : x) {
        mx = Math.max(mx, Math.abs(v));
      }
      for (float v : w) {
        mw = Math.max(mw, Math.abs(v));
      }
      double abs = 27 * mx * mw;
      double u = Math.pow(2, -24);
      double hostUlp = Math.ulp((float) scale);
      assertTrue(errDef <= (Math.pow(2, -7) + Math.pow(2, -16) + 1.1 * 28 * u) * abs + hostUlp, errDef + " vs " + abs);
      assertTrue(errHighest <= (1.01 * Math.pow(2, -20) + 1.1 * 33 * u) * abs + hostUlp, errHighest + " vs " + abs);
      // and DEFAULT really drops bits that HIGHEST keeps
      assertTrue(errDef > 100 * errHighest, errDef + " vs " + errHighest);
    }
  }

  @Test
  void hbmAccountingAndOutOfMemory() {
    Device tpu = Device.tpu("v5e").withHbmBytes(1 << 20);
    assertNotEquals(Device.tpu("v5e"), tpu);
    long base = tpu.hbmInUse();
    assertEquals(0, base);
    try (TensorScope scope = new TensorScope()) {
      Tensor a = Tensor.of(new float[1024], 1024, 1).to(tpu);
      assertEquals(512 * 1024, tpu.hbmInUse());  // f32[1024,1] pads to 1024 x 128 x 4 B
      Tensor b = Tensor.of(new float[1024], 1024, 1).to(tpu);
      assertEquals(1 << 20, tpu.hbmInUse());
      Tensor host = Tensor.of(new float[1024], 1024, 1);
      ResourceExhaustedException e = assertThrows(ResourceExhaustedException.class, () -> host.to(tpu));
      String msg = e.getMessage();
      assertTrue(msg.contains("requested 4096 bytes"), msg);
      assertTrue(msg.contains("padded to the TPU tiled layout 524288 bytes"), msg);
      assertTrue(msg.contains("in use 1048576 bytes"), msg);
      assertTrue(msg.contains("limit 1048576 bytes"), msg);
      assertTrue(msg.contains("Largest live buffers: f32[1024,1] 512.0 KiB"), msg);
      // a graph whose result does not fit fails the same way and leaves the device usable
      Tensor sum = a.add(b);
      assertThrows(ResourceExhaustedException.class, sum::toFloatArray);
      sum.close();  // the pending sum references b's data: drop both
      b.close();
      assertEquals(512 * 1024, tpu.hbmInUse());
      Tensor c = a.exp();  // 512 KiB in + 512 KiB out: exactly the limit
      float[] out = c.toFloatArray();
      assertEquals(1f, out[1023]);
      assertEquals(1 << 20, tpu.hbmPeak());
    }
    assertEquals(0, tpu.hbmInUse());
  }

  @Test
  void f64FallsBackToTheHost() {
    Device tpu = Device.tpu("v4");
    double[] x = {1.5, -2.25, 3.0, 1e300};
    double[] y = {0.25, 4.0, -1.0, 1e300};
    try (TensorScope scope = new TensorScope()) {
      long before = Jxla.counter("fallback::add");
      long mulBefore = Jxla.counter("fallback::mul");
      double[] got = Tensor.of(x, 2, 2).to(tpu).add(Tensor.of(y, 2, 2).to(tpu)).mul(Tensor.of(y, 2, 2).to(tpu)).toDoubleArray();
      double[] want = Tensor.of(x, 2, 2).add(Tensor.of(y, 2, 2)).mul(Tensor.of(y, 2, 2)).toDoubleArray();
      assertArrayEquals(want, got);
      assertEquals(before + 1, Jxla.counter("fallback::add"));
      assertEquals(mulBefore + 1, Jxla.counter("fallback::mul"));
      assertTrue(Jxla.shortMetricsReport().contains("fallback::add"));
      // dynamic-shape ops fall back too
      long nz = Jxla.counter("fallback::nonzero");
      Tensor idx = Tensor.of(new float[] {0, 1, 0, 2}, 4).to(tpu).nonzero();
      assertArrayEquals(new long[] {1, 3}, idx.toLongArray());
      assertEquals(nz + 1, Jxla.counter("fallback::nonzero"));
    }
  }

  @Test
  void profileMatchesHandArithmetic() {
    Device tpu = Device.tpu("v5e");
    tpu.profileAndClear();
    try (TensorScope scope = new TensorScope()) {
      Tensor a = Tensor.of(new float[256 * 128], 256, 128).to(tpu);
      double t0 = tpu.simulatedSeconds();
      a.add(a).toFloatArray();
      String prof = tpu.profile();
      String line = null;
      for (String l : prof.split("\n")) {
        if (l.contains(" add f32[256,128] ")) {
          line = l;
        }
      }
      assertTrue(line != null, prof);
      String[] f = line.trim().split("\\s+");
      // start_us sim_us kernel type flops bytes bound mxu_util
      double bytes = 3.0 * 256 * 128 * 4;
      assertEquals(bytes, Double.parseDouble(f[5]), 0.5);
      assertEquals("hbm", f[6]);
      assertEquals((bytes / 819e9 + 1e-6) * 1e6, Double.parseDouble(f[1]), 1e-3);
      assertTrue(tpu.simulatedSeconds() > t0);
      assertTrue(prof.contains("transfer:d2h f32[256,128]"), prof);
      assertTrue(Jxla.metricsReport().contains("Metric: DeviceTime"));
    }
  }
}
