package dev.jxla.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jxla.Jxla;
import dev.jxla.Tensor;
import dev.jxla.TensorScope;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Optimizer updates on f(p) = 0.5 |p|^2 + c.p (gradient p + c) against closed forms and against
 * a direct transcription of PyTorch's documented update rules in double precision.
 */
class OptimizerTest {
  static final double[] P0 = {0.5, -1.5, 2.0};
  static final double[] C = {0.25, 0.5, -1.0};

  /** Runs n steps of opt on the quadratic and returns p after each step. */
  static double[][] run(java.util.function.Function<List<Tensor>, Optimizer> make, int n) {
    double[][] out = new double[n][];
    try (Tensor p = Tensor.of(P0.clone()).requiresGrad(true); Optimizer opt = make.apply(List.of(p))) {
      for (int t = 0; t < n; t++) {
        try (TensorScope s = new TensorScope()) {
          Tensor c = Tensor.of(C.clone());
          p.mul(p).sum().mul(0.5).add(p.mul(c).sum()).backward();
          opt.step();
          opt.zeroGrad();
        }
        Jxla.sync();
        out[t] = p.toDoubleArray();
      }
      p.requiresGrad(false);
    }
    return out;
  }

  static double[] grad(double[] p) {
    double[] g = new double[p.length];
    for (int i = 0; i < p.length; i++) {
      g[i] = p[i] + C[i];
    }
    return g;
  }

  @Test
  void plainSgdMatchesClosedForm() {
    double lr = 0.1;
    double[][] got = run(ps -> new SGD(ps, lr), 4);
    for (int t = 0; t < 4; t++) {
      for (int i = 0; i < 3; i++) {  // p_t = (p0 + c)(1 - lr)^t - c
        assertEquals((P0[i] + C[i]) * Math.pow(1 - lr, t + 1) - C[i], got[t][i], 1e-14);
      }
    }
  }

  @Test
  void sgdMomentumDampeningWeightDecayAndNesterov() {
    for (boolean nesterov : new boolean[] {false, true}) {
      double lr = 0.05, mu = 0.9, damp = nesterov ? 0 : 0.1, wd = 0.01;
      double[][] got = run(ps -> new SGD(ps, lr, mu, damp, wd, nesterov), 4);
      double[] p = P0.clone(), buf = null;
      for (int t = 0; t < 4; t++) {
        double[] g = grad(p);
        for (int i = 0; i < 3; i++) {
          g[i] += wd * p[i];
        }
        if (buf == null) {
          buf = g.clone();
        } else {
          for (int i = 0; i < 3; i++) {
            buf[i] = mu * buf[i] + (1 - damp) * g[i];
          }
        }
        for (int i = 0; i < 3; i++) {
          double d = nesterov ? g[i] + mu * buf[i] : buf[i];
          p[i] -= lr * d;
        }
        assertArrayEquals(p, got[t], 1e-14, "nesterov=" + nesterov + " step " + t);
      }
    }
  }

  @Test
  void adamFirstStepIsLrTimesSignAndLaterStepsFollowTheRule() {
    double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
    double[][] got = run(ps -> new Adam(ps, lr), 5);
    double[] g0 = grad(P0);
    for (int i = 0; i < 3; i++) {  // closed form of step 1: mhat = g, vhat = g^2
      assertEquals(P0[i] - lr * g0[i] / (Math.abs(g0[i]) + eps), got[0][i], 1e-14);
    }
    double[] p = P0.clone(), m = new double[3], v = new double[3];
    for (int t = 1; t <= 5; t++) {
      double[] g = grad(p);
      for (int i = 0; i < 3; i++) {
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        double mh = m[i] / (1 - Math.pow(b1, t)), vh = v[i] / (1 - Math.pow(b2, t));
        p[i] -= lr * mh / (Math.sqrt(vh) + eps);
      }
      assertArrayEquals(p, got[t - 1], 1e-13, "step " + t);
    }
  }

  @Test
  void adamWDecouplesWeightDecayAndAdamL2AddsItToTheGradient() {
    double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.1;
    for (boolean decoupled : new boolean[] {true, false}) {
      double[][] got = run(ps -> decoupled ? new AdamW(ps, lr, b1, b2, eps, wd) : new Adam(ps, lr, b1, b2, eps, wd, false), 3);
      double[] p = P0.clone(), m = new double[3], v = new double[3];
      for (int t = 1; t <= 3; t++) {
        double[] g = grad(p);
        for (int i = 0; i < 3; i++) {
          if (decoupled) {
            p[i] -= lr * wd * p[i];
          } else {
            g[i] += wd * p[i];
          }
        }
        for (int i = 0; i < 3; i++) {
          m[i] = b1 * m[i] + (1 - b1) * g[i];
          v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
          double mh = m[i] / (1 - Math.pow(b1, t)), vh = v[i] / (1 - Math.pow(b2, t));
          p[i] -= lr * mh / (Math.sqrt(vh) + eps);
        }
        assertArrayEquals(p, got[t - 1], 1e-13, "decoupled=" + decoupled + " step " + t);
      }
    }
  }

