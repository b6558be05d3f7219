package dev.jxla;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The compile cache is keyed by graph structure, shapes and dtypes, never data: a repeated step
 * with new data (and new scalar values) is a hit, a new shape is a miss. The text IR prints,
 * parses and re-prints identically, and malformed text is an argument error.
 */
class CacheTest {
  /** A step over x[rows, 5] with bias b: relu(x * 2 + b) reduced per row, plus a softmax. */
  private static float[] step(int rows, float seed, float b) {
    float[] x = new float[rows * 5];
    for (int i = 0; i < x.length; i++) {
      x[i] = (i * 7 + seed) % 11 - 5;
    }
    try (TensorScope scope = new TensorScope()) {
      Tensor xt = Tensor.of(x, rows, 5);
      Tensor h = xt.mul(2f).add(b).relu();
      Tensor s = h.sum(1);
      Tensor p = xt.softmax(1);
      Jxla.sync();
      float[] got = s.toFloatArray();
      float[] want = new float[rows];
      for (int r = 0; r < rows; r++) {
        for (int c = 0; c < 5; c++) {
          want[r] += Math.max(0, x[r * 5 + c] * 2 + b);
        }
      }
      assertArrayEquals(want, got);
      float[] pv = p.toFloatArray();
      for (int r = 0; r < rows; r++) {
        float sum = 0;
        for (int c = 0; c < 5; c++) {
          sum += pv[r * 5 + c];
        }
        assertEquals(1.0, sum, 1e-5);  // five f32 terms, each rounded once: a few ulp of 1
      }
      return got;
    }
  }

  private static long[] counters() {
    return new long[] {Jxla.counter("CachedCompile"), Jxla.counter("UncachedCompile")};
  }

  @Test
  void repeatedStepWithNewDataIsACacheHit() {
    step(37, 0, 1);  // first time this shape: may compile
    long[] c0 = counters();
    for (int i = 1; i <= 20; i++) {
      step(37, i, i % 3 - 1);  // new data and a new scalar value each time
    }
    long[] c1 = counters();
    assertEquals(20, c1[0] - c0[0], "cache hits");
    assertEquals(0, c1[1] - c0[1], "no compile when only data changes");
  }

  @Test
  void aDifferentShapeIsAMiss() {
    step(41, 0, 0);
    long[] c0 = counters();
    step(43, 0, 0);  // a shape no other test uses: compiled once
    long[] c1 = counters();
    assertEquals(1, c1[1] - c0[1], "a new shape compiles");
    assertEquals(0, c1[0] - c0[0]);
    step(43, 5, 2);
    long[] c2 = counters();
    assertEquals(1, c2[0] - c1[0], "and is cached afterwards");
    assertEquals(0, c2[1] - c1[1]);
  }

  @Test
  void aDifferentDtypeIsAMiss() {
    try (TensorScope scope = new TensorScope()) {
      Tensor a = Tensor.of(new double[] {1, 2, 3, 4, 5, 6, 7}, 7).mul(3.0);
      a.toDoubleArray();
      long[] c0 = counters();
      Tensor b = Tensor.of(new int[] {1, 2, 3, 4, 5, 6, 7}, 7).mul(3.0);
      assertArrayEquals(new int[] {3, 6, 9, 12, 15, 18, 21}, b.toIntArray());
      long[] c1 = counters();
      assertEquals(1, c1[1] - c0[1], "s32 is another graph than f64");
      Tensor c = Tensor.of(new double[] {7, 6, 5, 4, 3, 2, 1}, 7).mul(4.0);
      assertArrayEquals(new double[] {28, 24, 20, 16, 12, 8, 4}, c.toDoubleArray());
      long[] c2 = counters();
      assertEquals(1, c2[0] - c1[0], "same f64 graph with new data and scalar: a hit");
      assertEquals(0, c2[1] - c1[1]);
    }
  }

  // ---------------------------------------------------------------- text IR

  private static void assertRoundTrips(String text) {
    String once = Jxla.roundTripIr(text);
    String twice = Jxla.roundTripIr(once);
    assertEquals(once, twice, "print -> parse -> print");
  }

  private static String irOf(Supplier<Tensor> f) {
    try (TensorScope scope = new TensorScope()) {
      return f.get().ir();
    }
  }

