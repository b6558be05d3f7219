package dev.jxla.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jxla.Device;
import dev.jxla.Jxla;
import dev.jxla.Rng;
import dev.jxla.Tensor;
import dev.jxla.TensorScope;
import dev.jxla.nn.CrossEntropyLoss;
import dev.jxla.nn.Dropout;
import dev.jxla.nn.Linear;
import dev.jxla.nn.Module;
import dev.jxla.nn.ReLU;
import dev.jxla.nn.Sequential;
import dev.jxla.nn.Tanh;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * TrainStep (compiled training steps) against the eager lazy step: the same parameters, moments,
 * losses and step counts bit for bit over steps with a changing learning rate and a batch-size
 * change; no tracing or compilation after warm-up; flat native memory; clear errors on misuse.
 */
class TrainStepTest {
  static final int IN = 12;
  static final int CLASSES = 5;
  static final CrossEntropyLoss CE = new CrossEntropyLoss();
  /** Batch size per step: a change of shape in the middle retraces (a second signature). */
  static final int[] BATCHES = {16, 16, 16, 8, 16, 16, 8, 16};

  static Sequential mlp() {
    Rng rng = new Rng(9);
    return new Sequential(new Linear(IN, 24, rng), new ReLU(), new Linear(24, 16, rng), new Tanh(), new Linear(16, CLASSES, rng));
  }

