package dev.jxla;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A table of bad inputs through the public API. Each row asserts the exception type, that the
 * message names the op and the shapes/argument at fault, that the failed call leaked no native
 * tensor, and that a valid computation right after it still gives the right values.
 */
class BadInputTest {
  private static final Class<IllegalArgumentException> IAE = IllegalArgumentException.class;
  private static final Class<IllegalStateException> ISE = IllegalStateException.class;

  /** One row: what the user did, what must be thrown, what the message must mention. */
  static final class Row {
    final String name;
    final Class<? extends Throwable> type;
    final Executable action;
    final String[] mentions;

    Row(String name, Class<? extends Throwable> type, Executable action, String... mentions) {
      this.name = name;
      this.type = type;
      this.action = action;
      this.mentions = mentions;
    }

    @Override
    public String toString() {
      return name;
    }
  }

  private static Tensor f(long... shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    float[] a = new float[(int) n];
    for (int i = 0; i < a.length; i++) {
      a[i] = i + 1;
    }
    return Tensor.of(a, shape);
  }

  private static Tensor bools(int n) {
    return Tensor.of(new boolean[n], n);
  }

  private static Tensor closed() {
    Tensor t = f(3);
    t.close();
    return t;
  }

  static List<Row> rows() {
    List<Row> r = new ArrayList<>();
    // ---- shape mismatches
    r.add(new Row("add: shapes do not broadcast", IAE, () -> f(2, 3).add(f(3, 2)), "add", "[2,3]", "[3,2]"));
    r.add(new Row("sub: 1-d lengths differ", IAE, () -> f(4).sub(f(3)), "sub", "[4]", "[3]"));
    r.add(new Row("mul: bool operands", IAE, () -> bools(2).mul(bools(2)), "mul", "bool"));
    r.add(new Row("matmul: inner dims differ", IAE, () -> f(2, 3).matmul(f(4, 5)), "matmul", "[2,3]", "[4,5]"));
    r.add(new Row("matmul: batch dims do not broadcast", IAE, () -> f(2, 2, 3).matmul(f(3, 3, 4)),
        "matmul", "[2,2,3]", "[3,3,4]"));
    r.add(new Row("matmul: scalar operand", IAE, () -> f(3).matmul(Tensor.scalar(2f)), "matmul", "[3]", "rank"));
    r.add(new Row("dot_general: contracting dims differ", IAE,
        () -> f(2, 3).dotGeneral(f(4, 5), new int[] {1}, new int[] {0}, new int[0], new int[0]),
        "dot_general", "f32[2,3]", "f32[4,5]", "contracting"));
    r.add(new Row("dot_general: batch dims differ", IAE,
        () -> f(2, 3, 4).dotGeneral(f(5, 4, 3), new int[] {2}, new int[] {1}, new int[] {0}, new int[] {0}),
        "dot_general", "batch", "f32[2,3,4]", "f32[5,4,3]"));
    r.add(new Row("dot_general: contracting axis out of range", IAE,
        () -> f(2, 3).dotGeneral(f(3, 2), new int[] {2}, new int[] {0}, new int[0], new int[0]),
        "dot_general", "lhs_contract", "2", "rank 2"));
    r.add(new Row("concat: other dims differ", IAE, () -> Tensor.concat(0, f(2, 3), f(3, 2)),
        "concat", "[3,2]", "[2,3]"));
    r.add(new Row("concat: axis out of range", IAE, () -> Tensor.concat(2, f(2, 3), f(2, 3)),
        "concat", "axis 2", "rank 2"));
    r.add(new Row("concat: null operand", IAE, () -> Tensor.concat(0, f(2), null), "concat", "1", "null"));
    r.add(new Row("clamp: bounds larger than operand", IAE, () -> f(3).clamp(f(2, 3), f(2, 3)),
        "clamp", "[2,3]", "[3]"));
    r.add(new Row("broadcastTo: incompatible", IAE, () -> f(2, 3).broadcastTo(4, 4), "broadcastTo", "[2,3]", "[4,4]"));
    // ---- axes
    r.add(new Row("sum: axis out of range", IAE, () -> f(2, 3).sum(2), "reduce_sum", "2", "rank 2"));
    r.add(new Row("sum: duplicate axes", IAE, () -> f(2, 3).sum(1, -1), "reduce_sum", "duplicate", "[1,1]"));
    r.add(new Row("mean: negative axis out of range", IAE, () -> f(2, 3).mean(-3), "reduce_mean", "-3", "rank 2"));
    r.add(new Row("argmax: axis out of range", IAE, () -> f(2, 3).argmax(2), "argmax", "axis 2", "rank 2"));
    r.add(new Row("argmax: rank-0 operand", IAE, () -> Tensor.scalar(1f).argmax(0), "argmax", "rank"));
    r.add(new Row("softmax: axis out of range", IAE, () -> f(2, 3).softmax(3), "softmax", "axis 3", "rank 2"));
    r.add(new Row("transpose: axis out of range", IAE, () -> f(2, 3).transpose(0, 2), "transpose", "axis 2", "rank 2"));
    r.add(new Row("permute: not a permutation", IAE, () -> f(2, 3).permute(0, 0), "transpose", "[0,0]", "permutation"));
    r.add(new Row("permute: null", IAE, () -> f(2, 3).permute((int[]) null), "permute", "null"));
    r.add(new Row("broadcastTo: null shape", IAE, () -> f(2, 3).broadcastTo((long[]) null), "broadcastTo", "null"));
    r.add(new Row("permute: wrong length", IAE, () -> f(2, 3).permute(0), "transpose", "f32[2,3]", "rank 2"));
    r.add(new Row("slice: axis out of range", IAE, () -> f(2, 3).slice(2, 0, 1), "slice", "axis 2", "rank 2"));
    r.add(new Row("slice: step 0", IAE, () -> f(4).slice(0, 0, 4, 0), "slice", "step 0"));
    r.add(new Row("gather: axis out of range", IAE, () -> f(2, 3).gather(Tensor.of(new long[] {0}, 1), 2),
        "gather", "axis 2", "rank 2"));
    r.add(new Row("gather: float indices", IAE, () -> f(2, 3).gather(f(2), 0), "gather", "indices", "f32[2]"));
    r.add(new Row("take_along_axis: rank mismatch", IAE, () -> f(2, 3).takeAlongAxis(Tensor.of(new long[] {0, 1}, 2), 1),
        "take_along_axis", "s64[2]", "f32[2,3]"));
    r.add(new Row("scatter_add: updates shape", IAE,
        () -> f(2, 3).scatterAdd(1, Tensor.of(new long[] {0, 1}, 2, 1), f(2, 2)), "scatter_add", "f32[2,2]", "s64[2,1]"));
    r.add(new Row("squeeze: dim is not 1", IAE, () -> f(2, 3).squeeze(1), "squeeze", "[2,3]", "size 3"));
    // ---- reshape
    r.add(new Row("reshape: wrong element count", IAE, () -> f(2, 3).reshape(4, 2), "reshape", "f32[2,3]", "[4,2]"));
    r.add(new Row("reshape: two -1", IAE, () -> f(2, 3).reshape(-1, -1), "reshape", "[-1,-1]", "f32[2,3]"));
    r.add(new Row("reshape: -1 cannot be inferred", IAE, () -> f(2, 3).reshape(-1, 4), "reshape", "[-1,4]", "[2,3]"));
    r.add(new Row("reshape: rank above 8", IAE, () -> f(1).reshape(1, 1, 1, 1, 1, 1, 1, 1, 1), "reshape", "rank 9"));
    // ---- dtypes
    r.add(new Row("where: float condition", IAE, () -> Tensor.where(f(2), f(2), f(2)), "select", "condition", "f32"));
    r.add(new Row("where: shapes do not broadcast", IAE, () -> Tensor.where(bools(2), f(3), f(3)), "select", "[2]", "[3]"));
    r.add(new Row("relu: bool operand", IAE, () -> bools(3).relu(), "relu", "bool"));
    r.add(new Row("not: float operand", IAE, () -> f(3).not(), "not", "f32[3]"));
    r.add(new Row("and: float operands", IAE, () -> f(3).and(f(3)), "and", "f32[3]"));
    r.add(new Row("one_hot: float indices", IAE, () -> f(3).oneHot(4, DType.F32), "one_hot", "f32[3]"));
    r.add(new Row("one_hot: negative depth", IAE, () -> Tensor.of(new int[] {0, 1}, 2).oneHot(-1, DType.F32),
        "one_hot", "depth -1"));
    // ---- conv / pool
    r.add(new Row("conv2d: channel mismatch", IAE, () -> f(1, 3, 5, 5).conv2d(f(2, 4, 3, 3)),
        "conv2d", "[2,4,3,3]", "[1,3,5,5]", "channels"));
    r.add(new Row("conv2d: input not rank 4", IAE, () -> f(3, 5, 5).conv2d(f(2, 3, 3, 3)), "conv2d", "NCHW", "f32[3,5,5]"));
    r.add(new Row("conv2d: groups do not divide", IAE,
        () -> f(1, 3, 5, 5).conv2d(f(2, 1, 3, 3), new int[] {1, 1}, new int[] {0, 0}, new int[] {1, 1}, 2),
        "conv2d", "groups 2", "channels 3"));
    r.add(new Row("max_pool2d: kernel larger than input", IAE,
        () -> f(1, 1, 2, 2).maxPool2d(new int[] {3, 3}, new int[] {1, 1}, new int[] {0, 0}),
        "max_pool2d", "[3,3]", "[1,1,2,2]"));
    r.add(new Row("avg_pool2d: padding not below kernel", IAE,
        () -> f(1, 1, 4, 4).avgPool2d(new int[] {2, 2}, new int[] {1, 1}, new int[] {2, 2}, true),
        "avg_pool2d", "padding", "[2,2]"));
    r.add(new Row("pad: negative padding", IAE, () -> f(2, 3).pad(new long[] {0, -1}, new long[] {0, 0}, 0),
        "pad", "padding", "dimension 1"));
    r.add(new Row("pad: wrong length", IAE, () -> f(2, 3).pad(new long[] {1}, new long[] {1}, 0), "pad", "f32[2,3]"));
    // ---- creation
    r.add(new Row("zeros: negative dim", IAE, () -> Tensor.zeros(DType.F32, 2, -3), "full", "[2,-3]", "negative"));
    r.add(new Row("of: negative dim", IAE, () -> Tensor.of(new float[0], 0, -1), "of", "[0,-1]", "negative"));
    r.add(new Row("zeros: too large", IAE, () -> Tensor.zeros(DType.F32, 1L << 25, 1L << 25), "full", "too large"));
    r.add(new Row("of: null float[]", IAE, () -> Tensor.of((float[]) null, 2), "of", "null"));
    r.add(new Row("of: null buffer", IAE, () -> Tensor.of((FloatBuffer) null, 2), "of", "null"));
    r.add(new Row("of: data does not fill shape", IAE, () -> Tensor.of(new float[5], 2, 3), "of", "5", "[2,3]"));
    r.add(new Row("of: buffer size mismatch", IAE, () -> Tensor.of(direct(5), DType.F32, 2, 3), "of", "20 bytes", "f32[2,3]"));
    r.add(new Row("of: big-endian direct buffer", IAE,
        () -> Tensor.of(ByteBuffer.allocateDirect(24).order(ByteOrder.BIG_ENDIAN).asFloatBuffer(), DType.F32, 2, 3),
        "of", "BIG_ENDIAN"));
    r.add(new Row("of: heap IntBuffer", IAE, () -> Tensor.of(IntBuffer.allocate(6), DType.S32, 2, 3), "of", "IntBuffer"));
    r.add(new Row("arange: negative length", IAE, () -> Tensor.arange(-1), "arange", "-1"));
    r.add(new Row("arange: zero step", IAE, () -> Tensor.arange(0, 1, 0, DType.F32), "arange", "step=0"));
    r.add(new Row("randn: null rng", IAE, () -> Tensor.randn(null, DType.F32, 2), "rand", "rng"));
    r.add(new Row("randn: integer dtype", IAE, () -> Tensor.randn(new Rng(1), DType.S32, 2), "rng_normal", "s32"));
    r.add(new Row("add: null operand", IAE, () -> f(2).add((Tensor) null), "add", "null"));
    r.add(new Row("to: null device", IAE, () -> f(2).to((Device) null), "to", "device"));
    // ---- reading data out
    r.add(new Row("copyTo: buffer too small", IAE, () -> f(2, 3).copyTo(direct(5), DType.F32),
        "copyTo", "20 bytes", "24"));
    r.add(new Row("copyTo: heap buffer", IAE, () -> f(2, 3).copyTo(FloatBuffer.allocate(6), DType.F32), "copyTo", "direct"));
    r.add(new Row("copyTo: big-endian direct buffer", IAE,
        () -> f(2, 3).copyTo(ByteBuffer.allocateDirect(24).order(ByteOrder.BIG_ENDIAN).asFloatBuffer(), DType.F32),
        "copyTo", "BIG_ENDIAN"));
    r.add(new Row("item: not a scalar", ISE, () -> f(2, 3).item(), "item", "[2,3]", "6 elements"));
    // ---- dynamic-shape ops (evaluated at the call)
    r.add(new Row("masked_select: mask shape", IAE, () -> f(3).maskedSelect(bools(2)), "masked_select", "[2]", "[3]"));
    r.add(new Row("masked_select: float mask", IAE, () -> f(3).maskedSelect(f(3)), "masked_select", "f32[3]"));
    // ---- closed tensors
    r.add(new Row("use after close: unary", ISE, () -> closed().exp(), "exp", "closed"));
    r.add(new Row("use after close: second operand", ISE, () -> f(3).add(closed()), "add", "closed"));
    r.add(new Row("use after close: read", ISE, () -> closed().toFloatArray(), "toFloatArray", "closed"));
    r.add(new Row("use after close: shape", ISE, () -> closed().shape(), "shape", "closed"));
    r.add(new Row("use after close: concat", ISE, () -> Tensor.concat(0, f(3), closed()), "concat", "closed"));
    // ---- devices and engine entry points
    r.add(new Row("tpu: cores < 1", IAE, () -> Device.tpu("v5e", 0), "tpu", "cores", "0"));
    r.add(new Row("Jxla.counter: null name", IAE, () -> Jxla.counter(null), "counter", "null"));
    return r;
  }

