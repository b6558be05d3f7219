package dev.jxla.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jxla.Bucketing;
import dev.jxla.CompiledFunction;
import dev.jxla.DType;
import dev.jxla.Device;
import dev.jxla.Jxla;
import dev.jxla.Precision;
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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Trilu, CumSum, Einsum and Resize (OnnxExtraOps) as one-node models. References: naive loops
 * here for Trilu and CumSum; np.einsum and a NumPy evaluation of the ONNX Resize formulas for
 * the others (src/test/resources/onnx-extra/gen_extra.py, manifests einsum.txt and resize.txt).
 * Each operator also runs on the emulated TPU and must match the host.
 */
class OnnxExtraOpsTest {
  private static final Path DIR = Path.of("src/test/resources/onnx-extra");
  private static final int FLOAT = OnnxTensors.FLOAT, INT32 = 6, INT64 = 7;
  private static final double U = Math.ulp(1.0f) / 2;

  // ------------------------------------------------------------------ model building

  private static ValueInfoProto vi(String name) {
    return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()))
        .build();
  }

  static AttributeProto attr(String name, Object v) {
    AttributeProto.Builder b = AttributeProto.newBuilder().setName(name);
    if (v instanceof String s) {
      b.setS(com.google.protobuf.ByteString.copyFromUtf8(s)).setType(AttributeProto.AttributeType.STRING);
    } else if (v instanceof long[] l) {
      for (long e : l) {
        b.addInts(e);
      }
      b.setType(AttributeProto.AttributeType.INTS);
    } else {
      b.setI(((Number) v).longValue()).setType(AttributeProto.AttributeType.INT);
    }
    return b.build();
  }

  private static TensorProto ints(String name, int type, long... v) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(type).addDims(v.length);
    for (long e : v) {
      if (type == INT64) {
        t.addInt64Data(e);
      } else {
        t.addInt32Data((int) e);
      }
    }
    return t.build();
  }

  private static TensorProto scalarInt(String name, int type, long v) {
    return ints(name, type, v).toBuilder().clearDims().build();
  }

  private static TensorProto floats(String name, double... v) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(FLOAT).addDims(v.length);
    for (double e : v) {
      t.addFloatData((float) e);
    }
    return t.build();
  }

  /**
   * One node {@code op} named "n" with the given input names ("" = absent); inputs named x* are
   * graph inputs, the others come from {@code inits}.
   */
  private static byte[] model(int opset, String op, List<String> inputs, List<TensorProto> inits, AttributeProto... attrs) {
    NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName("n").addAllInput(inputs).addOutput("y");
    Arrays.stream(attrs).forEach(n::addAttribute);
    GraphProto.Builder g = GraphProto.newBuilder().addNode(n).addOutput(vi("y")).addAllInitializer(inits);
    inputs.stream().filter(s -> s.startsWith("x")).forEach(s -> g.addInput(vi(s)));
    ModelProto m = ModelProto.newBuilder().setIrVersion(10).addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(opset))
        .setGraph(g).build();
    byte[] b = m.toByteArray();
    OnnxModel.parse(b, op).close();  // load-time checks throw here
    return b;
  }

  /** Runs on the host; with {@code onTpu} also on the emulated TPU and returns both (host first). */
  private static Tensor[] run(byte[] m, boolean onTpu, Tensor... in) {
    try (CompiledFunction f = OnnxModel.parse(m, "host").compile(Bucketing.none())) {
      Tensor host = f.call(in)[0].materialized();
      if (!onTpu) {
        return new Tensor[] {host};
      }
      try (CompiledFunction t = OnnxModel.parse(m, "tpu").compile(Bucketing.none(), Device.tpu("v5e"))) {
        return new Tensor[] {host, t.call(in)[0].to(Device.host()).materialized()};
      }
    }
  }

  private static void assertClose(double[] expected, double[] actual, double atol, double rtol, String what) {
    assertEquals(expected.length, actual.length, what + ": element count");
    for (int i = 0; i < expected.length; i++) {
      double e = expected[i], a = actual[i];
      assertTrue(Math.abs(a - e) <= atol + rtol * Math.abs(e), what + ": element " + i + " is " + a + ", expected " + e);
    }
  }

  private static Tensor randn(Random r, long... shape) {
    float[] v = new float[(int) Arrays.stream(shape).reduce(1, (p, q) -> p * q)];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) r.nextGaussian();
    }
    return Tensor.of(v, shape);
  }

  // ------------------------------------------------------------------ Trilu

  private static double[] triluRef(double[] x, long[] s, long k, boolean upper) {
    int n = (int) s[s.length - 2], m = (int) s[s.length - 1];
    double[] r = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      long row = (i / m) % n, col = i % m;
      r[i] = (upper ? col - row >= k : col - row <= k) ? x[i] : 0;
    }
    return r;
  }

  @Test
  void triluUpperAndLowerForEveryKBatchedAndOnIntegersAndBools() {
    Random rnd = new Random(1);
    try (TensorScope scope = new TensorScope()) {
      Tensor x = randn(rnd, 2, 3, 4);
      for (int upper = 0; upper <= 1; upper++) {
        for (long k : new long[] {0, 1, -1, 2, -2, 5, -5, Long.MAX_VALUE, Long.MIN_VALUE}) {
          byte[] m = model(14, "Trilu", List.of("x", "k"), List.of(scalarInt("k", INT64, k)), attr("upper", upper));
          assertArrayEquals(triluRef(x.toDoubleArray(), x.shape(), k, upper == 1), run(m, false, x)[0].toDoubleArray(),
              "upper=" + upper + " k=" + k);
        }
        // without k (k = 0), on int64 with large values, on bool
        byte[] m = model(14, "Trilu", List.of("x"), List.of(), attr("upper", upper));
        assertArrayEquals(triluRef(x.toDoubleArray(), x.shape(), 0, upper == 1), run(m, false, x)[0].toDoubleArray());
        Tensor xi = Tensor.of(new long[] {1L << 50, -3, 7, 9, 1L << 40, 11, -(1L << 45), 2, 3, 4, 5, 6}, 4, 3);
        long[] got = run(m, false, xi)[0].toLongArray();
        double[] ref = triluRef(xi.toDoubleArray(), xi.shape(), 0, upper == 1);
        for (int i = 0; i < got.length; i++) {
          assertEquals(ref[i] == 0 ? 0 : xi.toLongArray()[i], got[i]);
        }
        Tensor xb = Tensor.full(1, DType.BOOL, 3, 3);
        boolean[] b = run(m, false, xb)[0].toBooleanArray();
        for (int i = 0; i < 9; i++) {
          assertEquals(upper == 1 ? i % 3 >= i / 3 : i % 3 <= i / 3, b[i], "bool element " + i);
        }
      }
    }
  }

  @Test
  void triluKFromAGraphInputIsStaticAndRankOneIsRefused() {
    Random rnd = new Random(2);
    try (TensorScope scope = new TensorScope()) {
      Tensor x = randn(rnd, 4, 5);
      byte[] m = model(14, "Trilu", List.of("x", "xk"), List.of(), attr("upper", 0));
      try (CompiledFunction f = OnnxModel.parse(m, "k").compile(Bucketing.none())) {
        for (long k : new long[] {1, -2}) {
          assertArrayEquals(triluRef(x.toDoubleArray(), x.shape(), k, false),
              f.call(x, Tensor.scalar(k))[0].toDoubleArray(), "k=" + k);
        }
        assertEquals(2, f.compileCount());  // k's value is part of the signature
      }
      byte[] bad = model(14, "Trilu", List.of("x"), List.of());
      OnnxException e = assertThrows(OnnxException.class, () -> run(bad, false, Tensor.of(new float[] {1, 2}, 2)));
      assertTrue(e.getMessage().contains("Trilu node 'n'") && e.getMessage().contains("rank >= 2"), e.getMessage());
    }
  }

  // ------------------------------------------------------------------ CumSum

  /** Naive sequential scan in double (exact for the integers used) plus sum |x| over the same terms. */
  private static double[][] cumsumRef(double[] x, long[] s, int axis, boolean exclusive, boolean reverse) {
    long inner = 1;
    for (int d = axis + 1; d < s.length; d++) {
      inner *= s[d];
    }
    int n = (int) s[axis];
    double[] r = new double[x.length], mag = new double[x.length];
    for (int base = 0; base < x.length; base++) {
      if ((base / inner) % n != 0) {
        continue;
      }
      double acc = 0, abs = 0;
      for (int t = 0; t < n; t++) {
        int j = reverse ? n - 1 - t : t;
        int at = (int) (base + j * inner);
        if (!exclusive) {
          acc += x[at];
          abs += Math.abs(x[at]);
        }
        r[at] = acc;
        mag[at] = abs;
        if (exclusive) {
          acc += x[at];
          abs += Math.abs(x[at]);
        }
      }
    }
    return new double[][] {r, mag};
  }

  @Test
  void cumSumEveryAxisExclusiveReverseOnFloatsAndExactOnIntegers() {
    Random rnd = new Random(3);
    long[] shape = {3, 13, 2};  // 13: not a power of two, 4 doubling steps
    try (TensorScope scope = new TensorScope()) {
      Tensor xf = randn(rnd, shape);
      long[] big = new long[78];
      for (int i = 0; i < big.length; i++) {
        big[i] = (rnd.nextLong() >> 14) | 1;  // |x| < 2^49: the sums of 13 stay exact in int64, not in double
      }
      Tensor xl = Tensor.of(big, shape);
      int[] small = new int[78];
      for (int i = 0; i < small.length; i++) {
        small[i] = rnd.nextInt(2_000_001) - 1_000_000;
      }
      Tensor xs = Tensor.of(small, shape);
      for (int axis = -1; axis < 3; axis++) {
        int ax = axis < 0 ? axis + 3 : axis;
        for (int ex = 0; ex <= 1; ex++) {
          for (int rev = 0; rev <= 1; rev++) {
            String what = "axis=" + axis + " exclusive=" + ex + " reverse=" + rev;
            byte[] m = model(axis == 1 ? 11 : 14, "CumSum", List.of("x", "axis"),
                List.of(scalarInt("axis", axis == 2 ? INT32 : INT64, axis)), attr("exclusive", ex), attr("reverse", rev));
            // floats: each output is a balanced tree of <= 13 terms: depth ceil(log2 13) = 4 roundings
            double[][] ref = cumsumRef(xf.toDoubleArray(), shape, ax, ex == 1, rev == 1);
            double[] got = run(m, false, xf)[0].toDoubleArray();
            for (int i = 0; i < got.length; i++) {
              assertTrue(Math.abs(got[i] - ref[0][i]) <= 4.4 * U * ref[1][i], what + " f32 element " + i);
            }
            // f64 and int64: int64 exactly, with values whose sums a double could not hold
            long[] gl = run(m, false, xl)[0].toLongArray();
            for (int i = 0; i < gl.length; i++) {
              assertEquals(longScan(big, shape, ax, ex == 1, rev == 1)[i], gl[i], what + " int64 element " + i);
            }
            assertArrayEquals(cumsumRef(xs.toDoubleArray(), shape, ax, ex == 1, rev == 1)[0],
                run(m, false, xs)[0].toDoubleArray(), what + " int32");
            Tensor xd = xs.to(DType.F64);
            assertArrayEquals(cumsumRef(xd.toDoubleArray(), shape, ax, ex == 1, rev == 1)[0],
                run(m, false, xd)[0].toDoubleArray(), what + " f64 (integer-valued: exact)");
          }
        }
      }
    }
  }

  private static long[] longScan(long[] x, long[] s, int axis, boolean exclusive, boolean reverse) {
    long inner = 1;
    for (int d = axis + 1; d < s.length; d++) {
      inner *= s[d];
    }
    int n = (int) s[axis];
    long[] r = new long[x.length];
    for (int base = 0; base < x.length; base++) {
      if ((base / inner) % n == 0) {
        long acc = 0;
        for (int t = 0; t < n; t++) {
          int at = (int) (base + (reverse ? n - 1 - t : t) * inner);
          r[at] = exclusive ? acc : acc + x[at];
          acc += x[at];
        }
      }
    }
    return r;
  }

  @Test
  void cumSumLengthOneAxisAndBadAxis() {
    try (TensorScope scope = new TensorScope()) {
      Tensor x = Tensor.of(new float[] {1, 2, 3}, 3, 1);
      byte[] ex = model(14, "CumSum", List.of("x", "axis"), List.of(scalarInt("axis", INT64, 1)), attr("exclusive", 1));
      assertArrayEquals(new float[] {0, 0, 0}, run(ex, false, x)[0].toFloatArray());
      byte[] bad = model(14, "CumSum", List.of("x", "axis"), List.of(scalarInt("axis", INT64, 2)));
      OnnxException e = assertThrows(OnnxException.class, () -> run(bad, false, x));
      assertTrue(e.getMessage().contains("CumSum node 'n'") && e.getMessage().contains("axis 2 is out of range for rank 2"),
          e.getMessage());
    }
  }

  // ------------------------------------------------------------------ Einsum

  private static List<String[]> manifest(String file) throws Exception {
    List<String[]> r = new ArrayList<>();
    for (String line : Files.readAllLines(DIR.resolve(file))) {
      if (!line.isBlank()) {
        r.add(line.split("\\|", -1));
      }
    }
    return r;
  }

  @Test
  void einsumMatchesNumPyOnEveryEquation() throws Exception {
    List<String[]> cases = manifest("einsum.txt");
    assertEquals(20, cases.size());
    for (String[] c : cases) {
      try (TensorScope scope = new TensorScope()) {
        int k = Integer.parseInt(c[2]);
        Tensor[] in = new Tensor[k];
        List<String> names = new ArrayList<>();
        for (int i = 0; i < k; i++) {
          in[i] = Npy.read(DIR.resolve("einsum_" + c[0] + "_in" + i + ".npy"));
          names.add("x" + i);
        }
        Tensor exp = Npy.read(DIR.resolve("einsum_" + c[0] + "_out.npy"));
        Tensor got = run(model(12, "Einsum", names, List.of(), attr("equation", c[1])), false, in)[0];
        String what = c[0] + " '" + c[1] + "'";
        assertArrayEquals(exp.shape(), got.shape(), what + ": shape");
        assertEquals(in[0].dtype(), got.dtype(), what + ": dtype");
        if (in[0].dtype() == DType.S32) {
          assertArrayEquals(exp.toIntArray(), got.toIntArray(), what);
        } else {
          // <= 8 products per output (f32: 9 roundings of terms of size ~1): 1e-5 covers 9 u sum|a||b| here
          double tol = in[0].dtype() == DType.F64 ? 1e-13 : 1e-5;
          assertClose(exp.toDoubleArray(), got.toDoubleArray(), tol, tol, what);
        }
      }
    }
  }

  @Test
  void einsumRefusalsNameTheNodeAndTheEquation() {
    for (String eq : new String[] {"ij,jk->i,k", "i2,j->ij", "i.j->ij", "ij->ji->ij"}) {
      OnnxException e = assertThrows(OnnxException.class,
          () -> model(12, "Einsum", List.of("x0", "x1"), List.of(), attr("equation", eq)));
      assertTrue(e.getMessage().contains("Einsum(equation='" + eq + "'") && e.getMessage().contains("in node 'n'"), e.getMessage());
    }
    OnnxException missing = assertThrows(OnnxException.class, () -> model(12, "Einsum", List.of("x0"), List.of()));
    assertTrue(missing.getMessage().contains("the equation is missing"), missing.getMessage());
    try (TensorScope scope = new TensorScope()) {
      Tensor a = Tensor.zeros(DType.F32, 2, 3), b = Tensor.zeros(DType.F32, 4, 5);
      String[][] bad = {
          {"ijk,jk->ik", "term 'ijk' does not match input 0 of shape [2, 3]"},
          {"ij,jk->ik", "label j has size 3 and 4"},
          {"ij,kl->iz", "output label z is not in any input"},
          {"ij,kl->ii", "output label i repeats"},
          {"...j,kl->jk", "has no '...'"},
          {"ij->j", "has 1 operand term(s) but the node has 2 input(s)"},
      };
      for (String[] c : bad) {
        byte[] m = model(12, "Einsum", List.of("x0", "x1"), List.of(), attr("equation", c[0]));
        OnnxException e = assertThrows(OnnxException.class, () -> run(m, false, a, b));
        assertTrue(e.getMessage().contains("Einsum node 'n'") && e.getMessage().contains(c[1]), e.getMessage());
      }
      // a repeated label (diagonal) whose two sizes differ
      byte[] diag = model(12, "Einsum", List.of("x0"), List.of(), attr("equation", "ii->i"));
      OnnxException e = assertThrows(OnnxException.class, () -> run(diag, false, a));
      assertTrue(e.getMessage().contains("label i has size 2 and 3 (input 0 of shape [2, 3])"), e.getMessage());
    }
  }

  // ------------------------------------------------------------------ Resize

  private static byte[] resizeModel(String[] c) {
    int opset = Integer.parseInt(c[8]);
    List<AttributeProto> at = new ArrayList<>(List.of(attr("mode", c[2]), attr("coordinate_transformation_mode", c[3]),
        attr("nearest_mode", c[4])));
    if (!c[7].equals("-")) {
      at.add(attr("axes", Arrays.stream(c[7].split(",")).mapToLong(Long::parseLong).toArray()));
    }
    List<TensorProto> inits = new ArrayList<>();
    List<String> names = new ArrayList<>(List.of("x", opset < 13 ? "roi" : ""));
    if (opset < 13) {
      inits.add(floats("roi"));
    }
    if (!c[5].equals("-")) {
      inits.add(floats("scales", Arrays.stream(c[5].split(",")).mapToDouble(Double::parseDouble).toArray()));
      names.add("scales");
    } else {
      if (opset < 13) {
        inits.add(floats("scales"));  // opsets 11-12: scales is required, empty when sizes is given
      }
      names.add(opset < 13 ? "scales" : "");
      inits.add(ints("sizes", INT64, Arrays.stream(c[6].split(",")).mapToLong(Long::parseLong).toArray()));
      names.add("sizes");
    }
    return model(opset, "Resize", names, inits, at.toArray(new AttributeProto[0]));
  }

  @Test
  void resizeMatchesTheOnnxFormulasForEveryModeAndCoordinateTransform() throws Exception {
    List<String[]> cases = manifest("resize.txt");
    assertEquals(3 * 4 * 5 + 5 * 5 + 3, cases.size());
    for (String[] c : cases) {
      try (TensorScope scope = new TensorScope()) {
        Tensor x = Npy.read(DIR.resolve("resize_" + c[1] + ".npy"));
        Tensor exp = Npy.read(DIR.resolve("resize_" + c[0] + ".npy"));
        Tensor got = run(resizeModel(c), false, x)[0];
        assertArrayEquals(exp.shape(), got.shape(), c[0] + ": shape");
        if (x.dtype() == DType.S64) {
          assertArrayEquals(exp.toLongArray(), got.toLongArray(), c[0]);
        } else {
          // nearest copies; linear: per axis two products and a sum in f32 (3 roundings, |w| <= 1,
          // |x| < 5), up to 3 axes: 12 u |x|max < 4e-6
          assertClose(exp.toDoubleArray(), got.toDoubleArray(), c[2].equals("nearest") ? 0 : 4e-6, 0, c[0]);
        }
      }
    }
  }

  @Test
  void resizeRefusalsNameTheNodeAndTheAttribute() {
    Object[][] load = {
        {"mode", "cubic", "Resize(mode=cubic: only nearest and linear) in node 'n'"},
        {"antialias", 1L, "Resize(antialias=1: only 0) in node 'n'"},
        {"coordinate_transformation_mode", "tf_crop_and_resize", "Resize(coordinate_transformation_mode=tf_crop_and_resize"},
        {"nearest_mode", "round", "Resize(nearest_mode=round) in node 'n'"},
        {"keep_aspect_ratio_policy", "not_larger", "Resize(keep_aspect_ratio_policy=not_larger: only stretch) in node 'n'"},
    };
    for (Object[] c : load) {
      OnnxException e = assertThrows(OnnxException.class, () -> model(18, "Resize", List.of("x", "", "scales"),
          List.of(floats("scales", 1, 2)), attr((String) c[0], c[1])));
      assertTrue(e.getMessage().contains((String) c[2]), e.getMessage());
    }
    OnnxException old = assertThrows(OnnxException.class,
        () -> model(10, "Resize", List.of("x", "scales"), List.of(floats("scales", 1, 2))));
    assertTrue(old.getMessage().contains("Resize(opset 10"), old.getMessage());
    try (TensorScope scope = new TensorScope()) {
      Tensor x = Tensor.zeros(DType.F32, 2, 3);
      Object[][] trace = {
          {model(13, "Resize", List.of("x", "", "scales", "sizes"), List.of(floats("scales", 1, 2), ints("sizes", INT64, 2, 6))),
              "exactly one of the inputs scales and sizes must be given (non-empty), got both"},
          {model(13, "Resize", List.of("x", "", "scales"), List.of(floats("scales", 1, 2, 3))),
              "scales [1.0, 2.0, 3.0] must have 2 entries (input shape [2, 3])"},
          {model(13, "Resize", List.of("x", "", "scales"), List.of(floats("scales", 1, -2))), "scale -2.0 for axis 1"},
      };
      for (Object[] c : trace) {
        OnnxException e = assertThrows(OnnxException.class, () -> run((byte[]) c[0], false, x));
        assertTrue(e.getMessage().contains("Resize node 'n'") && e.getMessage().contains((String) c[1]), e.getMessage());
      }
      byte[] lin = model(13, "Resize", List.of("x", "", "scales"), List.of(floats("scales", 1, 2)), attr("mode", "linear"));
      OnnxException e = assertThrows(OnnxException.class, () -> run(lin, false, Tensor.zeros(DType.S32, 2, 3)));
      assertTrue(e.getMessage().contains("mode=linear needs a floating-point input"), e.getMessage());
    }
  }

  // ------------------------------------------------------------------ emulated TPU

  @Test
  void everyOperatorCompilesForTheEmulatedTpuAndMatchesTheHost() throws Exception {
    Precision before = Jxla.matmulPrecision();
    Jxla.setMatmulPrecision(Precision.HIGHEST);
    Random rnd = new Random(4);
    try (TensorScope scope = new TensorScope()) {
      List<Function<Void, Tensor[]>> runs = new ArrayList<>();
      Tensor x = randn(rnd, 2, 5, 6);
      runs.add(v -> run(model(14, "Trilu", List.of("x", "k"), List.of(scalarInt("k", INT64, -1))), true, x));
      runs.add(v -> run(model(14, "CumSum", List.of("x", "axis"), List.of(scalarInt("axis", INT64, 1)), attr("reverse", 1)),
          true, x));
      runs.add(v -> run(model(14, "CumSum", List.of("x", "axis"), List.of(scalarInt("axis", INT64, 2)), attr("exclusive", 1)),
          true, x.mul(1000).to(DType.S32)));
      Tensor q = Npy.read(DIR.resolve("einsum_attn_in0.npy")), k = Npy.read(DIR.resolve("einsum_attn_in1.npy"));
      runs.add(v -> run(model(12, "Einsum", List.of("x0", "x1"), List.of(), attr("equation", "bhqd,bhkd->bhqk")), true, q, k));
      Tensor x4 = Npy.read(DIR.resolve("resize_x4.npy"));
      for (String[] c : manifest("resize.txt")) {
        if (c[0].equals("linear_half_pixel") || c[0].equals("nearest_asymmetric_floor")) {
          runs.add(v -> run(resizeModel(c), true, x4));
        }
      }
      assertEquals(6, runs.size());
      for (Function<Void, Tensor[]> r : runs) {
        Tensor[] both = r.apply(null);
        assertEquals(both[0].dtype(), both[1].dtype());
        assertArrayEquals(both[0].shape(), both[1].shape());
        // elementwise ops run the reference kernels; the einsum's HIGHEST matmul (K = 8) is within
        // 1.01 * 2^-20 + 1.1 * 14 u of sum |a||b| (docs/tpu-model.md): < 1e-5 for these inputs
        assertClose(both[0].toDoubleArray(), both[1].toDoubleArray(), 1e-5, 1e-5, "tpu vs host");
      }
    } finally {
      Jxla.setMatmulPrecision(before);
    }
  }
}
