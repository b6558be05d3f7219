package dev.jxla.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jxla.Bucketing;
import dev.jxla.CompiledFunction;
import dev.jxla.Device;
import dev.jxla.Tensor;
import dev.jxla.TensorScope;
import dev.jxla.cli.ConformanceCommand;
import dev.jxla.onnx.proto.Onnx.AttributeProto;
import dev.jxla.onnx.proto.Onnx.GraphProto;
import dev.jxla.onnx.proto.Onnx.ModelProto;
import dev.jxla.onnx.proto.Onnx.NodeProto;
import dev.jxla.onnx.proto.Onnx.OperatorSetIdProto;
import dev.jxla.onnx.proto.Onnx.TensorProto;
import dev.jxla.onnx.proto.Onnx.TypeProto;
import dev.jxla.onnx.proto.Onnx.ValueInfoProto;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Loop, Scan and If (OnnxControlFlow): unrolling with loop-carried and scan outputs, while loops,
 * trip counts and conditions that make graph inputs static, If on known and on data-dependent
 * conditions, load-time checks inside bodies, and the two Range `_expanded` node tests (a Loop).
 * Expected values are closed forms on small integers, so float results are exact.
 */
class OnnxControlFlowTest {
  private static final int FLOAT = OnnxTensors.FLOAT;
  private static final int INT64 = 7;
  private static final int BOOL = 9;

