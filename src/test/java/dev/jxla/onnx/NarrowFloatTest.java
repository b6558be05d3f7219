package dev.jxla.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.jxla.CompiledFunction;
import dev.jxla.DType;
import dev.jxla.Device;
import dev.jxla.Jxla;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * float8/float4 as f32 values (NarrowFloat): the codes against a closed-form decoding written
 * here from the ONNX technical notes (float8.md, float4.md), and the graph rounding of Cast
 * against a brute-force search over every code of the format: nearest value, ties to the even
 * code, saturation, NaN/inf, -0, subnormals, f32/f64/f16/int inputs, on the host and the
 * emulated TPU. E8M0 against a brute-force search over all powers of two for each round_mode.
 */
class NarrowFloatTest {
  /** Closed-form value of code c: (bias, exponent bits, mantissa bits) per format, from the spec tables. */
  private static double refDecode(NarrowFloat f, int c) {
    switch (f) {
      case E8M0:
        return c == 255 ? Double.NaN : Math.pow(2, c - 127);
      case E2M1: {
        double[] mag = {0, 0.5, 1, 1.5, 2, 3, 4, 6};  // float4.md's table of all values
        return (c & 8) != 0 ? -mag[c & 7] : mag[c & 7];
      }
      default:
        break;
    }
    int eb = f == NarrowFloat.E4M3FN || f == NarrowFloat.E4M3FNUZ ? 4 : 5;
    int mb = 7 - eb;
    int bias = f == NarrowFloat.E4M3FN ? 7 : f == NarrowFloat.E4M3FNUZ ? 8 : f == NarrowFloat.E5M2 ? 15 : 16;
    boolean fnuz = f == NarrowFloat.E4M3FNUZ || f == NarrowFloat.E5M2FNUZ;
    int s = c >> 7, e = (c >> mb) & ((1 << eb) - 1), m = c & ((1 << mb) - 1);
    if (fnuz && c == 0x80) {
      return Double.NaN;
    }
    if (f == NarrowFloat.E4M3FN && e == 15 && m == 7) {
      return Double.NaN;
    }
    if (f == NarrowFloat.E5M2 && e == 31) {
      return m == 0 ? (s == 1 ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY) : Double.NaN;
    }
    double v = e == 0 ? Math.pow(2, 1 - bias) * (m / Math.pow(2, mb)) : Math.pow(2, e - bias) * (1 + m / Math.pow(2, mb));
    return s == 1 ? -v : v;
  }

  private static boolean same(double a, double b) {
    return Double.compare(a, b) == 0 || (Double.isNaN(a) && Double.isNaN(b));
  }

  @Test
  void everyCodeDecodesAsTheSpecSaysAndEncodesBack() {
    for (NarrowFloat f : NarrowFloat.values()) {
      int nans = 0;
      for (int c = 0; c < f.codes(); c++) {
        double want = refDecode(f, c);
        assertTrue(same(f.decode(c), want), f + " code " + c + ": " + f.decode(c) + " vs " + want);
        if (Double.isNaN(want)) {
          nans++;
          assertTrue(Double.isNaN(f.decode(f.encode(want))));
        } else {
          assertEquals(c, f.encode(want), f + " " + want);
          assertEquals(want, (double) (float) want, 0.0, "exact in f32");
        }
      }
      // NaN codes per format: E4M3FN 2 (S.1111.111), FNUZ 1 (0x80), E5M2 6, E8M0 1, E2M1 none
      int wantNans = f == NarrowFloat.E4M3FN ? 2 : f == NarrowFloat.E5M2 ? 6 : f == NarrowFloat.E2M1 ? 0 : 1;
      assertEquals(wantNans, nans, f.toString());
    }
    // anchors from the spec tables
    assertEquals(448.0, NarrowFloat.E4M3FN.decode(0x7e));
    assertEquals(0x1p-9, NarrowFloat.E4M3FN.decode(0x01));
    assertEquals(240.0, NarrowFloat.E4M3FNUZ.decode(0x7f));
    assertEquals(0x1p-10, NarrowFloat.E4M3FNUZ.decode(0x01));
    assertEquals(57344.0, NarrowFloat.E5M2.decode(0x7b));
    assertEquals(Double.NEGATIVE_INFINITY, NarrowFloat.E5M2.decode(0xfc));
    assertEquals(0x1p-16, NarrowFloat.E5M2.decode(0x01));
    assertEquals(57344.0, NarrowFloat.E5M2FNUZ.decode(0x7f));
    assertEquals(0x1p-17, NarrowFloat.E5M2FNUZ.decode(0x01));
    assertEquals(0x1p-127, NarrowFloat.E8M0.decode(0));
    assertEquals(0x1p127, NarrowFloat.E8M0.decode(254));
    assertEquals(-0.0, NarrowFloat.E4M3FN.decode(0x80));
    assertEquals(6.0, NarrowFloat.E2M1.decode(7));
    assertThrows(IllegalArgumentException.class, () -> NarrowFloat.E4M3FN.encode(1.1));
    assertThrows(IllegalArgumentException.class, () -> NarrowFloat.E2M1.decode(16));
  }

