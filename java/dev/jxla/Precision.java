package dev.jxla;

/**
 * Matmul/conv precision on the emulated TPU MXU, as JAX and PyTorch/XLA define it: DEFAULT is one
 * bf16 pass, HIGH three passes (bf16_3x), HIGHEST six passes (bf16_6x). The host backend computes
 * f32 dots in f32 whatever the precision.
 */
public enum Precision {
  DEFAULT,
  HIGH,
  HIGHEST;

  /** The text-IR attribute value. */
  public int id() {
    return ordinal();
  }
}
