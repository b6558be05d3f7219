package dev.jxla.nn;

import dev.jxla.Tensor;

/** Max pooling over NCHW input with a square window (stride defaults to the kernel size). */
public final class MaxPool2d extends Module {
  private final int kernel;
  private final int stride;

  /** Window {@code kernel} x {@code kernel}, stride = kernel. */
  public MaxPool2d(int kernel) {
    this(kernel, kernel);
  }

  /** Window and stride. */
  public MaxPool2d(int kernel, int stride) {
    if (kernel <= 0 || stride <= 0) {
      throw new IllegalArgumentException("MaxPool2d: kernel and stride must be > 0, got " + kernel + ", " + stride);
    }
    this.kernel = kernel;
    this.stride = stride;
  }

  @Override
  public Tensor forward(Tensor x) {
    return x.maxPool2d(new int[] {kernel, kernel}, new int[] {stride, stride}, new int[] {0, 0});
  }
}
