package dev.jxla.cli;

import dev.jxla.Device;
import dev.jxla.Jxla;
import dev.jxla.Rng;
import dev.jxla.Tensor;
import dev.jxla.TensorScope;
import dev.jxla.data.Mnist;
import dev.jxla.nn.Conv2d;
import dev.jxla.nn.CrossEntropyLoss;
import dev.jxla.nn.DataParallel;
import dev.jxla.nn.Flatten;
import dev.jxla.nn.Linear;
import dev.jxla.nn.MaxPool2d;
import dev.jxla.nn.Module;
import dev.jxla.nn.ReLU;
import dev.jxla.nn.Sequential;
import dev.jxla.optim.Adam;
import dev.jxla.optim.TrainStep;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * {@code jxla train}: trains an MLP 784-256-128-10 (or a small CNN with --model cnn) on the
 * shipped 10,000 MNIST digits (first 8,000 train, last 2,000 test) with Adam, printing a progress
 * bar per epoch (loss, accuracy, steps/s), the test accuracy and the short metrics report.
 * Each step (forward + backward + Adam update) is one compiled executable ({@link TrainStep}:
 * traced once, then run with no per-op tracing); {@code --step eager} traces it op by op every
 * step and runs it with one Jxla.sync() (data parallel always does).
 * Runs on the emulated TPU v5e by default ({@code --device tpu:<gen>}, or {@code host}); a
 * multi-core TPU ({@code tpu:v4x8}) trains data parallel, one replica per core, and the run
 * reports the simulated TPU time per step and, for data parallel, the speedup over one core.
 */
public final class TrainCommand {
  private TrainCommand() {}

  static final String USAGE = "usage: jxla train [--device tpu:v5e|tpu:<gen>[x<cores>]|host] [--model mlp|cnn] [--epochs N] [--batch N]\n"
      + "                  [--lr X] [--seed N] [--replicas N] [--step compiled|eager] [--denormals flush|ieee]\n"
      + "                  [--plot loss.png] [--quiet]";

  /** Options of one run. */
  static final class Options {
    String device = "tpu:v5e";
    String model = "mlp";
    int epochs = 10;
    int batch = 64;
    double lr = 1e-3;
    long seed = 42;
    Path plot;
    boolean quiet;
    int trainLimit = 8000;
    int replicas;  // 0: one per core of the device (data parallel when > 1)
    String step = "compiled";  // compiled (TrainStep; one replica only) or eager
    // flush (default): host arithmetic flushes subnormals to zero during the run, as XLA on CPU
    // does (Jxla.setFlushDenormals; Adam's moments decay into subnormals: docs/training-speed.md)
    String denormals = "flush";
  }

  /** Result of a run (for tests and the report). */
  static final class Result {
    final List<Double> epochLoss = new ArrayList<>();
    final List<Double> stepLoss = new ArrayList<>();
    double testAccuracy;
    double stepsPerSecond;
    double simSecondsPerStep;      // simulated TPU time per training step (NaN on the host)
    double simSpeedup = Double.NaN;  // data parallel: 1-core simulated step time / this one
    boolean compiled;                // the steps ran as a compiled TrainStep
  }

  /** Entry point of the subcommand. */
  public static void run(String[] args) {
    Options o;
    try {
      o = parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("train: " + e.getMessage());
      System.err.println(USAGE);
      System.exit(2);
      return;
    }
    try {
      train(o, System.out);
    } catch (IOException e) {
      System.err.println("train: " + e.getMessage());
      System.exit(1);
    }
  }

