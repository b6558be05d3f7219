package dev.jxla.bench;

import dev.jxla.DType;
import dev.jxla.Device;
import dev.jxla.Jxla;
import dev.jxla.Precision;
import dev.jxla.Rng;
import dev.jxla.Tensor;
import dev.jxla.TensorScope;
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
 * Emulated MXU matmul vs the host's f32 GEMM, n x n x n (GFLOP/s = 2 n^3 / time), in one run:
 * <ul>
 *   <li>{@code hostF32}: OpenBLAS sgemm (n = 1024 and 4096);
 *   <li>{@code tpuBf16}: bf16 operands, one exact MXU pass on the blocked fast-path kernel
 *       (n = 1024 and 4096);
 *   <li>{@code tpuBf16Reference}: the same pass on the scalar reference kernel (fast path off
 *       for the trial), n = 1024 only (4096 takes minutes per call);
 *   <li>{@code tpuF32Default / tpuF32Highest}: f32 operands split into 1 / 6 bf16 passes on the
 *       fast path, n = 1024.
 * </ul>
 * Each call materializes the product and reads one element back.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class TpuMatmulBench {

  /** Operands of size n on the host, on a v5e as f32 and as bf16. */
  abstract static class Operands {
    TensorScope scope;
    Tensor hostA;
    Tensor hostB;
    Tensor tpuA;
    Tensor tpuB;
    Tensor tpuA16;
    Tensor tpuB16;

    void make(int n) {
      scope = new TensorScope();
      Device tpu = Device.tpu("v5e");
      Rng rng = new Rng(1);
      hostA = Tensor.randn(rng, DType.F32, n, n).materialized();
      hostB = Tensor.randn(rng, DType.F32, n, n).materialized();
      tpuA = hostA.to(tpu);
      tpuB = hostB.to(tpu);
      tpuA16 = hostA.to(DType.BF16).to(tpu);
      tpuB16 = hostB.to(DType.BF16).to(tpu);
      Jxla.sync();
    }
  }

  /** Both sizes: host GEMM and the fast bf16 pass. */
  @State(Scope.Benchmark)
  public static class Sizes extends Operands {
    @Param({"1024", "4096"})
    public int n;

    @Setup(Level.Trial)
    public void setup() {
      make(n);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      scope.close();
    }
  }

  /** n = 1024 only: the multi-pass f32 precisions. */
  @State(Scope.Benchmark)
  public static class Small extends Operands {
    @Param({"1024"})
    public int size;

    @Setup(Level.Trial)
    public void setup() {
      make(size);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      scope.close();
    }
  }

  /** n = 1024 with the MXU fast path switched off for the trial (the scalar reference kernel). */
  @State(Scope.Benchmark)
  public static class Reference extends Operands {
    @Param({"1024"})
    public int refSize;

    private boolean before;

    @Setup(Level.Trial)
    public void setup() {
      make(refSize);
      before = Jxla.tpuFastPath();
      Jxla.setTpuFastPath(false);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      Jxla.setTpuFastPath(before);
      scope.close();
    }
  }

  /** Materializes the product (the whole dot runs) and reads one element. */
  private static float corner(Tensor c) {
    return c.slice(0, 0, 1).slice(1, 0, 1).toFloatArray()[0];
  }

  @Benchmark
  public float hostF32(Sizes s) {
    try (TensorScope t = new TensorScope()) {
      return corner(s.hostA.matmul(s.hostB));
    }
  }

  @Benchmark
  public float tpuBf16(Sizes s) {
    try (TensorScope t = new TensorScope()) {
      return corner(s.tpuA16.matmul(s.tpuB16));
    }
  }

  @Benchmark
  public float tpuBf16Reference(Reference s) {
    try (TensorScope t = new TensorScope()) {
      return corner(s.tpuA16.matmul(s.tpuB16));
    }
  }

  @Benchmark
  public float tpuF32Default(Small s) {
    try (TensorScope t = new TensorScope()) {
      return corner(s.tpuA.matmul(s.tpuB, Precision.DEFAULT));
    }
  }

  @Benchmark
  public float tpuF32Highest(Small s) {
    try (TensorScope t = new TensorScope()) {
      return corner(s.tpuA.matmul(s.tpuB, Precision.HIGHEST));
    }
  }
}
