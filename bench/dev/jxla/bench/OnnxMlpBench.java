package dev.jxla.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.jxla.Bucketing;
import dev.jxla.CompiledFunction;
import dev.jxla.DType;
import dev.jxla.Device;
import dev.jxla.Jxla;
import dev.jxla.Precision;
import dev.jxla.Tensor;
import dev.jxla.TensorScope;
import dev.jxla.onnx.MlpModel;
import dev.jxla.onnx.OnnxModel;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Collections;
import java.util.Random;
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
 * The MLP 784-1024-1024-10 (Gemm+Relu), written as an ONNX model by our own protobuf classes
 * (MlpModel), run side by side by JXLA on the host, JXLA on the emulated TPU v5e at
 * Precision.DEFAULT (OnnxModel -> CompiledFunction compiled for the device) and ONNX Runtime
 * Java 1.29.0 on the same bytes and inputs, f32. One call = copy the input in, run, copy the
 * output out (direct buffers on all sides; the TPU call includes the host-device transfers).
 * The TPU score is the emulator's wall time; the simulated v5e time per call is printed at
 * tear-down.
 *
 * <p>Command: {@code mvn -q -Pbench -DskipTests package exec:exec -Djmh.args="OnnxMlpBench -f 1 -wi 2 -i 3 -w 1s -r 1s"}
 * (ORT intra-op threads: -Djxla.bench.ortThreads, default 2; JXLA threads: JXLA_NUM_THREADS).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Benchmark)
public class OnnxMlpBench {
  @Param({"1", "32", "256"})
  public int batch;

  CompiledFunction jxla;
  CompiledFunction jxlaTpu;
  Device tpu;
  long tpuCalls;
  double sim0;
  OrtEnvironment env;
  OrtSession ort;
  FloatBuffer in;
  FloatBuffer out;
  long[] shape;

  @Setup(Level.Trial)
  public void setup() throws Exception {
    byte[] model = new MlpModel(42, 784, 1024, 1024, 10).toBytes();
    jxla = OnnxModel.parse(model, "mlp").compile(Bucketing.none());
    tpu = Device.tpu("v5e");
    Jxla.setMatmulPrecision(Precision.DEFAULT);
    jxlaTpu = OnnxModel.parse(model, "mlp").compile(Bucketing.none(), tpu);
    env = OrtEnvironment.getEnvironment();
    OrtSession.SessionOptions so = new OrtSession.SessionOptions();
    so.setIntraOpNumThreads(Integer.getInteger("jxla.bench.ortThreads", 2));
    ort = env.createSession(model, so);
    shape = new long[] {batch, 784};
    in = ByteBuffer.allocateDirect(4 * batch * 784).order(ByteOrder.nativeOrder()).asFloatBuffer();
    Random r = new Random(1);
    for (int i = 0; i < batch * 784; i++) {
      in.put(r.nextFloat());
    }
    in.flip();
    out = ByteBuffer.allocateDirect(4 * batch * 10).order(ByteOrder.nativeOrder()).asFloatBuffer();
    // same answer from every engine before timing anything (the TPU at DEFAULT rounds the
    // matmul operands to bf16: relative error up to ~2^-8 per product, measured ~3e-3 of max |y|)
    float[] a = jxlaCall(jxla), b = ortCall(), c = jxlaCall(jxlaTpu);
    for (int i = 0; i < a.length; i++) {
      if (Math.abs(a[i] - b[i]) > 1e-3f * (1 + Math.abs(b[i]))) {
        throw new IllegalStateException("JXLA and ONNX Runtime disagree at " + i + ": " + a[i] + " vs " + b[i]);
      }
      if (Math.abs(c[i] - b[i]) > 3e-2f * (1 + Math.abs(b[i]))) {
        throw new IllegalStateException("JXLA tpu:v5e and ONNX Runtime disagree at " + i + ": " + c[i] + " vs " + b[i]);
      }
    }
    tpu.profileAndClear();
    sim0 = tpu.simulatedSeconds();
  }

  private float[] jxlaCall(CompiledFunction f) {
    out.clear();
    f.call(in.duplicate(), shape, out);
    float[] r = new float[batch * 10];
    out.duplicate().get(r);
    return r;
  }

  private float[] ortCall() throws Exception {
    try (OnnxTensor t = OnnxTensor.createTensor(env, in.duplicate(), shape);
         OrtSession.Result res = ort.run(Collections.singletonMap("x", t))) {
      FloatBuffer fb = ((OnnxTensor) res.get(0)).getFloatBuffer();
      float[] r = new float[batch * 10];
      fb.get(r);
      return r;
    }
  }

  @Benchmark
  public float jxla() {
    out.clear();
    jxla.call(in.duplicate(), shape, out);
    return out.get(0);
  }

  /**
   * The copying path {@link #jxla} took before session 8 (input tensor copied from the buffer,
   * output tensor copied into it), for in-process A/B runs against the in-place call.
   */
  @Benchmark
  public float jxlaCopying() {
    out.clear();
    try (TensorScope scope = new TensorScope()) {
      jxla.call(Tensor.of(in.duplicate(), shape))[0].copyTo(out, DType.F32);
    }
    return out.get(0);
  }

  @Benchmark
  public float jxlaTpuDefault() {
    out.clear();
    jxlaTpu.call(in.duplicate(), shape, out);
    tpuCalls++;
    return out.get(0);
  }

  @Benchmark
  public float onnxRuntime() throws Exception {
    try (OnnxTensor t = OnnxTensor.createTensor(env, in.duplicate(), shape);
         OrtSession.Result res = ort.run(Collections.singletonMap("x", t))) {
      return ((OnnxTensor) res.get(0)).getFloatBuffer().get(0);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    if (tpuCalls > 0) {
      // simulated v5e time per call: kernels, transfers and launch overheads of the cost model
      System.out.printf("%n[OnnxMlpBench] batch %d: simulated tpu:v5e time %.1f us per call (DEFAULT, transfers included)%n",
          batch, (tpu.simulatedSeconds() - sim0) * 1e6 / tpuCalls);
    }
    jxla.close();
    jxlaTpu.close();
    ort.close();
  }
}
