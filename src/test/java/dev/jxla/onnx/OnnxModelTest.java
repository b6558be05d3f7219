package dev.jxla.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.jxla.Bucketing;
import dev.jxla.CompiledFunction;
import dev.jxla.Tensor;
import dev.jxla.TensorScope;
import dev.jxla.onnx.proto.Onnx.GraphProto;
import dev.jxla.onnx.proto.Onnx.ModelProto;
import dev.jxla.onnx.proto.Onnx.NodeProto;
import dev.jxla.onnx.proto.Onnx.OperatorSetIdProto;
import dev.jxla.onnx.proto.Onnx.ValueInfoProto;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ONNX import: an MLP written by our protobuf classes, unsupported operators, malformed files, fuzzing. */
class OnnxModelTest {
  @TempDir
  Path tmp;

  @Test
  void mlpMatchesItsDoublePrecisionReference() throws Exception {
    MlpModel m = new MlpModel(7, 20, 16, 16, 5);
    Path p = tmp.resolve("mlp.onnx");
    Files.write(p, m.toBytes());
    Random r = new Random(8);
    try (CompiledFunction f = OnnxModel.load(p, Bucketing.powersOfTwo())) {
      for (int batch : new int[] {1, 3, 8, 5}) {
        float[] x = new float[batch * 20];
        for (int i = 0; i < x.length; i++) {
          x[i] = (float) r.nextGaussian();
        }
        float[] y = f.call(x, batch, 20);
        double[] want = m.reference(x, batch);
        assertEquals(want.length, y.length);
        // f32 dot products of length <= 20 with |terms| <~ 3: rounding error well below 1e-5
        for (int i = 0; i < y.length; i++) {
          assertEquals(want[i], y[i], 1e-5 + 1e-5 * Math.abs(want[i]), "batch " + batch + " element " + i);
        }
      }
      assertEquals(3, f.compileCount());  // buckets 1, 4, 8
    }
  }

  /** Every signature shares the model's weights (and the once-transposed Gemm weights). */
  @Test
  void signaturesShareTheWeights() {
    MlpModel m = new MlpModel(3, 256, 256, 256);  // two 256 KiB weight matrices
    try (CompiledFunction f = OnnxModel.parse(m.toBytes(), "mlp").compile(Bucketing.powersOfTwo())) {
      f.call(new float[256], 1, 256);
      long one = dev.jxla.Jxla.liveBytes();
      for (int b : new int[] {2, 3, 5, 9, 17}) {
        f.call(new float[256 * b], b, 256);
      }
      assertEquals(6, f.compileCount());  // buckets 1, 2, 4, 8, 16, 32
      long growth = dev.jxla.Jxla.liveBytes() - one;
      assertTrue(growth < 256 * 256 * 4, "5 more signatures grew live bytes by " + growth);
    }
  }

  private static ModelProto model(int opset, String... ops) {
    GraphProto.Builder g = GraphProto.newBuilder().addInput(ValueInfoProto.newBuilder().setName("x"));
    String prev = "x";
    for (int i = 0; i < ops.length; i++) {
      g.addNode(NodeProto.newBuilder().setOpType(ops[i]).addInput(prev).addOutput("v" + i));
      prev = "v" + i;
    }
    g.addOutput(ValueInfoProto.newBuilder().setName(prev));
    return ModelProto.newBuilder().setIrVersion(8).addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(opset))
        .setGraph(g).build();
  }

  @Test
  void unsupportedOperatorsAreAllNamedAtLoad() {
    OnnxException e = assertThrows(OnnxException.class,
        () -> OnnxModel.parse(model(17, "Relu", "NonMaxSuppression", "Exp", "GridSample", "NonMaxSuppression").toByteArray(), "m"));
    assertTrue(e.getMessage().contains("unsupported operator(s): GridSample, NonMaxSuppression"), e.getMessage());
    e = assertThrows(OnnxException.class, () -> OnnxModel.parse(model(3, "Relu").toByteArray(), "old"));
    assertTrue(e.getMessage().contains("opset 3"), e.getMessage());
  }

  @Test
  void smallModelRunsAndUndefinedValuesAreReported() throws Exception {
    try (OnnxModel m = OnnxModel.parse(model(13, "Neg", "Exp").toByteArray(), "m");
         CompiledFunction f = m.compile(Bucketing.none())) {
      assertEquals(1, m.inputNames().size());
      assertThrows(IllegalStateException.class, () -> m.compile(Bucketing.none()));
      assertArrayEquals(new float[] {(float) Math.exp(-1), 1f}, f.call(new float[] {1, 0}, 2), 1e-7f);
    }
    ModelProto bad = model(13, "Neg").toBuilder().setGraph(model(13, "Neg").getGraph().toBuilder()
        .addNode(NodeProto.newBuilder().setOpType("Add").addInput("v0").addInput("nowhere").addOutput("z"))).build();
    OnnxException e = assertThrows(OnnxException.class, () -> OnnxModel.parse(bad.toByteArray(), "m"));
    assertTrue(e.getMessage().contains("'nowhere'"), e.getMessage());
  }

  @Test
  void malformedFilesGiveClearExceptions() throws Exception {
    OnnxException e = assertThrows(OnnxException.class, () -> OnnxModel.parse(new byte[] {0x0a, 0x7f, 1, 2}, "trunc"));
    assertTrue(e.getMessage().contains("not a valid ONNX model"), e.getMessage());
    assertThrows(OnnxException.class, () -> OnnxModel.parse(new byte[0], "empty"));  // no graph
    Path p = tmp.resolve("text.onnx");
    Files.writeString(p, "this is not a model");
    assertThrows(OnnxException.class, () -> OnnxModel.load(p));
  }

  /** Truncated and bit-flipped models: the loader throws exceptions (never crashes or hangs). */
  @Test
  void fuzzedModelsOnlyThrow() {
    byte[] good = new MlpModel(1, 6, 5, 3).toBytes();
    Random r = new Random(99);
    int loaded = 0, rejected = 0;
    for (int it = 0; it < 600; it++) {
      byte[] b;
      if (it % 3 == 0) {
        b = java.util.Arrays.copyOf(good, r.nextInt(good.length));
      } else {
        b = good.clone();
        int flips = 1 + r.nextInt(4);
        for (int k = 0; k < flips; k++) {
          int pos = r.nextInt(b.length);
          b[pos] ^= (byte) (1 << r.nextInt(8));
        }
      }
      try (TensorScope s = new TensorScope()) {
        OnnxModel m = OnnxModel.parse(b, "fuzz#" + it);
        loaded++;
        try (CompiledFunction f = m.compile(Bucketing.none())) {
          if (m.inputNames().size() == 1) {
            f.call(Tensor.of(new float[12], 2, 6));
          }
        } catch (RuntimeException e) {
          // a model that loads may still be wrong for this input: any exception is fine here
          assertTrue(e.getMessage() != null && !e.getMessage().isEmpty(), e.toString());
        }
      } catch (OnnxException e) {
        rejected++;
        assertTrue(e.getMessage().startsWith("fuzz#" + it), e.getMessage());
      } catch (RuntimeException e) {
        fail("the loader threw " + e + " instead of an OnnxException");
      }
    }
    assertTrue(rejected > 100, "rejected " + rejected);
    assertTrue(loaded + rejected == 600);
  }
}
