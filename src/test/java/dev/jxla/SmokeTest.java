package dev.jxla;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class SmokeTest {
  @Test
  void designExampleOnHost() {
    try (TensorScope scope = new TensorScope()) {
      Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
      Tensor w = Tensor.of(new float[] {1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 1, 1}, 3, 4);
      Tensor y = x.matmul(w).add(Tensor.scalar(1f)).relu();
      Jxla.sync();
      assertArrayEquals(new long[] {2, 4}, y.shape());
      // x @ w + 1 computed by hand: rows [1,2,3] and [4,5,6] against w
      assertArrayEquals(new float[] {5, 6, 6, 5, 11, 12, 12, 11}, y.toFloatArray());
      assertEquals(12.0, y.max().item());
    }
  }
}
