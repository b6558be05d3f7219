package dev.jxla.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jxla.Bucketing;
import dev.jxla.CompiledFunction;
import dev.jxla.Tensor;
import dev.jxla.TensorScope;
import dev.jxla.onnx.proto.Onnx.AttributeProto;
import dev.jxla.onnx.proto.Onnx.GraphProto;
import dev.jxla.onnx.proto.Onnx.ModelProto;
import dev.jxla.onnx.proto.Onnx.NodeProto;
import dev.jxla.onnx.proto.Onnx.OperatorSetIdProto;
import dev.jxla.onnx.proto.Onnx.TensorProto;
import dev.jxla.onnx.proto.Onnx.TypeProto;
import dev.jxla.onnx.proto.Onnx.ValueInfoProto;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * QuantizeLinear / DequantizeLinear (OnnxQuant) against the spec's formulas written out in Java
 * (Math.rint is round half to even): per tensor with ties and saturation, per axis, blocked,
 * output_dtype without a zero point, a QDQ MatMul chain, and the refusals.
 */
class OnnxQuantTest {
  private static ValueInfoProto vi(String name, int elem) {
    return ValueInfoProto.newBuilder().setName(name)
        .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(elem))).build();
  }

  private static TensorProto ints(String name, int type, long[] v, long... dims) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(type);
    for (long d : dims) {
      t.addDims(d);
    }
    for (long x : v) {
      t.addInt32Data((int) x);
    }
    return t.build();
  }

  private static NodeProto node(String op, String out, List<String> in, AttributeProto... attrs) {
    return NodeProto.newBuilder().setOpType(op).setName(op.toLowerCase()).addAllInput(in).addOutput(out)
        .addAllAttribute(List.of(attrs)).build();
  }

  private static AttributeProto attr(String name, long v) {
    return AttributeProto.newBuilder().setName(name).setI(v).setType(AttributeProto.AttributeType.INT).build();
  }

  private static OnnxModel parse(GraphProto.Builder g, int opset) {
    return OnnxModel.parse(ModelProto.newBuilder().setIrVersion(10)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(opset)).setGraph(g).build().toByteArray(), "q");
  }

  private static long[] call(OnnxModel m, Tensor x) {
    try (CompiledFunction f = m.compile(Bucketing.none())) {
      return f.call(x)[0].toLongArray();
    }
  }

  /** saturate(rint(x / s) + z) into [lo, hi]. */
  private static long q(float x, float s, long z, long lo, long hi) {
    return Math.max(lo, Math.min(hi, (long) Math.rint(x / s) + z));
  }

  @Test
  void perTensorUint8RoundsHalfToEvenAndSaturates() {
    float[] x = {0, 1.25f, 1.75f, -1.25f, 2.25f, 1000, -1000, 63.4f};  // x / 0.5: ties 2.5, 3.5, -2.5, 4.5
    GraphProto.Builder g = GraphProto.newBuilder().addInput(vi("x", OnnxTensors.FLOAT))
        .addInitializer(OnnxTensors.floatTensor("s", new float[] {0.5f}))
        .addInitializer(ints("z", OnnxTensors.UINT8, new long[] {128}))
        .addNode(node("QuantizeLinear", "y", List.of("x", "s", "z"))).addOutput(vi("y", OnnxTensors.UINT8));
    long[] want = new long[x.length];
    for (int i = 0; i < x.length; i++) {
      want[i] = q(x[i], 0.5f, 128, 0, 255);
    }
    try (TensorScope scope = new TensorScope()) {
      OnnxModel m = parse(g, 13);
      assertEquals(OnnxTensors.UINT8, m.outputType(0));
      long[] got = call(m, Tensor.of(x, x.length));
      assertArrayEquals(want, got);
      assertArrayEquals(new long[] {128, 130, 132, 126, 132, 255, 0, 255}, got);  // the ties, written out
    }
  }

  @Test
  void perAxisInt8QuantizeAndDequantize() {
    float[] x = {-3, 0.4f, 7, 100, -0.6f, 2.5f};  // [2,3], scales and zero points along axis 1
    float[] s = {0.5f, 0.2f, 0.05f};
    long[] z = {-1, 3, 0};
    GraphProto.Builder g = GraphProto.newBuilder().addInput(vi("x", OnnxTensors.FLOAT))
        .addInitializer(OnnxTensors.floatTensor("s", s, 3)).addInitializer(ints("z", OnnxTensors.INT8, z, 3))
        .addNode(node("QuantizeLinear", "y", List.of("x", "s", "z"), attr("axis", 1)))
        .addNode(node("DequantizeLinear", "d", List.of("y", "s", "z"), attr("axis", 1)))
        .addOutput(vi("y", OnnxTensors.INT8)).addOutput(vi("d", OnnxTensors.FLOAT));
    long[] wantQ = new long[6];
    float[] wantD = new float[6];
    for (int i = 0; i < 6; i++) {
      int c = i % 3;
      wantQ[i] = q(x[i], s[c], z[c], -128, 127);
      wantD[i] = (wantQ[i] - z[c]) * s[c];
    }
    try (TensorScope scope = new TensorScope(); CompiledFunction f = parse(g, 13).compile(Bucketing.none())) {
      Tensor[] r = f.call(Tensor.of(x, 2, 3));
      assertArrayEquals(wantQ, r[0].toLongArray());
      assertArrayEquals(wantD, r[1].toFloatArray());  // (q - z) * s is one rounding in f32 and in Java float
    }
  }

  @Test
  void blockedScalesAndOutputDtypeWithoutZeroPoint() {
    // opset 21: x [2,5], scale [2,3] along axis 1 with block_size 2 (columns 0-1, 2-3, 4), int8 via output_dtype
    float[] x = {1, 2, 3, 4, 5, -1, -2, -3, -4, -5};
    float[] s = {0.5f, 0.25f, 2, 1, 0.1f, 0.3f};
    GraphProto.Builder g = GraphProto.newBuilder().addInput(vi("x", OnnxTensors.FLOAT))
        .addInitializer(OnnxTensors.floatTensor("s", s, 2, 3))
        .addNode(node("QuantizeLinear", "y", List.of("x", "s"), attr("axis", 1), attr("block_size", 2),
            attr("output_dtype", OnnxTensors.INT8)))
        .addOutput(vi("y", OnnxTensors.INT8));
    long[] want = new long[10];
    for (int r = 0; r < 2; r++) {
      for (int c = 0; c < 5; c++) {
        want[r * 5 + c] = q(x[r * 5 + c], s[r * 3 + c / 2], 0, -128, 127);
      }
    }
    try (TensorScope scope = new TensorScope()) {
      assertArrayEquals(want, call(parse(g, 21), Tensor.of(x, 2, 5)));
    }
  }

  @Test
  void aQdqMatMulMatchesTheFakeQuantizedProduct() {
    // x -> Q(uint8, s=0.1, z=10) -> DQ; weight int8 [3,2] -> DQ per axis 1; MatMul
    float[] x = {0.3f, -0.74f, 1.05f, 2.0f, 0.0f, -0.5f};  // [2,3]
    long[] wq = {12, -7, 100, -128, 5, 64};  // [3,2]
    float[] ws = {0.02f, 0.01f};
    GraphProto.Builder g = GraphProto.newBuilder().addInput(vi("x", OnnxTensors.FLOAT))
        .addInitializer(OnnxTensors.floatTensor("xs", new float[] {0.1f}))
        .addInitializer(ints("xz", OnnxTensors.UINT8, new long[] {10}))
        .addInitializer(ints("wq", OnnxTensors.INT8, wq, 3, 2)).addInitializer(OnnxTensors.floatTensor("ws", ws, 2))
        .addNode(node("QuantizeLinear", "xq", List.of("x", "xs", "xz")))
        .addNode(node("DequantizeLinear", "xd", List.of("xq", "xs", "xz")))
        .addNode(node("DequantizeLinear", "wd", List.of("wq", "ws"), attr("axis", 1)))
        .addNode(node("MatMul", "y", List.of("xd", "wd"))).addOutput(vi("y", OnnxTensors.FLOAT));
    float[] want = new float[4];
    for (int i = 0; i < 2; i++) {
      for (int j = 0; j < 2; j++) {
        double acc = 0;
        for (int k = 0; k < 3; k++) {
          float xd = (q(x[i * 3 + k], 0.1f, 10, 0, 255) - 10) * 0.1f;
          acc += (double) xd * (wq[k * 2 + j] * ws[j]);
        }
        want[i * 2 + j] = (float) acc;
      }
    }
    try (TensorScope scope = new TensorScope(); CompiledFunction f = parse(g, 13).compile(Bucketing.none())) {
      float[] got = f.call(Tensor.of(x, 2, 3))[0].toFloatArray();
      for (int i = 0; i < 4; i++) {
        // three f32 products and sums of terms below 4: a few ulps of 4 at most
        assertEquals(want[i], got[i], 1e-5, "element " + i);
      }
    }
  }

  @Test
  void refusals() {
    // float8 target
    GraphProto.Builder f8 = GraphProto.newBuilder().addInput(vi("x", OnnxTensors.FLOAT))
        .addInitializer(OnnxTensors.floatTensor("s", new float[] {1}))
        .addNode(node("QuantizeLinear", "y", List.of("x", "s"), attr("output_dtype", OnnxTensors.FLOAT8E4M3FN)))
        .addOutput(vi("y", OnnxTensors.FLOAT8E4M3FN));
    OnnxException e = assertThrows(OnnxException.class, () -> parse(f8, 21));
    assertTrue(e.getMessage().contains("QuantizeLinear to FLOAT8E4M3FN"), e.getMessage());
    // a zero point whose type nothing declares (an untyped graph input)
    GraphProto.Builder untyped = GraphProto.newBuilder().addInput(vi("x", OnnxTensors.FLOAT))
        .addInput(ValueInfoProto.newBuilder().setName("z")).addInitializer(OnnxTensors.floatTensor("s", new float[] {1}))
        .addNode(node("QuantizeLinear", "y", List.of("x", "s", "z"))).addOutput(vi("y", OnnxTensors.UINT8));
    e = assertThrows(OnnxException.class, () -> parse(untyped, 13));
    assertTrue(e.getMessage().contains("zero point 'z'"), e.getMessage());
    // a per-axis scale of the wrong length: named with both shapes when traced
    GraphProto.Builder len = GraphProto.newBuilder().addInput(vi("x", OnnxTensors.FLOAT))
        .addInitializer(OnnxTensors.floatTensor("s", new float[] {1, 2}, 2))
        .addNode(node("DequantizeLinear", "y", List.of("x", "s"), attr("axis", 1))).addOutput(vi("y", OnnxTensors.FLOAT));
    try (TensorScope scope = new TensorScope(); CompiledFunction f = parse(len, 13).compile(Bucketing.none())) {
      e = assertThrows(OnnxException.class, () -> f.call(Tensor.of(new float[6], 2, 3)));
      assertTrue(e.getMessage().contains("dequantizelinear") && e.getMessage().contains("x_scale of shape [2]")
          && e.getMessage().contains("[2, 3]"), e.getMessage());
    }
  }

  private static NodeProto multi(String op, List<String> in, List<String> out, AttributeProto... attrs) {
    return NodeProto.newBuilder().setOpType(op).setName(op.toLowerCase()).addAllInput(in).addAllOutput(out)
        .addAllAttribute(List.of(attrs)).build();
  }

  @Test
  void dynamicQuantizeLinearMapsTheRangeWithZeroOntoUint8() {
    GraphProto.Builder g = GraphProto.newBuilder().addInput(vi("x", OnnxTensors.FLOAT))
        .addNode(multi("DynamicQuantizeLinear", List.of("x"), List.of("y", "s", "z")))
        .addOutput(vi("y", OnnxTensors.UINT8)).addOutput(vi("s", OnnxTensors.FLOAT)).addOutput(vi("z", OnnxTensors.UINT8));
    float[][] cases = {{-1.5f, 0.3f, 2.0f, 7.25f, -0.1f}, {0.5f, 2f}, {0, 0, 0}, {-4f, -1f}};
    try (TensorScope scope = new TensorScope(); CompiledFunction f = parse(g, 11).compile(Bucketing.none())) {
      for (float[] x : cases) {
        float lo = 0;
        float hi = 0;
        for (float v : x) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
        float scale = (hi - lo) / 255f;
        long zp = scale == 0 ? 0 : (long) Math.rint(Math.max(0, Math.min(255, -lo / scale)));
        long[] y = new long[x.length];
        for (int i = 0; i < x.length; i++) {
          y[i] = scale == 0 ? 0 : q(x[i], scale, zp, 0, 255);
        }
        Tensor[] r = f.call(Tensor.of(x, x.length));
        assertArrayEquals(y, r[0].toLongArray(), java.util.Arrays.toString(x));
        assertEquals(scale, r[1].toFloatArray()[0]);
        assertEquals(zp, r[2].toLongArray()[0]);
      }
    }
  }

  @Test
  void matMulIntegerIsExactWhereF32WouldRound() {
    // K = 1000 with values near the ends of uint8/int8: sums near -2.6e7, beyond f32's 2^24
    int m = 2, k = 1000, n = 3;
    java.util.Random rnd = new java.util.Random(5);
    long[] a = new long[m * k];
    long[] b = new long[k * n];
    for (int i = 0; i < a.length; i++) {
      a[i] = 200 + rnd.nextInt(56);
    }
    for (int i = 0; i < b.length; i++) {
      b[i] = -128 + rnd.nextInt(30);
    }
    long az = 3;
    long[] bz = {1, -2, 0};
    GraphProto.Builder g = GraphProto.newBuilder().addInput(vi("a", OnnxTensors.UINT8))
        .addInitializer(ints("b", OnnxTensors.INT8, b, k, n)).addInitializer(ints("az", OnnxTensors.UINT8, new long[] {az}))
        .addInitializer(ints("bz", OnnxTensors.INT8, bz, n))
        .addNode(node("MatMulInteger", "y", List.of("a", "b", "az", "bz"))).addOutput(vi("y", OnnxTensors.INT32));
    long[] want = new long[m * n];
    boolean f32Rounds = false;
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        long acc = 0;
        for (int t = 0; t < k; t++) {
          acc += (a[i * k + t] - az) * (b[t * n + j] - bz[j]);
        }
        want[i * n + j] = acc;
        f32Rounds |= (long) (float) acc != acc;
      }
    }
    assertTrue(f32Rounds, "the case must be one f32 cannot hold exactly");
    int[] ai = new int[a.length];
    for (int i = 0; i < a.length; i++) {
      ai[i] = (int) a[i];
    }
    try (TensorScope scope = new TensorScope()) {
      assertArrayEquals(want, call(parse(g, 10), Tensor.of(ai, m, k)));
    }
  }

  @Test
  void aDynamicallyQuantizedLinearLayerMatchesTheFormula() {
    // ONNX Runtime's quantize_dynamic pattern: DynamicQuantizeLinear, MatMulInteger, Cast, Mul by both scales
    float[] x = {0.3f, -0.74f, 1.05f, 2.0f, 0.0f, -0.5f};  // [2,3]
    long[] wq = {12, -7, 100, -128, 5, 64};  // int8 [3,2]
    float ws = 0.02f;
    GraphProto.Builder g = GraphProto.newBuilder().addInput(vi("x", OnnxTensors.FLOAT))
        .addInitializer(ints("wq", OnnxTensors.INT8, wq, 3, 2)).addInitializer(OnnxTensors.floatTensor("ws", new float[] {ws}))
        .addInitializer(ints("wz", OnnxTensors.INT8, new long[] {0}))
        .addNode(multi("DynamicQuantizeLinear", List.of("x"), List.of("xq", "xs", "xz")))
        .addNode(node("MatMulInteger", "acc", List.of("xq", "wq", "xz", "wz")))
        .addNode(node("Cast", "accf", List.of("acc"), attr("to", OnnxTensors.FLOAT)))
        .addNode(node("Mul", "s", List.of("xs", "ws"))).addNode(node("Mul", "y", List.of("accf", "s")))
        .addOutput(vi("y", OnnxTensors.FLOAT));
    float lo = -0.74f;
    float hi = 2.0f;
    float scale = (hi - lo) / 255f;
    long zp = (long) Math.rint(Math.max(0, Math.min(255, -lo / scale)));
    float[] want = new float[4];
    for (int i = 0; i < 2; i++) {
      for (int j = 0; j < 2; j++) {
        long acc = 0;
        for (int t = 0; t < 3; t++) {
          acc += (q(x[i * 3 + t], scale, zp, 0, 255) - zp) * wq[t * 2 + j];
        }
        want[i * 2 + j] = acc * (scale * ws);
      }
    }
    try (TensorScope scope = new TensorScope(); CompiledFunction f = parse(g, 13).compile(Bucketing.none())) {
      assertArrayEquals(want, f.call(Tensor.of(x, 2, 3))[0].toFloatArray());  // the same f32 operations
    }
  }

  private static AttributeProto ints(String name, long... v) {
    AttributeProto.Builder b = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
    for (long x : v) {
      b.addInts(x);
    }
    return b.build();
  }

  /** Naive integer conv (one group, zero padding of (x - xz)): out[o][i][j]. */
  private static long[] conv(long[] x, long xz, int c, int h, int w, long[] k, long[] kz, int o, int kh, int kw,
      int pad, int stride) {
    int oh = (h + 2 * pad - kh) / stride + 1;
    int ow = (w + 2 * pad - kw) / stride + 1;
    long[] out = new long[o * oh * ow];
    for (int m = 0; m < o; m++) {
      for (int i = 0; i < oh; i++) {
        for (int j = 0; j < ow; j++) {
          long acc = 0;
          for (int ch = 0; ch < c; ch++) {
            for (int di = 0; di < kh; di++) {
              for (int dj = 0; dj < kw; dj++) {
                int yi = i * stride - pad + di;
                int xj = j * stride - pad + dj;
                if (yi >= 0 && yi < h && xj >= 0 && xj < w) {
                  acc += (x[(ch * h + yi) * w + xj] - xz) * (k[((m * c + ch) * kh + di) * kw + dj] - kz[m]);
                }
              }
            }
          }
          out[(m * oh + i) * ow + j] = acc;
        }
      }
    }
    return out;
  }

  @Test
  void convIntegerAndQLinearConvMatchANaiveIntegerConv() {
    java.util.Random rnd = new java.util.Random(11);
    long[] x = new long[2 * 5 * 5];
    long[] k = new long[3 * 2 * 3 * 3];
    for (int i = 0; i < x.length; i++) {
      x[i] = rnd.nextInt(256);
    }
    for (int i = 0; i < k.length; i++) {
      k[i] = rnd.nextInt(256) - 128;
    }
    long[] kz = {2, -3, 0};
    long[] want = conv(x, 7, 2, 5, 5, k, kz, 3, 3, 3, 1, 2);  // [3,3,3]
    int[] xi = new int[x.length];
    for (int i = 0; i < x.length; i++) {
      xi[i] = (int) x[i];
    }
    GraphProto.Builder g = GraphProto.newBuilder().addInput(vi("x", OnnxTensors.UINT8))
        .addInitializer(ints("w", OnnxTensors.INT8, k, 3, 2, 3, 3)).addInitializer(ints("xz", OnnxTensors.UINT8, new long[] {7}))
        .addInitializer(ints("wz", OnnxTensors.INT8, kz, 3))
        .addNode(node("ConvInteger", "y", List.of("x", "w", "xz", "wz"), ints("pads", 1, 1, 1, 1), ints("strides", 2, 2)))
        .addOutput(vi("y", OnnxTensors.INT32));
    try (TensorScope scope = new TensorScope()) {
      assertArrayEquals(want, call(parse(g, 10), Tensor.of(xi, 1, 2, 5, 5)));
    }
    // QLinearConv: the same product plus an int32 bias per channel, requantized to uint8
    float xs = 0.02f;
    float[] ws = {0.01f, 0.03f, 0.005f};
    float ys = 0.05f;
    long yz = 100;
    long[] bias = {500, -2000, 40};
    GraphProto.Builder q = GraphProto.newBuilder().addInput(vi("x", OnnxTensors.UINT8))
        .addInitializer(OnnxTensors.floatTensor("xs", new float[] {xs})).addInitializer(ints("xz", OnnxTensors.UINT8, new long[] {7}))
        .addInitializer(ints("w", OnnxTensors.INT8, k, 3, 2, 3, 3)).addInitializer(OnnxTensors.floatTensor("ws", ws, 3))
        .addInitializer(ints("wz", OnnxTensors.INT8, kz, 3)).addInitializer(OnnxTensors.floatTensor("ys", new float[] {ys}))
        .addInitializer(ints("yz", OnnxTensors.UINT8, new long[] {yz})).addInitializer(ints("b", OnnxTensors.INT32, bias, 3))
        .addNode(node("QLinearConv", "y", List.of("x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"),
            ints("pads", 1, 1, 1, 1), ints("strides", 2, 2)))
        .addOutput(vi("y", OnnxTensors.UINT8));
    long[] wantQ = new long[want.length];
    for (int i = 0; i < want.length; i++) {
      int m = i / 9;
      float mult = xs * ws[m] / ys;
      wantQ[i] = Math.max(0, Math.min(255, (long) Math.rint((float) (want[i] + bias[m]) * mult) + yz));
    }
    try (TensorScope scope = new TensorScope()) {
      assertArrayEquals(wantQ, call(parse(q, 10), Tensor.of(xi, 1, 2, 5, 5)));
    }
  }

  @Test
  void qlinearMatMulRequantizesTheExactProduct() {
    long[] a = {130, 90, 255, 0, 121, 119, 200, 60};  // uint8 [2,4]
    long[] b = {5, -7, 100, -128, 64, 3, 9, 0, -1, 127, -50, 20};  // int8 [4,3]
    float as = 0.05f;
    long az = 120;
    float[] bs = {0.01f, 0.02f, 0.004f};
    float ys = 0.2f;
    long yz = -5;
    GraphProto.Builder g = GraphProto.newBuilder().addInput(vi("a", OnnxTensors.UINT8))
        .addInitializer(OnnxTensors.floatTensor("as", new float[] {as})).addInitializer(ints("az", OnnxTensors.UINT8, new long[] {az}))
        .addInitializer(ints("b", OnnxTensors.INT8, b, 4, 3)).addInitializer(OnnxTensors.floatTensor("bs", bs, 3))
        .addInitializer(ints("bz", OnnxTensors.INT8, new long[] {0})).addInitializer(OnnxTensors.floatTensor("ys", new float[] {ys}))
        .addInitializer(ints("yz", OnnxTensors.INT8, new long[] {yz}))
        .addNode(node("QLinearMatMul", "y", List.of("a", "as", "az", "b", "bs", "bz", "ys", "yz")))
        .addOutput(vi("y", OnnxTensors.INT8));
    long[] want = new long[6];
    for (int i = 0; i < 2; i++) {
      for (int j = 0; j < 3; j++) {
        long acc = 0;
        for (int t = 0; t < 4; t++) {
          acc += (a[i * 4 + t] - az) * b[t * 3 + j];
        }
        float mult = as * bs[j] / ys;
        want[i * 3 + j] = Math.max(-128, Math.min(127, (long) Math.rint((float) acc * mult) + yz));
      }
    }
    int[] ai = new int[a.length];
    for (int i = 0; i < a.length; i++) {
      ai[i] = (int) a[i];
    }
    try (TensorScope scope = new TensorScope()) {
      OnnxModel m = parse(g, 10);
      assertEquals(OnnxTensors.INT8, m.outputType(0));
      assertArrayEquals(want, call(m, Tensor.of(ai, 2, 4)));
    }
  }
}
