package dev.jxla.nn;

import dev.jxla.DType;
import dev.jxla.Tensor;
import dev.jxla.TensorScope;
import java.util.Arrays;

/**
 * Cross-entropy from logits [N, C] and integer class targets [N], averaged over the batch, with
 * optional label smoothing e (PyTorch's definition: the target distribution is
 * (1 - e) * onehot + e / C). Computed as -sum(q * log_softmax(logits)) per row.
 */
public final class CrossEntropyLoss implements Loss {
  private final double smoothing;

  /** No label smoothing. */
  public CrossEntropyLoss() {
    this(0.0);
  }

  /** With label smoothing in [0, 1]. */
  public CrossEntropyLoss(double labelSmoothing) {
    if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
      throw new IllegalArgumentException("CrossEntropyLoss: label smoothing must be in [0, 1], got " + labelSmoothing);
    }
    this.smoothing = labelSmoothing;
  }

  @Override
  public Tensor apply(Tensor logits, Tensor target) {
    long[] ls = logits.shape(), ts = target.shape();
    if (ls.length != 2 || ts.length != 1 || ts[0] != ls[0]) {
      throw new IllegalArgumentException("CrossEntropyLoss: expected logits [N, C] and targets [N], got "
          + Arrays.toString(ls) + " and " + Arrays.toString(ts));
    }
    if (target.dtype().isFloatingPoint() || target.dtype() == DType.BOOL) {
      throw new IllegalArgumentException("CrossEntropyLoss: targets must be integer class indices, got " + target.dtype());
    }
    int c = Math.toIntExact(ls[1]);
    try (TensorScope s = new TensorScope()) {
      Tensor logp = logits.logSoftmax(1);
      Tensor q = target.oneHot(c, logits.dtype());
      if (smoothing > 0) {
        q = q.mul(1.0 - smoothing).add(smoothing / c);
      }
      return s.keep(q.mul(logp).sum(1).mean().neg());
    }
  }
}
