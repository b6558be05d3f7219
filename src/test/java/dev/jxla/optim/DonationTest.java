package dev.jxla.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jxla.Jxla;
import dev.jxla.Rng;
import dev.jxla.Tensor;
import dev.jxla.TensorScope;
import dev.jxla.nn.CrossEntropyLoss;
import dev.jxla.nn.Linear;
import dev.jxla.nn.ReLU;
import dev.jxla.nn.Sequential;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Buffer donation seen from Java (runtime/lazy.cpp): Adam's step updates the parameters and
 * moments in their own buffers when no handle can read the old values, which changes nothing
 * in the results; a handle that still refers to an old value (a detached copy) keeps it.
 */
class DonationTest {
  static final int BATCH = 16;

  /** Trains an MLP for {@code steps} Adam steps; with {@code holdOld} a detached copy of every
   *  parameter is kept alive across each step's sync (so the parameters cannot be donated) and
   *  checked to still hold the pre-step values. Returns the final parameters. */
  static List<float[]> train(int steps, boolean holdOld, long[] donated) {
    Random r = new Random(5);
    float[] x = new float[BATCH * 12];
    int[] y = new int[BATCH];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextGaussian();
    }
    for (int i = 0; i < BATCH; i++) {
      y[i] = r.nextInt(5);
    }
    Rng rng = new Rng(9);
    List<float[]> out = new ArrayList<>();
    try (Sequential net = new Sequential(new Linear(12, 24, rng), new ReLU(), new Linear(24, 5, rng));
        Adam opt = new Adam(net.parameters(), 1e-2)) {
      CrossEntropyLoss ce = new CrossEntropyLoss();
      long d0 = Jxla.counter("DonatedBuffers");
      for (int t = 0; t < steps; t++) {
        List<Tensor> old = new ArrayList<>();
        List<float[]> oldValues = new ArrayList<>();
        if (holdOld) {
          for (Tensor p : net.parameters()) {
            old.add(p.detach());
            oldValues.add(p.toFloatArray());
          }
        }
        Tensor loss;
        try (TensorScope s = new TensorScope()) {
          loss = s.keep(ce.apply(net.forward(Tensor.of(x, BATCH, 12)), Tensor.of(y, BATCH)));
          loss.backward();
          opt.step();
          opt.zeroGrad();
        }
        Jxla.sync();
        loss.close();
        for (int i = 0; i < old.size(); i++) {
          assertArrayEquals(oldValues.get(i), old.get(i).toFloatArray(), "step " + t + ": a kept old value changed");
          old.get(i).close();
        }
      }
      donated[0] = Jxla.counter("DonatedBuffers") - d0;
      for (Tensor p : net.parameters()) {
        out.add(p.toFloatArray());
      }
    }
    return out;
  }

  @Test
  void inPlaceUpdateGivesTheSameParametersBitForBit() {
    long[] free = new long[1];
    long[] held = new long[1];
    List<float[]> a = train(6, false, free);
    List<float[]> b = train(6, true, held);
    assertEquals(a.size(), b.size());
    for (int i = 0; i < a.size(); i++) {
      assertArrayEquals(a.get(i), b.get(i), "parameter " + i);
    }
    // 4 parameters: from step 2 on (the moments exist as data) p, m and v of each are donated;
    // with the old parameters held, only the moments are
    assertTrue(free[0] >= 5 * 4 * 3, "donated buffers without held values: " + free[0]);
    assertTrue(held[0] >= 5 * 4 * 2 && held[0] < free[0], "donated buffers with held values: " + held[0]);
  }
}
