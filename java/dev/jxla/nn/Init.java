package dev.jxla.nn;

import dev.jxla.DType;
import dev.jxla.Rng;
import dev.jxla.Tensor;
import dev.jxla.TensorScope;

/** Parameter initializers (materialized host tensors drawn from an {@link Rng}). */
public final class Init {
  private Init() {}

  /** Uniform in [lo, hi). */
  public static Tensor uniform(Rng rng, DType dtype, double lo, double hi, long... shape) {
    try (TensorScope s = new TensorScope()) {
      Tensor u = Tensor.rand(rng, dtype, shape).mul(hi - lo).add(lo);
      return s.keep(u.materialized());
    }
  }

  /** Normal with mean 0 and standard deviation {@code std}. */
  public static Tensor normal(Rng rng, DType dtype, double std, long... shape) {
    try (TensorScope s = new TensorScope()) {
      return s.keep(Tensor.randn(rng, dtype, shape).mul(std).materialized());
    }
  }
}
