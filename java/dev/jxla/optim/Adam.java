package dev.jxla.optim;

import dev.jxla.DType;
import dev.jxla.Device;
import dev.jxla.Tensor;
import java.util.List;

/**
 * Adam (Kingma and Ba, 2015) with PyTorch's update rule; with {@code decoupled} it is AdamW
 * (Loshchilov and Hutter, 2019):
 * AdamW: p = p - lr * wd * p; Adam: g = g + wd * p;
 * m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
 * p = p - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
 * The bias corrections and lr are per-step scalar data tensors (no recompilation).
 */
public class Adam extends Optimizer {
  private final double beta1;
  private final double beta2;
  private final double eps;
  private final double weightDecay;
  private final boolean decoupled;
  private final Tensor[] m;
  private final Tensor[] v;
  /** Trace the update with one engine call (Tensor.adamUpdate); false: op by op (tests compare). */
  boolean fusedTrace = true;

  /** Adam with betas (0.9, 0.999), eps 1e-8, no weight decay. */
  public Adam(List<Tensor> params, double lr) {
    this(params, lr, 0.9, 0.999, 1e-8, 0, false);
  }

  /** Adam (or AdamW if decoupled) with every hyperparameter. */
  public Adam(List<Tensor> params, double lr, double beta1, double beta2, double eps, double weightDecay, boolean decoupled) {
    super(params, lr);
    if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1) || !(eps >= 0) || !(weightDecay >= 0)) {
      throw new IllegalArgumentException("Adam: betas must be in [0, 1), eps and weight decay >= 0; got beta1=" + beta1
          + " beta2=" + beta2 + " eps=" + eps + " weightDecay=" + weightDecay);
    }
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.weightDecay = weightDecay;
    this.decoupled = decoupled;
    this.m = new Tensor[params.size()];
    this.v = new Tensor[params.size()];
  }

  @Override
  protected double scalarValue(String role) {
    long t = steps();
    switch (role) {
      case "beta1": return beta1;
      case "1-beta1": return 1 - beta1;
      case "1/bias_correction1": return 1 / (1 - Math.pow(beta1, t));
      case "beta2": return beta2;
      case "1-beta2": return 1 - beta2;
      case "1/bias_correction2": return 1 / (1 - Math.pow(beta2, t));
      case "eps": return eps;
      case "lr*weight_decay": return lr() * weightDecay;
      case "weight_decay": return weightDecay;
      default: return super.scalarValue(role);
    }
  }

  @Override
  protected void update(int i, Tensor p, Tensor g) {
    long t = steps();
    if (m[i] == null) {
      newState(p, m, i);
      newState(p, v, i);
    }
    if (weightDecay == 0 && fusedTrace) {
      // one engine call traces the same ops as the lines below (Tensor.adamUpdate); p's dtype
      // and device are asked once for the 8 scalars
      DType dt = p.dtype();
      Device dev = p.device();
      Tensor.adamUpdate(p, g, m[i], v[i], scalar("beta1", beta1, dt, dev), scalar("1-beta1", 1 - beta1, dt, dev),
          scalar("1/bias_correction1", 1 / (1 - Math.pow(beta1, t)), dt, dev), scalar("beta2", beta2, dt, dev),
          scalar("1-beta2", 1 - beta2, dt, dev), scalar("1/bias_correction2", 1 / (1 - Math.pow(beta2, t)), dt, dev),
          scalar("eps", eps, dt, dev), scalar("lr", lr(), dt, dev));
      return;
    }
    Tensor base = p;
    if (weightDecay != 0) {
      if (decoupled) {
        base = p.sub(p.mul(scalar("lr*weight_decay", lr() * weightDecay, p)));
      } else {
        g = g.add(p.mul(scalar("weight_decay", weightDecay, p)));
      }
    }
    m[i].assign(m[i].mul(scalar("beta1", beta1, p)).add(g.mul(scalar("1-beta1", 1 - beta1, p))));
    v[i].assign(v[i].mul(scalar("beta2", beta2, p)).add(g.mul(g).mul(scalar("1-beta2", 1 - beta2, p))));
    double bc1 = 1 - Math.pow(beta1, t), bc2 = 1 - Math.pow(beta2, t);
    Tensor mhat = m[i].mul(scalar("1/bias_correction1", 1 / bc1, p));
    Tensor vhat = v[i].mul(scalar("1/bias_correction2", 1 / bc2, p));
    p.assign(base.sub(mhat.div(vhat.sqrt().add(scalar("eps", eps, p))).mul(scalar("lr", lr(), p))));
  }
}
