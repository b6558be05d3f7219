package dev.jxla.optim;

import dev.jxla.DType;
import dev.jxla.Device;
import dev.jxla.Tensor;
import dev.jxla.TensorScope;
import dev.jxla.TracedStep;
import dev.jxla.nn.Dropout;
import dev.jxla.nn.Module;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiFunction;

/**
 * A compiled training step (PyTorch/XLA's {@code torch_xla.compile}, JAX's
 * {@code jax.jit(train_step, donate_argnums=...)}): forward, backward and the optimizer update
 * traced ONCE per input signature into one executable, then run with no per-op tracing.
 *
 * <pre>{@code
 * try (TrainStep step = TrainStep.compile(model, opt, (x, y) -> lossFn.apply(model.forward(x), y))) {
 *   for (...) {
 *     opt.setLr(schedule.lr(opt.steps()));      // data, no retrace
 *     try (Tensor loss = step.run(x, y)) {      // the parameters are updated in place
 *       System.out.println(loss.item());
 *     }
 *   }
 * }
 * }</pre>
 *
 * <p>Each {@link #run} zeroes the gradients, then computes the loss, the gradients and the
 * optimizer update of every parameter in one executable whose inputs are the batch, the
 * parameters, the optimizer's state (moments) and the step's scalars (learning rate, Adam's bias
 * corrections: their values for this step, so LR schedules need no retrace), and whose outputs
 * are rebound to the parameters and moments in place; their old buffers are donated (updated in
 * place) when nothing else reads them. The results are bit-identical to the eager lazy step
 * ({@code loss.backward(); opt.step(); opt.zeroGrad(); Jxla.sync()}), and the optimizer's step
 * count advances the same way. Gradients are not kept: {@link Tensor#grad()} is null after a run.
 *
 * <p>Signature: the inputs' dtypes, shapes and devices, the model's training mode and the number
 * of optimizer state tensors; a new signature retraces (the first run creates the optimizer
 * state, so the second run traces once more, then every run hits). Inputs may be on the
 * parameters' device or on the host (moved by the step).
 *
 * <p>Rules of the step function: it must return a one-element floating-point loss (and, with
 * {@link #compile(Optimizer, Fn)}, any further outputs); it must not read tensor data or sync
 * while traced ({@link IllegalStateException}), nor move tensors made outside it to another
 * device. Tensors it reads that are neither inputs nor optimizer parameters (frozen weights,
 * constants) are captured by value at trace time. Dropout in training mode is not supported
 * (its random key would be captured once): use the eager step for such models. Data parallel
 * ({@link dev.jxla.nn.DataParallel}) stays eager (its transfers and collectives run between
 * per-core graphs). Not thread-safe. Close it to free the executables (idempotent); a run after
 * close throws {@link IllegalStateException}. Closing does not close the model or optimizer.
 */
public final class TrainStep implements AutoCloseable {
  /** A step function over any number of inputs: output 0 is the loss, the rest are extra outputs. */
  @FunctionalInterface
  public interface Fn {
    /** Traces the forward pass; returns {loss, extra outputs...}. */
    Tensor[] apply(Tensor[] inputs);
  }

  /** An input signature. */
  private static final class Sig {
    final int[] dtypes;
    final long[][] shapes;
    final Device[] devices;
    final boolean training;
    final int stateCount;

    Sig(int[] dtypes, long[][] shapes, Device[] devices, boolean training, int stateCount) {
      this.dtypes = dtypes;
      this.shapes = shapes;
      this.devices = devices;
      this.training = training;
      this.stateCount = stateCount;
    }

    @Override
    public boolean equals(Object o) {
      if (!(o instanceof Sig)) {
        return false;
      }
      Sig s = (Sig) o;
      return training == s.training && stateCount == s.stateCount && Arrays.equals(dtypes, s.dtypes)
          && Arrays.deepEquals(shapes, s.shapes) && Arrays.equals(devices, s.devices);
    }