  static Options parse(String[] args) {
    Options o = new Options();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--quiet")) {
        o.quiet = true;
        continue;
      }
      if (a.equals("-h") || a.equals("--help")) {
        throw new IllegalArgumentException("help requested");
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException("missing value after " + a);
      }
      String v = args[++i];
      try {
        switch (a) {
          case "--device": o.device = v; break;
          case "--model": o.model = v; break;
          case "--epochs": o.epochs = Integer.parseInt(v); break;
          case "--batch": o.batch = Integer.parseInt(v); break;
          case "--lr": o.lr = Double.parseDouble(v); break;
          case "--seed": o.seed = Long.parseLong(v); break;
          case "--plot": o.plot = Path.of(v); break;
          case "--train-limit": o.trainLimit = Integer.parseInt(v); break;
          case "--replicas": o.replicas = Integer.parseInt(v); break;
          case "--step": o.step = v; break;
          case "--denormals": o.denormals = v; break;
          default: throw new IllegalArgumentException("unknown option " + a);
        }
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("bad number '" + v + "' for " + a);
      }
    }
    if (!o.model.equals("mlp") && !o.model.equals("cnn")) {
      throw new IllegalArgumentException("--model must be mlp or cnn, got " + o.model);
    }
    if (!o.denormals.equals("flush") && !o.denormals.equals("ieee")) {
      throw new IllegalArgumentException("--denormals must be flush or ieee, got " + o.denormals);
    }
    if (!o.step.equals("compiled") && !o.step.equals("eager")) {
      throw new IllegalArgumentException("--step must be compiled or eager, got " + o.step);
    }
    if (o.replicas < 0 || (o.replicas > 0 && o.batch % o.replicas != 0)) {
      throw new IllegalArgumentException("--replicas must be >= 1 and divide the batch");
    }
    if (o.epochs < 1 || o.batch < 1 || !(o.lr > 0) || o.trainLimit < o.batch || o.trainLimit > 8000) {
      throw new IllegalArgumentException("--epochs, --batch and --lr must be positive; --train-limit in [batch, 8000]");
    }
    return o;
  }

  static Device device(String name) {
    if (name.equals("host")) {
      return Device.host();
    }
    if (name.startsWith("tpu:")) {
      // tpu:v5e (one core) or tpu:v4x8 (8 cores: data parallel, one replica per core)
      String g = name.substring(4);
      int x = g.indexOf('x');
      return x < 0 ? Device.tpu(g) : Device.tpu(g.substring(0, x), Integer.parseInt(g.substring(x + 1)));
    }
    throw new IllegalArgumentException("unknown device '" + name + "' (host, tpu:v5e, tpu:v4x8)");
  }

  static Module model(String kind, Rng rng) {
    if (kind.equals("cnn")) {
      return new Sequential(new Conv2d(1, 8, 3, 1, 1, 1, rng), new ReLU(), new MaxPool2d(2),
          new Conv2d(8, 16, 3, 1, 1, 1, rng), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(16 * 7 * 7, 10, rng));
    }
    return new Sequential(new Linear(784, 256, rng), new ReLU(), new Linear(256, 128, rng), new ReLU(),
        new Linear(128, 10, rng));
  }

  static Result train(Options o, PrintStream out) throws IOException {
    boolean flush = Jxla.flushDenormals();
    Jxla.setFlushDenormals(o.denormals.equals("flush"));
    try {
      return run(o, out);
    } finally {
      Jxla.setFlushDenormals(flush);  // the process's mode as it was (tests run several commands)
    }
  }

  private static Result run(Options o, PrintStream out) throws IOException {
    Device dev = device(o.device);  // throws if the device kind is not available in this build
    Mnist data = Mnist.bundled();
    int px = data.rows * data.cols;
    int nTrain = o.trainLimit, nTest = data.count - 8000;
    long[] inShape = o.model.equals("cnn") ? new long[] {o.batch, 1, data.rows, data.cols} : new long[] {o.batch, px};
    Result res = new Result();
    Random shuffle = new Random(o.seed);
    CrossEntropyLoss lossFn = new CrossEntropyLoss();
    int nrep = o.replicas > 0 ? o.replicas : dev.cores();
    List<Device> devs = new ArrayList<>();
    for (int i = 0; i < nrep; i++) {
      devs.add(dev.cores() >= nrep && nrep > 1 ? dev.core(i) : dev);
    }
    if (o.batch % nrep != 0) {
      throw new IllegalArgumentException("train: batch " + o.batch + " does not split across " + nrep + " replicas");
    }
    // one replica: a plain model and optimizer; several: DataParallel (same init: one seed)
    // a compiled step (TrainStep) for one replica; data parallel stays eager (docs/training.md)
    res.compiled = nrep == 1 && o.step.equals("compiled");
    try (DataParallel dp = new DataParallel(() -> model(o.model, new Rng(o.seed)), devs, ps -> new Adam(ps, o.lr));
        TrainStep compiled = res.compiled ? compiledStep(dp.replicas().get(0), dp, lossFn) : null) {
      Module net = dp.replicas().get(0);
      if (!o.quiet) {
        out.printf(Locale.ROOT, "jxla train: %s (%,d parameters), Adam lr %s, batch %d, %d epochs, %d train / %d test digits, device %s, %s step%n",
            o.model.equals("cnn") ? "CNN conv8-pool-conv16-pool-linear" : "MLP 784-256-128-10", net.parameterCount(), o.lr,
            o.batch, o.epochs, nTrain, nTest, dev.name() + (nrep > 1 ? ", data parallel over " + nrep + " replicas" : ""),
            res.compiled ? "compiled" : "eager");
      }
      int[] order = new int[nTrain];
      for (int i = 0; i < nTrain; i++) {
        order[i] = i;
      }
      int steps = nTrain / o.batch;  // the last partial batch is dropped: one static shape, one compile
      float[] xb = new float[o.batch * px];
      int[] yb = new int[o.batch];
      long totalNanos = 0;
      long totalSteps = 0;
      double sim0 = simulatedClock(devs);
      for (int epoch = 1; epoch <= o.epochs; epoch++) {
        for (int i = nTrain - 1; i > 0; i--) {
          int j = shuffle.nextInt(i + 1);
          int t = order[i];
          order[i] = order[j];
          order[j] = t;
        }
        net.train();
        double lossSum = 0;
        long correct = 0;
        long t0 = System.nanoTime();
        long lastBar = t0;
        for (int s = 0; s < steps; s++) {
          for (int b = 0; b < o.batch; b++) {
            int k = order[s * o.batch + b];
            System.arraycopy(data.images, k * px, xb, b * px, px);
            yb[b] = data.labels[k];
          }
          Tensor loss;
          Tensor pred;
          if (compiled != null) {
            // host batch: the compiled step moves it to the device itself
            try (Tensor x = Tensor.of(xb, inShape); Tensor y = Tensor.of(yb, o.batch)) {
              Tensor[] r = compiled.runAll(x, y);  // forward, backward, Adam: one executable
              loss = r[0];
              pred = r[1];
            }
          } else {
            Tensor[] r = eagerStep(dp, xb, yb, inShape, o.batch, nrep > 1 ? Device.host() : devs.get(0), lossFn);
            loss = r[0];
            pred = r[1];
          }
          double l = loss.item();
          long[] p = pred.toLongArray();
          loss.close();
          pred.close();
          for (int b = 0; b < o.batch; b++) {
            if (p[b] == yb[b]) {
              correct++;
            }
          }
          lossSum += l;
          res.stepLoss.add(l);
          // redrawn at most every 0.1 s (tqdm's mininterval) and at the epoch's last step: a
          // formatted line every few steps cost more than the step's own Java work
          long now = System.nanoTime();
          if (!o.quiet && (now - lastBar >= 100_000_000L || s == steps - 1)) {
            lastBar = now;
            double el = (now - t0) / 1e9;
            out.print(bar(epoch, o.epochs, s + 1, steps, lossSum / (s + 1), 100.0 * correct / ((s + 1) * (long) o.batch),
                (s + 1) / el));
          }
        }
        long dt = System.nanoTime() - t0;
        totalNanos += dt;
        totalSteps += steps;
        res.epochLoss.add(lossSum / steps);
        if (!o.quiet) {
          out.println();
        }
      }
      res.stepsPerSecond = totalSteps / (totalNanos / 1e9);
      res.simSecondsPerStep = (simulatedClock(devs) - sim0) / totalSteps;
      res.testAccuracy = evaluate(net, data, inShape, devs.get(0));
      if (!o.quiet) {
        out.printf(Locale.ROOT, "test accuracy: %.2f%% (%d digits), %.1f steps/s over %d steps%n", 100 * res.testAccuracy,
            nTest, res.stepsPerSecond, totalSteps);
        out.println(Jxla.shortMetricsReport());
      }
      if (!dev.isHost()) {
        if (nrep > 1 && nrep == dev.cores()) {
          double one = oneCoreStepSeconds(o, data, inShape, dev);
          res.simSpeedup = one / res.simSecondsPerStep;
          if (!o.quiet) {
            out.printf(Locale.ROOT, "simulated %s time per step: %.1f us over %d cores (1 core: %.1f us): speedup %.2fx%n",
                dev.name(), 1e6 * res.simSecondsPerStep, nrep, 1e6 * one, res.simSpeedup);
          }
        } else if (!o.quiet) {
          out.printf(Locale.ROOT, "simulated %s time per step: %.1f us (%.3f s simulated for %d steps)%n", dev.name(),
              1e6 * res.simSecondsPerStep, res.simSecondsPerStep * totalSteps, totalSteps);
        }
      }
      if (o.plot != null) {
        LossPlot.write(o.plot, res.stepLoss, res.epochLoss, steps);
        if (!o.quiet) {
          out.println("loss curve written to " + o.plot);
        }
      }
    }
    return res;
  }

  /**
   * One eager step: traced op by op (forward, backward, all-reduce, Adam) and run as one graph by
   * one Jxla.sync(); returns {loss, predicted classes}. Data parallel: DataParallel sends each
   * replica its shard straight from the host ({@code in} is the host then).
   */
  static Tensor[] eagerStep(DataParallel dp, float[] xb, int[] yb, long[] inShape, int batch, Device in, CrossEntropyLoss lossFn) {
    Tensor loss;
    Tensor pred;
    try (TensorScope scope = new TensorScope()) {
      Tensor x = onDevice(Tensor.of(xb, inShape), in);
      Tensor y = onDevice(Tensor.of(yb, batch), in);
      Tensor[] r = dp.stepWithOutputs(x, y, lossFn);
      loss = scope.keep(r[0]);
      pred = scope.keep(r[1].argmax(1));
    }
    Jxla.sync();  // forward + backward + update: one graph
    return new Tensor[] {loss, pred};
  }

  /** The compiled step of a single replica: {loss, predicted classes}. */
  static TrainStep compiledStep(Module net, DataParallel dp, CrossEntropyLoss lossFn) {
    return TrainStep.compile(net, dp.optimizers().get(0), in -> {
      Tensor logits = net.forward(in[0]);
      return new Tensor[] {lossFn.apply(logits, in[1]), logits.argmax(1)};
    });
  }

  /**
   * The simulated clock of a step over these devices: the latest core (a data-parallel step
   * ends when its slowest core does; the all-reduce synchronizes them anyway). NaN on the host.
   */
  static double simulatedClock(List<Device> devs) {
    double t = Double.NaN;
    for (Device d : devs) {
      if (d.isHost()) {
        return Double.NaN;
      }
      t = Double.isNaN(t) ? d.simulatedSeconds() : Math.max(t, d.simulatedSeconds());
    }
    return t;
  }

  /**
   * Simulated time of the same step (full batch) on ONE core of the pod's generation: a fresh
   * single-replica model runs a few steps on the first batches; the first two are skipped (they
   * carry the parameter upload and create Adam's state, so their graphs differ).
   */
  static double oneCoreStepSeconds(Options o, Mnist data, long[] inShape, Device pod) {
    String gen = pod.name().substring(4, pod.name().lastIndexOf('x'));  // "tpu:v4x8" -> "v4"
    Device one = Device.tpu(gen);
    int px = data.rows * data.cols, warm = 2, measured = 3;
    CrossEntropyLoss lossFn = new CrossEntropyLoss();
    float[] xb = new float[o.batch * px];
    int[] yb = new int[o.batch];
    double t0 = 0;
    try (DataParallel dp = new DataParallel(() -> model(o.model, new Rng(o.seed)), List.of(one), ps -> new Adam(ps, o.lr))) {
      for (int s = 0; s < warm + measured; s++) {
        if (s == warm) {
          t0 = one.simulatedSeconds();
        }
        int first = (s * o.batch) % (8000 - o.batch);
        System.arraycopy(data.images, first * px, xb, 0, o.batch * px);
        System.arraycopy(data.labels, first, yb, 0, o.batch);
        Tensor loss;
        try (TensorScope scope = new TensorScope()) {
          loss = scope.keep(dp.step(Tensor.of(xb, inShape).to(one), Tensor.of(yb, o.batch).to(one), lossFn));
        }
        Jxla.sync();
        loss.item();
        loss.close();
      }
    }
    return (one.simulatedSeconds() - t0) / measured;
  }

  static Tensor onDevice(Tensor t, Device dev) {
    return dev.isHost() ? t : t.to(dev);
  }

  static double evaluate(Module net, Mnist data, long[] trainShape, Device dev) {
    net.eval();
    int px = data.rows * data.cols, eb = 500, correct = 0, n = 0;
    for (int start = 8000; start + eb <= data.count; start += eb) {
      float[] xb = new float[eb * px];
      System.arraycopy(data.images, start * px, xb, 0, eb * px);
      long[] shape = trainShape.length == 4 ? new long[] {eb, 1, data.rows, data.cols} : new long[] {eb, px};
      long[] p;
      try (TensorScope scope = new TensorScope()) {
        p = net.forward(onDevice(Tensor.of(xb, shape), dev)).argmax(1).toLongArray();
      }
      for (int b = 0; b < eb; b++) {
        if (p[b] == data.labels[start + b]) {
          correct++;
        }
      }
      n += eb;
    }
    net.train();
    return (double) correct / n;
  }

  static String bar(int epoch, int epochs, int step, int steps, double loss, double acc, double sps) {
    int w = 30, fill = (int) Math.round((double) w * step / steps);
    StringBuilder b = new StringBuilder("\r");
    b.append(String.format(Locale.ROOT, "epoch %2d/%d [", epoch, epochs));
    for (int i = 0; i < w; i++) {
      b.append(i < fill ? '=' : (i == fill ? '>' : ' '));
    }
    b.append(String.format(Locale.ROOT, "] %4d/%d  loss %.4f  acc %5.2f%%  %6.1f steps/s", step, steps, loss, acc, sps));
    return b.toString();
  }
}
