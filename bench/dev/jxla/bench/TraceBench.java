package dev.jxla.bench;

import dev.jxla.Jxla;
import dev.jxla.Tensor;
import dev.jxla.internal.JxlaLib;
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
 * (capture + fingerprint + cache hit + reference execution of 100 tiny kernels).
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
  }

  @TearDown(Level.Trial)
  public void tearDown() {
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

  private float chainStep() {
    Tensor z = trace100();
    Jxla.sync();
    float[] v = z.toFloatArray();
    z.close();
    return v[0];
  }

  private Tensor trace100() {
    Tensor z = x;
    for (int i = 0; i < 100; i++) {
      Tensor next = (i & 1) == 0 ? z.add(y) : z.mul(y);
      if (z != x) {
        z.close();
      }
      z = next;
    }
    return z;
  }
}
