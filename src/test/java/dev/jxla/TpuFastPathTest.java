package dev.jxla;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The emulated MXU's fast-path switch through the public API: the blocked kernel and the scalar
 * reference kernel give the same bits for f32 matmuls at every precision, bf16 matmuls and a
 * batched matmul (shapes with edge tiles and several k chunks), and the switch reports its state.
 */
class TpuFastPathTest {
  private final boolean initial = Jxla.tpuFastPath();

  @AfterEach
  void restore() {
    Jxla.setTpuFastPath(initial);
  }

  private static float[] randn(Random r, int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) r.nextGaussian();
    }
    return v;
  }

  private static float[] run(boolean fast, Tensor a, Tensor b, Precision p) {
    Jxla.setTpuFastPath(fast);
    return a.matmul(b, p).to(DType.F32).toFloatArray();
  }

  private static void assertSameBits(float[] x, float[] y, String what) {
    assertEquals(x.length, y.length, what);
    for (int i = 0; i < x.length; i++) {
      assertEquals(Float.floatToRawIntBits(x[i]), Float.floatToRawIntBits(y[i]), what + " at " + i);
    }
  }

  @Test
  void fastAndReferenceKernelsAgreeBitForBit() {
    Device tpu = Device.tpu("v5e");
    Random r = new Random(11);
    int m = 67;
    int k = 530;
    int n = 41;
    try (TensorScope s = new TensorScope()) {
      Tensor a = Tensor.of(randn(r, m * k), m, k).to(tpu);
      Tensor b = Tensor.of(randn(r, k * n), k, n).to(tpu);
      for (Precision p : Precision.values()) {
        assertSameBits(run(true, a, b, p), run(false, a, b, p), "f32 " + p);
      }
      Tensor a16 = a.to(DType.BF16);
      Tensor b16 = b.to(DType.BF16);
      assertSameBits(run(true, a16, b16, Precision.DEFAULT), run(false, a16, b16, Precision.DEFAULT), "bf16");
      Tensor x = Tensor.of(randn(r, 3 * 9 * 300), 3, 9, 300).to(tpu);
      Tensor y = Tensor.of(randn(r, 3 * 300 * 17), 3, 300, 17).to(tpu);
      assertSameBits(run(true, x, y, Precision.HIGH), run(false, x, y, Precision.HIGH), "batched HIGH");
    }
  }

  @Test
  void switchReportsItsState() {
    Jxla.setTpuFastPath(false);
    assertFalse(Jxla.tpuFastPath());
    Jxla.setTpuFastPath(true);
    // on wherever the CPU has AVX2 (every x86-64 machine this project builds on)
    assertTrue(Jxla.tpuFastPath());
  }
}