  // ------------------------------------------------------------ brute-force Cast reference

  /** Cast of x to an IEEE-like format by search over all codes (extended by one step beyond max). */
  private static double refCast(NarrowFloat f, double x, boolean saturate) {
    boolean sat = saturate || f == NarrowFloat.E2M1;
    boolean fnuz = f == NarrowFloat.E4M3FNUZ || f == NarrowFloat.E5M2FNUZ;
    double max = 0;
    int maxCode = 0;
    for (int c = 0; c < f.codes() / 2; c++) {  // non-negative codes
      double v = refDecode(f, c);
      if (!Double.isNaN(v) && !Double.isInfinite(v) && v > max) {
        max = v;
        maxCode = c;
      }
    }
    if (Double.isNaN(x)) {
      return f == NarrowFloat.E2M1 ? 6.0 : Double.NaN;
    }
    double overflow = sat ? max : f == NarrowFloat.E5M2 ? Double.POSITIVE_INFINITY : Double.NaN;
    double a = Math.abs(x);
    double r;
    if (Double.isInfinite(a)) {
      r = overflow;
    } else {
      // the value one step above max in the same binade step: max + (max - next lower value)
      double below = 0;
      for (int c = 0; c < f.codes() / 2; c++) {
        double v = refDecode(f, c);
        if (!Double.isNaN(v) && v < max && v > below) {
          below = v;
        }
      }
      double beyond = max + (max - below);
      int beyondCode = maxCode + 1;
      double best = Double.NaN;
      int bestCode = -1;
      double bestDist = Double.POSITIVE_INFINITY;
      for (int c = 0; c <= f.codes() / 2; c++) {
        double v = c == f.codes() / 2 ? beyond : refDecode(f, c);
        int code = c == f.codes() / 2 ? beyondCode : c;
        if (Double.isNaN(v) || Double.isInfinite(v) || (v > max && c != f.codes() / 2)) {
          continue;
        }
        double d = Math.abs(a - v);
        if (d < bestDist || (d == bestDist && (code & 1) == 0)) {
          best = v;
          bestCode = code;
          bestDist = d;
        }
      }
      // at or past the step beyond max, beyond is the nearest (the distances above lose precision for huge x)
      r = bestCode == beyondCode || a >= beyond ? overflow : best;
    }
    boolean neg = x < 0 || (x == 0 && 1 / x < 0);
    if (r == 0) {
      return fnuz || !neg ? 0.0 : -0.0;
    }
    return neg ? -r : r;
  }

  /** Every power of two of f64, 2^-1074 to 2^1023, ascending. */
  private static final double[] POW2 = java.util.stream.IntStream.rangeClosed(-1074, 1023).mapToDouble(k -> Math.pow(2, k)).toArray();

  /** Cast of x to E8M0 by search over the powers of two of f64. */
  private static double refE8M0(double x, boolean saturate, String mode) {
    double lo = saturate ? 0x1p-127 : Double.NaN;
    double hi = saturate ? 0x1p127 : Double.NaN;
    if (Double.isNaN(x)) {
      return Double.NaN;
    }
    if (x <= 0) {
      return lo;
    }
    double down = 0;
    double up = Double.POSITIVE_INFINITY;
    for (double p : POW2) {
      if (p <= x) {
        down = p;
      }
      if (p >= x && up == Double.POSITIVE_INFINITY) {
        up = p;
      }
    }
    if (up == Double.POSITIVE_INFINITY) {
      up = Double.MAX_VALUE * 2;  // 2^1024 and beyond: above the range in any case
    }
    double r = mode.equals("up") ? up : mode.equals("down") ? down : (x - down < up - x ? down : up);
    if (r < 0x1p-127) {
      return lo;
    }
    if (r > 0x1p127) {
      return hi;
    }
    return r;
  }

