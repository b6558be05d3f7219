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
      stepScalars.clear();  // the scope closed them
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
    }
    return t;
  }

  /** A scalar data tensor of dtype dt on dev. */
  private static Tensor newScalar(double v, DType dt, Device dev) {
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
    return z;
  }

  @Override
  public void close() {
    for (Tensor t : state) {
      t.close();
    }
    state.clear();
  }
}