  @Test
  void irOfTracedGraphsParsesAndRoundTrips() {
    String[] irs = {
      irOf(() -> Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3).matmul(Tensor.ones(DType.F32, 3, 4)).add(1f).relu()),
      irOf(() -> Tensor.of(new float[] {1, 2, 3, 4}, 2, 2).softmax(1)),
      irOf(() -> Tensor.of(new float[] {1, 2, 3, 4}, 2, 2).logsumexp(true, 0).sub(Tensor.arange(2, DType.F32))),
      irOf(() -> Tensor.where(Tensor.of(new int[] {1, -2, 3}, 3).gt(0), Tensor.of(new int[] {4, 5, 6}, 3),
          Tensor.scalar(0))),
      irOf(() -> Tensor.concat(1, Tensor.of(new double[] {1, 2}, 2, 1), Tensor.ones(DType.F64, 2, 3)).slice(1, 0, 4, 2)
          .pad(new long[] {1, 0}, new long[] {0, 2}, -1.5)),
      irOf(() -> Tensor.of(new float[16], 1, 1, 4, 4).conv2d(Tensor.ones(DType.F32, 2, 1, 3, 3))
          .maxPool2d(new int[] {2, 2}, new int[] {1, 1}, new int[] {0, 0})),
      irOf(() -> Tensor.of(new long[] {2, 0, 1}, 3).oneHot(3, DType.BF16).argmax(1)),
    };
    for (String ir : irs) {
      assertTrue(ir.contains("parameter(") && ir.contains("return %"), ir);
      // the printed IR of a traced graph is already canonical: it parses and prints unchanged
      assertEquals(ir, Jxla.roundTripIr(ir), "round trip of\n" + ir);
      assertRoundTrips(ir);
    }
    assertTrue(irs[1].contains("exp(") && irs[1].contains("reduce_max("), "softmax expands:\n" + irs[1]);
  }

  @Test
  void handWrittenIrRoundTrips() {
    String text = "# a comment line\n"
        + "%x = parameter() {dtype=f32, index=0, shape=[2,3]} : f32[2,3]\n"
        + "%y = parameter() {dtype=f32, index=1, shape=[3]} : f32[3]\n"
        + "%b = broadcast(%y) {dims=[1], shape=[2,3]} : f32[2,3]\n"
        + "%s = add(%x, %b) : f32[2,3]\n"
        + "%t = transpose(%s) {perm=[1,0]} : f32[3,2]\n"
        + "%r = reduce_sum(%t) {axes=[1], keepdims=0} : f32[3]\n"
        + "return %r, %t\n";
    String printed = Jxla.roundTripIr(text);
    assertTrue(printed.startsWith("%0 = parameter() {dtype=f32, index=0, shape=[2,3]} : f32[2,3]\n"), printed);
    assertTrue(printed.endsWith("return %5, %4\n"), printed);
    assertRoundTrips(text);
    // identical statements are merged by hash-consing: the printed graph keeps one of them
    String dup = "%a = parameter() {dtype=s32, index=0, shape=[4]} : s32[4]\n"
        + "%b = neg(%a) : s32[4]\n%c = neg(%a) : s32[4]\n%d = add(%b, %c) : s32[4]\nreturn %d\n";
    assertEquals("%0 = parameter() {dtype=s32, index=0, shape=[4]} : s32[4]\n%1 = neg(%0) : s32[4]\n"
        + "%2 = add(%1, %1) : s32[4]\nreturn %2\n", Jxla.roundTripIr(dup));
  }

  @Test
  void malformedIrIsAnArgumentErrorNamingTheLine() {
    String p = "%a = parameter() {dtype=f32, index=0, shape=[2]} : f32[2]\n";
    String[][] bad = {
      {p + "%b = exp(%a) : f32[3]\nreturn %b\n", "line 2", "f32[3]"},     // wrong annotated shape
      {p + "%b = nosuch(%a) : f32[2]\nreturn %b\n", "line 2", "nosuch"},  // unknown op
      {p + "%b = exp(%zz) : f32[2]\nreturn %b\n", "line 2", "%zz"},       // undefined value
      {p + "%b = exp(%a) : f32[2]\n", "missing return"},
      {p + "%a = exp(%a) : f32[2]\nreturn %a\n", "line 2", "twice"},
      {p + "%b = exp(%a) : q7[2]\nreturn %b\n", "line 2", "q7"},          // unknown dtype
      {p + "%b = exp(%a) {x=} : f32[2]\nreturn %b\n", "line 2", "attributes"},
      {p + "%b = exp(%a) : f32[2\nreturn %b\n", "line 2", "']'"},
      {p + "%b = add(%a) : f32[2]\nreturn %b\n", "line 2", "add", "operand"},  // arity
      {p + "%b = softmax(%a) {axis=0} : f32[2]\nreturn %b\n", "line 2", "softmax"},  // composite
      {p + "%b = reshape(%a) {shape=[99999999999999999999]} : f32[99999999999999999999]\nreturn %b\n", "line 2"},
      {p + "return %b\n", "line 2", "%b"},
      {"%a = parameter() {dtype=f32, index=1, shape=[2]} : f32[2]\nreturn %a\n", "line 1", "numbered"},
    };
    for (String[] row : bad) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Jxla.roundTripIr(row[0]),
          row[0]);
      for (int i = 1; i < row.length; i++) {
        assertTrue(e.getMessage().contains(row[i]), "'" + e.getMessage() + "' should mention " + row[i]);
      }
      assertTrue(e.getMessage().startsWith("parse_graph"), e.getMessage());
    }
    assertRoundTrips(p + "return %a\n");  // the parser still works after the errors
  }
}
