package dev.jxla.nn;

import dev.jxla.Tensor;

/** Element-wise tanh(x). */
public final class Tanh extends Module {
  @Override
  public Tensor forward(Tensor x) {
    return x.tanh();
  }
}
