package dev.jxla.nn;

import dev.jxla.Tensor;
import dev.jxla.TensorScope;

/** Mean squared error: mean((input - target)^2). */
public final class MSELoss implements Loss {
  @Override
  public Tensor apply(Tensor input, Tensor target) {
    try (TensorScope s = new TensorScope()) {
      Tensor d = input.sub(target);
      return s.keep(d.mul(d).mean());
    }
  }
}
