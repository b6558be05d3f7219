package dev.jxla.nn;

import dev.jxla.DType;
import dev.jxla.Rng;
import dev.jxla.Tensor;

/** A lookup table [num, dim] (normal(0, 1) init, like PyTorch); forward(indices int) -> [..., dim]. */
public final class Embedding extends Module {

  /** A table of {@code num} vectors of size {@code dim}. */
  public Embedding(int num, int dim, Rng rng) {
    if (num <= 0 || dim <= 0) {
      throw new IllegalArgumentException("Embedding: num and dim must be > 0, got " + num + ", " + dim);
    }
    registerParameter("weight", Init.normal(rng, DType.F32, 1.0, num, dim));
  }

  /** The table. */
  public Tensor weight() {
    return param("weight");
  }

  @Override
  public Tensor forward(Tensor indices) {
    if (indices.dtype().isFloatingPoint() || indices.dtype() == DType.BOOL) {
      throw new IllegalArgumentException("Embedding: indices must be integer, got " + indices.dtype());
    }
    return weight().gather(indices, 0);
  }
}
