package dev.jxla;

import dev.jxla.internal.Native;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * One traced step over bound state, compiled into one executable: the engine half of
 * {@link dev.jxla.optim.TrainStep} (what {@code torch_xla.compile} or {@code jax.jit} with
 * {@code donate_argnums} give Python users). Use it for any step that updates tensors in place.
 *
 * <p>Tracing: {@link #begin(String, Tensor...)} takes the step's inputs (data tensors: batch,
 * parameters, optimizer state; their current values become the compiled function's parameters)
 * and opens a trace guard on this thread: until {@link Tracing#finish} nothing may run, a read
 * of tensor data or a sync throws {@link IllegalStateException}. The caller then traces the step
 * with ordinary tensor code (it may {@link Tensor#assign} inputs in place) and calls
 * {@link Tracing#finish(Tensor[], Tensor[], Tensor[])} with the late inputs (data tensors made
 * during the trace that change every call, e.g. a learning rate), the outputs, and the state
 * tensors whose traced new values the step produces. finish compiles the step and gives every
 * input its value from before the trace back (the trace never runs); state tensors that were
 * created during the trace keep their traced IR until the first {@link #call}.
 *
 * <p>Calls: {@link #call(Tensor[], Tensor[])} runs the executable on new inputs (same dtypes
 * and shapes, on the step's device or the host) and rebinds the state tensors to their new values
 * in place; the buffers of state inputs that nothing else reads are donated (updated in place).
 * Every other data tensor the trace read (weights not passed as inputs, constants) is captured
 * as a constant: later changes to it are not seen. Not thread-safe; close it to free the
 * executable (idempotent; a call after close throws {@link IllegalStateException}).
 */
public final class TracedStep implements AutoCloseable {
  private final long handle;
  private final int inputs;
  private final int outputs;
  private final int state;
  private final Device device;
  private boolean closed;

  private TracedStep(long handle, int inputs, int outputs, int state, Device device) {
    this.handle = handle;
    this.inputs = inputs;
    this.outputs = outputs;
    this.state = state;
    this.device = device;
  }

  /**
   * Starts tracing a step over {@code inputs} (distinct tensors; pending ones are computed
   * first). {@code what} names the step in the error raised by a data read during the trace.
   */
  public static Tracing begin(String what, Tensor... inputs) {
    if (inputs == null) {
      throw new IllegalArgumentException("TracedStep.begin: inputs is null");
    }
    Map<Tensor, Integer> seen = new IdentityHashMap<>();
    for (int i = 0; i < inputs.length; i++) {
      if (inputs[i] == null) {
        throw new IllegalArgumentException("TracedStep.begin: input " + i + " is null");
      }
      Integer j = seen.put(inputs[i], i);
      if (j != null) {
        throw new IllegalArgumentException("TracedStep.begin: inputs " + j + " and " + i + " are the same tensor");
      }
      inputs[i].handle("TracedStep.begin");
    }
    return new Tracing(what == null ? "a traced step" : what, inputs.clone());
  }

  /** A trace in progress (see {@link TracedStep}); close it to abandon the trace. */
  public static final class Tracing implements AutoCloseable {
    private final Tensor[] inputs;
    private final Tensor[] placeholders;
    private boolean guarded;
    private boolean done;

    private Tracing(String what, Tensor[] inputs) {
      this.inputs = inputs;
      this.placeholders = new Tensor[inputs.length];
      try {
        for (int i = 0; i < inputs.length; i++) {
          // a second handle on the input's own data leaf: the trace's parameter stays
          // reachable after the traced step assigns the input a new value
          long leaf = Native.alias(inputs[i].materialized().handle());
          placeholders[i] = TensorScope.escape(new Tensor(leaf, inputs[i].device()));
        }
        Native.traceGuardBegin(what);
        guarded = true;
      } catch (RuntimeException e) {
        close();
        throw e;
      }
    }

    /**
     * Ends the trace and compiles it: parameters {@code inputs + lateInputs}, results
     * {@code outputs + state}. Every input gets its value from before the trace back.
     */
    public TracedStep finish(Tensor[] lateInputs, Tensor[] outputs, Tensor[] state) {
      if (done) {
        throw new IllegalStateException("TracedStep.finish: the trace is already finished or closed");
      }
      endGuard();
      if (lateInputs == null || outputs == null || state == null) {
        throw new IllegalArgumentException("TracedStep.finish: null argument");
      }
      if (outputs.length == 0) {
        throw new IllegalArgumentException("TracedStep.finish: the step has no outputs");
      }
      try {
        long[] ps = new long[placeholders.length + lateInputs.length];
        for (int i = 0; i < placeholders.length; i++) {
          ps[i] = placeholders[i].handle();
        }
        for (int i = 0; i < lateInputs.length; i++) {
          ps[placeholders.length + i] = handleOf(lateInputs[i], "late input " + i);
        }
        long[] os = new long[outputs.length + state.length];
        for (int i = 0; i < outputs.length; i++) {
          os[i] = handleOf(outputs[i], "output " + i);
        }
        for (int i = 0; i < state.length; i++) {
          os[outputs.length + i] = handleOf(state[i], "state " + i);
        }
        long h = Native.functionCreate(ps, os);
        return new TracedStep(h, ps.length, outputs.length, state.length, outputs[0].device());
      } finally {
        close();
      }
    }

    private static long handleOf(Tensor t, String what) {
      if (t == null) {
        throw new IllegalArgumentException("TracedStep.finish: " + what + " is null");
      }
      return t.handle("TracedStep.finish");
    }

    private void endGuard() {
      if (guarded) {
        guarded = false;
        Native.traceGuardEnd();
      }
    }

    /** Abandons the trace (if not finished): inputs get their values from before it back. */
    @Override
    public void close() {
      if (done) {
        return;
      }
      done = true;
      endGuard();
      for (int i = 0; i < placeholders.length; i++) {
        if (placeholders[i] != null) {
          if (!inputs[i].isClosed()) {
            Native.share(inputs[i].handle(), placeholders[i].handle());
          }
          placeholders[i].close();
        }
      }
    }
  }

  /**
   * Runs the step: {@code inputs} match the traced inputs followed by the late inputs (dtypes
   * and shapes; each on the step's device or the host), {@code state} are the tensors that take
   * the new state values (in place). Returns the outputs (new tensors the caller owns).
   */
  public Tensor[] call(Tensor[] inputs, Tensor[] state) {
    if (closed) {
      throw new IllegalStateException("TracedStep.call: the step is closed");
    }
    if (inputs == null || state == null || inputs.length != this.inputs || state.length != this.state) {
      throw new IllegalArgumentException("TracedStep.call: expected " + this.inputs + " inputs and " + this.state
          + " state tensors, got " + (inputs == null ? "null" : inputs.length) + " and " + (state == null ? "null" : state.length));
    }
    long[] hs = new long[inputs.length];
    for (int i = 0; i < hs.length; i++) {
      if (inputs[i] == null) {
        throw new IllegalArgumentException("TracedStep.call: input " + i + " is null");
      }
      hs[i] = inputs[i].handle("TracedStep.call");
    }
    long[] ts = new long[state.length];
    for (int i = 0; i < ts.length; i++) {
      if (state[i] == null) {
        throw new IllegalArgumentException("TracedStep.call: state " + i + " is null");
      }
      ts[i] = state[i].handle("TracedStep.call");
    }
    long[] out = Native.functionCallUpdate(handle, hs, ts, outputs + this.state);
    Tensor[] r = new Tensor[out.length];
    for (int i = 0; i < out.length; i++) {
      r[i] = new Tensor(out[i], device);
    }
    return r;
  }

  /** Number of inputs (traced inputs + late inputs). */
  public int inputCount() {
    return inputs;
  }

  /** Number of outputs returned by {@link #call} (state values not counted). */
  public int outputCount() {
    return outputs;
  }

  /** Number of state tensors rebound by each call. */
  public int stateCount() {
    return state;
  }

  /** The device the step runs on. */
  public Device device() {
    return device;
  }

  /** Text IR and kernel plan of the compiled step (debugging). */
  public String ir() {
    if (closed) {
      throw new IllegalStateException("TracedStep.ir: the step is closed");
    }
    return Native.functionIr(handle);
  }

  /** Frees the executable. Idempotent. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      Native.functionFree(handle);
    }
  }
}