    @Override
    public int hashCode() {
      return Objects.hash(Arrays.hashCode(dtypes), Arrays.deepHashCode(shapes), Arrays.hashCode(devices), training, stateCount);
    }

    @Override
    public String toString() {
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < dtypes.length; i++) {
        b.append(i == 0 ? "" : ", ").append(DType.ofId(dtypes[i]).irName()).append(Arrays.toString(shapes[i]));
      }
      return b.toString();
    }
  }

  /** One compiled signature: the step, its state lists and the scalars it reads. */
  private static final class Entry {
    final TracedStep step;
    final Tensor[] state;  // inputs after the batch; also the tensors rebound by each run
    final Optimizer.ScalarUse[] scalars;

    Entry(TracedStep step, Tensor[] state, Optimizer.ScalarUse[] scalars) {
      this.step = step;
      this.state = state;
      this.scalars = scalars;
    }
  }

  private final Module model;
  private final Optimizer opt;
  private final Fn fn;
  private final int arity;  // number of inputs, or -1: any
  private final Map<Sig, Entry> entries = new HashMap<>();
  private long runs;
  private int traces;
  private boolean closed;

  private TrainStep(Module model, Optimizer opt, Fn fn, int arity) {
    if (opt == null) {
      throw new IllegalArgumentException("TrainStep.compile: optimizer is null");
    }
    if (fn == null) {
      throw new IllegalArgumentException("TrainStep.compile: step function is null");
    }
    this.model = model;
    this.opt = opt;
    this.fn = fn;
    this.arity = arity;
  }

  /**
   * A compiled step {@code loss = lossOf.apply(x, y)} over the optimizer's parameters; the model
   * gives the training mode (part of the signature) and is checked for unsupported layers.
   */
  public static TrainStep compile(Module model, Optimizer opt, BiFunction<Tensor, Tensor, Tensor> lossOf) {
    if (model == null) {
      throw new IllegalArgumentException("TrainStep.compile: model is null");
    }
    if (lossOf == null) {
      throw new IllegalArgumentException("TrainStep.compile: loss function is null");
    }
    return new TrainStep(model, opt, in -> new Tensor[] {lossOf.apply(in[0], in[1])}, 2);
  }

  /**
   * A compiled step over any number of inputs: {@code fn} returns {loss, extra outputs...} (e.g.
   * the predictions, for accuracy); {@link #runAll} returns them all.
   */
  public static TrainStep compile(Optimizer opt, Fn fn) {
    return new TrainStep(null, opt, fn, -1);
  }

  /** {@link #compile(Optimizer, Fn)} with the model's training mode in the signature (and its layers checked). */
  public static TrainStep compile(Module model, Optimizer opt, Fn fn) {
    if (model == null) {
      throw new IllegalArgumentException("TrainStep.compile: model is null");
    }
    return new TrainStep(model, opt, fn, -1);
  }

  /** Runs one step; returns the loss (a one-element tensor, computed; the caller owns it). */
  public Tensor run(Tensor... inputs) {
    Tensor[] out = runAll(inputs);
    for (int i = 1; i < out.length; i++) {
      out[i].close();
    }
    return out[0];
  }

  /** Runs one step; returns {loss, extra outputs...} (computed; the caller owns them). */
  public synchronized Tensor[] runAll(Tensor... inputs) {
    if (closed) {
      throw new IllegalStateException("TrainStep.run: the train step is closed");
    }
    if (inputs == null) {
      throw new IllegalArgumentException("TrainStep.run: inputs is null");
    }
    if (arity >= 0 && inputs.length != arity) {
      throw new IllegalArgumentException("TrainStep.run: the step takes " + arity + " inputs (x, y), got " + inputs.length);
    }
    Device dev = opt.parameters().get(0).device();
    int n = inputs.length;
    int[] dts = new int[n];
    long[][] shapes = new long[n][];
    Device[] devs = new Device[n];
    for (int i = 0; i < n; i++) {
      Tensor t = inputs[i];
      if (t == null) {
        throw new IllegalArgumentException("TrainStep.run: input " + i + " is null");
      }
      if (t.isClosed()) {
        throw new IllegalStateException("TrainStep.run: input " + i + " is closed (used after close())");
      }
      devs[i] = t.device();
      if (!devs[i].equals(dev) && !devs[i].isHost()) {
        throw new IllegalArgumentException("TrainStep.run: input " + i + " is on " + devs[i].name() + " but the parameters are on "
            + dev.name() + " (pass it on " + dev.name() + " or on the host)");
      }
      dts[i] = t.dtype().id();
      shapes[i] = t.shape();
    }
    Sig sig = new Sig(dts, shapes, devs, model == null || model.isTraining(), opt.stateTensors().size());
    opt.zeroGrad();
    Entry e = entries.get(sig);
    Tensor[] out = e == null ? traceAndRun(sig, inputs, dev) : runEntry(e, inputs);
    runs++;
    return out;
  }

  private Tensor[] runEntry(Entry e, Tensor[] inputs) {
    long steps = opt.steps();
    opt.setSteps(steps + 1);  // the scalars below are this step's (bias corrections)
    boolean ok = false;
    try (TensorScope scope = new TensorScope()) {
      Tensor[] args = new Tensor[inputs.length + e.state.length + e.scalars.length];
      System.arraycopy(inputs, 0, args, 0, inputs.length);
      System.arraycopy(e.state, 0, args, inputs.length, e.state.length);
      for (int k = 0; k < e.scalars.length; k++) {
        Optimizer.ScalarUse u = e.scalars[k];
        args[inputs.length + e.state.length + k] = Optimizer.newScalar(opt.scalarValue(u.role), u.dtype, u.device);
      }
      Tensor[] out = e.step.call(args, e.state);
      for (Tensor t : out) {
        scope.keep(t);
      }
      ok = true;
      return out;
    } finally {
      if (!ok) {
        opt.setSteps(steps);
      }
    }
  }

  private Tensor[] traceAndRun(Sig sig, Tensor[] inputs, Device dev) {
    if (model != null && model.isTraining()) {
      checkSupported(model);
    }
    List<Tensor> params = opt.parameters();
    List<Tensor> stateBefore = opt.stateTensors();
    Tensor[] before = concat(params, stateBefore);
    long steps = opt.steps();
    List<Optimizer.ScalarUse> log = new ArrayList<>();
    TracedStep step = null;
    boolean ok = false;
    try (TensorScope scope = new TensorScope()) {
      // host inputs are moved before the trace; the compiled step moves them itself later
      Tensor[] tin = new Tensor[inputs.length];
      for (int i = 0; i < inputs.length; i++) {
        tin[i] = inputs[i].device().equals(dev) ? inputs[i] : inputs[i].to(dev);
      }
      Tensor[] after;
      Tensor[] outs;
      try (TracedStep.Tracing tr = TracedStep.begin("a TrainStep's step function", concat(Arrays.asList(tin), Arrays.asList(before)))) {
        opt.logScalars(log);
        try {
          outs = fn.apply(tin.clone());
          checkOutputs(outs);
          outs[0].backward();
          opt.step();
          opt.zeroGrad();
          if (model != null) {
            model.zeroGrad();  // parameters outside the optimizer: their traced gradients are dropped
          }
        } finally {
          opt.logScalars(null);
        }
        for (Optimizer.ScalarUse u : log) {
          double v = opt.scalarValue(u.role);
          if (Double.compare(v, u.value) != 0) {
            throw new IllegalStateException("TrainStep: " + opt.getClass().getSimpleName() + ".scalarValue(\"" + u.role + "\") gives "
                + v + " but the traced update used " + u.value);
          }
        }
        after = concat(params, opt.stateTensors());
        Tensor[] late = new Tensor[log.size()];
        for (int k = 0; k < late.length; k++) {
          late[k] = log.get(k).tensor;
        }
        step = tr.finish(late, outs, after);
        traces++;
      }
      // the first run, on this step's values (the optimizer's step count already includes it)
      Tensor[] args = new Tensor[inputs.length + before.length + log.size()];
      System.arraycopy(inputs, 0, args, 0, inputs.length);
      System.arraycopy(before, 0, args, inputs.length, before.length);
      for (int k = 0; k < log.size(); k++) {
        args[inputs.length + before.length + k] = log.get(k).tensor;
      }
      Tensor[] out = step.call(args, after);
      for (Tensor t : out) {
        scope.keep(t);
      }
      if (after.length == before.length) {
        Optimizer.ScalarUse[] uses = new Optimizer.ScalarUse[log.size()];
        for (int k = 0; k < uses.length; k++) {
          Optimizer.ScalarUse u = log.get(k);
          uses[k] = new Optimizer.ScalarUse(u.role, u.dtype, u.device, u.value, null);
        }
        entries.put(sig, new Entry(step, after, uses));
      } else {
        step.close();  // this run created the optimizer state: the next run has another signature
      }
      ok = true;
      return out;
    } finally {
      for (Optimizer.ScalarUse u : log) {
        u.tensor.close();
      }
      if (!ok) {
        if (step != null) {
          step.close();
        }
        // forget what the failed trace made: gradients, new optimizer state, the step count
        opt.zeroGrad();
        if (model != null) {
          model.zeroGrad();
        }
        opt.dropStateFrom(stateBefore.size());
        opt.setSteps(steps);
      }
    }
  }

  private static void checkOutputs(Tensor[] outs) {
    if (outs == null || outs.length == 0 || outs[0] == null) {
      throw new IllegalArgumentException("TrainStep: the step function returned no loss");
    }
    for (int i = 0; i < outs.length; i++) {
      if (outs[i] == null) {
        throw new IllegalArgumentException("TrainStep: output " + i + " of the step function is null");
      }
    }
    Tensor l = outs[0];
    long[] s = l.shape();
    long numel = 1;
    for (long d : s) {
      numel *= d;
    }
    if (numel != 1 || !l.dtype().isFloatingPoint()) {
      throw new IllegalArgumentException("TrainStep: the step function must return a one-element floating-point loss, got "
          + l.dtype().irName() + Arrays.toString(s));
    }
  }

  private static void checkSupported(Module m) {
    if (m instanceof Dropout) {
      throw new UnsupportedOperationException("TrainStep: Dropout in training mode is not supported by compiled steps "
          + "(its random key would be captured once); train this model with the eager step");
    }
    for (Module c : m.children().values()) {
      checkSupported(c);
    }
  }

  private static Tensor[] concat(List<Tensor> a, List<Tensor> b) {
    Tensor[] r = new Tensor[a.size() + b.size()];
    for (int i = 0; i < a.size(); i++) {
      r[i] = a.get(i);
    }
    for (int i = 0; i < b.size(); i++) {
      r[a.size() + i] = b.get(i);
    }
    return r;
  }

  /** The optimizer whose update this step runs. */
  public Optimizer optimizer() {
    return opt;
  }

  /** Traces so far (one per signature, plus one for the run that created the optimizer state). */
  public synchronized int traceCount() {
    return traces;
  }

  /** Runs so far. */
  public synchronized long runCount() {
    return runs;
  }

  /** Text IR and kernel plan of every cached signature (debugging). */
  public synchronized List<String> irs() {
    List<String> r = new ArrayList<>();
    for (Entry e : entries.values()) {
      r.add(e.step.ir());
    }
    return r;
  }

  /** Frees the compiled steps. Idempotent; the model and the optimizer stay open. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (Entry e : entries.values()) {
      e.step.close();
    }
    entries.clear();
  }
}
