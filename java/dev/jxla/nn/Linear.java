package dev.jxla.nn;

import dev.jxla.DType;
import dev.jxla.Rng;
import dev.jxla.Tensor;

/**
 * y = x W^T + b with W [out, in] (PyTorch layout, so state dicts interchange) and b [out].
 * Initialization as PyTorch: W and b uniform in +-1/sqrt(in).
 */
public final class Linear extends Module {
  private final boolean hasBias;

  /** A layer with bias, float32, initialized from {@code rng}. */
  public Linear(int in, int out, Rng rng) {
    this(in, out, true, DType.F32, rng);
  }

  /** A layer of dtype {@code dtype}; no bias if {@code withBias} is false. */
  public Linear(int in, int out, boolean withBias, DType dtype, Rng rng) {
    if (in <= 0 || out <= 0) {
      throw new IllegalArgumentException("Linear: in and out must be > 0, got " + in + ", " + out);
    }
    double bound = 1.0 / Math.sqrt(in);
    registerParameter("weight", Init.uniform(rng, dtype, -bound, bound, out, in));
    if (withBias) {
      registerParameter("bias", Init.uniform(rng, dtype, -bound, bound, out));
    }
    hasBias = withBias;
  }

  /** W [out, in]. */
  public Tensor weight() {
    return param("weight");
  }

  /** b [out], or null. */
  public Tensor bias() {
    return hasBias ? param("bias") : null;
  }

  @Override
  public Tensor forward(Tensor x) {
    int r = x.rank();
    if (r < 1) {
      throw new IllegalArgumentException("Linear: input must have rank >= 1, got a scalar");
    }
    // contract x's last dim with W's dim 1: no transpose node
    Tensor y = x.dotGeneral(weight(), new int[] {r - 1}, new int[] {1}, new int[0], new int[0]);
    if (!hasBias) {
      return y;
    }
    try (Tensor t = y) {
      return t.add(bias());
    }
  }
}
