package dev.jxla.nn;

import dev.jxla.Tensor;
import dev.jxla.TensorScope;

/**
 * Binary cross-entropy on logits x with targets y in [0, 1], averaged:
 * mean(max(x, 0) - x*y + log(1 + exp(-|x|))) (the numerically stable form).
 */
public final class BCEWithLogitsLoss implements Loss {
  @Override
  public Tensor apply(Tensor x, Tensor y) {
    try (TensorScope s = new TensorScope()) {
      Tensor t = x.max(0.0).sub(x.mul(y)).add(x.abs().neg().exp().log1p());
      return s.keep(t.mean());
    }
  }
}
