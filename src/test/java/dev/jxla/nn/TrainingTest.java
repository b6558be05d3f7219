package dev.jxla.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jxla.Jxla;
import dev.jxla.Rng;
import dev.jxla.Tensor;
import dev.jxla.TensorScope;
import dev.jxla.optim.Adam;
import dev.jxla.optim.Optimizer;
import dev.jxla.optim.SGD;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Short end-to-end training runs: convergence, compile caching and flat native memory. */
class TrainingTest {
  /** Four Gaussian blobs in 8-D (centers at +-2 on two axes), labels 0..3. */
  static final class Blobs {
    final float[] x;
    final int[] y;

    Blobs(int n, long seed) {
      Random r = new Random(seed);
      x = new float[n * 8];
      y = new int[n];
      for (int i = 0; i < n; i++) {
        int c = r.nextInt(4);
        y[i] = c;
        for (int d = 0; d < 8; d++) {
          double center = d == 0 ? (c % 2 == 0 ? 2 : -2) : d == 1 ? (c / 2 == 0 ? 2 : -2) : 0;
          x[i * 8 + d] = (float) (center + r.nextGaussian());
        }
      }
    }
  }

  static double step(Module net, Optimizer opt, Loss lossFn, float[] x, int[] y, int batch) {
    Tensor loss;
    try (TensorScope s = new TensorScope()) {
      loss = s.keep(lossFn.apply(net.forward(Tensor.of(x, batch, 8)), Tensor.of(y, batch)));
      loss.backward();
      opt.step();
      opt.zeroGrad();
    }
    Jxla.sync();
    try (Tensor l = loss) {
      return l.item();
    }
  }

  @Test
  void mlpLearnsBlobsAndStepsStopCompiling() {
    Blobs data = new Blobs(32 * 10, 1);
    Rng rng = new Rng(3);
    try (Sequential net = new Sequential(new Linear(8, 32, rng), new ReLU(), new Linear(32, 4, rng));
        Adam opt = new Adam(net.parameters(), 1e-2)) {
      CrossEntropyLoss ce = new CrossEntropyLoss();
      float[] xb = new float[32 * 8];
      int[] yb = new int[32];
      double first = 0, last = 0;
      long compilesAfterWarmup = -1;
      for (int t = 0; t < 300; t++) {
        int off = (t % 10) * 32;
        System.arraycopy(data.x, off * 8, xb, 0, xb.length);
        System.arraycopy(data.y, off, yb, 0, 32);
        if (t == 3) {
          compilesAfterWarmup = Jxla.counter("UncachedCompile");
        }
        double l = step(net, opt, ce, xb, yb, 32);
        if (t == 0) {
          first = l;
        }
        last = l;
      }
      // a step is one cached graph once the optimizer state exists
      assertEquals(compilesAfterWarmup, Jxla.counter("UncachedCompile"));
      // ln(4) = 1.39 at chance; the blobs are separable up to ~2 % overlap (centers 4 sd apart)
      assertTrue(first > 1.0, "first loss " + first);
      assertTrue(last < 0.15, "loss after 300 steps " + last);
    }
  }

  /** TotalSamples of a metric in the PyTorch/XLA-format report (0 if absent). */
  static long samples(String metric) {
    String[] lines = Jxla.metricsReport().split("\n");
    for (int i = 0; i + 1 < lines.length; i++) {
      if (lines[i].trim().equals("Metric: " + metric)) {
        return Long.parseLong(lines[i + 1].trim().replace("TotalSamples:", "").trim());
      }
    }
    return 0;
  }

  @Test
  void forwardBackwardAndUpdateRunAsOneGraphPerStep() {
    Blobs data = new Blobs(16, 5);
    Rng rng = new Rng(6);
    try (Sequential net = new Sequential(new Linear(8, 16, rng), new GELU(), new LayerNorm(16), new Dropout(0.1, rng),
        new Linear(16, 4, rng)); dev.jxla.optim.AdamW opt = new dev.jxla.optim.AdamW(net.parameters(), 1e-3)) {
      CrossEntropyLoss ce = new CrossEntropyLoss(0.1);
      for (int t = 0; t < 3; t++) {
        step(net, opt, ce, data.x, data.y, 16);
      }
      long exec = samples("ExecuteTime"), compiles = Jxla.counter("UncachedCompile");
      for (int t = 0; t < 5; t++) {
        step(net, opt, ce, data.x, data.y, 16);
      }
      // item() reads the already-computed loss: no further execution
      assertEquals(exec + 5, samples("ExecuteTime"));
      assertEquals(compiles, Jxla.counter("UncachedCompile"));
    }
  }

  @Test
  void nativeMemoryIsFlatOver2000Steps() {
    Blobs data = new Blobs(16, 2);
    Rng rng = new Rng(4);
    try (Sequential net = new Sequential(new Linear(8, 16, rng), new Tanh(), new Linear(16, 4, rng));
        SGD opt = new SGD(net.parameters(), 0.05, 0.9, 0, 1e-4, true)) {
      CrossEntropyLoss ce = new CrossEntropyLoss();
      long bytes = 0, tensors = 0;
      for (int t = 0; t < 2000; t++) {
        step(net, opt, ce, data.x, data.y, 16);
        if (t == 10) {
          bytes = Jxla.liveBytes();
          tensors = Jxla.liveTensors();
        }
      }
      assertEquals(bytes, Jxla.liveBytes());
      assertEquals(tensors, Jxla.liveTensors());
    }
  }
}