  private static FloatBuffer direct(int floats) {
    return ByteBuffer.allocateDirect(4 * floats).order(ByteOrder.nativeOrder()).asFloatBuffer();
  }

  static Stream<Arguments> table() {
    return rows().stream().map(Arguments::of);
  }

  @Test
  void tableIsLargeEnough() {
    assertTrue(rows().size() >= 35, "rows: " + rows().size());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("table")
  void badInputThrowsAndEngineStaysUsable(Row row) {
    long tensorsBefore = Jxla.liveTensors();
    long bytesBefore = Jxla.liveBytes();
    try (TensorScope scope = new TensorScope()) {
      Throwable e = assertThrows(row.type, row.action, row.name);
      assertEquals(row.type, e.getClass(), "exact exception type for " + row.name + ": " + e);
      String msg = e.getMessage();
      assertTrue(msg != null && !msg.isEmpty(), row.name + ": empty message");
      for (String m : row.mentions) {
        assertTrue(msg.contains(m), row.name + ": message '" + msg + "' should mention '" + m + "'");
      }
    }
    // a failed call leaks nothing: everything the row created was in the scope
    assertEquals(tensorsBefore, Jxla.liveTensors(), row.name + ": live tensors");
    assertEquals(bytesBefore, Jxla.liveBytes(), row.name + ": live bytes");
    assertValidOpWorks(row.name.length());
  }

  /** A small valid computation whose values depend on k, checked against plain Java arithmetic. */
  static void assertValidOpWorks(int k) {
    try (TensorScope scope = new TensorScope()) {
      float[] a = {1, 2, 3, 4, 5, 6};
      float[] b = {k, -k, 2 * k};
      Tensor y = Tensor.of(a, 2, 3).add(Tensor.of(b, 3)).mul(2f).relu().sum(1);
      float[] want = new float[2];
      for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 3; j++) {
          want[i] += Math.max(0, (a[3 * i + j] + b[j]) * 2);
        }
      }
      assertArrayEquals(want, y.toFloatArray());
    }
  }

  @Test
  void unknownTpuGenerationIsReportedByTheEngine() {
    // Today the TPU emulator is not linked: the engine reports UNIMPLEMENTED. Once it is, an
    // unknown generation is an argument error. Either way the message names the generation.
    RuntimeException e = assertThrows(RuntimeException.class, () -> Device.tpu("v99"));
    assertTrue(e instanceof IllegalArgumentException || e instanceof UnsupportedOperationException, e.toString());
    assertTrue(e.getMessage().contains("v99"), e.getMessage());
    assertTrue(e.getMessage().toLowerCase(Locale.ROOT).contains("tpu"), e.getMessage());
    assertValidOpWorks(99);
  }

  @Test
  void closeTwiceIsANoOpAndUseAfterCloseNeverCrashes() {
    long before = Jxla.liveTensors();
    Tensor t = Tensor.of(new float[] {1, 2}, 2);
    Tensor u = t.add(t);
    assertEquals(before + 2, Jxla.liveTensors());
    t.close();
    assertDoesNotThrow(t::close);
    assertTrue(t.isClosed());
    assertEquals("Tensor(closed)", t.toString());
    // u does not depend on t's handle: its pending graph keeps the data alive
    assertArrayEquals(new float[] {2, 4}, u.toFloatArray());
    u.close();
    u.close();
    assertEquals(before, Jxla.liveTensors());
    // a scope closing a tensor that was already closed by hand is fine too
    try (TensorScope scope = new TensorScope()) {
      Tensor v = Tensor.of(new float[] {3}, 1);
      v.close();
    }
    assertEquals(before, Jxla.liveTensors());
    assertValidOpWorks(3);
  }

  @Test
  void scopeClosedFromAnotherThreadIsRejected() throws Exception {
    TensorScope scope = new TensorScope();
    Tensor t = Tensor.of(new float[] {1}, 1);
    Throwable[] seen = new Throwable[1];
    Thread th = new Thread(() -> {
      try {
        scope.close();
      } catch (Throwable e) {
        seen[0] = e;
      }
    });
    th.start();
    th.join();
    assertTrue(seen[0] instanceof IllegalStateException, String.valueOf(seen[0]));
    assertTrue(seen[0].getMessage().contains("TensorScope.close"), seen[0].getMessage());
    scope.close();
    assertTrue(t.isClosed());
    assertValidOpWorks(5);
  }

  @Test
  void errorsAreRaisedAtTraceTimeNotAtSync() {
    try (TensorScope scope = new TensorScope()) {
      Tensor ok = Tensor.of(new float[] {1, 2, 3}, 3).exp();
      assertThrows(IAE, () -> ok.add(Tensor.of(new float[] {1, 2}, 2)));
      // the failed add left nothing pending that could fail later
      assertDoesNotThrow(Jxla::sync);
      assertTrue(ok.isMaterialized());
      float[] v = ok.toFloatArray();
      for (int i = 0; i < 3; i++) {
        assertEquals(Math.exp(i + 1), v[i], 1e-6 * Math.exp(i + 1));
      }
    }
  }
}
