package dev.jxla.optim;

import dev.jxla.DType;
import dev.jxla.Device;
import dev.jxla.Tensor;
import dev.jxla.TensorScope;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Base of the optimizers. step() traces the update of every parameter that has a gradient and
 * assigns it in place (lazily): with the forward and backward it forms ONE graph, run by the
 * next {@link dev.jxla.Jxla#sync()}. Everything that changes from step to step (learning rate,
 * bias corrections) enters as scalar DATA tensors, never as graph constants, so after the first
 * steps a training step hits the compile cache (0 UncachedCompile).
 * The optimizer owns its state tensors; close() frees them.
 */
public abstract class Optimizer implements AutoCloseable {
  protected final List<Tensor> params;
  private double lr;
  private long steps;
  private final List<Tensor> state = new ArrayList<>();
  private final Map<List<Object>, Tensor> stepScalars = new HashMap<>();

  protected Optimizer(List<Tensor> params, double lr) {
    if (params == null || params.isEmpty()) {
      throw new IllegalArgumentException(getClass().getSimpleName() + ": no parameters");
    }
    if (!(lr >= 0)) {
      throw new IllegalArgumentException(getClass().getSimpleName() + ": lr must be >= 0, got " + lr);
    }
    for (Tensor p : params) {
      if (!p.requiresGrad()) {
        throw new IllegalArgumentException(getClass().getSimpleName() + ": a parameter does not require grad");
      }
    }
    this.params = Collections.unmodifiableList(new ArrayList<>(params));
    this.lr = lr;
  }

  /** The current learning rate. */
  public final double lr() {
    return lr;
  }

  /** Sets the learning rate for the next steps (no recompilation: it is data). */
  public final void setLr(double lr) {
    if (!(lr >= 0)) {
      throw new IllegalArgumentException("setLr: lr must be >= 0, got " + lr);
    }
    this.lr = lr;
  }

  /** Number of steps taken. */
  public final long steps() {
    return steps;
  }

  /** The parameters. */
  public final List<Tensor> parameters() {
    return params;
  }

  /** Traces one update of every parameter that has a gradient. */
  public final void step() {
    steps++;
    try (TensorScope s = new TensorScope()) {
      for (int i = 0; i < params.size(); i++) {
        Tensor p = params.get(i);
        if (p.grad() != null) {
          update(i, p, p.grad());
        }
      }
    } finally {
      stepScalars.clear();  // the scope closed them (logged ones escaped to the log)
    }
  }

  /** Frees every parameter's gradient. */
  public final void zeroGrad() {
    for (Tensor p : params) {
      p.zeroGrad();
    }
  }

  /** Traces the update of parameter i (inside a scope that frees temporaries). */
  protected abstract void update(int i, Tensor p, Tensor g);

  /**
   * The step's scalar data tensor for a hyperparameter {@code role} (e.g. "beta1"), in like's
   * dtype on like's device. One tensor per role, dtype and device per step, shared by every
   * parameter's update: on an emulated TPU each is one host-to-device transfer per step instead
   * of one per parameter. Keyed by role, never by value, so the graph's structure does not
   * depend on the values (two roles that happen to be equal stay two inputs: no recompile).
   */
  protected final Tensor scalar(String role, double v, Tensor like) {
    return scalar(role, v, like.dtype(), like.device());
  }

  /**
   * {@link #scalar(String, double, Tensor)} for a parameter whose dtype and device the caller
   * already has: an update that needs several scalars asks the engine for them once (each
   * dtype() is a native call; docs/training.md "Session 4: tracing cost").
   */
  protected final Tensor scalar(String role, double v, DType dt, Device dev) {
    List<Object> key = List.of(role, dt, dev);
    Tensor t = stepScalars.get(key);
    if (t == null) {
      t = newScalar(v, dt, dev);
      stepScalars.put(key, t);
      if (scalarLog != null) {
        scalarLog.add(new ScalarUse(role, dt, dev, v, TensorScope.escape(t)));
      }
    }
    return t;
  }

  /** A scalar data tensor of dtype dt on dev. */
  static Tensor newScalar(double v, DType dt, Device dev) {
    // made directly in the parameter's dtype: no conversion to run
    Tensor s = dt == DType.F32 ? Tensor.scalar((float) v) : dt == DType.F64 ? Tensor.scalar(v) : Tensor.scalar(v, dt);
    if (dev.isHost()) {
      return s;
    }
    try (Tensor h = s) {
      return h.to(dev);
    }
  }

  /** A zero state tensor shaped like p, owned by this optimizer. */
  protected final Tensor newState(Tensor p) {
    Tensor z = TensorScope.escape(Tensor.full(p.device(), 0.0, p.dtype(), p.shape()));
    state.add(z);
    stateSlots.add(null);
    return z;
  }

  /**
   * {@link #newState(Tensor)} stored into {@code slots[i]}: a compiled step whose trace fails
   * can then forget the state it created (slots[i] is reset to null).
   */
  protected final Tensor newState(Tensor p, Tensor[] slots, int i) {
    Tensor z = newState(p);
    slots[i] = z;
    stateSlots.set(stateSlots.size() - 1, new Object[] {slots, i});
    return z;
  }

  @Override
  public void close() {
    for (Tensor t : state) {
      t.close();
    }
    state.clear();
    stateSlots.clear();
  }

  // ================================================================== compiled steps (TrainStep)
  // A TrainStep traces step() once per input signature and then runs it without tracing: the
  // per-step scalars become inputs of the compiled step, their values come from
  // scalarValue(role) at each call (checked against the traced values when tracing).

  /** One per-step scalar the traced update read: role, dtype, device, value and its tensor. */
  static final class ScalarUse {
    final String role;
    final DType dtype;
    final Device device;
    final double value;
    final Tensor tensor;

    ScalarUse(String role, DType dtype, Device device, double value, Tensor tensor) {
      this.role = role;
      this.dtype = dtype;
      this.device = device;
      this.value = value;
      this.tensor = tensor;
    }
  }

  /** (slots array, index) per state tensor made with newState(p, slots, i); null otherwise. */
  private final List<Object[]> stateSlots = new ArrayList<>();
  private List<ScalarUse> scalarLog;

  /**
   * The value of the step scalar {@code role} for the current step ({@link #steps()} counts it
   * already, as inside {@link #update}). Optimizers that ask {@link #scalar} for other roles than
   * "lr" override this so that a {@link TrainStep} can feed their compiled update.
   */
  protected double scalarValue(String role) {
    if (role.equals("lr")) {
      return lr;
    }
    throw new UnsupportedOperationException(getClass().getSimpleName() + " does not give the value of its step scalar '"
        + role + "' (override scalarValue to use it in a TrainStep)");
  }

  /** While log is set, each new step scalar is added to it (and escapes the step's scope). */
  final void logScalars(List<ScalarUse> log) {
    scalarLog = log;
  }

  /** The optimizer's state tensors in creation order (a copy). */
  final List<Tensor> stateTensors() {
    return new ArrayList<>(state);
  }

  /** Closes and forgets the state tensors from index n on (a failed trace made them). */
  final void dropStateFrom(int n) {
    while (state.size() > n) {
      int k = state.size() - 1;
      Object[] slot = stateSlots.remove(k);
      if (slot != null) {
        ((Tensor[]) slot[0])[(Integer) slot[1]] = null;
      }
      state.remove(k).close();
    }
  }

  /** Sets the step count (a compiled step advances it; a failed one puts it back). */
  final void setSteps(long n) {
    steps = n;
  }
}
