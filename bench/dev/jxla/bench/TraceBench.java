package dev.jxla.bench;

import dev.jxla.CompiledFunction;
import dev.jxla.Jxla;
import dev.jxla.Tensor;
import dev.jxla.internal.JxlaLib;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of tracing, in ns: one JNI call into the engine (the floor), one traced op on small
 * tensors (a JNI call, shape inference, a hash-consed node and a Java handle; the result is
 * closed again), and a 100-op chain traced alone vs traced then synced as one cached step
 * (capture + fingerprint + cache hit + execution), and the cached-step dispatch of the same 100-op
 * graph compiled once with {@link Jxla#compile} (JAX's jit model: no tracing per call), called
 * with tensors and with direct buffers.
 *
 * <p>Run: {@code mvn -q -Pbench -DskipTests package exec:exec -Djmh.args="TraceBench -f 1 -wi 3 -i 5"}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Thread)
public class TraceBench {
  /** Elements of the operands: tiny, so the numbers are tracing overhead, not math. */
  @Param({"16"})
  public int n;

  private Tensor x;
  private Tensor y;
  private CompiledFunction compiled;
  private CompiledFunction compiledBuffers;
  private FloatBuffer in;
  private FloatBuffer out;
  private long[] shape;

  @Setup(Level.Trial)
  public void setUp() {
    float[] a = new float[n];
    float[] b = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = i;
      b[i] = 1f / (i + 1);
    }
    x = Tensor.of(a, n);
    y = Tensor.of(b, n);
    chainStep();  // compile the 100-op step once: the benchmark measures cache hits
    compiled = Jxla.compile(args -> new Tensor[] {chain100(args[0], args[1])});
    shape = new long[] {n};
    in = ByteBuffer.allocateDirect(4 * n).order(ByteOrder.nativeOrder()).asFloatBuffer();
    out = ByteBuffer.allocateDirect(4 * n).order(ByteOrder.nativeOrder()).asFloatBuffer();
    in.put(a).flip();
    compiled.call(x, y)[0].close();
    compiledBuffers = Jxla.compile(args -> new Tensor[] {chain100(args[0], y)});  // y: a captured constant
    compiledBuffers.call(in, shape, out);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    compiled.close();
    compiledBuffers.close();
    x.close();
    y.close();
  }

  /** The floor: one JNI call that does nothing (jxla_version). */
  @Benchmark
  public int jniCall() {
    return JxlaLib.jxla_version();
  }

  /** Traces x.add(y) and frees the result (never executed). */
  @Benchmark
  public void traceAdd() {
    x.add(y).close();
  }

  /** Traces a unary op and frees the result. */
  @Benchmark
  public void traceExp() {
    x.exp().close();
  }

  /** Traces 100 dependent ops, freeing each intermediate as it goes; nothing runs. */
  @Benchmark
  public void chain100TraceOnly() {
    Tensor z = trace100();
    z.close();
  }

  /** Traces the same 100 ops, then Jxla.sync() (a cache hit) and reads one value. */
  @Benchmark
  public float chain100TraceAndSync() {
    return chainStep();
  }

  /** The cached 100-op step as a compiled function: dispatch + execution, no tracing. */
  @Benchmark
  public float compiled100Tensors() {
    Tensor r = compiled.call(x, y)[0];
    float[] v = r.toFloatArray();
    r.close();
    return v[0];
  }

  /** The same step on direct buffers (y captured as a constant): input copied in, output out. */
  @Benchmark
  public float compiled100Buffers() {
    compiledBuffers.call(in, shape, out);
    return out.get(0);
  }

  private float chainStep() {
    Tensor z = trace100();
    Jxla.sync();
    float[] v = z.toFloatArray();
    z.close();
    return v[0];
  }

  private static Tensor chain100(Tensor a, Tensor b) {
    Tensor z = a;
    for (int i = 0; i < 100; i++) {
      Tensor next = (i & 1) == 0 ? z.add(b) : z.mul(b);
      if (z != a) {
        z.close();
      }
      z = next;
    }
    return z;
  }

  private Tensor trace100() {
    return chain100(x, y);
  }
}
