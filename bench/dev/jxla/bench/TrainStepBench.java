package dev.jxla.bench;

import dev.jxla.Device;
import dev.jxla.Jxla;
import dev.jxla.Rng;
import dev.jxla.Tensor;
import dev.jxla.TensorScope;
import dev.jxla.nn.CrossEntropyLoss;
import dev.jxla.nn.Linear;
import dev.jxla.nn.ReLU;
import dev.jxla.nn.Sequential;
import dev.jxla.optim.Adam;
import dev.jxla.optim.TrainStep;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One training step of the MNIST MLP 784-256-128-10 (forward + backward + Adam, one graph,
 * one sync) on the host and on the emulated TPU v5e (wall time of the emulation; the simulated
 * TPU time is reported by the train command), at batch 64 and 256; random inputs of MNIST's
 * shape, uploaded every step as the demo does. Multiply by 8000 / batch for the epoch time on
 * the 8,000-image training split.
 * mode: eager = traced op by op every step and run by one Jxla.sync(); compiled = a TrainStep
 * (traced once, then one executable per step with the state rebound in place).
 * Run: mvn -q -Pbench -DskipTests package exec:exec -Djmh.args="TrainStepBench -f 1 -wi 3 -i 5"
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Thread)
public class TrainStepBench {
  @Param({"64", "256"})
  public int batch;

  @Param({"host", "tpu:v5e"})
  public String device;

  @Param({"eager", "compiled"})
  public String mode;

  private Device dev;

  private Sequential net;
  private Adam opt;
  private TrainStep compiled;
  private float[] x;
  private int[] y;
  private final CrossEntropyLoss ce = new CrossEntropyLoss();

  @Setup(Level.Trial)
  public void setup() {
    Rng rng = new Rng(1);
    dev = device.equals("host") ? Device.host() : Device.tpu(device.substring(4));
    net = new Sequential(new Linear(784, 256, rng), new ReLU(), new Linear(256, 128, rng), new ReLU(),
        new Linear(128, 10, rng));
    if (!dev.isHost()) {
      net.to(dev);
    }
    opt = new Adam(net.parameters(), 1e-3);
    if (mode.equals("compiled")) {
      compiled = TrainStep.compile(net, opt, (xt, yt) -> ce.apply(net.forward(xt), yt));
    } else if (!mode.equals("eager")) {
      throw new IllegalArgumentException("mode must be eager or compiled, got " + mode);
    }
    Random r = new Random(2);
    x = new float[batch * 784];
    y = new int[batch];
    for (int i = 0; i < x.length; i++) {
      x[i] = r.nextFloat();
    }
    for (int i = 0; i < batch; i++) {
      y[i] = r.nextInt(10);
    }
  }

  @Benchmark
  public double step() {
    if (compiled != null) {
      // host batch: the compiled step moves it to the device (as the eager branch's to(dev))
      try (Tensor xt = Tensor.of(x, batch, 784); Tensor yt = Tensor.of(y, batch); Tensor l = compiled.run(xt, yt)) {
        return l.item();
      }
    }
    Tensor loss;
    try (TensorScope s = new TensorScope()) {
      Tensor xt = Tensor.of(x, batch, 784);
      Tensor yt = Tensor.of(y, batch);
      if (!dev.isHost()) {
        xt = xt.to(dev);
        yt = yt.to(dev);
      }
      loss = s.keep(ce.apply(net.forward(xt), yt));
      loss.backward();
      opt.step();
      opt.zeroGrad();
    }
    Jxla.sync();
    try (Tensor l = loss) {
      return l.item();
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    if (compiled != null) {
      compiled.close();
    }
    opt.close();
    net.close();
  }
}
