package dev.jxla;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every op of native/ir/ops.def on every dtype it is defined on, run through the public Java API
 * and compared with the NumPy-computed fixtures of src/test/resources/fixtures (one dynamic test
 * per fixture case).
 *
 * <p>Tolerances. The fixture gives each case (k, floor); the bound is
 * {@code |got - want| <= k * unit(dtype, max(|want|, floor))}; k = 0 means exact equality (NaN
 * equals NaN). unit is:
 * <ul>
 *   <li>f32, bf16, f16: one ulp of the dtype at that magnitude (2^-23, 2^-7, 2^-10 relative at
 *       the bottom of a binade). The spec computes in double and rounds once, and the expectations
 *       are the exact results rounded once, so single-rounding ops get k = 1 (a libm difference in
 *       the last bit of the double value can move the rounded result by at most one ulp), and ops
 *       that are correctly rounded (+ - * /, conversions, shape and index ops) get k = 0.
 *       Composites round after every primitive and f32 GEMM accumulates in f32: the generator
 *       derives their k from the error analysis written next to each case.</li>
 *   <li>f64: 1e-12 relative. NumPy's SIMD/SVML and glibc's libm agree to a few ulp (about 1e-15);
 *       1e-12 leaves room for summation-order differences yet catches any float32 or wrong-formula
 *       result (errors of 1e-7 or more).</li>
 *   <li>integers and bool: always exact.</li>
 * </ul>
 */
final class OpFixtureTest {

  @TestFactory
  Stream<DynamicNode> fixtures() throws IOException {
    List<DynamicNode> files = new ArrayList<>();
    for (Map.Entry<String, List<Fixtures.Case>> e : Fixtures.load().entrySet()) {
      List<DynamicNode> tests = new ArrayList<>();
      for (Fixtures.Case c : e.getValue()) {
        tests.add(DynamicTest.dynamicTest(c.id, () -> run(c)));
      }
      files.add(DynamicContainer.dynamicContainer(e.getKey(), tests));
    }
    return files.stream();
  }

  /** Every op of the op table has fixture cases (leaves, primitives, dynamic ops, composites). */
  @Test
  void everyOpOfTheTableIsCovered() throws IOException {
    Path def = Paths.get("native", "ir", "ops.def");
    assertTrue(Files.exists(def), "run from the project root: " + def.toAbsolutePath());
    Set<String> table = new TreeSet<>();
    Matcher m = Pattern.compile("^JXLA_OP\\(\\w+, \"(\\w+)\"", Pattern.MULTILINE)
        .matcher(new String(Files.readAllBytes(def), StandardCharsets.UTF_8));
    while (m.find()) {
      table.add(m.group(1));
    }
    assertTrue(table.size() >= 70, "parsed " + table.size() + " ops from ops.def");
    Set<String> covered = new TreeSet<>();
    int n = 0;
    for (List<Fixtures.Case> cs : Fixtures.load().values()) {
      for (Fixtures.Case c : cs) {
        covered.addAll(c.ops);
        n++;
      }
    }
    Set<String> missing = new TreeSet<>(table);
    missing.removeAll(covered);
    assertTrue(missing.isEmpty(), "ops without fixture cases: " + missing);
    Set<String> unknown = new TreeSet<>(covered);
    unknown.removeAll(table);
    assertTrue(unknown.isEmpty(), "fixtures name ops that are not in ops.def: " + unknown);
    assertTrue(n > 1000, "only " + n + " fixture cases");
  }

  /** The test-side f16/bf16 encoders agree with hand-checked IEEE bit patterns. */
  @Test
  void halfFloatEncodingsRoundTrip() {
    double[] vals = {0.0, -0.0, 1.0, -2.5, 65504.0, 0x1p-24, 0x1p-14, 1.0 / 1024 + 1, Double.POSITIVE_INFINITY};
    for (double v : vals) {
      assertEquals(v, Fixtures.halfToDouble(Fixtures.halfBits(v)));
    }
    assertEquals((short) 0x3c00, Fixtures.halfBits(1.0));
    assertEquals((short) 0xc000, Fixtures.halfBits(-2.0));
    assertEquals((short) 0x0001, Fixtures.halfBits(0x1p-24));
    assertEquals((short) 0x7bff, Fixtures.halfBits(65504.0));
    assertEquals((short) 0x3f80, Fixtures.bf16Bits(1.0));
    assertEquals((short) 0xc040, Fixtures.bf16Bits(-3.0));
  }

