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
 * {@link Jxla#compile(TensorFunction, Device)} of a function that captures weights already on the
 * target TPU (JAX's jit over closed-over device arrays): the trace mixes the host placeholders
 * with the resident weights, the weights are used in place (no FunctionConstantUpload), and the
 * results are those of the same function over host weights compiled for the TPU, bit for bit.
 * Weights on another device still fail naming both devices, and the trace's permission to mix
 * never outlives the trace (not after the function throws, not on other threads).
 */
class CompiledFunctionDeviceWeightsTest {
  private static final double U = Math.ulp(1.0f) / 2;  // 2^-24
  private static final int B = 8;
  private static final int K = 64;
  private static final int N = 10;

  @AfterEach
  void resetPrecision() {
    Jxla.setMatmulPrecision(Precision.DEFAULT);
  }

  private static float[] randn(long seed, int n) {
    Random r = new Random(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) r.nextGaussian();
    }
    return v;
  }

  private static float[] call(CompiledFunction f, float[] x, int out) {
    try (TensorScope s = new TensorScope()) {
      Tensor[] r = f.call(Tensor.of(x, B, K));
      return r[out].toFloatArray();
    }
  }

  @Test
  void residentWeightsAreUsedInPlaceWithTheUploadedWeightsNumerics() {
    float[] w = randn(1, K * N);
    float[] x = randn(2, B * K);
    Device tpu = Device.tpu("v5e");
    try (Tensor wHost = Tensor.of(w, K, N); Tensor wTpu = wHost.to(tpu).materialized()) {
      assertEquals(tpu, wTpu.device());
      Jxla.clearMetrics();
      try (CompiledFunction resident = Jxla.compile(in -> new Tensor[] {in[0].matmul(wTpu).relu(), wTpu.add(wTpu)}, tpu);
           CompiledFunction uploaded = Jxla.compile(in -> new Tensor[] {in[0].matmul(wHost).relu()}, tpu)) {
        tpu.profileAndClear();
        float[] r = call(resident, x, 0);
        assertEquals(0, Jxla.counter("FunctionConstantUpload"), Jxla.metricsReport());
        String prof = tpu.profile();
        assertTrue(prof.contains(" dot_general "), prof);  // the matmul ran on the TPU's MXU
        // an output of the resident weight alone lives on the TPU: w + w = 2w exactly
        try (TensorScope s = new TensorScope()) {
          Tensor w2 = resident.call(Tensor.of(x, B, K))[1];
          assertEquals(tpu, w2.device());
          float[] got = w2.toFloatArray();
          for (int i = 0; i < w.length; i++) {
            assertEquals(2 * w[i], got[i], "2w at " + i);
          }
        }
        // the same function over host weights uploads them once and computes the same bits
        float[] u = call(uploaded, x, 0);
        assertEquals(1, Jxla.counter("FunctionConstantUpload"), Jxla.metricsReport());
        assertArrayEquals(u, r);
        // against a double reference: DEFAULT rounds each operand to bf16, so per element
        // |err| <= (2^-7 + 2^-16 + 1.1 (K + 1) u) sum_k |x||w| (docs/tpu-model.md 2a; relu only
        // shrinks the error); the bound is also hit (>= 2^-12 relative), so a silent f32 GEMM fails
        double worst = checkRelu(r, x, w, Math.pow(2, -7) + Math.pow(2, -16) + 1.1 * (K + 1) * U, "DEFAULT");
        assertTrue(worst > Math.pow(2, -12), "DEFAULT relative error " + worst + " looks like f32");
        // HIGHEST follows at run time (same executable): 6 bf16 passes, e_p = 1.01 * 2^-20
        Jxla.setMatmulPrecision(Precision.HIGHEST);
        float[] hi = call(resident, x, 0);
        assertArrayEquals(call(uploaded, x, 0), hi);
        checkRelu(hi, x, w, 1.01 * Math.pow(2, -20) + 1.1 * (K + 6) * U, "HIGHEST");
        assertEquals(1, Jxla.counter("FunctionConstantUpload"));
      }
    }
  }

  @Test
  void weightsOnAnotherDeviceFailNamingBothDevices() {
    Device tpu = Device.tpu("v5e");
    try (Tensor wHost = Tensor.of(randn(3, K * N), K, N); Tensor wV4 = wHost.to(Device.tpu("v4"));
         CompiledFunction f = Jxla.compile(in -> new Tensor[] {in[0].matmul(wV4)}, tpu)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> call(f, randn(4, B * K), 0));
      assertTrue(e.getMessage().contains("tpu:v4") && e.getMessage().contains("tpu:v5e"), e.getMessage());
      assertEquals(0, f.compileCount());
    }
  }

  @Test
  void theTraceTargetEndsWithTheTrace() {
    Device tpu = Device.tpu("v5e");
    try (Tensor x = Tensor.of(randn(5, B * K), B, K); Tensor wTpu = Tensor.of(randn(6, K * N), K, N).to(tpu)) {
      // the mix is an error outside a trace
      assertThrows(IllegalArgumentException.class, () -> x.matmul(wTpu));
      // a function that mixes, then throws: the user's exception comes through ...
      RuntimeException boom = new IllegalStateException("boom");
      try (CompiledFunction f = Jxla.compile(in -> {
        try (Tensor t = in[0].matmul(wTpu)) {
          throw boom;
        }
      }, tpu)) {
        assertSame(boom, assertThrows(IllegalStateException.class, () -> call(f, randn(7, B * K), 0)));
      }
      // ... and mixing is refused again afterwards on this thread
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> x.matmul(wTpu));
      assertTrue(e.getMessage().contains("tpu:v5e") && e.getMessage().contains("host"), e.getMessage());
      // reading a mixed value inside the trace is refused (it exists only for the compiled function)
      try (CompiledFunction g = Jxla.compile(in -> new Tensor[] {Tensor.of(in[0].matmul(wTpu).toFloatArray(), B, N)}, tpu)) {
        IllegalStateException s = assertThrows(IllegalStateException.class, () -> call(g, randn(8, B * K), 0));
        assertTrue(s.getMessage().contains("tpu:v5e") && s.getMessage().contains("host"), s.getMessage());
      }
      assertThrows(IllegalArgumentException.class, () -> x.matmul(wTpu));
      // inside a trace the permission is this thread's only
      Throwable[] other = new Throwable[1];
      try (CompiledFunction h = Jxla.compile(in -> {
        Thread t = new Thread(() -> {
          try (Tensor m = x.matmul(wTpu)) {
            other[0] = null;
          } catch (Throwable ex) {
            other[0] = ex;
          }
        });
        t.start();
        try {
          t.join();
        } catch (InterruptedException ex) {
          throw new IllegalStateException(ex);
        }
        return new Tensor[] {in[0].matmul(wTpu)};
      }, tpu)) {
        float[] r = call(h, randn(9, B * K), 0);
        assertEquals(B * N, r.length);
        assertTrue(other[0] instanceof IllegalArgumentException, String.valueOf(other[0]));
      }
      // a host computation is unaffected
      try (Tensor y = x.add(x)) {
        assertNotEquals(0, y.toFloatArray().length);
      }
    }
  }

  /**
   * Checks r = relu(x w) against a double reference, |err| <= bound * sum_k |x||w| per element,
   * and returns the largest err / sum_k |x||w|.
   */
  private static double checkRelu(float[] r, float[] x, float[] w, double bound, String what) {
    double worst = 0;
    for (int i = 0; i < B; i++) {
      for (int j = 0; j < N; j++) {
        double ref = 0, abs = 0;
        for (int k = 0; k < K; k++) {
          ref += (double) x[i * K + k] * w[k * N + j];
          abs += Math.abs((double) x[i * K + k] * w[k * N + j]);
        }
        double err = Math.abs(r[i * N + j] - Math.max(ref, 0));
        assertTrue(err <= bound * abs, what + " (" + i + "," + j + ") err " + err);
        worst = Math.max(worst, err / abs);
      }
    }
    return worst;
  }
}