  @Test
  void schedulesByValue() {
    LrSchedule st = LrSchedule.step(0.1, 3, 0.5);
    double[] want = {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025};
    for (int s = 0; s < want.length; s++) {
      assertEquals(want[s], st.lr(s), 1e-15);
    }
    LrSchedule cos = LrSchedule.cosine(1.0, 10, 0.1);
    assertEquals(1.0, cos.lr(0), 1e-15);
    assertEquals(0.55, cos.lr(5), 1e-15);  // min + (base - min) / 2
    assertEquals(0.1 + 0.9 * (1 + Math.cos(Math.PI * 0.3)) / 2, cos.lr(3), 1e-15);
    assertEquals(0.1, cos.lr(10), 1e-15);
    assertEquals(0.1, cos.lr(25), 1e-15);
    LrSchedule wu = LrSchedule.warmup(4, LrSchedule.step(0.2, 2, 0.1));
    double[] w = {0.05, 0.1, 0.15, 0.2, 0.2, 0.2, 0.02};
    for (int s = 0; s < w.length; s++) {
      assertEquals(w[s], wu.lr(s), 1e-15);
    }
  }

  @Test
  void changingTheLearningRateDoesNotRecompile() {
    try (Tensor p = Tensor.of(new float[] {1, 2, 3}).requiresGrad(true); SGD opt = new SGD(List.of(p), 0.1)) {
      LrSchedule sched = LrSchedule.cosine(0.1, 20, 0.0);
      long before = 0;
      for (int t = 0; t < 20; t++) {
        if (t == 3) {
          before = Jxla.counter("UncachedCompile");
        }
        opt.setLr(sched.lr(t));
        try (TensorScope s = new TensorScope()) {
          p.mul(p).sum().backward();
          opt.step();
          opt.zeroGrad();
        }
        Jxla.sync();
      }
      assertEquals(before, Jxla.counter("UncachedCompile"));
      p.requiresGrad(false);
    }
  }

  /** Parameters of a tiny MLP after n Adam steps (f32, random data), traced fused or op by op. */
  static float[][] mlpAfterAdam(boolean fused, int n) {
    java.util.Random r = new java.util.Random(5);
    float[] x = new float[8 * 13];
    for (int i = 0; i < x.length; i++) {
      x[i] = r.nextFloat() - 0.5f;
    }
    dev.jxla.Rng rng = new dev.jxla.Rng(3);
    try (dev.jxla.nn.Sequential net = new dev.jxla.nn.Sequential(new dev.jxla.nn.Linear(13, 7, rng), new dev.jxla.nn.ReLU(),
        new dev.jxla.nn.Linear(7, 3, rng)); Adam opt = new Adam(net.parameters(), 0.05)) {
      opt.fusedTrace = fused;
      for (int t = 0; t < n; t++) {
        try (TensorScope s = new TensorScope()) {
          Tensor y = net.forward(Tensor.of(x, 8, 13));
          y.mul(y).sum().backward();
          opt.step();
          opt.zeroGrad();
        }
        Jxla.sync();
      }
      List<Tensor> ps = net.parameters();
      float[][] out = new float[ps.size()][];
      for (int i = 0; i < out.length; i++) {
        out[i] = ps.get(i).toFloatArray();
      }
      return out;
    }
  }

  @Test
  void adamTracedInOneCallEqualsTheOpByOpTraceBitForBit() {
    float[][] fused = mlpAfterAdam(true, 6), ops = mlpAfterAdam(false, 6);
    for (int i = 0; i < fused.length; i++) {
      assertArrayEquals(ops[i], fused[i], 0f, "parameter " + i);  // delta 0: identical floats
    }
  }

  @Test
  void adamUpdateRejectsMismatchedStateNamingTheArgument() {
    try (TensorScope s = new TensorScope()) {
      Tensor p = Tensor.of(new float[] {1, 2, 3});
      Tensor g = Tensor.of(new float[] {1, 2});
      Tensor[] sc = new Tensor[8];
      for (int i = 0; i < 8; i++) {
        sc[i] = Tensor.scalar(0.5f);
      }
      IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
          () -> Tensor.adamUpdate(p, g, p, p, sc));
      org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("adam_update: the gradient is f32[2]"), e.getMessage());
      assertEquals(1.0f, p.toFloatArray()[0]);  // nothing assigned
    }
  }
}
