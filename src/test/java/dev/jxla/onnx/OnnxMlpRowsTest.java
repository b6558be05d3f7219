package dev.jxla.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jxla.Bucketing;
import dev.jxla.CompiledFunction;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The benchmark's MLP (784-1024-1024-10, Gemm+Relu) on the host: every row of a batched call is
 * bit-identical to the same input called alone (batch 1) and to that row in a larger batch. The
 * host GEMM gives each output element the same arithmetic whatever the batch, tiling and kernel
 * (docs/gemm.md, session 4: the batch-1 row kernel, 2-D tiles, short edge panels, the epilogue
 * run inside the tiles), so a request's answer does not depend on what it was batched with.
 * (This holds for the default host GEMM; JXLA_GEMM=openblas or JXLA_PREPACK=0 send batch 1 to
 * OpenBLAS's GEMV, whose summation order differs.)
 * Also within 1e-3 relative of the model's double-precision reference (the bench's tolerance
 * against ONNX Runtime), so the equal bits are not equally wrong.
 */
final class OnnxMlpRowsTest {
  @Test
  void rowsDoNotDependOnTheBatch() {
    MlpModel m = new MlpModel(42, 784, 1024, 1024, 10);
    Random r = new Random(3);
    float[] x = new float[256 * 784];
    for (int i = 0; i < x.length; i++) {
      x[i] = r.nextFloat();
    }
    try (CompiledFunction f = OnnxModel.parse(m.toBytes(), "mlp").compile(Bucketing.none())) {
      float[] y256 = f.call(x, 256, 784);
      float[] x32 = java.util.Arrays.copyOf(x, 32 * 784);
      float[] y32 = f.call(x32, 32, 784);
      for (int i = 0; i < 32 * 10; i++) {
        assertEquals(Float.floatToRawIntBits(y256[i]), Float.floatToRawIntBits(y32[i]), "batch 32 vs 256, element " + i);
      }
      for (int row : new int[] {0, 5, 31, 200, 255}) {
        float[] one = f.call(java.util.Arrays.copyOfRange(x, row * 784, (row + 1) * 784), 1, 784);
        for (int j = 0; j < 10; j++) {
          assertEquals(Float.floatToRawIntBits(y256[row * 10 + j]), Float.floatToRawIntBits(one[j]), "row " + row + " column " + j);
        }
      }
      double[] want = m.reference(x32, 32);
      for (int i = 0; i < want.length; i++) {
        assertEquals(want[i], y32[i], 1e-3 * (1 + Math.abs(want[i])), "element " + i);
      }
    }
  }
}
