package dev.jxla.nn;

import dev.jxla.Tensor;

/** Flattens every dimension after the first: [N, ...] -> [N, prod(...)]. */
public final class Flatten extends Module {
  @Override
  public Tensor forward(Tensor x) {
    long[] s = x.shape();
    if (s.length < 1) {
      throw new IllegalArgumentException("Flatten: input must have rank >= 1");
    }
    return x.reshape(s[0], -1);
  }
}
