package dev.jxla.nn;

import dev.jxla.Tensor;

/** Element-wise 1 / (1 + exp(-x)). */
public final class Sigmoid extends Module {
  @Override
  public Tensor forward(Tensor x) {
    return x.sigmoid();
  }
}
