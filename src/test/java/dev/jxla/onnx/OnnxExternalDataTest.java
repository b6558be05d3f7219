package dev.jxla.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jxla.Bucketing;
import dev.jxla.CompiledFunction;
import dev.jxla.Tensor;
import dev.jxla.TensorScope;
import dev.jxla.onnx.proto.Onnx.GraphProto;
import dev.jxla.onnx.proto.Onnx.ModelProto;
import dev.jxla.onnx.proto.Onnx.NodeProto;
import dev.jxla.onnx.proto.Onnx.OperatorSetIdProto;
import dev.jxla.onnx.proto.Onnx.StringStringEntryProto;
import dev.jxla.onnx.proto.Onnx.TensorProto;
import dev.jxla.onnx.proto.Onnx.ValueInfoProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * External data (OnnxExternalData): weights read from a file beside the model give the same
 * results as the same weights inline, and locations that leave the model's directory, missing
 * files and ranges past the end are refused with the tensor and location named.
 */
class OnnxExternalDataTest {
  @TempDir
  Path tmp;

  private static final float[] W = {1, -2, 0.5f, 3, 4, -1};  // [3,2]
  private static final float[] B = {0.25f, -0.75f};

  private static byte[] le(float[] v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : v) {
      b.putFloat(f);
    }
    return b.array();
  }

  private static TensorProto external(String name, long[] dims, String location, Long offset, Long length) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(OnnxTensors.FLOAT).setDataLocation(1)
        .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue(location));
    for (long d : dims) {
      t.addDims(d);
    }
    if (offset != null) {
      t.addExternalData(StringStringEntryProto.newBuilder().setKey("offset").setValue(offset.toString()));
    }
    if (length != null) {
      t.addExternalData(StringStringEntryProto.newBuilder().setKey("length").setValue(length.toString()));
    }
    return t.build();
  }

  /** y = x W + b with the two given initializers. */
  private static byte[] model(TensorProto w, TensorProto b) {
    GraphProto g = GraphProto.newBuilder().addInput(ValueInfoProto.newBuilder().setName("x"))
        .addInitializer(w).addInitializer(b)
        .addNode(NodeProto.newBuilder().setOpType("MatMul").addInput("x").addInput("w").addOutput("xw"))
        .addNode(NodeProto.newBuilder().setOpType("Add").addInput("xw").addInput("b").addOutput("y"))
        .addOutput(ValueInfoProto.newBuilder().setName("y")).build();
    return ModelProto.newBuilder().setIrVersion(9).addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(17))
        .setGraph(g).build().toByteArray();
  }

  private static float[] run(OnnxModel m) {
    try (TensorScope s = new TensorScope(); CompiledFunction f = m.compile(Bucketing.none())) {
      return f.call(Tensor.of(new float[] {1, 2, 3, -1, 0, 2}, 2, 3))[0].toFloatArray();
    }
  }

  private Path write(String name, byte[] bytes) throws Exception {
    Path p = tmp.resolve(name);
    Files.createDirectories(p.getParent());
    Files.write(p, bytes);
    return p;
  }

  @Test
  void externalWeightsGiveTheResultsOfInlineWeights() throws Exception {
    float[] want = run(OnnxModel.parse(model(OnnxTensors.floatTensor("w", W, 3, 2), OnnxTensors.floatTensor("b", B, 2)), "inline"));
    // one file: 16 bytes of padding, W, then B; W with an explicit length, B to the end of the file
    byte[] file = new byte[16 + 24 + 8];
    System.arraycopy(le(W), 0, file, 16, 24);
    System.arraycopy(le(B), 0, file, 40, 8);
    Files.createDirectories(tmp.resolve("m/data"));
    write("m/data/weights.bin", file);
    Path onnx = write("m/model.onnx", model(external("w", new long[] {3, 2}, "data/weights.bin", 16L, 24L),
        external("b", new long[] {2}, "data/weights.bin", 40L, null)));
    assertArrayEquals(want, run(OnnxModel.open(onnx)));
    // the same bytes given as a serialized model have no directory to read from
    OnnxException e = assertThrows(OnnxException.class, () -> OnnxModel.parse(Files.readAllBytes(onnx), "bytes"));
    assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains("directory"), e.getMessage());
  }

  private void refused(String name, TensorProto w, String... fragments) throws Exception {
    Path onnx = write(name + "/model.onnx", model(w, OnnxTensors.floatTensor("b", B, 2)));
    OnnxException e = assertThrows(OnnxException.class, () -> OnnxModel.open(onnx));
    for (String f : fragments) {
      assertTrue(e.getMessage().contains(f), e.getMessage());
    }
  }

  @Test
  void locationsOutsideTheModelsDirectoryMissingFilesAndShortFilesAreRefused() throws Exception {
    write("secret.bin", le(W));
    long[] dims = {3, 2};
    refused("up", external("w", dims, "../secret.bin", null, null), "'w'", "'../secret.bin'", "outside");
    refused("abs", external("w", dims, tmp.resolve("secret.bin").toString(), null, null), "absolute");
    refused("missing", external("w", dims, "nothere.bin", null, null), "'nothere.bin'", "does not exist");
    write("short/w.bin", le(W));
    refused("short", external("w", dims, "w.bin", 8L, 24L), "'w.bin'", "beyond the file's 24 bytes");
    refused("neg", external("w", dims, "w.bin", -4L, null), "offset '-4'");
    // a symbolic link inside the directory that points outside it
    Files.createDirectories(tmp.resolve("link"));
    Files.createSymbolicLink(tmp.resolve("link/w.bin"), tmp.resolve("secret.bin"));
    refused("link", external("w", dims, "w.bin", null, null), "outside");
    // a file of the wrong size for the tensor's shape is the decoder's error, still an OnnxException
    write("size/w.bin", le(B));
    refused("size", external("w", dims, "w.bin", null, null), "'w'");
  }
}