  static void run(Fixtures.Case c) {
    try (TensorScope scope = new TensorScope()) {
      Tensor[] in = new Tensor[c.inputs.size()];
      for (int k = 0; k < in.length; k++) {
        in[k] = Fixtures.make(c.inputs.get(k));
      }
      Tensor out = call(c, in);
      Fixtures.Spec got = Fixtures.read(out);
      Fixtures.Spec want = c.out;
      assertEquals(want.dtype, got.dtype, c.id + ": dtype");
      assertArrayEquals(want.shape, got.shape, c.id + ": shape");
      compare(c, want, got);
      if (c.call.equals("to")) {
        readersConvert(c, in[0], want);
      }
    }
  }

  /** The array readers convert with the same rules as the convert op. */
  static void readersConvert(Fixtures.Case c, Tensor x, Fixtures.Spec want) {
    int n = want.size();
    switch (want.dtype) {
      case F32: {
        float[] a = x.toFloatArray();
        double[] d = new double[n];
        for (int k = 0; k < n; k++) {
          d[k] = a[k];
        }
        compare(c, want, new Fixtures.Spec(want.dtype, want.shape, d, null));
        break;
      }
      case F64:
        compare(c, want, new Fixtures.Spec(want.dtype, want.shape, x.toDoubleArray(), null));
        break;
      case S32:
        compare(c, want, new Fixtures.Spec(want.dtype, want.shape, null, Arrays.stream(x.toIntArray()).asLongStream().toArray()));
        break;
      case S64:
        compare(c, want, new Fixtures.Spec(want.dtype, want.shape, null, x.toLongArray()));
        break;
      case BOOL: {
        boolean[] b = x.toBooleanArray();
        long[] v = new long[n];
        for (int k = 0; k < n; k++) {
          v[k] = b[k] ? 1 : 0;
        }
        compare(c, want, new Fixtures.Spec(want.dtype, want.shape, null, v));
        break;
      }
      default:
        break;  // no Java array type for bf16/f16
    }
  }

  /**
   * Transcendental f32 ops also run in the host's fused kernels (the default), which compute in
   * single precision rather than in double with one final rounding: glibc's f32 erfcf/expf/tanhf
   * are within 2 ulp, and the gelu forms add up to three roundings of 0.5 ulp (multiplies, the
   * division), so these ops are allowed 4 ulp in f32. Every other case keeps the fixture's k.
   */
  static final java.util.Set<String> F32_FUSED_TRANSCENDENTAL = java.util.Set.of("gelu", "gelu_tanh");

  static int ulps(Fixtures.Case c, DType dt) {
    if (dt == DType.F32 && c.tolUlps > 0 && c.ops.stream().anyMatch(F32_FUSED_TRANSCENDENTAL::contains)) {
      return Math.max(c.tolUlps, 4);
    }
    return c.tolUlps;
  }

  static void compare(Fixtures.Case c, Fixtures.Spec want, Fixtures.Spec got) {
    StringBuilder bad = new StringBuilder();
    int nbad = 0;
    for (int k = 0; k < want.size(); k++) {
      boolean ok;
      String g;
      String w;
      double tol = 0;
      if (want.dtype.isFloatingPoint()) {
        double e = want.f[k], a = got.f[k];
        if (Double.isNaN(e) || Double.isInfinite(e) || c.tolUlps == 0) {
          ok = Double.isNaN(e) ? Double.isNaN(a) : a == e;
        } else {
          tol = ulps(c, want.dtype) * unit(want.dtype, Math.max(Math.abs(e), c.tolFloor));
          ok = Math.abs(a - e) <= tol;
        }
        g = Double.toString(a);
        w = Double.toString(e);
      } else {
        ok = want.i[k] == got.i[k];
        g = Long.toString(got.i[k]);
        w = Long.toString(want.i[k]);
      }
      if (!ok && nbad++ < 8) {
        bad.append(String.format("%n  [%d] got %s want %s (tol %.3g)", k, g, w, tol));
      }
    }
    if (nbad > 0) {
      fail(c.id + ": " + nbad + " of " + want.size() + " elements differ (" + c.tolUlps + " ulp, floor " + c.tolFloor + ")"
          + bad);
    }
  }

