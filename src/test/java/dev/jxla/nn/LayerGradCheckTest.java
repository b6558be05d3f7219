package dev.jxla.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jxla.DType;
import dev.jxla.Rng;
import dev.jxla.Tensor;
import dev.jxla.TensorScope;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * End-to-end finite-difference check (f64) of the gradients backward() gives every parameter
 * of a small network (Linear, GELU-tanh, LayerNorm, Linear, label-smoothed cross-entropy), so
 * the composition of layers, losses and accumulation is checked, not only single ops.
 * Central differences with h = 1e-6 in f64: error ~1e-10, tolerance 1e-6 (abs + rel).
 */
class LayerGradCheckTest {
  @Test
  void networkParameterGradientsMatchFiniteDifferences() {
    Rng rng = new Rng(11);
    Random pick = new Random(12);
    try (TensorScope scope = new TensorScope();
        Sequential net = new Sequential(new Linear(5, 6, true, DType.F64, rng), new GELU(true),
            new LayerNorm(6, 1e-5, DType.F64), new Linear(6, 3, true, DType.F64, rng))) {
      Tensor x = Tensor.randn(rng, DType.F64, 4, 5).materialized();
      Tensor y = Tensor.of(new int[] {0, 2, 1, 2}, 4);
      CrossEntropyLoss ce = new CrossEntropyLoss(0.1);
      ce.apply(net.forward(x), y).backward();
      for (Map.Entry<String, Tensor> e : net.namedParameters().entrySet()) {
        Tensor p = e.getValue();
        double[] g = p.grad().toDoubleArray();
        double[] v = p.toDoubleArray();
        for (int k = 0; k < 4; k++) {
          int i = pick.nextInt(v.length);
          double[] at = new double[2];
          for (int s = 0; s < 2; s++) {
            double[] w = v.clone();
            w[i] += s == 0 ? 1e-6 : -1e-6;
            try (TensorScope inner = new TensorScope()) {
              p.assign(Tensor.of(w, p.shape()));
              at[s] = ce.apply(net.forward(x), y).item();
            }
          }
          double num = (at[0] - at[1]) / 2e-6;
          assertEquals(num, g[i], 1e-6 * (1 + Math.abs(num)), e.getKey() + "[" + i + "]");
        }
        try (TensorScope inner = new TensorScope()) {
          p.assign(Tensor.of(v, p.shape()));
        }
      }
    }
  }
}
