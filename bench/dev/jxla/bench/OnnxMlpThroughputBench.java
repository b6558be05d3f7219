package dev.jxla.bench;

import dev.jxla.Bucketing;
import dev.jxla.CompiledFunction;
import dev.jxla.onnx.MlpModel;
import dev.jxla.onnx.OnnxModel;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

/**
 * Throughput of ONE CompiledFunction (the ONNX MLP 784-1024-1024-10 at batch 32) called by 1, 2,
 * 4 and 8 threads at once: calls per second over all threads.
 *
 * <p>Command: {@code mvn -q -Pbench -DskipTests package exec:exec -Djmh.args="OnnxMlpThroughputBench -f 1 -wi 2 -i 3"}
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class OnnxMlpThroughputBench {
  /** The shared function. */
  @State(Scope.Benchmark)
  public static class Shared {
    CompiledFunction f;

    @Setup(Level.Trial)
    public void setup() {
      f = OnnxModel.parse(new MlpModel(42, 784, 1024, 1024, 10).toBytes(), "mlp").compile(Bucketing.none());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      f.close();
    }
  }

  /** Per-thread input and output buffers. */
  @State(Scope.Thread)
  public static class Buffers {
    FloatBuffer in;
    FloatBuffer out;
    final long[] shape = {32, 784};

    @Setup(Level.Trial)
    public void setup() {
      in = ByteBuffer.allocateDirect(4 * 32 * 784).order(ByteOrder.nativeOrder()).asFloatBuffer();
      Random r = new Random(Thread.currentThread().getId());
      for (int i = 0; i < 32 * 784; i++) {
        in.put(r.nextFloat());
      }
      in.flip();
      out = ByteBuffer.allocateDirect(4 * 32 * 10).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }
  }

  private static float call(Shared s, Buffers b) {
    b.out.clear();
    s.f.call(b.in.duplicate(), b.shape, b.out);
    return b.out.get(0);
  }

  @Benchmark
  @Threads(1)
  public float threads1(Shared s, Buffers b) {
    return call(s, b);
  }

  @Benchmark
  @Threads(2)
  public float threads2(Shared s, Buffers b) {
    return call(s, b);
  }

  @Benchmark
  @Threads(4)
  public float threads4(Shared s, Buffers b) {
    return call(s, b);
  }

  @Benchmark
  @Threads(8)
  public float threads8(Shared s, Buffers b) {
    return call(s, b);
  }
}