  /** One ulp of dtype at magnitude mag (f64: 1e-12 * mag, see the class comment). */
  static double unit(DType dt, double mag) {
    switch (dt) {
      case F64:
        return 1e-12 * mag;
      case F32:
        return ulp(mag, 24, -126);
      case BF16:
        return ulp(mag, 8, -126);
      case F16:
        return ulp(mag, 11, -14);
      default:
        return 0;
    }
  }

  /** The spacing of a binary format with p significant bits and min normal exponent emin at mag. */
  static double ulp(double mag, int p, int emin) {
    int e = mag == 0 ? emin : Math.max(Math.getExponent(mag), emin);
    return Math.scalb(1.0, e - (p - 1));
  }

  /** Runs the case's Java API call on its inputs. */
  static Tensor call(Fixtures.Case c, Tensor[] in) {
    Tensor x = in.length > 0 ? in[0] : null;
    switch (c.call) {
      case "identity": return x;
      case "full": return Tensor.full(c.doubleArg("value"), c.dtypeArg("dtype"), c.longsArg("shape"));
      case "iota": return Tensor.iota(c.dtypeArg("dtype"), c.intArg("axis"), c.longsArg("shape"));
      case "arange": return Tensor.arange(c.longArg("n"), c.dtypeArg("dtype"));
      case "rand": case "randn": {
        Rng rng = new Rng(c.longArg("seed"));
        long skip = c.longArg("skip");
        if (skip > 0) {
          Tensor.rand(rng, DType.F32, skip).close();  // advances the counter by skip
        }
        assertEquals(skip, rng.position(), c.id + ": counter after skipping");
        return c.call.equals("rand") ? Tensor.rand(rng, c.dtypeArg("dtype"), c.longsArg("shape"))
            : Tensor.randn(rng, c.dtypeArg("dtype"), c.longsArg("shape"));
      }
      case "arange_range":
        return Tensor.arange(c.doubleArg("start"), c.doubleArg("end"), c.doubleArg("step"), c.dtypeArg("dtype"));
      case "add_scalar": return x.add(c.doubleArg("value"));
      case "sub_scalar": return x.sub(c.doubleArg("value"));
      case "mul_scalar": return x.mul(c.doubleArg("value"));
      case "div_scalar": return x.div(c.doubleArg("value"));
      case "pow_scalar": return x.pow(c.doubleArg("value"));
      case "max_scalar": return x.max(c.doubleArg("value"));
      case "min_scalar": return x.min(c.doubleArg("value"));
      case "eq_scalar": return x.eq(c.doubleArg("value"));
      case "lt_scalar": return x.lt(c.doubleArg("value"));
      case "gt_scalar": return x.gt(c.doubleArg("value"));
      case "clamp_scalar": return x.clamp(c.doubleArg("lo"), c.doubleArg("hi"));
      case "neg": return x.neg();
      case "abs": return x.abs();
      case "exp": return x.exp();
      case "log": return x.log();
      case "log1p": return x.log1p();
      case "expm1": return x.expm1();
      case "sqrt": return x.sqrt();
      case "rsqrt": return x.rsqrt();
      case "tanh": return x.tanh();
      case "sigmoid": return x.sigmoid();
      case "relu": return x.relu();
      case "gelu": return x.gelu();
      case "gelu_tanh": return x.gelu(true);
      case "erf": return x.erf();
      case "sin": return x.sin();
      case "cos": return x.cos();
      case "floor": return x.floor();
      case "ceil": return x.ceil();
      case "round": return x.round();
      case "sign": return x.sign();
      case "not": return x.not();
      case "to": return x.to(c.dtypeArg("dtype"));
      case "add": return x.add(in[1]);
      case "sub": return x.sub(in[1]);
      case "mul": return x.mul(in[1]);
      case "div": return x.div(in[1]);
      case "pow": return x.pow(in[1]);
      case "max": return in.length == 2 ? x.max(in[1]) : x.max(keep(c), c.intsArg("axes"));
      case "min": return in.length == 2 ? x.min(in[1]) : x.min(keep(c), c.intsArg("axes"));
      case "eq": return x.eq(in[1]);
      case "ne": return x.ne(in[1]);
      case "lt": return x.lt(in[1]);
      case "le": return x.le(in[1]);
      case "gt": return x.gt(in[1]);
      case "ge": return x.ge(in[1]);
      case "and": return x.and(in[1]);
      case "or": return x.or(in[1]);
      case "xor": return x.xor(in[1]);
      case "where": return Tensor.where(in[0], in[1], in[2]);
      case "clamp": return x.clamp(in[1], in[2]);
      case "reshape": return x.reshape(c.longsArg("shape"));
      case "permute": return x.permute(c.intsArg("perm"));
      case "transpose": return x.transpose(c.intArg("a"), c.intArg("b"));
      case "broadcast_to": return x.broadcastTo(c.longsArg("shape"));
      case "slice": return x.slice(c.intArg("axis"), c.longArg("start"), c.longArg("end"), c.longArg("step"));
      case "concat": return Tensor.concat(c.intArg("axis"), in);
      case "pad": return x.pad(c.longsArg("low"), c.longsArg("high"), c.doubleArg("value"));
      case "squeeze": return x.squeeze(c.intArg("axis"));
      case "unsqueeze": return x.unsqueeze(c.intArg("axis"));
      case "gather": return x.gather(in[1], c.intArg("axis"));
      case "take_along_axis": return x.takeAlongAxis(in[1], c.intArg("axis"));
      case "scatter_add": return x.scatterAdd(c.intArg("axis"), in[1], in[2]);
      case "one_hot": return x.oneHot(c.intArg("depth"), c.dtypeArg("dtype"));
      case "sum": return x.sum(keep(c), c.intsArg("axes"));
      case "prod": return x.prod(keep(c), c.intsArg("axes"));
      case "mean": return x.mean(keep(c), c.intsArg("axes"));
      case "logsumexp": return x.logsumexp(keep(c), c.intsArg("axes"));
      case "argmax": return x.argmax(c.intArg("axis"), keep(c));
      case "argmin": return x.argmin(c.intArg("axis"), keep(c));
      case "topk_values": return x.topk(c.intArg("k"), c.intArg("axis"), c.intArg("largest") != 0)[0];
      case "topk_indices": return x.topk(c.intArg("k"), c.intArg("axis"), c.intArg("largest") != 0)[1];
      case "softmax": return x.softmax(c.intArg("axis"));
      case "log_softmax": return x.logSoftmax(c.intArg("axis"));
      case "matmul": return x.matmul(in[1]);
      case "dot_general":
        return x.dotGeneral(in[1], c.intsArg("lhs_contract"), c.intsArg("rhs_contract"), c.intsArg("lhs_batch"),
            c.intsArg("rhs_batch"));
      case "conv2d":
        return x.conv2d(in[1], c.intsArg("stride"), c.intsArg("padding"), c.intsArg("dilation"), c.intArg("groups"));
      case "max_pool2d": return x.maxPool2d(c.intsArg("kernel"), c.intsArg("stride"), c.intsArg("padding"));
      case "avg_pool2d":
        return x.avgPool2d(c.intsArg("kernel"), c.intsArg("stride"), c.intsArg("padding"), c.intArg("count_include_pad") != 0);
      case "nonzero": return x.nonzero();
      case "unique": return x.unique();
      case "masked_select": return x.maskedSelect(in[1]);
      default:
        throw new IllegalStateException(c.id + ": unknown call " + c.call);
    }
  }

  private static boolean keep(Fixtures.Case c) {
    return c.intArg("keepdims") != 0;
  }
}