  private static ValueInfoProto vi(String name, int elem) {
    return ValueInfoProto.newBuilder().setName(name)
        .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(elem))).build();
  }

  private static NodeProto node(String op, String out, String... in) {
    return NodeProto.newBuilder().setOpType(op).addAllInput(List.of(in)).addOutput(out).build();
  }

  private static NodeProto castTo(int to, String out, String in) {
    return node("Cast", out, in).toBuilder().addAttribute(AttributeProto.newBuilder().setName("to").setI(to)
        .setType(AttributeProto.AttributeType.INT)).build();
  }

  private static NodeProto constant(String out, int elem, long value) {
    TensorProto.Builder t = TensorProto.newBuilder().setDataType(elem);
    if (elem == INT64) {
      t.addInt64Data(value);
    } else {
      t.addInt32Data((int) value);
    }
    return NodeProto.newBuilder().setOpType("Constant").addOutput(out).addAttribute(AttributeProto.newBuilder()
        .setName("value").setT(t).setType(AttributeProto.AttributeType.TENSOR)).build();
  }

  private static AttributeProto graphAttr(String name, GraphProto.Builder g) {
    return AttributeProto.newBuilder().setName(name).setG(g).setType(AttributeProto.AttributeType.GRAPH).build();
  }

  private static NodeProto loop(List<String> in, List<String> out, GraphProto.Builder body) {
    return NodeProto.newBuilder().setOpType("Loop").setName("the_loop").addAllInput(in).addAllOutput(out)
        .addAttribute(graphAttr("body", body)).build();
  }

  private static OnnxModel parse(GraphProto.Builder g) {
    ModelProto m = ModelProto.newBuilder().setIrVersion(10).addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(21))
        .setGraph(g).build();
    return OnnxModel.parse(m.toByteArray(), "cf");
  }

  /** Body (i, c, s) -> (c, s + x, (s + x) * i): x read from the enclosing graph. */
  private static GraphProto.Builder accumulateBody() {
    return GraphProto.newBuilder().addInput(vi("i", INT64)).addInput(vi("c", BOOL)).addInput(vi("s", FLOAT))
        .addNode(node("Identity", "c_out", "c")).addNode(node("Add", "s2", "s", "x"))
        .addNode(castTo(FLOAT, "fi", "i")).addNode(node("Mul", "scan", "s2", "fi"))
        .addOutput(vi("c_out", BOOL)).addOutput(vi("s2", FLOAT)).addOutput(vi("scan", FLOAT));
  }

  private static GraphProto.Builder constLoopGraph() {
    return GraphProto.newBuilder().addInput(vi("x", FLOAT)).addNode(constant("m", INT64, 4))
        .addNode(loop(List.of("m", "", "x"), List.of("y", "ys"), accumulateBody()))
        .addOutput(vi("y", FLOAT)).addOutput(vi("ys", FLOAT));
  }

  @Test
  void aLoopWithAConstantTripCountIsUnrolledWithCarriedAndScanOutputs() {
    GraphProto.Builder g = constLoopGraph();
    for (Device d : new Device[] {Device.host(), Device.tpu("v5e")}) {
      try (TensorScope scope = new TensorScope(); CompiledFunction f = parse(g).compile(Bucketing.none(), d)) {
        for (float[] x : new float[][] {{1, -2, 3}, {5, 0, -1}}) {
          Tensor[] r = f.call(Tensor.of(x, 3));
          // s_i = (i + 1) x; iteration i makes s_{i+1} = (i + 2) x and scans (i + 2) x * i
          float[] y = new float[3];
          float[] ys = new float[12];
          for (int j = 0; j < 3; j++) {
            y[j] = 5 * x[j];
            for (int i = 0; i < 4; i++) {
              ys[i * 3 + j] = (i + 2) * x[j] * i;
            }
          }
          assertArrayEquals(y, r[0].toFloatArray(), d.toString());
          assertArrayEquals(new long[] {4, 3}, r[1].shape());
          assertArrayEquals(ys, r[1].toFloatArray(), d.toString());
        }
        assertEquals(1, f.compileCount());  // x stays a dynamic input: new values reuse the executable
      }
    }
  }

  @Test
  void aWhileLoopStopsOnTheConditionTheBodyComputes() {
    // no trip count; the body's condition is i < 2, so iterations 0, 1 and 2 run
    GraphProto.Builder body = GraphProto.newBuilder().addInput(vi("i", INT64)).addInput(vi("c", BOOL)).addInput(vi("s", FLOAT))
        .addNode(constant("two", INT64, 2)).addNode(node("Less", "c_out", "i", "two")).addNode(node("Add", "s2", "s", "x"))
        .addOutput(vi("c_out", BOOL)).addOutput(vi("s2", FLOAT));
    GraphProto.Builder g = GraphProto.newBuilder().addInput(vi("x", FLOAT)).addNode(constant("t", BOOL, 1))
        .addNode(loop(List.of("", "t", "x"), List.of("y"), body)).addOutput(vi("y", FLOAT));
    try (TensorScope scope = new TensorScope(); CompiledFunction f = parse(g).compile(Bucketing.none())) {
      assertArrayEquals(new float[] {4, -8}, f.call(Tensor.of(new float[] {1, -2}, 2))[0].toFloatArray());
    }
  }

  @Test
  void aTripCountFromAGraphInputMakesThatInputStatic() {
    GraphProto.Builder g = GraphProto.newBuilder().addInput(vi("n", INT64)).addInput(vi("x", FLOAT))
        .addNode(loop(List.of("n", "", "x"), List.of("y", "ys"), accumulateBody()))
        .addOutput(vi("y", FLOAT)).addOutput(vi("ys", FLOAT));
    try (TensorScope scope = new TensorScope(); CompiledFunction f = parse(g).compile(Bucketing.none())) {
      Tensor x = Tensor.of(new float[] {1, 2}, 2);
      for (long n : new long[] {2, 5, 2}) {
        Tensor[] r = f.call(Tensor.of(new long[] {n}, new long[0]), x);
        assertArrayEquals(new float[] {n + 1, 2 * (n + 1)}, r[0].toFloatArray(), "n=" + n);
        assertArrayEquals(new long[] {n, 2}, r[1].shape());
      }
      assertEquals(2, f.compileCount());  // n = 2 and n = 5
      // zero iterations: the loop-carried output is the initial value, the scan output is empty
      Tensor[] r = f.call(Tensor.of(new long[] {0}, new long[0]), x);
      assertArrayEquals(new float[] {1, 2}, r[0].toFloatArray());
      assertArrayEquals(new long[] {0, 2}, r[1].shape());
    }
  }

  @Test
  void aConditionOnALoopCarriedValueMakesEveryInputItComesFromStatic() {
    // carried (a, b) = (x, y); each iteration: condition sum(a) < 10, a <- b, b <- b + b. The
    // condition reads a, whose next value is b: both x and y must be known (the back edge).
    GraphProto.Builder body = GraphProto.newBuilder().addInput(vi("i", INT64)).addInput(vi("c", BOOL))
        .addInput(vi("a", FLOAT)).addInput(vi("b", FLOAT))
        .addNode(node("ReduceSum", "total", "a")).addNode(node("Less", "c_out", "total", "ten"))
        .addNode(node("Identity", "a2", "b")).addNode(node("Add", "b2", "b", "b"))
        .addOutput(vi("c_out", BOOL)).addOutput(vi("a2", FLOAT)).addOutput(vi("b2", FLOAT));
    GraphProto.Builder g = GraphProto.newBuilder().addInput(vi("x", FLOAT)).addInput(vi("y", FLOAT))
        .addNode(constant("t", BOOL, 1)).addNode(constant("ten_i", INT64, 10)).addNode(castTo(FLOAT, "ten", "ten_i"))
        .addNode(loop(List.of("", "t", "x", "y"), List.of("ya", "yb"), body))
        .addOutput(vi("ya", FLOAT)).addOutput(vi("yb", FLOAT));
    try (TensorScope scope = new TensorScope(); CompiledFunction f = parse(g).compile(Bucketing.none())) {
      Tensor x = Tensor.of(new float[] {1, 1}, 2);
      for (int rep = 0; rep < 2; rep++) {
        // y = [1,2]: sum(a) = 2, 3, 6, 12 -> four iterations; a = b_3 = [8,16], b = [16,32]
        Tensor[] r = f.call(x, Tensor.of(new float[] {1, 2}, 2));
        assertArrayEquals(new float[] {8, 16}, r[0].toFloatArray());
        assertArrayEquals(new float[] {16, 32}, r[1].toFloatArray());
        // y = [3,3]: sum(a) = 2, 6, 12 -> three iterations
        r = f.call(x, Tensor.of(new float[] {3, 3}, 2));
        assertArrayEquals(new float[] {12, 12}, r[0].toFloatArray());
        assertArrayEquals(new float[] {24, 24}, r[1].toFloatArray());
      }
      assertEquals(2, f.compileCount());  // one per value of the static inputs
    }
  }

  private static GraphProto.Builder ifModel(String condSource, NodeProto thenNode) {
    GraphProto.Builder then = GraphProto.newBuilder().addNode(thenNode).addOutput(vi("t_out", FLOAT));
    GraphProto.Builder other = GraphProto.newBuilder().addNode(node("Neg", "e_out", "x")).addOutput(vi("e_out", FLOAT));
    NodeProto iff = NodeProto.newBuilder().setOpType("If").setName("the_if").addInput(condSource).addOutput("y")
        .addAttribute(graphAttr("then_branch", then)).addAttribute(graphAttr("else_branch", other)).build();
    return GraphProto.newBuilder().addInput(vi("x", FLOAT)).addNode(iff).addOutput(vi("y", FLOAT));
  }

  @Test
  void anIfOnDataSelectsBetweenBothBranchesInOneExecutable() {
    GraphProto.Builder g = ifModel("c", node("Add", "t_out", "x", "x"));
    g.addInput(vi("c", BOOL));
    try (TensorScope scope = new TensorScope(); CompiledFunction f = parse(g).compile(Bucketing.none())) {
      Tensor x = Tensor.of(new float[] {1, -3}, 2);
      assertArrayEquals(new float[] {2, -6}, f.call(x, Tensor.of(new boolean[] {true}, new long[0]))[0].toFloatArray());
      assertArrayEquals(new float[] {-1, 3}, f.call(x, Tensor.of(new boolean[] {false}, new long[0]))[0].toFloatArray());
      assertEquals(1, f.compileCount());
    }
  }

  @Test
  void anIfOnAKnownConditionTracesOnlyTheBranchTaken() {
    NodeProto concat = node("Concat", "t_out", "x", "x").toBuilder().addAttribute(AttributeProto.newBuilder()
        .setName("axis").setI(0).setType(AttributeProto.AttributeType.INT)).build();
    for (long c : new long[] {0, 1}) {
      GraphProto.Builder g = ifModel("c", concat);
      g.addNode(0, constant("c", BOOL, c));
      try (TensorScope scope = new TensorScope(); CompiledFunction f = parse(g).compile(Bucketing.none())) {
        float[] y = f.call(Tensor.of(new float[] {1, -3}, 2))[0].toFloatArray();
        assertArrayEquals(c == 1 ? new float[] {1, -3, 1, -3} : new float[] {-1, 3}, y);
      }
    }
    // the same branches on a data condition cannot be selected elementwise: shapes [4] and [2]
    GraphProto.Builder g = ifModel("c", concat);
    g.addInput(vi("c", BOOL));
    try (TensorScope scope = new TensorScope(); CompiledFunction f = parse(g).compile(Bucketing.none())) {
      OnnxException e = assertThrows(OnnxException.class,
          () -> f.call(Tensor.of(new float[] {1, -3}, 2), Tensor.of(new boolean[] {true}, new long[0])));
      assertTrue(e.getMessage().contains("If node 'the_if'") && e.getMessage().contains("[4]")
          && e.getMessage().contains("[2]"), e.getMessage());
    }
  }

  @Test
  void loadChecksReachInsideBodies() {
    GraphProto.Builder body = accumulateBody().addNode(node("FancyOp", "z", "s"));
    GraphProto.Builder g = GraphProto.newBuilder().addInput(vi("x", FLOAT)).addNode(constant("m", INT64, 2))
        .addNode(loop(List.of("m", "", "x"), List.of("y", "ys"), body)).addNode(node("OtherOp", "w", "y"))
        .addOutput(vi("w", FLOAT));
    OnnxException e = assertThrows(OnnxException.class, () -> parse(g));
    assertTrue(e.getMessage().contains("FancyOp") && e.getMessage().contains("OtherOp"), e.getMessage());
    // a body that reads a value nobody defines
    GraphProto.Builder undefined = GraphProto.newBuilder().addInput(vi("x", FLOAT)).addNode(constant("m", INT64, 2))
        .addNode(loop(List.of("m", "", "x"), List.of("y", "ys"),
            accumulateBody().setNode(1, node("Add", "s2", "s", "nowhere"))))
        .addOutput(vi("y", FLOAT));
    e = assertThrows(OnnxException.class, () -> parse(undefined));
    assertTrue(e.getMessage().contains("'nowhere'"), e.getMessage());
    // a body whose inputs do not match the loop-carried values
    GraphProto.Builder malformed = GraphProto.newBuilder().addInput(vi("x", FLOAT)).addNode(constant("m", INT64, 2))
        .addNode(loop(List.of("m", "", "x", "x"), List.of("y", "ys"), accumulateBody())).addOutput(vi("y", FLOAT));
    e = assertThrows(OnnxException.class, () -> parse(malformed));
    assertTrue(e.getMessage().contains("Loop(malformed"), e.getMessage());
    // an endless loop cannot be unrolled
    GraphProto.Builder endless = GraphProto.newBuilder().addInput(vi("x", FLOAT))
        .addNode(loop(List.of("", "", "x"), List.of("y", "ys"), accumulateBody())).addOutput(vi("y", FLOAT));
    e = assertThrows(OnnxException.class, () -> parse(endless));
    assertTrue(e.getMessage().contains("endless"), e.getMessage());
  }

  @Test
  void aTripCountAboveTheUnrollLimitFailsAtTraceAndTheFunctionStaysUsable() {
    GraphProto.Builder g = GraphProto.newBuilder().addInput(vi("n", INT64)).addInput(vi("x", FLOAT))
        .addNode(loop(List.of("n", "", "x"), List.of("y", "ys"), accumulateBody()))
        .addOutput(vi("y", FLOAT)).addOutput(vi("ys", FLOAT));
    try (TensorScope scope = new TensorScope(); CompiledFunction f = parse(g).compile(Bucketing.none())) {
      Tensor x = Tensor.of(new float[] {1}, 1);
      OnnxException e = assertThrows(OnnxException.class,
          () -> f.call(Tensor.of(new long[] {OnnxControlFlow.MAX_UNROLL + 1}, new long[0]), x));
      assertTrue(e.getMessage().contains("Loop node 'the_loop'") && e.getMessage().contains("4097"), e.getMessage());
      assertArrayEquals(new float[] {4}, f.call(Tensor.of(new long[] {3}, new long[0]), x)[0].toFloatArray());
    }
  }

  private static NodeProto scanNode(List<String> in, List<String> out, GraphProto.Builder body, long m, String ints) {
    NodeProto.Builder b = NodeProto.newBuilder().setOpType("Scan").setName("the_scan").addAllInput(in).addAllOutput(out)
        .addAttribute(graphAttr("body", body)).addAttribute(AttributeProto.newBuilder().setName("num_scan_inputs").setI(m)
            .setType(AttributeProto.AttributeType.INT));
    for (String spec : ints.split(";")) {  // "name=v,v"
      if (spec.isEmpty()) {
        continue;
      }
      AttributeProto.Builder at = AttributeProto.newBuilder().setName(spec.split("=")[0]).setType(AttributeProto.AttributeType.INTS);
      for (String v : spec.split("=")[1].split(",")) {
        at.addInts(Long.parseLong(v));
      }
      b.addAttribute(at);
    }
    return b.build();
  }

  /**
   * State s [2]; scan inputs x [4,2] along axis 0 forward and y [2,4] along axis -1 backward;
   * body: s2 = s + x_t * y_t; outputs s2 (stacked on axis 0, forward) and x_t (on axis 1, backward).
   */
  private static GraphProto.Builder scanGraph() {
    GraphProto.Builder body = GraphProto.newBuilder().addInput(vi("s", FLOAT)).addInput(vi("xt", FLOAT)).addInput(vi("yt", FLOAT))
        .addNode(node("Mul", "p", "xt", "yt")).addNode(node("Add", "s2", "s", "p")).addNode(node("Identity", "xo", "xt"))
        .addOutput(vi("s2", FLOAT)).addOutput(vi("s2", FLOAT)).addOutput(vi("xo", FLOAT));
    return GraphProto.newBuilder().addInput(vi("s0", FLOAT)).addInput(vi("x", FLOAT)).addInput(vi("y", FLOAT))
        .addNode(scanNode(List.of("s0", "x", "y"), List.of("s_final", "sums", "xs"), body, 2,
            "scan_input_axes=0,-1;scan_input_directions=0,1;scan_output_axes=0,1;scan_output_directions=0,1"))
        .addOutput(vi("s_final", FLOAT)).addOutput(vi("sums", FLOAT)).addOutput(vi("xs", FLOAT));
  }

  @Test
  void aScanIsUnrolledOverAxesAndDirections() {
    GraphProto.Builder g = scanGraph();
    float[] s0 = {1, -1};
    float[] x = {1, 2, 3, 4, 5, 6, 7, 8};  // [4,2]
    float[] y = {1, 2, 3, 4, -1, 0, 2, 1};  // [2,4]
    // naive reference: step t reads x[t, :] and y[:, 3 - t]
    float[] s = s0.clone();
    float[] sums = new float[8];
    float[] xs = new float[8];  // [2,4]: column c holds x_t of step 3 - c
    for (int t = 0; t < 4; t++) {
      for (int j = 0; j < 2; j++) {
        s[j] += x[t * 2 + j] * y[j * 4 + (3 - t)];
        sums[t * 2 + j] = s[j];
        xs[j * 4 + (3 - t)] = x[t * 2 + j];
      }
    }
    for (Device d : new Device[] {Device.host(), Device.tpu("v5e")}) {
      try (TensorScope scope = new TensorScope(); CompiledFunction f = parse(g).compile(Bucketing.none(), d)) {
        Tensor[] r = f.call(Tensor.of(s0, 2), Tensor.of(x, 4, 2), Tensor.of(y, 2, 4));
        assertArrayEquals(s, r[0].toFloatArray(), d.toString());
        assertArrayEquals(new long[] {4, 2}, r[1].shape());
        assertArrayEquals(sums, r[1].toFloatArray(), d.toString());
        assertArrayEquals(new long[] {2, 4}, r[2].shape());
        assertArrayEquals(xs, r[2].toFloatArray(), d.toString());
      }
    }
    // scan inputs of different lengths fail at trace, naming the node and both lengths
    try (TensorScope scope = new TensorScope(); CompiledFunction f = parse(g).compile(Bucketing.none())) {
      OnnxException e = assertThrows(OnnxException.class,
          () -> f.call(Tensor.of(s0, 2), Tensor.of(x, 4, 2), Tensor.of(new float[6], 2, 3)));
      assertTrue(e.getMessage().contains("Scan node 'the_scan'") && e.getMessage().contains("4 and 3"), e.getMessage());
    }
  }

  /** Truncated and bit-flipped Loop, Scan and If models: load and call throw exceptions, never crash or hang. */
  @Test
  void fuzzedControlFlowModelsOnlyThrow() {
    GraphProto.Builder ifData = ifModel("c", node("Add", "t_out", "x", "x"));
    ifData.addInput(vi("c", BOOL));
    List<GraphProto.Builder> graphs = List.of(constLoopGraph(), scanGraph(), ifData);
    java.util.Random r = new java.util.Random(7);
    int rejected = 0, ran = 0;
    for (int it = 0; it < 450; it++) {
      GraphProto.Builder g = graphs.get(it % 3);
      byte[] good = ModelProto.newBuilder().setIrVersion(10).addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(21))
          .setGraph(g).build().toByteArray();
      byte[] b = good.clone();
      if (it % 4 == 0) {
        b = java.util.Arrays.copyOf(good, r.nextInt(good.length));
      } else {
        for (int k = 1 + r.nextInt(2); k > 0; k--) {
          int pos = r.nextInt(b.length);
          b[pos] ^= (byte) (1 << r.nextInt(8));
        }
      }
      try (TensorScope scope = new TensorScope()) {
        OnnxModel m = OnnxModel.parse(b, "cf-fuzz#" + it);
        try (CompiledFunction f = m.compile(Bucketing.none())) {
          Tensor[] in = switch (it % 3) {
            case 0 -> new Tensor[] {Tensor.of(new float[] {1, 2, 3}, 3)};
            case 1 -> new Tensor[] {Tensor.of(new float[2], 2), Tensor.of(new float[8], 4, 2), Tensor.of(new float[8], 2, 4)};
            default -> new Tensor[] {Tensor.of(new float[2], 2), Tensor.of(new boolean[] {true}, new long[0])};
          };
          f.call(in);
          ran++;
        } catch (RuntimeException e) {
          // a model that loads may still be wrong for these inputs: an exception with a message is fine
          assertTrue(e.getMessage() != null && !e.getMessage().isEmpty(), e.toString());
        }
      } catch (OnnxException e) {
        rejected++;
        assertTrue(e.getMessage().startsWith("cf-fuzz#" + it), e.getMessage());
      }
    }
    assertTrue(rejected > 50 && ran > 20, "rejected " + rejected + ", ran " + ran);
  }

  @Test
  void aBodyInitializerIsDecodedOnceAndReadEveryIteration() {
    // body: s2 = s + one, with `one` an initializer of the body itself; M = 3
    GraphProto.Builder body = GraphProto.newBuilder().addInput(vi("i", INT64)).addInput(vi("c", BOOL)).addInput(vi("s", FLOAT))
        .addInitializer(OnnxTensors.floatTensor("one", new float[] {1, 10}, 2))
        .addNode(node("Identity", "c_out", "c")).addNode(node("Add", "s2", "s", "one"))
        .addOutput(vi("c_out", BOOL)).addOutput(vi("s2", FLOAT));
    GraphProto.Builder g = GraphProto.newBuilder().addInput(vi("x", FLOAT)).addNode(constant("m", INT64, 3))
        .addNode(loop(List.of("m", "", "x"), List.of("y"), body)).addOutput(vi("y", FLOAT));
    try (TensorScope scope = new TensorScope(); CompiledFunction f = parse(g).compile(Bucketing.none())) {
      assertArrayEquals(new float[] {3, 30}, f.call(Tensor.of(new float[] {0, 0}, 2))[0].toFloatArray());
      assertArrayEquals(new float[] {4, 28}, f.call(Tensor.of(new float[] {1, -2}, 2))[0].toFloatArray());
      assertEquals(1, f.compileCount());
    }
  }

  @Test
  void theRangeExpandedNodeTestsPassOnBothDevices() {
    Path root = ConformanceCommand.locate();
    assertTrue(root != null, "the ONNX node tests were not found at " + ConformanceCommand.DEFAULT_DIR);
    for (String t : new String[] {"test_range_float_type_positive_delta_expanded", "test_range_bfloat16_type_positive_delta_expanded"}) {
      for (Device d : new Device[] {Device.host(), Device.tpu("v5e")}) {
        Conformance.Result r = Conformance.run(root.resolve(t), d);
        assertTrue(r.passed, t + " on " + d + ": " + r.detail);
      }
    }
  }
}
