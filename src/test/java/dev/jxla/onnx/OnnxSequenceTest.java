package dev.jxla.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jxla.Bucketing;
import dev.jxla.CompiledFunction;
import dev.jxla.Device;
import dev.jxla.Tensor;
import dev.jxla.TensorScope;
import dev.jxla.onnx.proto.Onnx.GraphProto;
import dev.jxla.onnx.proto.Onnx.ModelProto;
import dev.jxla.onnx.proto.Onnx.NodeProto;
import dev.jxla.onnx.proto.Onnx.OperatorSetIdProto;
import dev.jxla.onnx.proto.Onnx.OptionalProto;
import dev.jxla.onnx.proto.Onnx.SequenceProto;
import dev.jxla.onnx.proto.Onnx.TypeProto;
import dev.jxla.onnx.proto.Onnx.ValueInfoProto;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sequence and optional values at the model boundary (OnnxBoundary): calls, signatures, load checks, the runner. */
class OnnxSequenceTest {
  @TempDir
  Path tmp;

  private static TypeProto tensorType() {
    return TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(OnnxTensors.FLOAT)).build();
  }

  private static TypeProto seqType() {
    return TypeProto.newBuilder().setSequenceType(TypeProto.Sequence.newBuilder().setElemType(tensorType())).build();
  }

  private static TypeProto optType(TypeProto t) {
    return TypeProto.newBuilder().setOptionalType(TypeProto.Optional.newBuilder().setElemType(t)).build();
  }

  private static ValueInfoProto vi(String name, TypeProto t) {
    return ValueInfoProto.newBuilder().setName(name).setType(t).build();
  }

  private static NodeProto node(String op, String out, String... in) {
    return NodeProto.newBuilder().setOpType(op).addAllInput(List.of(in)).addOutput(out).build();
  }

  private static ModelProto model(GraphProto.Builder g) {
    return ModelProto.newBuilder().setIrVersion(10).addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(21)).setGraph(g).build();
  }

  /** x (tensor), s (sequence), o (optional tensor) -> x+x, Identity(s), Identity(o). */
  private static ModelProto mixed() {
    return model(GraphProto.newBuilder().addInput(vi("x", tensorType())).addInput(vi("s", seqType()))
        .addInput(vi("o", optType(tensorType())))
        .addNode(node("Add", "z", "x", "x")).addNode(node("Identity", "s2", "s")).addNode(node("Identity", "o2", "o"))
        .addOutput(vi("z", tensorType())).addOutput(vi("s2", seqType())).addOutput(vi("o2", optType(tensorType()))));
  }

  @Test
  void sequencesAndOptionalsPassThroughAndEachLayoutIsOneSignature() {
    OnnxModel m = OnnxModel.parse(mixed().toByteArray(), "mixed");
    try (TensorScope scope = new TensorScope(); CompiledFunction f = m.compile(Bucketing.none())) {
      Tensor x = Tensor.of(new float[] {1, -2}, 2);
      Tensor a = Tensor.of(new float[] {3, 4, 5}, 3);
      Tensor b = Tensor.of(new float[] {6}, 1, 1);
      for (int rep = 0; rep < 2; rep++) {
        OnnxValue[] r = m.call(f, OnnxValue.of(x), OnnxValue.sequence(List.of(a, b, a)), OnnxValue.of(b));
        assertArrayEquals(new float[] {2, -4}, r[0].tensor().toFloatArray());
        assertEquals(3, r[1].sequence().size());
        assertArrayEquals(new float[] {3, 4, 5}, r[1].sequence().get(0).toFloatArray());
        assertArrayEquals(new long[] {1, 1}, r[1].sequence().get(1).shape());
        assertArrayEquals(new float[] {6}, r[1].sequence().get(1).toFloatArray());
        assertArrayEquals(new float[] {3, 4, 5}, r[1].sequence().get(2).toFloatArray());
        assertArrayEquals(new float[] {6}, r[2].tensor().toFloatArray());
      }
      assertEquals(1, f.compileCount());
      OnnxValue[] r = m.call(f, OnnxValue.of(x), OnnxValue.sequence(List.of()), OnnxValue.none());
      assertEquals(0, r[1].sequence().size());
      assertTrue(r[2].isNone());
      assertEquals(2, f.compileCount());  // a new layout is a new signature
      r = m.call(f, OnnxValue.of(x), OnnxValue.sequence(List.of(b)), OnnxValue.of(a));
      assertArrayEquals(new float[] {6}, r[1].sequence().get(0).toFloatArray());
      assertArrayEquals(new float[] {3, 4, 5}, r[2].tensor().toFloatArray());
      assertEquals(3, f.compileCount());
      // wrong kinds are rejected before the call
      assertThrows(IllegalArgumentException.class, () -> m.call(f, OnnxValue.of(x), OnnxValue.of(a), OnnxValue.none()));
      assertThrows(IllegalArgumentException.class, () -> m.call(f, OnnxValue.none(), OnnxValue.sequence(List.of()), OnnxValue.none()));
      assertThrows(IllegalArgumentException.class, () -> m.call(f, OnnxValue.of(x)));
    }
  }

  @Test
  void anOptionalOutputOfAPlainModelAndTheEmulatedTpu() {
    // no structured input: the input layout is empty, the output layout says "present"
    ModelProto p = model(GraphProto.newBuilder().addInput(vi("x", tensorType())).addNode(node("Neg", "y", "x"))
        .addOutput(vi("y", optType(tensorType()))));
    OnnxModel m = OnnxModel.parse(p.toByteArray(), "opt-out");
    try (TensorScope scope = new TensorScope(); CompiledFunction f = m.compile(Bucketing.none(), Device.tpu("v5e"))) {
      OnnxValue[] r = m.call(f, OnnxValue.of(Tensor.of(new float[] {1.5f}, 1)));
      assertArrayEquals(new float[] {-1.5f}, r[0].tensor().toFloatArray());
    }
  }

  @Test
  void otherOperatorsOnSequencesAndMismatchedOutputsAreRejectedAtLoad() {
    ModelProto add = model(GraphProto.newBuilder().addInput(vi("s", seqType())).addNode(node("Add", "y", "s", "s"))
        .addOutput(vi("y", tensorType())));
    OnnxException e = assertThrows(OnnxException.class, () -> OnnxModel.parse(add.toByteArray(), "add"));
    assertTrue(e.getMessage().contains("Add on sequence values"), e.getMessage());
    ModelProto asTensor = model(GraphProto.newBuilder().addInput(vi("s", seqType())).addNode(node("Identity", "y", "s"))
        .addOutput(vi("y", tensorType())));
    e = assertThrows(OnnxException.class, () -> OnnxModel.parse(asTensor.toByteArray(), "as-tensor"));
    assertTrue(e.getMessage().contains("graph output 'y' declared TENSOR but computed as SEQUENCE"), e.getMessage());
    ModelProto map = model(GraphProto.newBuilder().addInput(vi("s", TypeProto.getDefaultInstance()))
        .addNode(node("Identity", "y", "s")).addOutput(vi("y", tensorType())));
    e = assertThrows(OnnxException.class, () -> OnnxModel.parse(map.toByteArray(), "map"));
    assertTrue(e.getMessage().contains("is not a tensor, a sequence of tensors or an optional"), e.getMessage());
    ModelProto shape = model(GraphProto.newBuilder().addInput(vi("x", tensorType())).addInput(vi("s", seqType()))
        .addNode(node("Identity", "s2", "s")).addNode(node("Reshape", "y", "x", "s2")).addOutput(vi("y", tensorType())));
    e = assertThrows(OnnxException.class, () -> OnnxModel.parse(shape.toByteArray(), "shape"));
    assertTrue(e.getMessage().contains("Reshape on sequence values"), e.getMessage());
  }

  private Path writeSeqTest(String name, float[][] in, float[][] out, boolean optional) throws Exception {
    Path d = tmp.resolve(name);
    Files.createDirectories(d.resolve("test_data_set_0"));
    TypeProto t = optional ? optType(seqType()) : seqType();
    Files.write(d.resolve("model.onnx"), model(GraphProto.newBuilder().addInput(vi("s", t)).addNode(node("Identity", "y", "s"))
        .addOutput(vi("y", t))).toByteArray());
    Files.write(d.resolve("test_data_set_0/input_0.pb"), data(in, optional));
    Files.write(d.resolve("test_data_set_0/output_0.pb"), data(out, optional));
    return d;
  }

  private static byte[] data(float[][] ts, boolean optional) {
    if (ts == null) {
      return OptionalProto.newBuilder().setElemType(0).build().toByteArray();
    }
    SequenceProto.Builder s = SequenceProto.newBuilder().setElemType(1);
    for (float[] v : ts) {
      s.addTensorValues(OnnxTensors.floatTensor("", v, v.length));
    }
    return optional ? OptionalProto.newBuilder().setElemType(3).setSequenceValue(s).build().toByteArray() : s.build().toByteArray();
  }

  @Test
  void theRunnerComparesSequencesAndOptionals() throws Exception {
    float[][] two = {{1, 2}, {3}};
    assertTrue(Conformance.run(writeSeqTest("test_seq_ok", two, two, false)).passed);
    Conformance.Result v = Conformance.run(writeSeqTest("test_seq_value", two, new float[][] {{1, 2}, {4}}, false));
    assertFalse(v.passed);
    assertTrue(v.detail.contains("tensor 1: element 0 is 3.0, expected 4.0"), v.detail);
    Conformance.Result n = Conformance.run(writeSeqTest("test_seq_len", two, new float[][] {{1, 2}}, false));
    assertFalse(n.passed);
    assertTrue(n.detail.contains("sequence of 2, expected sequence of 1"), n.detail);
    assertTrue(Conformance.run(writeSeqTest("test_opt_ok", two, two, true)).passed);
    assertTrue(Conformance.run(writeSeqTest("test_opt_none", null, null, true)).passed);
    Conformance.Result o = Conformance.run(writeSeqTest("test_opt_bad", two, null, true));
    assertFalse(o.passed);
    assertTrue(o.detail.contains("sequence of 2, expected none"), o.detail);
  }
}
