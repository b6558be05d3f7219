package dev.jxla.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jxla.Bucketing;
import dev.jxla.CompiledFunction;
import dev.jxla.Device;
import dev.jxla.Jxla;
import dev.jxla.Precision;
import dev.jxla.Tensor;
import dev.jxla.TensorScope;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * An imported ONNX model compiled for the emulated TPU (OnnxModel.compile(bucketing, device)):
 * its kernels run on the TPU (profile, DeviceTime, HBM), the weights are uploaded once, and the
 * results obey the MXU error bounds of docs/tpu-model.md against a double-precision reference:
 * HIGHEST within the f32-sized bound (so it matches the host), DEFAULT within the bf16 bound and
 * clearly outside the HIGHEST one.
 */
class OnnxTpuTest {
  private static final double U = Math.ulp(1.0f) / 2;  // 2^-24

  /**
   * Per-element error bound of the computed MLP against the exact one, propagated layer by layer:
   * with e the bound on the layer input, z = h.W^T + b is computed with
   * |z~ - z| <= sum_k |W_jk| e_k + (epsDot(K) + u) (sum_k (|h_k| + e_k) |W_jk| + |b_j|)
   * (the dot's bound from docs/tpu-model.md applied to the perturbed input, plus one rounding of
   * the bias add); Relu is 1-Lipschitz so the bound passes through it unchanged.
   */
  private static double[] bound(MlpModel m, float[] x, int batch, java.util.function.IntToDoubleFunction epsDot) {
    int layers = m.weights.length;
    double[] h = new double[x.length], e = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      h[i] = x[i];
    }
    for (int l = 0; l < layers; l++) {
      int in = m.sizes[l], out = m.sizes[l + 1];
      double eps = epsDot.applyAsDouble(in) + U;
      double[] hn = new double[batch * out], en = new double[batch * out];
      for (int b = 0; b < batch; b++) {
        for (int j = 0; j < out; j++) {
          double z = m.biases[l][j], prop = 0, mag = Math.abs(m.biases[l][j]);
          for (int k = 0; k < in; k++) {
            double w = m.weights[l][j * in + k];
            z += h[b * in + k] * w;
            prop += Math.abs(w) * e[b * in + k];
            mag += (Math.abs(h[b * in + k]) + e[b * in + k]) * Math.abs(w);
          }
          hn[b * out + j] = l < layers - 1 ? Math.max(0, z) : z;
          en[b * out + j] = prop + eps * mag;
        }
      }
      h = hn;
      e = en;
    }
    return e;
  }

  // docs/tpu-model.md: |c - exact| <= (e_p + 1.1 (K + P) u) sum |a||b| with P bf16 passes
  private static double epsHighest(int k) {
    return 1.01 * Math.pow(2, -20) + 1.1 * (k + 6) * U;
  }

  private static double epsDefault(int k) {
    return Math.pow(2, -7) + Math.pow(2, -16) + 1.1 * (k + 1) * U;
  }

  // any f32 summation order of K products: gamma_K <= 1.1 K u
  private static double epsF32(int k) {
    return 1.1 * k * U;
  }

  private static float[] run(CompiledFunction f, float[] x, int batch, int features) {
    try (TensorScope s = new TensorScope()) {
      Tensor[] out = f.call(Tensor.of(x, batch, features));
      return out[0].toFloatArray();
    }
  }

  @Test
  void mlpRunsOnTheTpuWithMxuNumerics() {
    MlpModel m = new MlpModel(7, 96, 128, 64, 10);
    int batch = 8;
    float[] x = new float[batch * 96];
    Random r = new Random(3);
    for (int i = 0; i < x.length; i++) {
      x[i] = r.nextFloat() * 2 - 1;
    }
    double[] ref = m.reference(x, batch);
    double[] bHigh = bound(m, x, batch, OnnxTpuTest::epsHighest);
    double[] bDef = bound(m, x, batch, OnnxTpuTest::epsDefault);
    double[] bF32 = bound(m, x, batch, OnnxTpuTest::epsF32);
    Device tpu = Device.tpu("v5e");
    Precision before = Jxla.matmulPrecision();
    long hbm0 = tpu.hbmInUse();
    try (CompiledFunction host = OnnxModel.parse(m.toBytes(), "mlp").compile(Bucketing.none());
         CompiledFunction dev = OnnxModel.parse(m.toBytes(), "mlp").compile(Bucketing.powersOfTwo(), tpu)) {
      assertEquals(tpu, dev.device());
      float[] h = run(host, x, batch, 96);
      Jxla.clearMetrics();
      tpu.profileAndClear();
      Jxla.setMatmulPrecision(Precision.HIGHEST);
      float[] hi = run(dev, x, batch, 96);
      // the model's kernels ran on the TPU: 3 MXU matmuls in its profile, one DeviceTime sample
      String prof = tpu.profile();
      assertEquals(3, prof.lines().filter(l -> l.contains(" dot_general ")).count(), prof);
      assertTrue(prof.contains("transfer:h2d"), prof);
      assertTrue(Jxla.metricsReport().contains("Metric: DeviceTime"), Jxla.metricsReport());
      // weights and biases (6 constants: the [out, in] weights are transposed once at trace time) uploaded once
      assertEquals(6, Jxla.counter("FunctionConstantUpload"));
      assertTrue(tpu.hbmInUse() - hbm0 >= 4L * (96 * 128 + 128 * 64 + 64 * 10), "weights live in HBM");
      Jxla.setMatmulPrecision(Precision.DEFAULT);
      float[] lo = run(dev, x, batch, 96);
      double maxRef = 0, errHigh = 0, errDefault = 0;
      for (int i = 0; i < ref.length; i++) {
        assertTrue(Math.abs(h[i] - ref[i]) <= bF32[i], "host " + i + ": " + h[i] + " vs " + ref[i]);
        assertTrue(Math.abs(hi[i] - ref[i]) <= bHigh[i], "HIGHEST " + i + ": " + hi[i] + " vs " + ref[i] + " bound " + bHigh[i]);
        assertTrue(Math.abs(hi[i] - h[i]) <= bHigh[i] + bF32[i], "HIGHEST vs host " + i);
        assertTrue(Math.abs(lo[i] - ref[i]) <= bDef[i], "DEFAULT " + i + ": " + lo[i] + " vs " + ref[i] + " bound " + bDef[i]);
        maxRef = Math.max(maxRef, Math.abs(ref[i]));
        errHigh = Math.max(errHigh, Math.abs(hi[i] - ref[i]));
        errDefault = Math.max(errDefault, Math.abs(lo[i] - ref[i]));
      }
      // DEFAULT is a bf16-sized error (operands rounded to 8 significant bits, unit roundoff 2^-9;
      // 2^-12 leaves room for averaging over K products) and far above HIGHEST's f32-sized one
      System.out.printf("MLP on tpu:v5e: max |err| / max |y|: HIGHEST %.3g, DEFAULT %.3g%n", errHigh / maxRef, errDefault / maxRef);
      assertTrue(errDefault / maxRef > Math.pow(2, -12), "DEFAULT relative error " + errDefault / maxRef);
      assertTrue(errDefault > 100 * errHigh, "DEFAULT " + errDefault + " vs HIGHEST " + errHigh);
      // a second batch size (bucket 4) compiles a new signature but reuses the uploaded weights
      float[] x3 = java.util.Arrays.copyOf(x, 3 * 96);
      float[] lo3 = run(dev, x3, 3, 96);
      assertEquals(6, Jxla.counter("FunctionConstantUpload"));
      assertEquals(2, dev.compileCount());
      for (int i = 0; i < lo3.length; i++) {
        assertTrue(Math.abs(lo3[i] - ref[i]) <= bDef[i], "bucketed DEFAULT " + i);
      }
    } finally {
      Jxla.setMatmulPrecision(before);
    }
    assertEquals(hbm0, tpu.hbmInUse(), "closing the functions frees the uploaded weights");
  }

  @Test
  void steadyStateCallsNeitherTraceNorCompile() {
    // after the first call of a signature, a call is: read the input in place, run the cached
    // executable, copy out. No tracing, no compile (cached or not), no constant upload, on the host and the TPU.
    MlpModel m = new MlpModel(11, 32, 64, 10);
    float[] x = new float[4 * 32];
    java.nio.FloatBuffer in = java.nio.ByteBuffer.allocateDirect(4 * x.length).order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer();
    java.nio.FloatBuffer out = java.nio.ByteBuffer.allocateDirect(4 * 4 * 10).order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer();
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) Math.sin(i);
      in.put(i, x[i]);
    }
    for (Device d : new Device[] {Device.host(), Device.tpu("v5e")}) {
      try (CompiledFunction f = OnnxModel.parse(m.toBytes(), "mlp").compile(Bucketing.none(), d)) {
        f.call(in.duplicate(), new long[] {4, 32}, out);
        Jxla.clearMetrics();
        for (int i = 0; i < 10; i++) {
          out.clear();
          f.call(in.duplicate(), new long[] {4, 32}, out);
        }
        for (String c : new String[] {"LazyTracing", "UncachedCompile", "CachedCompile", "FunctionCompile", "FunctionConstantUpload"}) {
          assertEquals(0, Jxla.counter(c), d + ": " + c + "\n" + Jxla.metricsReport());
        }
        // the steady-state calls read the direct buffer in place (no input copy, no handles) and
        // give the array path's values
        assertEquals(10, Jxla.counter("InPlaceCall"), d + "\n" + Jxla.metricsReport());
        float[] got = new float[40];
        out.clear();
        out.get(got);
        out.clear();
        org.junit.jupiter.api.Assertions.assertArrayEquals(f.call(x, 4, 32), got, 0f, d.toString());
        assertEquals(1, f.compileCount());
        assertEquals(12, f.callCount());
      }
    }
  }
}
