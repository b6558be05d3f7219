package dev.jxla.bench;

import dev.jxla.DType;
import dev.jxla.Jxla;
import dev.jxla.Rng;
import dev.jxla.Tensor;
import dev.jxla.internal.Native;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;
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
 * Issue 3 benchmarks, measured side by side in one run (see docs/fusion.md for the command and
 * the numbers). Each engine benchmark traces its ops, syncs, and frees the result, so it measures
 * trace + compile-cache hit + execution; intermediates are closed before the sync (as garbage
 * would be), so only the final value is written to memory.
 * <ul>
 *   <li>chain8*: x*y, +0.5, *2, relu, neg, abs, +1, sqrt on 16M f32, fused vs one kernel per op
 *       ({@code fused=false}) vs a plain fused Java loop (1 thread);
 *   <li>triad*: the native STREAM triad a = b + s*c on 16M f32 (jxla_bench_stream_triad, the
 *       engine's thread pool; normal and streaming stores). chain8 and the triad both read 2
 *       arrays and write 1 of 16M f32 (192 MiB), so their time ratio is their bytes/s ratio;
 *   <li>gemm*: 1024^3 matmul through the engine vs raw OpenBLAS sgemm (same library);
 *   <li>gemmBiasRelu: matmul + bias + relu (one dot kernel with its epilogue);
 *   <li>mlp: forward pass, batch 256, 784-1024-1024-10, f32; mlpGemmOnly: just its three GEMMs
 *       through raw OpenBLAS (the floor the engine's MLP can reach);
 *   <li>traceOp: cost of tracing one op (no sync); cachedStep100: trace + cached compile + run of
 *       a 100-op element-wise graph on 256 floats.
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Thread)
public class FusionBench {
  static final int N = 16 * 1024 * 1024;

  @Param({"true", "false"})
  public boolean fused;

  Tensor x, y, half, two, one;
  float[] jx, jy, jout;
  Tensor a, b, bias;
  FloatPointer pa, pb, pc;
  Tensor in, w1, b1, w2, b2, w3, b3;
  FloatPointer pin, pw1, pw2, pw3, ph1, ph2, pout;
  Tensor small;

  private static Tensor keep(Tensor t) {
    Jxla.sync();
    return t;
  }

  @Setup(Level.Trial)
  public void setup() {
    Jxla.setFusionEnabled(fused);
    Rng rng = new Rng(7);
    x = keep(Tensor.randn(rng, DType.F32, N));
    y = keep(Tensor.randn(rng, DType.F32, N));
    half = Tensor.scalar(0.5f);
    two = Tensor.scalar(2f);
    one = Tensor.scalar(1f);
    jx = x.toFloatArray();
    jy = y.toFloatArray();
    jout = new float[N];
    a = keep(Tensor.randn(rng, DType.F32, 1024, 1024));
    b = keep(Tensor.randn(rng, DType.F32, 1024, 1024));
    bias = keep(Tensor.randn(rng, DType.F32, 1024));
    pa = new FloatPointer(a.toFloatArray());
    pb = new FloatPointer(b.toFloatArray());
    pc = new FloatPointer(1024L * 1024);
    in = keep(Tensor.randn(rng, DType.F32, 256, 784));
    w1 = keep(Tensor.randn(rng, DType.F32, 784, 1024).mul(Tensor.scalar(0.03f)));
    b1 = keep(Tensor.randn(rng, DType.F32, 1024));
    w2 = keep(Tensor.randn(rng, DType.F32, 1024, 1024).mul(Tensor.scalar(0.03f)));
    b2 = keep(Tensor.randn(rng, DType.F32, 1024));
    w3 = keep(Tensor.randn(rng, DType.F32, 1024, 10).mul(Tensor.scalar(0.03f)));
    b3 = keep(Tensor.randn(rng, DType.F32, 10));
    pin = new FloatPointer(in.toFloatArray());
    pw1 = new FloatPointer(w1.toFloatArray());
    pw2 = new FloatPointer(w2.toFloatArray());
    pw3 = new FloatPointer(w3.toFloatArray());
    ph1 = new FloatPointer(256L * 1024);
    ph2 = new FloatPointer(256L * 1024);
    pout = new FloatPointer(256L * 10);
    small = keep(Tensor.randn(rng, DType.F32, 256));
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    Jxla.setFusionEnabled(true);
  }

  /** Closes the previous intermediate: only the last tensor of a chain stays live. */
  private static Tensor step(Tensor prev, Tensor next) {
    prev.close();
    return next;
  }

  @Benchmark
  public long chain8() {
    Tensor t = x.mul(y);
    t = step(t, t.add(half));
    t = step(t, t.mul(two));
    t = step(t, t.relu());
    t = step(t, t.neg());
    t = step(t, t.abs());
    t = step(t, t.add(one));
    t = step(t, t.sqrt());
    Jxla.sync();
    long k = Jxla.lastKernelCount();
    t.close();
    return k;
  }

  @Benchmark
  public float[] chain8JavaLoop() {
    float[] px = jx, py = jy, o = jout;
    for (int i = 0; i < o.length; i++) {
      float v = (px[i] * py[i] + 0.5f) * 2f;
      v = Math.abs(-(v > 0 ? v : 0f)) + 1f;
      o[i] = (float) Math.sqrt(v);
    }
    return o;
  }

  /** STREAM triad, normal stores: reads 2 and writes 1 array of 16M f32, like chain8. */
  @Benchmark
  public int triad() {
    return Native.benchStreamTriad(N, 3f, false);
  }

  /** STREAM triad with non-temporal stores (no read-for-ownership of the output). */
  @Benchmark
  public int triadNontemporal() {
    return Native.benchStreamTriad(N, 3f, true);
  }

  @Benchmark
  public long gemm() {
    Tensor c = a.matmul(b);
    Jxla.sync();
    long k = Jxla.lastKernelCount();
    c.close();
    return k;
  }

  @Benchmark
  public FloatPointer gemmRawOpenBlas() {
    rawThreads(true);
    openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasNoTrans,
        openblas_nolapack.CblasNoTrans, 1024, 1024, 1024, 1f, pa, 1024, pb, 1024, 0f, pc, 1024);
    rawThreads(false);
    return pc;
  }

  @Benchmark
  public long gemmBiasRelu() {
    Tensor c = a.matmul(b);
    c = step(c, c.add(bias));
    c = step(c, c.relu());
    Jxla.sync();
    long k = Jxla.lastKernelCount();
    c.close();
    return k;
  }

  @Benchmark
  public long traceOp() {
    Tensor t = x.add(y);
    t.close();
    return 1;
  }

  @Benchmark
  public long cachedStep100() {
    Tensor t = small.add(half);
    for (int i = 1; i < 100; i++) {
      t = step(t, (i % 2 == 0) ? t.add(half) : t.mul(two));
    }
    Jxla.sync();
    t.close();
    return Jxla.lastKernelCount();
  }

  private double salt = 0;

  /** A 1,000-op graph whose constant changes every call: a compile-cache miss each time. */
  @Benchmark
  public long compile1000() {
    salt += 1;
    Tensor c = Tensor.full(salt, DType.F32, 256);
    Tensor t = small.add(c);
    for (int i = 1; i < 1000; i++) {
      t = step(t, (i % 2 == 0) ? t.add(c) : t.mul(half));
    }
    Jxla.sync();
    t.close();
    c.close();
    return Jxla.lastKernelCount();
  }

  @Benchmark
  public long mlp() {
    Tensor h = in.matmul(w1);
    h = step(h, h.add(b1));
    h = step(h, h.relu());
    h = step(h, h.matmul(w2));
    h = step(h, h.add(b2));
    h = step(h, h.relu());
    h = step(h, h.matmul(w3));
    h = step(h, h.add(b3));
    Jxla.sync();
    long k = Jxla.lastKernelCount();
    h.close();
    return k;
  }

  /** The MLP's three GEMMs alone through raw OpenBLAS (no bias, no relu, no engine). */
  @Benchmark
  public FloatPointer mlpGemmOnly() {
    final int rm = openblas_nolapack.CblasRowMajor, nt = openblas_nolapack.CblasNoTrans;
    rawThreads(true);
    openblas_nolapack.cblas_sgemm(rm, nt, nt, 256, 1024, 784, 1f, pin, 784, pw1, 1024, 0f, ph1, 1024);
    openblas_nolapack.cblas_sgemm(rm, nt, nt, 256, 1024, 1024, 1f, ph1, 1024, pw2, 1024, 0f, ph2, 1024);
    openblas_nolapack.cblas_sgemm(rm, nt, nt, 256, 10, 1024, 1f, ph2, 1024, pw3, 10, 0f, pout, 10);
    rawThreads(false);
    return pout;
  }

  /**
   * The raw baselines get OpenBLAS's own threading with as many threads as the engine uses
   * (JXLA_NUM_THREADS, default all cores). The engine runs OpenBLAS single-threaded on its own
   * pool (native gemm.h) unless OPENBLAS_NUM_THREADS is set, and the thread count is global to
   * the shared libopenblas, so it is set around each raw call and restored to 1 after.
   */
  private static void rawThreads(boolean raw) {
    if (ENGINE_TILES) {
      org.bytedeco.openblas.presets.openblas_nolapack.blas_set_num_threads(raw ? ENGINE_THREADS : 1);
    }
  }

  private static final boolean ENGINE_TILES = System.getenv("OPENBLAS_NUM_THREADS") == null;
  private static final int ENGINE_THREADS = engineThreads();

  private static int engineThreads() {
    String v = System.getenv("JXLA_NUM_THREADS");
    return v != null ? Math.max(1, Integer.parseInt(v.trim())) : Runtime.getRuntime().availableProcessors();
  }
}
