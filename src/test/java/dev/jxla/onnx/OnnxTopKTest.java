package dev.jxla.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jxla.Bucketing;
import dev.jxla.CompiledFunction;
import dev.jxla.DType;
import dev.jxla.Device;
import dev.jxla.Tensor;
import dev.jxla.TensorScope;
import dev.jxla.cli.Npy;
import dev.jxla.onnx.proto.Onnx.AttributeProto;
import dev.jxla.onnx.proto.Onnx.GraphProto;
import dev.jxla.onnx.proto.Onnx.ModelProto;
import dev.jxla.onnx.proto.Onnx.NodeProto;
import dev.jxla.onnx.proto.Onnx.OperatorSetIdProto;
import dev.jxla.onnx.proto.Onnx.TensorProto;
import dev.jxla.onnx.proto.Onnx.TypeProto;
import dev.jxla.onnx.proto.Onnx.ValueInfoProto;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * ONNX TopK (OnnxSortOps) as one-node models against NumPy fixtures
 * (src/test/resources/onnx-topk/gen_topk.py: a stable lexsort with ONNX's tie rule and ONNX
 * Runtime's NaN rule), on the host and on the emulated TPU (which must match the host exactly:
 * both run the same reference kernel, and values are copies, so no tolerance is needed); the
 * opset-9 attribute form; and K / axis errors that name the node.
 */
class OnnxTopKTest {
  private static final Path DIR = Path.of("src/test/resources/onnx-topk");

  private static ValueInfoProto vi(String name) {
    return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()))
        .build();
  }

  private static AttributeProto attr(String name, long v) {
    return AttributeProto.newBuilder().setName(name).setI(v).setType(AttributeProto.AttributeType.INT).build();
  }

  /** TopK node "n" on graph input x; K an int64[1] initializer (opset >= 10) or attribute k. */
  static byte[] model(int opset, long k, AttributeProto... attrs) {
    NodeProto.Builder n = NodeProto.newBuilder().setOpType("TopK").setName("n").addInput("x")
        .addOutput("values").addOutput("indices");
    GraphProto.Builder g = GraphProto.newBuilder().addInput(vi("x")).addOutput(vi("values")).addOutput(vi("indices"));
    if (opset >= 10) {
      n.addInput("K");
      g.addInitializer(TensorProto.newBuilder().setName("K").setDataType(7).addDims(1).addInt64Data(k));
    } else {
      n.addAttribute(attr("k", k));
    }
    for (AttributeProto a : attrs) {
      n.addAttribute(a);
    }
    g.addNode(n);
    return ModelProto.newBuilder().setIrVersion(10).addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(opset))
        .setGraph(g).build().toByteArray();
  }

  private static Tensor[] run(byte[] m, Device dev, Tensor x) {
    try (CompiledFunction f = OnnxModel.parse(m, "topk").compile(Bucketing.none(), dev)) {
      Tensor[] r = f.call(x);
      return new Tensor[] {r[0].to(Device.host()).materialized(), r[1].to(Device.host()).materialized()};
    }
  }

  @Test
  void matchesNumpyFixturesOnHostAndTpu() throws Exception {
    int cases = 0;
    for (String line : Files.readAllLines(DIR.resolve("topk.txt"))) {
      String[] c = line.split("\\|");
      long axis = Long.parseLong(c[1]), k = Long.parseLong(c[2]), largest = Long.parseLong(c[3]);
      try (TensorScope scope = new TensorScope()) {
        Tensor x = Npy.read(DIR.resolve(c[0] + "_x.npy"));
        Tensor ev = Npy.read(DIR.resolve(c[0] + "_values.npy"));
        Tensor ei = Npy.read(DIR.resolve(c[0] + "_indices.npy"));
        // sorted=0 may return any order; this importer returns the sorted one, which the fixture holds
        byte[] m = model(11, k, attr("axis", axis), attr("largest", largest), attr("sorted", cases % 2));
        Tensor[] h = run(m, Device.host(), x);
        assertArrayEquals(ev.shape(), h[0].shape(), c[0]);
        assertEquals(x.dtype(), h[0].dtype(), c[0]);
        assertEquals(DType.S64, h[1].dtype(), c[0]);
        assertArrayEquals(ei.toLongArray(), h[1].toLongArray(), c[0] + " indices");
        assertArrayEquals(ev.toDoubleArray(), h[0].toDoubleArray(), 0, c[0] + " values");  // NaN equals NaN here
        Tensor[] t = run(m, Device.tpu("v5e"), x);
        assertArrayEquals(h[1].toLongArray(), t[1].toLongArray(), c[0] + " tpu indices");
        assertArrayEquals(h[0].toDoubleArray(), t[0].toDoubleArray(), 0, c[0] + " tpu values");
      }
      cases++;
    }
    assertEquals(8, cases);
  }

  @Test
  void opset9AttributeAndDefaults() {
    try (TensorScope scope = new TensorScope()) {
      Tensor x = Tensor.of(new float[] {1, 5, 5, 2, 7, 0}, 2, 3);
      Tensor[] r = run(model(9, 2), Device.host(), x);  // k attribute before opset 10; axis -1, largest 1 by default
      assertArrayEquals(new float[] {5, 5, 7, 2}, r[0].toFloatArray());
      assertArrayEquals(new long[] {1, 2, 1, 0}, r[1].toLongArray());
    }
  }

  @Test
  void badKAndAxisNameTheNode() {
    try (TensorScope scope = new TensorScope()) {
      Tensor x = Tensor.of(new float[6], 2, 3);
      OnnxException e = assertThrows(OnnxException.class, () -> run(model(11, 4), Device.host(), x));
      assertTrue(e.getMessage().contains("TopK node 'n'") && e.getMessage().contains("K = 4")
          && e.getMessage().contains("[2, 3]"), e.getMessage());
      e = assertThrows(OnnxException.class, () -> run(model(11, -1), Device.host(), x));
      assertTrue(e.getMessage().contains("K = -1"), e.getMessage());
      e = assertThrows(OnnxException.class, () -> run(model(11, 1, attr("axis", 2)), Device.host(), x));
      assertTrue(e.getMessage().contains("TopK node 'n'") && e.getMessage().contains("axis 2"), e.getMessage());
    }
  }
}
