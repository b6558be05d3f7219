package dev.jxla.optim;

import dev.jxla.Tensor;
import java.util.List;

/**
 * Stochastic gradient descent with PyTorch's update rule:
 * g = grad + wd * p; buf = momentum * buf + (1 - dampening) * g (buf = g on the first step);
 * g = nesterov ? g + momentum * buf : buf; p = p - lr * g.
 */
public final class SGD extends Optimizer {
  private final double momentum;
  private final double dampening;
  private final double weightDecay;
  private final boolean nesterov;
  private final Tensor[] buf;

  /** Plain SGD. */
  public SGD(List<Tensor> params, double lr) {
    this(params, lr, 0, 0, 0, false);
  }

  /** SGD with momentum, dampening, weight decay and optional Nesterov momentum. */
  public SGD(List<Tensor> params, double lr, double momentum, double dampening, double weightDecay, boolean nesterov) {
    super(params, lr);
    if (momentum < 0 || weightDecay < 0) {
      throw new IllegalArgumentException("SGD: momentum and weight decay must be >= 0");
    }
    if (nesterov && (momentum <= 0 || dampening != 0)) {
      throw new IllegalArgumentException("SGD: Nesterov momentum requires momentum > 0 and dampening 0");
    }
    this.momentum = momentum;
    this.dampening = dampening;
    this.weightDecay = weightDecay;
    this.nesterov = nesterov;
    this.buf = new Tensor[params.size()];
  }

  @Override
  protected double scalarValue(String role) {
    switch (role) {
      case "weight_decay": return weightDecay;
      case "momentum": return momentum;
      case "1-dampening": return 1 - dampening;
      default: return super.scalarValue(role);
    }
  }

  @Override
  protected void update(int i, Tensor p, Tensor g) {
    Tensor d = g;
    if (weightDecay != 0) {
      d = d.add(p.mul(scalar("weight_decay", weightDecay, p)));
    }
    if (momentum != 0) {
      if (buf[i] == null) {
        newState(p, buf, i);
        buf[i].assign(d);
      } else {
        buf[i].assign(buf[i].mul(scalar("momentum", momentum, p)).add(d.mul(scalar("1-dampening", 1 - dampening, p))));
      }
      d = nesterov ? d.add(buf[i].mul(scalar("momentum", momentum, p))) : buf[i];
    }
    p.assign(p.sub(d.mul(scalar("lr", lr(), p))));
  }
}
