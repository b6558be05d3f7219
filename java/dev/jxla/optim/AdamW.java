package dev.jxla.optim;

import dev.jxla.Tensor;
import java.util.List;

/** AdamW: Adam with decoupled weight decay (default 0.01, as PyTorch). */
public final class AdamW extends Adam {
  /** AdamW with betas (0.9, 0.999), eps 1e-8, weight decay 0.01. */
  public AdamW(List<Tensor> params, double lr) {
    this(params, lr, 0.9, 0.999, 1e-8, 0.01);
  }

  /** AdamW with every hyperparameter. */
  public AdamW(List<Tensor> params, double lr, double beta1, double beta2, double eps, double weightDecay) {
    super(params, lr, beta1, beta2, eps, weightDecay, true);
  }
}
