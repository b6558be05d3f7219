package dev.jxla.nn;

import dev.jxla.Tensor;

/** A loss: a scalar (mean over the batch) from predictions and targets. */
public interface Loss {
  /** The mean loss of {@code input} against {@code target}. */
  Tensor apply(Tensor input, Tensor target);
}