  /** Batch t: x [b, IN] and y [b] from a fixed seed. */
  static float[] xs(int t, int b) {
    Random r = new Random(100 + t);
    float[] x = new float[b * IN];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextGaussian();
    }
    return x;
  }

  static int[] ys(int t, int b) {
    Random r = new Random(200 + t);
    int[] y = new int[b];
    for (int i = 0; i < b; i++) {
      y[i] = r.nextInt(CLASSES);
    }
    return y;
  }

  /** Everything a run leaves: losses, parameters, optimizer state (raw float bits) and steps. */
  static final class Run {
    final List<int[]> losses = new ArrayList<>();
    final List<int[]> params = new ArrayList<>();
    final List<int[]> state = new ArrayList<>();
    long steps;
  }

  static int[] bits(Tensor t) {
    float[] f = t.toFloatArray();
    int[] b = new int[f.length];
    for (int i = 0; i < f.length; i++) {
      b[i] = Float.floatToRawIntBits(f[i]);
    }
    return b;
  }

  static Run train(Function<List<Tensor>, Optimizer> make, boolean compiled, Device dev) {
    Run run = new Run();
    LrSchedule schedule = LrSchedule.warmup(2, LrSchedule.cosine(0.05, 6, 0.001));
    try (Sequential net = mlp()) {
      if (!dev.isHost()) {
        net.to(dev);
      }
      try (Optimizer opt = make.apply(net.parameters());
          TrainStep step = TrainStep.compile(net, opt, (x, y) -> CE.apply(net.forward(x), y))) {
        for (int t = 0; t < BATCHES.length; t++) {
          int b = BATCHES[t];
          opt.setLr(schedule.lr(opt.steps()));
          Tensor loss;
          if (compiled) {
            try (Tensor x = Tensor.of(xs(t, b), b, IN); Tensor y = Tensor.of(ys(t, b), b)) {
              loss = step.run(x, y);  // host inputs: the step moves them to dev
            }
            for (Tensor p : net.parameters()) {
              assertNull(p.grad(), "a compiled step keeps no gradient");
            }
          } else {
            try (TensorScope s = new TensorScope()) {
              Tensor x = Tensor.of(xs(t, b), b, IN);
              Tensor y = Tensor.of(ys(t, b), b);
              if (!dev.isHost()) {
                x = x.to(dev);
                y = y.to(dev);
              }
              loss = s.keep(CE.apply(net.forward(x), y));
              loss.backward();
              opt.step();
              opt.zeroGrad();
            }
            Jxla.sync();
          }
          run.losses.add(bits(loss));
          loss.close();
        }
        for (Tensor p : net.parameters()) {
          run.params.add(bits(p));
        }
        for (Tensor s : opt.stateTensors()) {
          run.state.add(bits(s));
        }
        run.steps = opt.steps();
        if (compiled) {
          // signatures: batch 16 before the state exists, then 16 and 8 with it
          assertEquals(3, step.traceCount());
        }
      }
    }
    return run;
  }

  static void assertSame(Run eager, Run compiled) {
    assertEquals(eager.steps, compiled.steps);
    assertEquals(eager.losses.size(), compiled.losses.size());
    for (int i = 0; i < eager.losses.size(); i++) {
      assertArrayEquals(eager.losses.get(i), compiled.losses.get(i), "loss of step " + i);
    }
    assertEquals(eager.params.size(), compiled.params.size());
    for (int i = 0; i < eager.params.size(); i++) {
      assertArrayEquals(eager.params.get(i), compiled.params.get(i), "parameter " + i);
    }
    assertEquals(eager.state.size(), compiled.state.size());
    for (int i = 0; i < eager.state.size(); i++) {
      assertArrayEquals(eager.state.get(i), compiled.state.get(i), "optimizer state " + i);
    }
  }

  static void check(Function<List<Tensor>, Optimizer> make, Device dev) {
    assertSame(train(make, false, dev), train(make, true, dev));
  }

  @Test
  void adamMatchesTheEagerStepBitForBit() {
    check(ps -> new Adam(ps, 0.05), Device.host());
  }

  @Test
  void adamWMatchesTheEagerStepBitForBit() {
    check(ps -> new AdamW(ps, 0.05, 0.9, 0.99, 1e-7, 0.05), Device.host());
  }

  @Test
  void adamWithL2MatchesTheEagerStepBitForBit() {
    check(ps -> new Adam(ps, 0.05, 0.8, 0.95, 1e-6, 0.01, false), Device.host());
  }

  @Test
  void sgdNesterovMatchesTheEagerStepBitForBit() {
    check(ps -> new SGD(ps, 0.05, 0.9, 0, 1e-3, true), Device.host());
  }

  @Test
  void sgdDampenedMomentumMatchesTheEagerStepBitForBit() {
    check(ps -> new SGD(ps, 0.05, 0.8, 0.1, 0, false), Device.host());
  }

  @Test
  void adamOnTheEmulatedTpuMatchesTheEagerStepBitForBit() {
    check(ps -> new Adam(ps, 0.05), Device.tpu("v5e"));
  }

  @Test
  void afterWarmUpAStepTracesNothingAndCompilesNothing() {
    try (Sequential net = mlp(); Adam opt = new Adam(net.parameters(), 1e-2);
        TrainStep step = TrainStep.compile(net, opt, (x, y) -> CE.apply(net.forward(x), y));
        Tensor x = Tensor.of(xs(0, 16), 16, IN); Tensor y = Tensor.of(ys(0, 16), 16)) {
      for (int t = 0; t < 2; t++) {
        step.run(x, y).close();
      }
      long tracing = Jxla.counter("LazyTracing"), uncached = Jxla.counter("UncachedCompile");
      long fcompile = Jxla.counter("FunctionCompile"), donated = Jxla.counter("DonatedBuffers");
      for (int t = 0; t < 5; t++) {
        step.run(x, y).close();
      }
      assertEquals(tracing, Jxla.counter("LazyTracing"), "ops traced after warm-up");
      assertEquals(uncached, Jxla.counter("UncachedCompile"));
      assertEquals(fcompile, Jxla.counter("FunctionCompile"));
      assertEquals(2, step.traceCount());
      assertEquals(7, step.runCount());
      // p, m and v of each of the 6 parameters are updated in their own buffers every step
      assertEquals(5 * 6 * 3, Jxla.counter("DonatedBuffers") - donated);
    }
  }

  @Test
  void aHeldCopyOfAParameterKeepsItsValue() {
    try (Sequential net = mlp(); Adam opt = new Adam(net.parameters(), 1e-2);
        TrainStep step = TrainStep.compile(net, opt, (x, y) -> CE.apply(net.forward(x), y));
        Tensor x = Tensor.of(xs(0, 16), 16, IN); Tensor y = Tensor.of(ys(0, 16), 16)) {
      for (int t = 0; t < 3; t++) {
        step.run(x, y).close();
      }
      Tensor w = net.parameters().get(0);
      try (Tensor old = w.detach()) {
        int[] before = bits(old);
        step.run(x, y).close();  // w's buffer is shared with old: not donated
        assertArrayEquals(before, bits(old));
        assertTrue(!java.util.Arrays.equals(before, bits(w)), "the parameter was updated");
      }
    }
  }

  @Test
  void nativeMemoryIsFlatOver2000CompiledSteps() {
    try (Sequential net = mlp(); SGD opt = new SGD(net.parameters(), 0.01, 0.9, 0, 1e-4, true);
        TrainStep step = TrainStep.compile(net, opt, (x, y) -> CE.apply(net.forward(x), y))) {
      float[] xd = xs(0, 16);
      int[] yd = ys(0, 16);
      long bytes = 0, tensors = 0;
      for (int t = 0; t < 2000; t++) {
        try (Tensor x = Tensor.of(xd, 16, IN); Tensor y = Tensor.of(yd, 16); Tensor loss = step.run(x, y)) {
          loss.item();
        }
        if (t == 10) {
          bytes = Jxla.liveBytes();
          tensors = Jxla.liveTensors();
        }
      }
      assertEquals(bytes, Jxla.liveBytes());
      assertEquals(tensors, Jxla.liveTensors());
    }
  }

  /** Parameters and step count of a model, to check that a failed trace changed nothing. */
  static List<int[]> snapshot(Module m) {
    List<int[]> r = new ArrayList<>();
    for (Tensor p : m.parameters()) {
      r.add(bits(p));
    }
    return r;
  }

  static void assertUnchanged(List<int[]> before, Module m, Optimizer opt, long steps) {
    List<int[]> now = snapshot(m);
    for (int i = 0; i < before.size(); i++) {
      assertArrayEquals(before.get(i), now.get(i), "parameter " + i + " changed by a failed step");
    }
    assertEquals(steps, opt.steps());
    for (Tensor p : m.parameters()) {
      assertNull(p.grad());
    }
  }

  @Test
  void misuseThrowsClearErrorsAndLeavesEverythingUsable() {
    try (Sequential net = mlp(); Adam opt = new Adam(net.parameters(), 1e-2);
        Tensor x = Tensor.of(xs(0, 16), 16, IN); Tensor y = Tensor.of(ys(0, 16), 16)) {
      for (int warm = 0; warm < 2; warm++) {
        List<int[]> before = snapshot(net);
        long steps = opt.steps();
        int nstate = opt.stateTensors().size();
        // a data read inside the traced function
        try (TrainStep bad = TrainStep.compile(net, opt, (a, b) -> {
          Tensor l = CE.apply(net.forward(a), b);
          l.item();
          return l;
        })) {
          IllegalStateException e = assertThrows(IllegalStateException.class, () -> bad.run(x, y));
          assertTrue(e.getMessage().contains("TrainStep") && e.getMessage().contains("traced"), e.getMessage());
        }
        assertUnchanged(before, net, opt, steps);
        assertEquals(nstate, opt.stateTensors().size(), "a failed trace keeps no optimizer state");
        // a non-scalar "loss"
        try (TrainStep bad = TrainStep.compile(net, opt, (a, b) -> net.forward(a))) {
          IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> bad.run(x, y));
          assertTrue(e.getMessage().contains("one-element") && e.getMessage().contains("[16, 5]"), e.getMessage());
        }
        assertUnchanged(before, net, opt, steps);
        // moving an input inside the traced function would capture its trace-time value
        try (TrainStep bad = TrainStep.compile(net, opt, (a, b) -> CE.apply(net.forward(a.to(Device.host())), b))) {
          IllegalStateException e = assertThrows(IllegalStateException.class, () -> bad.run(x, y));
          assertTrue(e.getMessage().contains("to_device"), e.getMessage());
        }
        assertUnchanged(before, net, opt, steps);
        // the engine and the optimizer still work: one good step (creates the state at warm == 0)
        try (TrainStep good = TrainStep.compile(net, opt, (a, b) -> CE.apply(net.forward(a), b))) {
          good.run(x, y).close();
        }
        assertEquals(steps + 1, opt.steps());
      }
      TrainStep step = TrainStep.compile(net, opt, (a, b) -> CE.apply(net.forward(a), b));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> step.run(x));
      assertTrue(e.getMessage().contains("2 inputs"), e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> step.run(x, null));
      Tensor closed = Tensor.of(ys(0, 16), 16);
      closed.close();
      assertThrows(IllegalStateException.class, () -> step.run(x, closed));
      // labels of the wrong shape fail in the loss at trace time, naming the op
      try (Tensor y8 = Tensor.of(ys(0, 8), 8)) {
        assertThrows(IllegalArgumentException.class, () -> step.run(x, y8));
      }
      step.run(x, y).close();
      step.close();
      step.close();  // idempotent
      IllegalStateException c = assertThrows(IllegalStateException.class, () -> step.run(x, y));
      assertTrue(c.getMessage().contains("closed"), c.getMessage());
    }
  }

  @Test
  void dropoutInTrainingModeIsRefusedAndEvalModeIsASignature() {
    Rng rng = new Rng(3);
    try (Sequential net = new Sequential(new Linear(IN, 8, rng), new Dropout(0.5, new Rng(4)), new Linear(8, CLASSES, rng));
        Adam opt = new Adam(net.parameters(), 1e-2);
        TrainStep step = TrainStep.compile(net, opt, (x, y) -> CE.apply(net.forward(x), y));
        Tensor x = Tensor.of(xs(0, 16), 16, IN); Tensor y = Tensor.of(ys(0, 16), 16)) {
      UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, () -> step.run(x, y));
      assertTrue(e.getMessage().contains("Dropout"), e.getMessage());
      net.eval();  // dropout is the identity: allowed
      step.run(x, y).close();
      assertEquals(1, opt.steps());
    }
  }

  @Test
  void extraOutputsComeBackWithTheLoss() {
    try (Sequential net = mlp(); Adam opt = new Adam(net.parameters(), 1e-2);
        TrainStep step = TrainStep.compile(opt, in -> {
          Tensor logits = net.forward(in[0]);
          return new Tensor[] {CE.apply(logits, in[1]), logits.argmax(1)};
        });
        Tensor x = Tensor.of(xs(0, 16), 16, IN); Tensor y = Tensor.of(ys(0, 16), 16)) {
      long[] expect;
      try (TensorScope s = new TensorScope()) {
        expect = net.forward(x).argmax(1).toLongArray();  // predictions before the update
      }
      Tensor[] out = step.runAll(x, y);
      assertEquals(2, out.length);
      assertArrayEquals(expect, out[1].toLongArray());
      for (Tensor t : out) {
        t.close();
      }
    }
  }
}
