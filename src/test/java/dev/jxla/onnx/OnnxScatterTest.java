package dev.jxla.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jxla.Bucketing;
import dev.jxla.CompiledFunction;
import dev.jxla.Device;
import dev.jxla.Tensor;
import dev.jxla.TensorScope;
import dev.jxla.onnx.proto.Onnx.AttributeProto;
import dev.jxla.onnx.proto.Onnx.GraphProto;
import dev.jxla.onnx.proto.Onnx.ModelProto;
import dev.jxla.onnx.proto.Onnx.NodeProto;
import dev.jxla.onnx.proto.Onnx.OperatorSetIdProto;
import dev.jxla.onnx.proto.Onnx.ValueInfoProto;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * GatherND, ScatterND and ScatterElements (OnnxScatter) against naive Java loops over small
 * shapes (integers stored as floats, so results are exact): index depths 1-3, batch_dims,
 * negative indices, reductions none and add (duplicates summed), on the host and tpu:v5e.
 */
class OnnxScatterTest {
  private static OnnxModel model(String op, int nIn, AttributeProto... attrs) {
    GraphProto.Builder g = GraphProto.newBuilder();
    NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName("n").addOutput("y").addAllAttribute(List.of(attrs));
    for (int i = 0; i < nIn; i++) {
      g.addInput(ValueInfoProto.newBuilder().setName("in" + i));
      n.addInput("in" + i);
    }
    g.addNode(n).addOutput(ValueInfoProto.newBuilder().setName("y"));
    return OnnxModel.parse(ModelProto.newBuilder().setIrVersion(9).addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(18))
        .setGraph(g).build().toByteArray(), op);
  }

  private static AttributeProto attr(String k, long v) {
    return AttributeProto.newBuilder().setName(k).setI(v).setType(AttributeProto.AttributeType.INT).build();
  }

  private static AttributeProto attr(String k, String v) {
    return AttributeProto.newBuilder().setName(k).setS(com.google.protobuf.ByteString.copyFromUtf8(v))
        .setType(AttributeProto.AttributeType.STRING).build();
  }

  private static float[] seq(int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = i;
    }
    return v;
  }

  private static float[] run(OnnxModel m, Device d, Tensor... in) {
    try (CompiledFunction f = m.compile(Bucketing.none(), d)) {
      return f.call(in)[0].toFloatArray();
    }
  }

  @Test
  void gatherNDAtEveryIndexDepthAndWithBatchDims() {
    float[] data = seq(24);  // [2,3,4], value = flat position
    try (TensorScope s = new TensorScope()) {
      Tensor x = Tensor.of(data, 2, 3, 4);
      // k = 2 with a negative component: rows data[1,2,:] and data[0,2,:]
      float[] r = run(model("GatherND", 2), Device.host(), x, Tensor.of(new long[] {1, 2, 0, -1}, 2, 2));
      assertArrayEquals(new float[] {20, 21, 22, 23, 8, 9, 10, 11}, r);
      // k = 3: single elements; k = 1: whole [3,4] blocks
      assertArrayEquals(new float[] {23, 6}, run(model("GatherND", 2), Device.host(), x, Tensor.of(new long[] {1, 2, 3, 0, 1, 2}, 2, 3)));
      float[] blocks = run(model("GatherND", 2), Device.host(), x, Tensor.of(new long[] {1}, 1, 1));
      assertArrayEquals(java.util.Arrays.copyOfRange(data, 12, 24), blocks);
      // batch_dims = 1: out[b, i, :] = data[b, idx[b, i, 0], :]
      long[] idx = {2, 0, 1, 1};  // [2,2,1]
      float[] want = new float[16];
      for (int b = 0; b < 2; b++) {
        for (int i = 0; i < 2; i++) {
          for (int c = 0; c < 4; c++) {
            want[(b * 2 + i) * 4 + c] = data[(b * 3 + (int) idx[b * 2 + i]) * 4 + c];
          }
        }
      }
      for (Device d : new Device[] {Device.host(), Device.tpu("v5e")}) {
        assertArrayEquals(want, run(model("GatherND", 2, attr("batch_dims", 1)), d, x, Tensor.of(idx, 2, 2, 1)), d.toString());
      }
    }
  }

  @Test
  void scatterNDReplacesOrAdds() {
    float[] data = seq(12);  // [4,3]
    float[] upd = {100, 101, 102, 200, 201, 202};  // [2,3]
    try (TensorScope s = new TensorScope()) {
      for (Device d : new Device[] {Device.host(), Device.tpu("v5e")}) {
        // none: rows 1 and 3 (given as -1) replaced
        float[] want = data.clone();
        System.arraycopy(upd, 0, want, 3, 3);
        System.arraycopy(upd, 3, want, 9, 3);
        assertArrayEquals(want, run(model("ScatterND", 3), d, Tensor.of(data, 4, 3), Tensor.of(new long[] {1, -1}, 2, 1),
            Tensor.of(upd, 2, 3)), d.toString());
        // add with a duplicate index: both updates land on row 1
        float[] add = data.clone();
        for (int c = 0; c < 3; c++) {
          add[3 + c] += upd[c] + upd[3 + c];
        }
        assertArrayEquals(add, run(model("ScatterND", 3, attr("reduction", "add")), d, Tensor.of(data, 4, 3),
            Tensor.of(new long[] {1, 1}, 2, 1), Tensor.of(upd, 2, 3)), d.toString());
      }
      // k = 2: single elements (0,2) and (3,0)
      float[] want = data.clone();
      want[2] = -5;
      want[9] = -7;
      assertArrayEquals(want, run(model("ScatterND", 3), Device.host(), Tensor.of(data, 4, 3),
          Tensor.of(new long[] {0, 2, 3, 0}, 2, 2), Tensor.of(new float[] {-5, -7}, 2)));
    }
  }

  @Test
  void scatterElementsIsTheInverseOfGatherElements() {
    float[] data = seq(6);  // [2,3]
    long[] idx = {2, -3, 1, 1};  // [2,2] along axis 1 (-3 is column 0)
    float[] upd = {10, 20, 30, 40};
    try (TensorScope s = new TensorScope()) {
      float[] none = data.clone();
      float[] add = data.clone();
      for (int r = 0; r < 2; r++) {
        for (int j = 0; j < 2; j++) {
          int col = (int) ((idx[r * 2 + j] + 3) % 3);
          none[r * 3 + col] = upd[r * 2 + j];
          add[r * 3 + col] += upd[r * 2 + j];
        }
      }
      none[1 * 3 + 1] = 30 + 40;  // "none" with a duplicate: summed (ONNX leaves it undefined)
      for (Device d : new Device[] {Device.host(), Device.tpu("v5e")}) {
        assertArrayEquals(none, run(model("ScatterElements", 3, attr("axis", 1)), d, Tensor.of(data, 2, 3),
            Tensor.of(idx, 2, 2), Tensor.of(upd, 2, 2)), d.toString());
        assertArrayEquals(add, run(model("ScatterElements", 3, attr("axis", -1), attr("reduction", "add")), d,
            Tensor.of(data, 2, 3), Tensor.of(idx, 2, 2), Tensor.of(upd, 2, 2)), d.toString());
      }
    }
  }

  @Test
  void unsupportedReductionsAndBadShapesAreNamed() {
    OnnxException e = assertThrows(OnnxException.class, () -> model("ScatterND", 3, attr("reduction", "max")));
    assertTrue(e.getMessage().contains("ScatterND(reduction=max)"), e.getMessage());
    try (TensorScope s = new TensorScope(); CompiledFunction f = model("ScatterND", 3).compile(Bucketing.none())) {
      e = assertThrows(OnnxException.class, () -> f.call(Tensor.of(seq(12), 4, 3), Tensor.of(new long[] {1, 2}, 2, 1),
          Tensor.of(seq(4), 2, 2)));
      assertTrue(e.getMessage().contains("ScatterND node 'n'") && e.getMessage().contains("[2, 2]"), e.getMessage());
    }
    try (TensorScope s = new TensorScope(); CompiledFunction f = model("GatherND", 2).compile(Bucketing.none())) {
      e = assertThrows(OnnxException.class, () -> f.call(Tensor.of(seq(6), 2, 3), Tensor.of(new long[] {0, 0, 0}, 1, 3)));
      assertTrue(e.getMessage().contains("GatherND node 'n'") && e.getMessage().contains("[1, 3]"), e.getMessage());
    }
  }
}