  /** Inputs around every value of the format: values, neighbours, midpoints (ties) and their neighbours. */
  private static double[] probes(NarrowFloat f, boolean asDouble) {
    TreeSet<Double> grid = new TreeSet<>();
    for (int c = 0; c < f.codes() / 2; c++) {
      double v = refDecode(f, c);
      if (!Double.isNaN(v) && !Double.isInfinite(v)) {
        grid.add(v);
      }
    }
    double max = grid.last();
    grid.add(max + (max - grid.lower(max)));  // the overflow boundary
    List<Double> xs = new ArrayList<>();
    Double prev = null;
    for (double g : grid) {
      addAround(xs, g, asDouble);
      if (prev != null) {
        addAround(xs, (prev + g) / 2, asDouble);
      }
      prev = g;
    }
    for (double v : new double[] {Double.NaN, Double.POSITIVE_INFINITY, 1e30, 3e38, Float.MIN_VALUE, 1e-30, 1e-7, 0x1p-40}) {
      xs.add(v);
    }
    Random rnd = new Random(42);
    for (int i = 0; i < 500; i++) {
      xs.add((double) (float) (rnd.nextDouble() * Math.pow(2, rnd.nextInt(50) - 30)));
    }
    int n = xs.size();
    for (int i = 0; i < n; i++) {
      xs.add(-xs.get(i));
    }
    double[] r = new double[xs.size()];
    for (int i = 0; i < r.length; i++) {
      r[i] = asDouble ? xs.get(i) : (float) (double) xs.get(i);
    }
    return r;
  }

  private static void addAround(List<Double> xs, double v, boolean asDouble) {
    xs.add(v);
    if (asDouble) {
      xs.add(Math.nextUp(v));
      xs.add(Math.nextDown(v));
    } else {
      xs.add((double) Math.nextUp((float) v));
      xs.add((double) Math.nextDown((float) v));
    }
  }

