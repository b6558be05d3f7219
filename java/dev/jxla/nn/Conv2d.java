package dev.jxla.nn;

import dev.jxla.DType;
import dev.jxla.Rng;
import dev.jxla.Tensor;

/**
 * 2-D convolution over NCHW input with an OIHW weight [out, in/groups, k, k] and bias [out];
 * PyTorch initialization (uniform +-1/sqrt(in/groups * k * k)).
 */
public final class Conv2d extends Module {
  private final int stride;
  private final int padding;
  private final int groups;

  /** Square kernel, stride 1, no padding. */
  public Conv2d(int in, int out, int kernel, Rng rng) {
    this(in, out, kernel, 1, 0, 1, rng);
  }

  /** Square kernel with stride, symmetric padding and groups. */
  public Conv2d(int in, int out, int kernel, int stride, int padding, int groups, Rng rng) {
    if (in <= 0 || out <= 0 || kernel <= 0 || stride <= 0 || padding < 0 || groups <= 0 || in % groups != 0
        || out % groups != 0) {
      throw new IllegalArgumentException("Conv2d: invalid configuration in=" + in + " out=" + out + " kernel=" + kernel
          + " stride=" + stride + " padding=" + padding + " groups=" + groups);
    }
    double bound = 1.0 / Math.sqrt((double) in / groups * kernel * kernel);
    registerParameter("weight", Init.uniform(rng, DType.F32, -bound, bound, out, in / groups, kernel, kernel));
    registerParameter("bias", Init.uniform(rng, DType.F32, -bound, bound, out));
    this.stride = stride;
    this.padding = padding;
    this.groups = groups;
  }

  @Override
  public Tensor forward(Tensor x) {
    try (Tensor y = x.conv2d(param("weight"), new int[] {stride, stride}, new int[] {padding, padding}, new int[] {1, 1}, groups);
        Tensor b = param("bias").reshape(1, -1, 1, 1)) {
      return y.add(b);
    }
  }
}
