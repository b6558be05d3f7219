package dev.jxla.bench;

import dev.jxla.DType;
import dev.jxla.Device;
import dev.jxla.Jxla;
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
 * MLP forward, batch 256: relu(x W1 + b1) W2 + b2 with 784 -> 1024 -> 10, f32, on the host and
 * on an emulated v5e at DEFAULT precision (wall time of the emulation, not the simulated time).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
public class TpuMlpBench {
  @Param({"host", "tpu"})
  public String device;

  private TensorScope scope;
  private Tensor x;
  private Tensor w1;
  private Tensor b1;
  private Tensor w2;
  private Tensor b2;

  @Setup(Level.Trial)
  public void setup() {
    scope = new TensorScope();
    Device d = device.equals("tpu") ? Device.tpu("v5e") : Device.host();
    Rng rng = new Rng(2);
    x = Tensor.randn(rng, DType.F32, 256, 784).materialized().to(d);
    w1 = Tensor.randn(rng, DType.F32, 784, 1024).mul(0.03).materialized().to(d);
    b1 = Tensor.randn(rng, DType.F32, 1, 1024).materialized().to(d);
    w2 = Tensor.randn(rng, DType.F32, 1024, 10).mul(0.03).materialized().to(d);
    b2 = Tensor.randn(rng, DType.F32, 1, 10).materialized().to(d);
    Jxla.sync();
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    scope.close();
  }

  @Benchmark
  public float forward() {
    try (TensorScope s = new TensorScope()) {
      return x.matmul(w1).add(b1).relu().matmul(w2).add(b2).toFloatArray()[0];
    }
  }
}
