package dev.jxla.nn;

import dev.jxla.DType;
import dev.jxla.Tensor;
import dev.jxla.TensorScope;

/**
 * Layer normalization over the last dimension: (x - mean) / sqrt(var + eps) * weight + bias,
 * with the biased variance (as PyTorch); weight starts at 1, bias at 0.
 */
public final class LayerNorm extends Module {
  private final long dim;
  private final double eps;

  /** Normalizes over a last dimension of size {@code dim}, eps = 1e-5. */
  public LayerNorm(long dim) {
    this(dim, 1e-5, DType.F32);
  }

  /** With explicit eps and dtype. */
  public LayerNorm(long dim, double eps, DType dtype) {
    if (dim <= 0) {
      throw new IllegalArgumentException("LayerNorm: dim must be > 0, got " + dim);
    }
    this.dim = dim;
    this.eps = eps;
    registerParameter("weight", Tensor.ones(dtype, dim));
    registerParameter("bias", Tensor.zeros(dtype, dim));
  }

  @Override
  public Tensor forward(Tensor x) {
    long[] s = x.shape();
    if (s.length == 0 || s[s.length - 1] != dim) {
      throw new IllegalArgumentException("LayerNorm: last dimension of " + java.util.Arrays.toString(s) + " must be " + dim);
    }
    try (TensorScope sc = new TensorScope()) {
      Tensor mean = x.mean(true, -1);
      Tensor c = x.sub(mean);
      Tensor var = c.mul(c).mean(true, -1);
      Tensor y = c.mul(var.add(eps).rsqrt()).mul(param("weight")).add(param("bias"));
      return sc.keep(y);
    }
  }
}
