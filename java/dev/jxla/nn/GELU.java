package dev.jxla.nn;

import dev.jxla.Tensor;

/** GELU: x * Phi(x) (exact, erf form) or its tanh approximation. */
public final class GELU extends Module {
  private final boolean tanh;

  /** The exact (erf) form. */
  public GELU() {
    this(false);
  }

  /** The tanh approximation if {@code tanhApproximation}. */
  public GELU(boolean tanhApproximation) {
    this.tanh = tanhApproximation;
  }

  @Override
  public Tensor forward(Tensor x) {
    return x.gelu(tanh);
  }
}