  private static void check(String what, double[] in, double[] got, java.util.function.DoubleUnaryOperator ref) {
    int bad = 0;
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < in.length; i++) {
      double want = ref.applyAsDouble(in[i]);
      if (!same(got[i], want)) {
        if (bad++ < 5) {
          sb.append(String.format("  x=%s (%a): got %s, want %s%n", in[i], in[i], got[i], want));
        }
      }
    }
    assertEquals(0, bad, what + ": " + bad + " of " + in.length + " wrong\n" + sb);
  }

  @Test
  void castRoundsToTheNearestValueTiesToEvenWithTheOnnxSaturationRules() {
    for (NarrowFloat f : NarrowFloat.values()) {
      if (f == NarrowFloat.E8M0) {
        continue;
      }
      for (boolean sat : new boolean[] {true, false}) {
        try (TensorScope s = new TensorScope()) {
          double[] xf = probes(f, false);
          float[] x32 = new float[xf.length];
          for (int i = 0; i < xf.length; i++) {
            x32[i] = (float) xf[i];
          }
          check(f + " f32 saturate=" + sat, xf, f.round(Tensor.of(x32, x32.length), sat, "up").toDoubleArray(),
              v -> refCast(f, v, sat));
          // f64 inputs: the neighbours of midpoints are f64 neighbours (a detour through f32 would make them ties)
          double[] xd = probes(f, true);
          check(f + " f64 saturate=" + sat, xd, f.round(Tensor.of(xd, xd.length), sat, "up").toDoubleArray(),
              v -> refCast(f, v, sat));
          // f16 inputs: the values f16 holds (the reference casts the f16 value)
          Tensor h = Tensor.of(x32, x32.length).to(DType.F16);
          check(f + " f16 saturate=" + sat, h.toDoubleArray(), f.round(h, sat, "up").toDoubleArray(), v -> refCast(f, v, sat));
          // integers
          int[] xi = new int[1201];
          for (int i = 0; i < xi.length; i++) {
            xi[i] = i - 600;
          }
          xi[0] = Integer.MIN_VALUE;
          xi[1] = 65520;
          xi[2] = 61440;
          double[] xid = new double[xi.length];
          for (int i = 0; i < xi.length; i++) {
            xid[i] = xi[i];
          }
          check(f + " s32 saturate=" + sat, xid, f.round(Tensor.of(xi, xi.length), sat, "up").toDoubleArray(),
              v -> refCast(f, v, sat));
        }
      }
    }
  }

  @Test
  void castToE8M0RoundsToPowersOfTwoByRoundMode() {
    List<Double> xs = new ArrayList<>();
    for (int k = -150; k <= 130; k++) {
      for (double m : new double[] {1, 1.25, 1.5, 1.75}) {
        double v = m * Math.pow(2, k);
        xs.add(v);
        xs.add((double) Math.nextUp((float) v));
        xs.add((double) Math.nextDown((float) v));
      }
    }
    xs.addAll(List.of(0.0, -0.0, -1.0, -0x1p-140, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY,
        (double) Float.MIN_VALUE, (double) Float.MAX_VALUE));
    float[] x32 = new float[xs.size()];
    double[] xf = new double[xs.size()];
    for (int i = 0; i < x32.length; i++) {
      x32[i] = (float) (double) xs.get(i);
      xf[i] = x32[i];
    }
    List<Double> ds = new ArrayList<>(xs);
    ds.addAll(List.of(0x1p-1074, 0x1p1023, Double.MAX_VALUE, Math.nextUp(1.5), Math.nextDown(1.5), Math.nextUp(0x1p-127)));
    double[] xd = ds.stream().mapToDouble(Double::doubleValue).toArray();
    for (String mode : new String[] {"up", "down", "nearest"}) {
      for (boolean sat : new boolean[] {true, false}) {
        try (TensorScope s = new TensorScope()) {
          check("E8M0 f32 " + mode + " saturate=" + sat, xf,
              NarrowFloat.E8M0.round(Tensor.of(x32, x32.length), sat, mode).toDoubleArray(), v -> refE8M0(v, sat, mode));
          check("E8M0 f64 " + mode + " saturate=" + sat, xd,
              NarrowFloat.E8M0.round(Tensor.of(xd, xd.length), sat, mode).toDoubleArray(), v -> refE8M0(v, sat, mode));
        }
      }
    }
    assertThrows(OnnxException.class, () -> NarrowFloat.E8M0.round(Tensor.of(x32, x32.length), true, "sideways"));
  }

  @Test
  void theEmulatedTpuRoundsTheSame() {
    for (NarrowFloat f : NarrowFloat.values()) {
      double[] xf = probes(f, false);
      float[] x32 = new float[xf.length];
      for (int i = 0; i < xf.length; i++) {
        x32[i] = (float) xf[i];
      }
      try (TensorScope s = new TensorScope();
           CompiledFunction fn = Jxla.compile(in -> new Tensor[] {f.round(in[0], false, "nearest")}, Device.tpu("v5e"))) {
        double[] got = fn.call(Tensor.of(x32, x32.length))[0].toDoubleArray();
        check(f + " on tpu:v5e", xf, got, f == NarrowFloat.E8M0 ? v -> refE8M0(v, false, "nearest") : v -> refCast(f, v, false));
        // eager, on a tensor that lives on the TPU (the constants follow the input's device)
        Tensor onTpu = Tensor.of(x32, x32.length).to(Device.tpu("v5e"));
        check(f + " eager on tpu:v5e", xf, f.round(onTpu, true, "up").toDoubleArray(),
            f == NarrowFloat.E8M0 ? v -> refE8M0(v, true, "up") : v -> refCast(f, v, true));
      }
    }
  }

  // ------------------------------------------------------------ import: types, .pb codes, load checks

  private static ValueInfoProto vi(String name, int type) {
    return ValueInfoProto.newBuilder().setName(name)
        .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(type))).build();
  }

  private static AttributeProto intAttr(String name, long v) {
    return AttributeProto.newBuilder().setName(name).setI(v).setType(AttributeProto.AttributeType.INT).build();
  }

  private static OnnxModel model(GraphProto.Builder g) {
    ModelProto m = ModelProto.newBuilder().setIrVersion(10).addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(23))
        .setGraph(g).build();
    return OnnxModel.parse(m.toByteArray(), "test");
  }

  @Test
  void castLikeToAFloat8InitializerRoundsAndTensorsDecodeFromRawAndInt32Data() throws Exception {
    // target: an E5M2 initializer in int32_data (one code per element), x: f32 input
    TensorProto target = TensorProto.newBuilder().setName("t").setDataType(OnnxTensors.FLOAT8E5M2).addDims(1).addInt32Data(0x3c).build();
    assertEquals(1.0, OnnxTensors.decode(target, "t").f[0]);
    GraphProto.Builder g = GraphProto.newBuilder().addInput(vi("x", OnnxTensors.FLOAT)).addInitializer(target)
        .addNode(NodeProto.newBuilder().setOpType("CastLike").addInput("x").addInput("t").addOutput("c").addAttribute(intAttr("saturate", 0)))
        .addNode(NodeProto.newBuilder().setOpType("Reshape").addInput("c").addInput("shape").addOutput("y"))
        .addInitializer(TensorProto.newBuilder().setName("shape").setDataType(OnnxTensors.INT64).addDims(2).addInt64Data(2).addInt64Data(2))
        .addOutput(vi("y", OnnxTensors.FLOAT8E5M2));
    try (TensorScope s = new TensorScope(); CompiledFunction f = model(g).compile(dev.jxla.Bucketing.none())) {
      // 1.125 is a tie between 1 and 1.25 -> 1 (even); 1e5 overflows -> inf without saturate; -0 stays
      double[] y = f.call(Tensor.of(new float[] {1.125f, 1e5f, -0f, 0.3f}, 4))[0].toDoubleArray();
      assertEquals(1.0, y[0]);
      assertEquals(Double.POSITIVE_INFINITY, y[1]);
      assertEquals(-0.0, y[2]);
      assertEquals(0.3125, y[3]);  // 0.3 between 0.25 and 0.3125 (step 1/16): nearer 0.3125
    }
    // raw_data: one byte per float8 code; float4 packs two codes per byte (first in the low nibble)
    TensorProto raw = TensorProto.newBuilder().setDataType(OnnxTensors.FLOAT8E4M3FNUZ).addDims(3)
        .setRawData(ByteString.copyFrom(new byte[] {0x40, (byte) 0x80, (byte) 0xff})).build();
    double[] v = OnnxTensors.decode(raw, "raw").f;
    assertEquals(1.0, v[0]);
    assertTrue(Double.isNaN(v[1]));
    assertEquals(-240.0, v[2]);
    TensorProto f4 = TensorProto.newBuilder().setDataType(OnnxTensors.FLOAT4E2M1).addDims(3)
        .setRawData(ByteString.copyFrom(new byte[] {(byte) 0xf2, 0x01})).build();
    double[] w = OnnxTensors.decode(f4, "f4").f;
    assertEquals(1.0, w[0]);
    assertEquals(-6.0, w[1]);
    assertEquals(0.5, w[2]);
    TensorProto shortRaw = raw.toBuilder().addDims(2).build();
    assertThrows(OnnxException.class, () -> OnnxTensors.decode(shortRaw, "short"));
  }

  @Test
  void arithmeticOnFloat8ValuesIsRejectedAtLoadNamingTheOperatorAndType() {
    GraphProto.Builder g = GraphProto.newBuilder().addInput(vi("x", OnnxTensors.FLOAT8E4M3FN))
        .addNode(NodeProto.newBuilder().setOpType("Identity").addInput("x").addOutput("i"))
        .addNode(NodeProto.newBuilder().setOpType("Add").addInput("i").addInput("i").addOutput("y"))
        .addOutput(vi("y", OnnxTensors.FLOAT8E4M3FN));
    OnnxException e = assertThrows(OnnxException.class, () -> model(g));
    assertTrue(e.getMessage().contains("Add on FLOAT8E4M3FN values"), e.getMessage());
    GraphProto.Builder mode = GraphProto.newBuilder().addInput(vi("x", OnnxTensors.FLOAT))
        .addNode(NodeProto.newBuilder().setOpType("Cast").addInput("x").addOutput("y").addAttribute(intAttr("to", OnnxTensors.FLOAT8E8M0))
            .addAttribute(AttributeProto.newBuilder().setName("round_mode").setS(ByteString.copyFromUtf8("sideways"))
                .setType(AttributeProto.AttributeType.STRING)))
        .addOutput(vi("y", OnnxTensors.FLOAT8E8M0));
    e = assertThrows(OnnxException.class, () -> model(mode));
    assertTrue(e.getMessage().contains("Cast(round_mode=sideways)"), e.getMessage());
  }
}
