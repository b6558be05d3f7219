package dev.jxla.nn;

import dev.jxla.Tensor;

/** Element-wise max(0, x). */
public final class ReLU extends Module {
  @Override
  public Tensor forward(Tensor x) {
    return x.relu();
  }
}
