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
 * Emulated MXU matmul vs the host's f32 GEMM, n x n x n (GFLOP/s = 2 n^3 / time).
 * {@code tpuBf16}: bf16 operands, one exact MXU pass; {@code tpuF32Default/Highest}: f32 split
 * into 1 / 6 bf16 passes; {@code hostF32}: OpenBLAS sgemm. The MXU kernel is the exact AVX2 one
 * where the CPU has AVX2; run with JXLA_TPU_FASTPATH=0 in the environment for the scalar
 * reference kernel. Each call materializes the product and reads one element back.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
public class TpuMatmulBench {
  @Param({"1024"})
  public int n;

  private TensorScope scope;
  private Tensor hostA;
  private Tensor hostB;
  private Tensor tpuA;
  private Tensor tpuB;
  private Tensor tpuA16;
  private Tensor tpuB16;

  @Setup(Level.Trial)
  public void setup() {
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

  @TearDown(Level.Trial)
  public void tearDown() {
    scope.close();
  }

  /** Materializes {@code n x n} product (the whole dot runs) and reads one element. */
  private static float corner(Tensor c) {
    return c.slice(0, 0, 1).slice(1, 0, 1).toFloatArray()[0];
  }

  @Benchmark
  public float hostF32() {
    try (TensorScope s = new TensorScope()) {
      return corner(hostA.matmul(hostB));
    }
  }

  @Benchmark
  public float tpuBf16() {
    try (TensorScope s = new TensorScope()) {
      return corner(tpuA16.matmul(tpuB16));
    }
  }

  @Benchmark
  public float tpuF32Default() {
    try (TensorScope s = new TensorScope()) {
      return corner(tpuA.matmul(tpuB, Precision.DEFAULT));
    }
  }

  @Benchmark
  public float tpuF32Highest() {
    try (TensorScope s = new TensorScope()) {
      return corner(tpuA.matmul(tpuB, Precision.HIGHEST));
    }
  }
}
