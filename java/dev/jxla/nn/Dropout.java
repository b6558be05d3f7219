package dev.jxla.nn;

import dev.jxla.DType;
import dev.jxla.Rng;
import dev.jxla.Tensor;
import dev.jxla.TensorScope;

/**
 * Inverted dropout: in training mode each element is zeroed with probability p and the rest are
 * scaled by 1/(1-p); in evaluation mode it is the identity. The mask comes from a seeded
 * {@link Rng} (counter-based: a run is reproducible, and each call draws fresh numbers while
 * the traced graph keeps the same structure).
 */
public final class Dropout extends Module {
  private final double p;
  private final Rng rng;

  /** Dropout with probability p in [0, 1). */
  public Dropout(double p, Rng rng) {
    if (!(p >= 0 && p < 1)) {
      throw new IllegalArgumentException("Dropout: p must be in [0, 1), got " + p);
    }
    if (rng == null) {
      throw new IllegalArgumentException("Dropout: rng is null");
    }
    this.p = p;
    this.rng = rng;
  }

  @Override
  public Tensor forward(Tensor x) {
    if (!isTraining() || p == 0) {
      return x;
    }
    try (TensorScope s = new TensorScope()) {
      DType dt = x.dtype().isFloatingPoint() ? x.dtype() : DType.F32;
      Tensor keep = Tensor.rand(rng, dt, x.shape()).lt(p).not().to(x.dtype());
      return s.keep(x.mul(keep).mul(1.0 / (1.0 - p)));
    }
  }
}
