package dev.jxla;

import dev.jxla.internal.Native;
import java.nio.Buffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A traced, compiled Java function of tensors (the JAX model, for services). The function is
 * traced once per input signature (dtypes, shapes, and the values of static inputs) into a native
 * function object that keeps one executable and the captured constants (weights); calls run that
 * executable with no tracing. Thread-safe: any number of threads may call one instance at once.
 *
 * <p>Inputs and outputs are tensors ({@link #call(Tensor...)}), Java arrays
 * ({@link #call(float[], long...)}, {@link #callFloats(float[][], long[][])}) or direct
 * buffers ({@link #call(FloatBuffer, long[], FloatBuffer)}, {@link #call(Buffer[], long[][], Buffer[])},
 * read in place). With {@link Bucketing} the batch
 * dimension is padded to a bucket so variable batch sizes reuse a few executables.
 *
 * <p>With a target device ({@link Jxla#compile(TensorFunction, Device)}) the function is traced on
 * the host and each signature is compiled for that device (e.g. an emulated TPU): captured host
 * weights are uploaded to it once, weights already on that device are used in place (the trace
 * lets host and target-device tensors mix; any other device is an error naming both), host
 * inputs are transferred at each call, and the outputs live on the device.
 *
 * <p>Close it to free the executables and constants; calls after close throw
 * {@link IllegalStateException}. Close is idempotent and waits for calls in flight.
 */
public final class CompiledFunction implements AutoCloseable {
  /** An input signature: dtype ids, (bucketed) shapes and the values of static inputs. */
  private static final class Sig {
    final int[] dtypes;
    final long[][] shapes;
    final long[][] values;
    final int hash;

    Sig(int[] dtypes, long[][] shapes, long[][] values) {
      this.dtypes = dtypes;
      this.shapes = shapes;
      this.values = values;
      this.hash = 31 * (31 * Arrays.hashCode(dtypes) + Arrays.deepHashCode(shapes)) + Arrays.deepHashCode(values);
    }

    @Override
    public boolean equals(Object o) {
      if (!(o instanceof Sig)) {
        return false;
      }
      Sig s = (Sig) o;
      return hash == s.hash && Arrays.equals(dtypes, s.dtypes) && Arrays.deepEquals(shapes, s.shapes)
          && Arrays.deepEquals(values, s.values);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }

  /** One compiled signature. */
  private static final class Entry {
    final long handle;
    final int nout;
    final Device device;

    Entry(long handle, int nout, Device device) {
      this.handle = handle;
      this.nout = nout;
      this.device = device;
    }
  }

  private final TensorFunction fn;
  private final Bucketing bucketing;
  /** The device every signature runs on, or null: the device of the first input. */
  private final Device target;
  private final boolean[] isStatic;
  private final ConcurrentHashMap<Sig, Entry> entries = new ConcurrentHashMap<>();
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final Object compileLock = new Object();
  private final AtomicLong calls = new AtomicLong();
  private final AtomicLong bucketed = new AtomicLong();
  private final List<AutoCloseable> resources = new ArrayList<>();
  private volatile boolean closed;

  CompiledFunction(TensorFunction fn, Bucketing bucketing, int[] staticInputs) {
    this(fn, null, bucketing, staticInputs);
  }

  CompiledFunction(TensorFunction fn, Device target, Bucketing bucketing, int[] staticInputs) {
    if (fn == null) {
      throw new IllegalArgumentException("compile: function is null");
    }
    this.fn = fn;
    this.target = target;
    this.bucketing = bucketing == null ? Bucketing.none() : bucketing;
    int max = -1;
    for (int i : staticInputs) {
      if (i < 0) {
        throw new IllegalArgumentException("compile: static input index " + i + " is negative");
      }
      max = Math.max(max, i);
    }
    this.isStatic = new boolean[max + 1];
    for (int i : staticInputs) {
      isStatic[i] = true;
    }
  }

  /** Takes a call's read lock (close waits for it); throws, lock released, once closed. */
  private ReentrantReadWriteLock.ReadLock lockOpen() {
    ReentrantReadWriteLock.ReadLock rl = lock.readLock();
    rl.lock();
    if (closed) {
      rl.unlock();
      throw new IllegalStateException("call: the compiled function is closed");
    }
    return rl;
  }

  private boolean isStatic(int i) {
    return i < isStatic.length && isStatic[i];
  }

  /**
   * Calls the function on {@code inputs} (traced and compiled on the first call with this
   * signature). Returns new tensors that the caller owns (they join the current
   * {@link TensorScope}, if any).
   */
  public Tensor[] call(Tensor... inputs) {
    if (inputs == null) {
      throw new IllegalArgumentException("call: inputs is null");
    }
    ReentrantReadWriteLock.ReadLock rl = lockOpen();
    try {
      int n = inputs.length;
      long[] hs = new long[n];
      int[] dts = new int[n];
      long[][] shapes = new long[n][];
      long[][] values = null;
      for (int i = 0; i < n; i++) {
        if (inputs[i] == null) {
          throw new IllegalArgumentException("call: input " + i + " is null");
        }
        hs[i] = inputs[i].handle();
        dts[i] = Native.dtype(hs[i]);
        shapes[i] = Native.shape(hs[i]);
        if (isStatic(i)) {
          if (values == null) {
            values = new long[n][];
          }
          values[i] = inputs[i].toLongArray();
        }
      }
      boolean pad = bucket(shapes);
      Sig sig = new Sig(dts, shapes, values == null ? new long[0][] : values);
      Entry e = entries.get(sig);
      if (e == null) {
        e = compile(sig, inputs);
      }
      long[] outs = Native.functionCall(e.handle, hs, e.nout, pad);
      calls.incrementAndGet();
      if (pad) {
        bucketed.incrementAndGet();
      }
      Tensor[] r = new Tensor[outs.length];
      for (int i = 0; i < outs.length; i++) {
        r[i] = new Tensor(outs[i], e.device);
      }
      return r;
    } finally {
      rl.unlock();
    }
  }

  /**
   * Bucketing: when every input shares a leading dimension b, replaces the shapes by copies with
   * b padded to bucket(b); true when it changed them (the call then pads and slices back).
   */
  private boolean bucket(long[][] shapes) {
    int n = shapes.length;
    if (!bucketing.enabled() || n == 0) {
      return false;
    }
    long b = shapes[0].length > 0 ? shapes[0][0] : -1;
    boolean same = b >= 1;
    for (int i = 0; i < n && same; i++) {
      same = shapes[i].length > 0 && shapes[i][0] == b && !isStatic(i);
    }
    long bucket = same ? bucketing.bucket(b) : b;
    if (!same || bucket == b) {
      return false;
    }
    for (int i = 0; i < n; i++) {
      shapes[i] = shapes[i].clone();
      shapes[i][0] = bucket;
    }
    return true;
  }

  private Entry compile(Sig sig, Tensor[] inputs) {
    synchronized (compileLock) {
      Entry e = entries.get(sig);
      if (e != null) {
        return e;
      }
      int n = inputs.length;
      // with a target device the function is traced on the host and compiled for the target
      // (tracing is device-independent; host weights are uploaded once by the engine)
      Device dev = target != null ? Device.host() : n > 0 ? inputs[0].device() : Device.host();
      try (TensorScope scope = new TensorScope()) {
        Tensor[] ph = new Tensor[n];
        long[] ph_h = new long[n];
        for (int i = 0; i < n; i++) {
          DType dt = DType.ofId(sig.dtypes[i]);
          long[] s = sig.shapes[i];
          if (isStatic(i)) {
            // static inputs trace with their real values (they are part of the signature)
            ph[i] = inputs[i].to(target != null ? dev : inputs[i].device());
          } else {
            long numel = 1;
            for (long d : s) {
              numel *= d;
            }
            long nb = numel * dt.byteSize();
            if (nb > Integer.MAX_VALUE) {
              throw new IllegalArgumentException("call: input " + i + " " + dt.irName() + Arrays.toString(s) + " is too large");
            }
            Tensor h = new Tensor(Native.fromArray(0, dt.id(), s, new byte[(int) nb]), Device.host());
            ph[i] = dev.isHost() ? h : h.to(dev);
          }
          ph_h[i] = ph[i].handle();
        }
        // weights already on the target mix with the host placeholders (the engine's trace
        // target, thread-local); restored even when fn throws, so later eager code is unaffected
        long prevTarget = target != null ? Native.traceTargetSet(target.handle()) : 0;
        Tensor[] out;
        try {
          out = fn.apply(ph.clone());
        } finally {
          if (target != null) {
            Native.traceTargetSet(prevTarget);
          }
        }
        if (out == null || out.length == 0) {
          throw new IllegalArgumentException("compile: the function returned no outputs");
        }
        long[] oh = new long[out.length];
        for (int i = 0; i < out.length; i++) {
          if (out[i] == null) {
            throw new IllegalArgumentException("compile: output " + i + " of the function is null");
          }
          oh[i] = out[i].handle();
        }
        long h = target != null ? Native.functionCreateOn(ph_h, oh, target.handle()) : Native.functionCreate(ph_h, oh);
        e = new Entry(h, out.length, target != null ? target : dev);
        entries.put(sig, e);
        return e;
      }
    }
  }

  /** Single f32 input, first output as float[] (row-major). */
  public float[] call(float[] input, long... shape) {
    return callFloats(new float[][] {input}, new long[][] {shape})[0];
  }

  /** f32 inputs from arrays with their shapes; every output converted to float[]. */
  public float[][] callFloats(float[][] inputs, long[][] shapes) {
    if (inputs == null || shapes == null || inputs.length != shapes.length) {
      throw new IllegalArgumentException("callFloats: need one shape per input");
    }
    try (TensorScope scope = new TensorScope()) {
      Tensor[] ts = new Tensor[inputs.length];
      for (int i = 0; i < ts.length; i++) {
        ts[i] = Tensor.of(inputs[i], shapes[i]);
      }
      Tensor[] out = call(ts);
      float[][] r = new float[out.length][];
      for (int i = 0; i < out.length; i++) {
        r[i] = out[i].toFloatArray();
      }
      return r;
    }
  }

  /**
   * Single f32 input from a direct buffer (native order, its remaining elements) and the first
   * output written into a direct buffer at its position: {@link #call(Buffer[], long[][], Buffer[])}
   * with one buffer each (read in place once the signature is compiled).
   */
  public void call(FloatBuffer input, long[] shape, FloatBuffer output) {
    if (output == null) {
      throw new IllegalArgumentException("call: output buffer is null");
    }
    call(new Buffer[] {input}, new long[][] {shape}, new Buffer[] {output});
  }

  /**
   * Buffers in and out, any number of each (ONNX Runtime's tensors over direct buffers). Input i
   * is the remaining elements of {@code inputs[i]} with shape {@code shapes[i]}; its dtype is the
   * buffer's element type: FloatBuffer f32, DoubleBuffer f64, IntBuffer s32, LongBuffer s64
   * (direct buffers in native byte order; a heap FloatBuffer is copied). Output j is converted to
   * the element type of {@code outputs[j]} and written at that buffer's position, which does not
   * move (its remaining elements must hold the output); a null entry skips output j, and there may
   * be fewer buffers than outputs. Once a signature is compiled, a call with direct buffers only
   * is one engine call that reads the inputs in place, for the duration of the call (counter
   * InPlaceCall); the first call of a signature compiles it through {@link #call(Tensor...)}.
   */
  public void call(Buffer[] inputs, long[][] shapes, Buffer[] outputs) {
    if (inputs == null || shapes == null || outputs == null || inputs.length != shapes.length) {
      throw new IllegalArgumentException("call: need input buffers, one shape per input buffer and output buffers");
    }
    int n = inputs.length;
    DType[] dts = new DType[n];
    long[][] s = new long[n][];
    boolean direct = isStatic.length == 0;
    for (int i = 0; i < n; i++) {
      if (inputs[i] == null) {
        throw new IllegalArgumentException("call: input buffer " + i + " is null");
      }
      dts[i] = elementType("input " + i, inputs[i]);
      s[i] = checkedShape(i, shapes[i]);
      long numel = 1;
      for (long d : s[i]) {
        numel *= d;
      }
      if (inputs[i].remaining() != numel) {
        throw new IllegalArgumentException("call: input " + i + " buffer holds " + inputs[i].remaining() + " elements but "
            + dts[i].irName() + Arrays.toString(s[i]) + " needs " + numel);
      }
      direct &= inputs[i].isDirect() && nativeOrder(inputs[i]);
    }
    DType[] odts = new DType[outputs.length];
    for (int j = 0; j < outputs.length; j++) {
      if (outputs[j] != null) {
        odts[j] = elementType("output " + j, outputs[j]);
        direct &= outputs[j].isDirect() && nativeOrder(outputs[j]);
      }
    }
    if (direct && callInPlace(inputs, dts, s, outputs, odts)) {
      return;
    }
    try (TensorScope scope = new TensorScope()) {
      Tensor[] ts = new Tensor[n];
      for (int i = 0; i < n; i++) {
        ts[i] = Tensor.of(inputs[i], dts[i], s[i]);
      }
      Tensor[] out = call(ts);
      if (outputs.length > out.length) {
        throw new IllegalArgumentException("call: " + outputs.length + " output buffers, the function has " + out.length + " outputs");
      }
      for (int j = 0; j < outputs.length; j++) {
        if (outputs[j] != null) {
          out[j].copyTo(outputs[j], odts[j]);
        }
      }
    }
  }

  private static DType elementType(String what, Buffer b) {
    if (b instanceof FloatBuffer) {
      return DType.F32;
    } else if (b instanceof DoubleBuffer) {
      return DType.F64;
    } else if (b instanceof IntBuffer) {
      return DType.S32;
    } else if (b instanceof LongBuffer) {
      return DType.S64;
    }
    throw new IllegalArgumentException("call: " + what + " is a " + b.getClass().getSimpleName()
        + "; use a FloatBuffer, DoubleBuffer, IntBuffer or LongBuffer (or Tensor.of(buffer, dtype, shape))");
  }

  private static boolean nativeOrder(Buffer b) {
    ByteOrder o = b instanceof FloatBuffer ? ((FloatBuffer) b).order() : b instanceof DoubleBuffer ? ((DoubleBuffer) b).order()
        : b instanceof IntBuffer ? ((IntBuffer) b).order() : ((LongBuffer) b).order();
    return o == ByteOrder.nativeOrder();
  }

  private static long[] checkedShape(int i, long[] shape) {
    if (shape == null) {
      throw new IllegalArgumentException("call: shape of input " + i + " is null");
    }
    long[] s = shape.clone();
    for (long d : s) {
      if (d < 0) {
        throw new IllegalArgumentException("call: negative dimension in shape " + Arrays.toString(s) + " of input " + i);
      }
    }
    return s;
  }

  /**
   * The zero-copy form of {@link #call(Buffer[], long[][], Buffer[])} once its signature is
   * compiled: the engine reads the input buffers in place for the duration of the call and
   * writes the outputs straight into the output buffers (as ONNX Runtime does with direct
   * buffers; an 800 KB input copy per call for the MLP at batch 256). False when the signature is
   * not compiled yet (the caller then takes the tensor path, which compiles it).
   */
  private boolean callInPlace(Buffer[] inputs, DType[] dts, long[][] shapes, Buffer[] outputs, DType[] odts) {
    ReentrantReadWriteLock.ReadLock rl = lockOpen();
    try {
      int n = inputs.length;
      int[] ids = new int[n];
      for (int i = 0; i < n; i++) {
        ids[i] = dts[i].id();
      }
      long[][] sig = shapes.clone();  // bucket() replaces rows: the caller's shapes stay unpadded
      boolean pad = bucket(sig);
      Entry e = entries.get(new Sig(ids, sig, new long[0][]));
      if (e == null) {
        return false;
      }
      int[] oids = new int[outputs.length];
      for (int j = 0; j < outputs.length; j++) {
        oids[j] = outputs[j] == null ? -1 : odts[j].id();
      }
      Native.functionCallHost(e.handle, inputs, ids, shapes, pad, outputs, oids);
      calls.incrementAndGet();
      if (pad) {
        bucketed.incrementAndGet();
      }
      return true;
    } finally {
      rl.unlock();
    }
  }

  /** Executables compiled so far (one per distinct signature or bucket). */
  public int compileCount() {
    return entries.size();
  }

  /** Calls made so far. */
  public long callCount() {
    return calls.get();
  }

  /** Calls whose batch was padded up to a bucket. */
  public long bucketedCallCount() {
    return bucketed.get();
  }

  /**
   * The device this function runs on ({@link Jxla#compile(TensorFunction, Device)}), or null
   * when it runs on the device of its inputs.
   */
  public Device device() {
    return target;
  }

  /** The bucketing policy. */
  public Bucketing bucketing() {
    return bucketing;
  }

  /** Text IR of every compiled signature (debugging). */
  public List<String> irs() {
    List<String> r = new ArrayList<>();
    ReentrantReadWriteLock.ReadLock rl = lock.readLock();
    rl.lock();
    try {
      for (Entry e : entries.values()) {
        r.add(Native.functionIr(e.handle));
      }
    } finally {
      rl.unlock();
    }
    return r;
  }

  /** Frees every executable and captured constant. Idempotent; waits for calls in flight. */
  @Override
  public void close() {
    ReentrantReadWriteLock.WriteLock wl = lock.writeLock();
    wl.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      for (Entry e : entries.values()) {
        Native.functionFree(e.handle);
      }
      entries.clear();
      for (AutoCloseable r : resources) {
        try {
          r.close();
        } catch (Exception ex) {
          throw new IllegalStateException("close: a resource failed to close", ex);
        }
      }
      resources.clear();
    } finally {
      wl.unlock();
    }
  }

  /**
   * Registers a resource closed together with this function (e.g. the weights an importer's
   * traced function reads when it compiles a new signature). Returns this function.
   */
  public CompiledFunction closeWith(AutoCloseable resource) {
    if (resource == null) {
      throw new IllegalArgumentException("closeWith: resource is null");
    }
    ReentrantReadWriteLock.WriteLock wl = lock.writeLock();
    wl.lock();
    try {
      if (closed) {
        throw new IllegalStateException("closeWith: the compiled function is closed");
      }
      resources.add(resource);
    } finally {
      wl.unlock();
    }
    return this;
  }

  /** True after {@link #close()}. */
  public boolean isClosed() {
    return closed;
  }
}
