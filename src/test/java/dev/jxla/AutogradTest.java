package dev.jxla;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Tensor-level autograd: backward/grad/zeroGrad/detach/assign with PyTorch semantics. */
class AutogradTest {
  @Test
  void gradOfSumOfSquaresIsTwoX() {
    try (TensorScope s = new TensorScope(); Tensor x = TensorScope.escape(Tensor.of(new double[] {1, -2, 3}))) {
      x.requiresGrad(true);
      x.mul(x).sum().backward();
      assertArrayEquals(new double[] {2, -4, 6}, x.grad().toDoubleArray(), 0);
      // a second backward accumulates
      x.mul(x).sum().backward();
      assertArrayEquals(new double[] {4, -8, 12}, x.grad().toDoubleArray(), 0);
      x.zeroGrad();
      assertNull(x.grad());
    }
  }

  @Test
  void unusedLeafKeepsNoGradAndDetachCutsTheGraph() {
    try (TensorScope s = new TensorScope()) {
      Tensor x = Tensor.of(new double[] {1, 2, 3}).requiresGrad(true);
      Tensor unused = Tensor.of(new double[] {5}).requiresGrad(true);
      // d/dx sum(detach(x*x) * x) = x*x (the detached factor is a constant)
      x.mul(x).detach().mul(x).sum().backward();
      assertArrayEquals(new double[] {1, 4, 9}, x.grad().toDoubleArray(), 0);
      assertNull(unused.grad());
      x.requiresGrad(false);
      unused.requiresGrad(false);
    }
  }

  @Test
  void matmulGradientMatchesClosedForm() {
    try (TensorScope s = new TensorScope()) {
      // L = sum(A @ B): dL/dA = ones @ B^T (row sums of B), dL/dB = A^T @ ones (column sums of A)
      Tensor a = Tensor.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3).requiresGrad(true);
      Tensor b = Tensor.of(new double[] {1, -1, 2, 0.5, 3, 1}, 3, 2).requiresGrad(true);
      a.matmul(b).sum().backward();
      assertArrayEquals(new double[] {0, 2.5, 4, 0, 2.5, 4}, a.grad().toDoubleArray(), 1e-15);
      assertArrayEquals(new double[] {5, 5, 7, 7, 9, 9}, b.grad().toDoubleArray(), 1e-15);
      a.requiresGrad(false);
      b.requiresGrad(false);
    }
  }

  @Test
  void backwardWithExplicitCotangent() {
    try (TensorScope s = new TensorScope()) {
      Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
      x.exp().backward(Tensor.of(new double[] {2, 3}));
      assertArrayEquals(new double[] {2 * Math.exp(1), 3 * Math.exp(2)}, x.grad().toDoubleArray(), 1e-12);
      x.requiresGrad(false);
    }
  }

  @Test
  void errorsNameTheProblem() {
    try (TensorScope s = new TensorScope()) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Tensor.of(new int[] {1, 2}).requiresGrad(true));
      assertTrue(e.getMessage().contains("floating-point"), e.getMessage());
      Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
      e = assertThrows(IllegalArgumentException.class, () -> x.mul(x).backward());
      assertTrue(e.getMessage().contains("exactly one element"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> x.assign(Tensor.of(new double[] {1, 2, 3})));
      assertTrue(e.getMessage().contains("assign"), e.getMessage());
      Tensor read = x.sum();
      read.item();
      IllegalArgumentException gone = assertThrows(IllegalArgumentException.class, read::backward);
      assertTrue(gone.getMessage().contains("already materialized"), gone.getMessage());
      // the engine stays usable
      x.sum().backward();
      assertArrayEquals(new double[] {1, 1}, x.grad().toDoubleArray(), 0);
      x.requiresGrad(false);
    }
  }

  @Test
  void tensorsAssignedFromOneValueStayDistinctVariables() {
    try (TensorScope s = new TensorScope()) {
      Tensor p1 = Tensor.of(new double[] {1, 2}).requiresGrad(true);
      Tensor p2 = Tensor.of(new double[] {0, 0}).requiresGrad(true);
      p2.assign(p1);  // a copy of data
      Tensor q1 = Tensor.of(new double[] {0, 0}).requiresGrad(true);
      Tensor q2 = Tensor.of(new double[] {0, 0}).requiresGrad(true);
      Tensor v = p1.mul(1.0);
      q1.assign(v);
      q2.assign(v);  // the same pending value
      Jxla.sync();
      p1.mul(2.0).add(p2.mul(3.0)).add(q1.mul(5.0)).add(q2.mul(7.0)).sum().backward();
      assertArrayEquals(new double[] {2, 2}, p1.grad().toDoubleArray(), 0);
      assertArrayEquals(new double[] {3, 3}, p2.grad().toDoubleArray(), 0);
      assertArrayEquals(new double[] {5, 5}, q1.grad().toDoubleArray(), 0);
      assertArrayEquals(new double[] {7, 7}, q2.grad().toDoubleArray(), 0);
      for (Tensor t : new Tensor[] {p1, p2, q1, q2}) {
        t.requiresGrad(false);
      }
    }
  }

  @Test
  void assignUpdatesInPlaceLazily() {
    try (TensorScope s = new TensorScope()) {
      Tensor p = Tensor.of(new float[] {1, 2});
      p.assign(p.mul(3.0));
      assertEquals(false, p.isMaterialized());
      Jxla.sync();
      assertTrue(p.isMaterialized());
      assertArrayEquals(new float[] {3, 6}, p.toFloatArray(), 0);
    }
  }
}
