package dev.jxla;

/**
 * A Java function of tensors that {@link Jxla#compile(TensorFunction)} traces: it receives one
 * tensor per input and returns its outputs. It must only record tensor ops (no reads, no
 * {@link Jxla#sync()}): it runs once per input signature, with placeholder data.
 */
@FunctionalInterface
public interface TensorFunction {
  /** Records the computation of the outputs from {@code inputs}. */
  Tensor[] apply(Tensor[] inputs);
}
