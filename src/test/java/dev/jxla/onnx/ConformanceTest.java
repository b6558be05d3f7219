package dev.jxla.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jxla.cli.ConformanceCommand;
import dev.jxla.onnx.proto.Onnx.GraphProto;
import dev.jxla.onnx.proto.Onnx.ModelProto;
import dev.jxla.onnx.proto.Onnx.NodeProto;
import dev.jxla.onnx.proto.Onnx.OperatorSetIdProto;
import dev.jxla.onnx.proto.Onnx.ValueInfoProto;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ONNX node-test conformance runner: its own pass/fail logic, then the whole suite on the host. */
class ConformanceTest {
  /** Floor of the measured host pass rate (436 of 458 on 2026-11-27); raise it as support grows. */
  static final double MIN_PASS_RATE = 0.95;

  @TempDir
  Path tmp;

  private Path writeTest(String name, float[] in, float[] out) throws Exception {
    Path d = tmp.resolve(name);
    Files.createDirectories(d.resolve("test_data_set_0"));
    GraphProto g = GraphProto.newBuilder().addInput(ValueInfoProto.newBuilder().setName("x"))
        .addNode(NodeProto.newBuilder().setOpType("Abs").addInput("x").addOutput("y"))
        .addOutput(ValueInfoProto.newBuilder().setName("y")).build();
    ModelProto m = ModelProto.newBuilder().setIrVersion(8).addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13))
        .setGraph(g).build();
    Files.write(d.resolve("model.onnx"), m.toByteArray());
    Files.write(d.resolve("test_data_set_0/input_0.pb"), OnnxTensors.floatTensor("x", in, in.length).toByteArray());
    Files.write(d.resolve("test_data_set_0/output_0.pb"), OnnxTensors.floatTensor("y", out, out.length).toByteArray());
    return d;
  }

  @Test
  void runnerPassesACorrectTestAndFailsAWrongOne() throws Exception {
    Conformance.Result ok = Conformance.run(writeTest("test_abs_ok", new float[] {-1, 2, -3}, new float[] {1, 2, 3}));
    assertTrue(ok.passed, ok.toString());
    // 3.01 vs 3: 0.01 > atol 1e-7 + rtol 1e-3 * 3
    Conformance.Result bad = Conformance.run(writeTest("test_abs_bad", new float[] {-1, 2, -3}, new float[] {1, 2, 3.01f}));
    assertFalse(bad.passed);
    assertTrue(bad.detail.contains("element 2"), bad.detail);
    // within tolerance: 3.002 vs 3 + 1e-3 * 3.002
    assertTrue(Conformance.run(writeTest("test_abs_tol", new float[] {-3}, new float[] {3.002f})).passed);
    Conformance.Result shape = Conformance.run(writeTest("test_abs_shape", new float[] {-1, 2}, new float[] {1, 2, 0}));
    assertFalse(shape.passed);
    assertTrue(shape.detail.contains("shape"), shape.detail);
    Files.write(tmp.resolve("test_abs_ok/model.onnx"), new byte[] {1, 2, 3});
    Conformance.Result broken = Conformance.run(tmp.resolve("test_abs_ok"));
    assertFalse(broken.passed);
    assertTrue(broken.detail.contains("OnnxException"), broken.detail);
  }

  @Test
  void onnxNodeTestsOnTheHost() throws Exception {
    Path dir = ConformanceCommand.locate();
    assertNotNull(dir, "the ONNX node tests were not found at " + ConformanceCommand.DEFAULT_DIR);
    List<Conformance.Result> rs = Conformance.runAll(dir, null);
    int pass = 0;
    StringBuilder report = new StringBuilder();
    for (Conformance.Result r : rs) {
      pass += r.passed ? 1 : 0;
      report.append(r).append('\n');
    }
    System.out.print(report);
    System.out.printf("conformance (host): %d of %d ONNX node tests pass (%.1f%%)%n", pass, rs.size(), 100.0 * pass / rs.size());
    assertEquals(458, rs.size());
    assertTrue(pass >= MIN_PASS_RATE * rs.size(), pass + " of " + rs.size() + " pass, below " + MIN_PASS_RATE);
  }
}
