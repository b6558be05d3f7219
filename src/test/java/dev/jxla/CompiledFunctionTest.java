package dev.jxla;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Jxla.compile / CompiledFunction: tracing once per signature, threads, bucketing, overloads. */
class CompiledFunctionTest {
  /** relu(x @ w + b) * 2 with w, b captured constants. */
  private static CompiledFunction mlp(Tensor w, Tensor b, Bucketing bucketing) {
    return Jxla.compile(in -> new Tensor[] {in[0].matmul(w).add(b).relu().mul(2.0)}, bucketing);
  }

  private static float[] ints(Random r, int n, int lo, int hi) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = lo + r.nextInt(hi - lo + 1);
    }
    return v;
  }

  /** Closed form of mlp() on small integers (exact in f32 in any summation order). */
  private static float[] expected(float[] x, float[] w, float[] b, int rows, int k, int n) {
    float[] y = new float[rows * n];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < n; j++) {
        double s = b[j];
        for (int q = 0; q < k; q++) {
          s += (double) x[i * k + q] * w[q * n + j];
        }
        y[i * n + j] = (float) (Math.max(0, s) * 2);
      }
    }
    return y;
  }

  @Test
  void tracesOncePerSignatureAndMatchesClosedForm() {
    Random r = new Random(1);
    float[] w = ints(r, 4 * 3, -3, 3), b = ints(r, 3, -2, 2);
    try (Tensor wt = Tensor.of(w, 4, 3); Tensor bt = Tensor.of(b, 3); CompiledFunction f = mlp(wt, bt, Bucketing.none())) {
      for (int rows : new int[] {2, 5, 2, 5, 2}) {
        float[] x = ints(r, rows * 4, -4, 4);
        assertArrayEquals(expected(x, w, b, rows, 4, 3), f.call(x, rows, 4));
      }
      assertEquals(2, f.compileCount());
      assertEquals(5, f.callCount());
      // the constants were captured: closing the originals does not change the results
      wt.close();
      bt.close();
      float[] x = ints(r, 8, -4, 4);
      assertArrayEquals(expected(x, w, b, 2, 4, 3), f.call(x, 2, 4));
    }
  }

  @Test
  void sixteenThreadsGiveTheBytesOfOneThread() throws Exception {
    Random r = new Random(2);
    float[] w = new float[64 * 32], b = new float[32];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) r.nextGaussian();
    }
    try (Tensor wt = Tensor.of(w, 64, 32); Tensor bt = Tensor.of(b, 32); CompiledFunction f = mlp(wt, bt, Bucketing.none())) {
      float[][] xs = new float[8][];
      float[][] want = new float[8][];
      for (int i = 0; i < xs.length; i++) {
        xs[i] = new float[4 * 64];
        for (int j = 0; j < xs[i].length; j++) {
          xs[i][j] = (float) r.nextGaussian();
        }
        want[i] = f.call(xs[i], 4, 64);
      }
      ExecutorService pool = Executors.newFixedThreadPool(16);
      try {
        List<Future<Integer>> fs = new ArrayList<>();
        for (int t = 0; t < 16; t++) {
          final int seed = t;
          fs.add(pool.submit(() -> {
            int same = 0;
            for (int i = 0; i < 1000; i++) {
              int k = (i + seed) % xs.length;
              try (TensorScope s = new TensorScope()) {
                Tensor[] out = f.call(Tensor.of(xs[k], 4, 64));
                if (java.util.Arrays.equals(want[k], out[0].toFloatArray())) {
                  same++;
                }
              }
            }
            return same;
          }));
        }
        for (Future<Integer> fu : fs) {
          assertEquals(1000, fu.get());
        }
      } finally {
        pool.shutdown();
      }
      assertEquals(1, f.compileCount());
      assertEquals(16 * 1000 + 8, f.callCount());
    }
  }

  @Test
  void bucketingCompilesAtMostSevenExecutablesForBatches1To64() {
    Random r = new Random(3);
    float[] w = ints(r, 5 * 3, -3, 3), b = ints(r, 3, -2, 2);
    List<Integer> batches = new ArrayList<>();
    for (int i = 1; i <= 64; i++) {
      batches.add(i);
    }
    Collections.shuffle(batches, r);
    long before = Jxla.counter("BucketedCall");
    try (Tensor wt = Tensor.of(w, 5, 3); Tensor bt = Tensor.of(b, 3);
         CompiledFunction f = mlp(wt, bt, Bucketing.powersOfTwo())) {
      for (int n : batches) {
        float[] x = ints(r, n * 5, -4, 4);
        float[] y = f.call(x, n, 5);
        assertArrayEquals(expected(x, w, b, n, 5, 3), y, "batch " + n);
      }
      assertEquals(7, f.compileCount());  // 1, 2, 4, 8, 16, 32, 64
      assertEquals(64 - 7, f.bucketedCallCount());
      assertEquals(64 - 7, Jxla.counter("BucketedCall") - before);
    }
  }

  @Test
  void userBucketsAndOversizedBatches() {
    assertEquals(8, Bucketing.of(8, 32).bucket(3));
    assertEquals(32, Bucketing.of(32, 8).bucket(9));
    assertEquals(40, Bucketing.of(8, 32).bucket(40));
    assertEquals(64, Bucketing.powersOfTwo().bucket(33));
    assertEquals(5, Bucketing.none().bucket(5));
    assertThrows(IllegalArgumentException.class, () -> Bucketing.of(0, 4));
  }

  @Test
  void directBuffersAndMultipleOutputs() {
    try (CompiledFunction f = Jxla.compile(in -> new Tensor[] {in[0].add(in[1]), in[0].mul(in[1]).sum(1)})) {
      float[][] out = f.callFloats(new float[][] {{1, 2, 3, 4}, {10, 20, 30, 40}}, new long[][] {{2, 2}, {2, 2}});
      assertArrayEquals(new float[] {11, 22, 33, 44}, out[0]);
      assertArrayEquals(new float[] {50, 250}, out[1]);
    }
    try (CompiledFunction f = Jxla.compile(in -> new Tensor[] {in[0].neg()})) {
      FloatBuffer in = ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder()).asFloatBuffer();
      in.put(new float[] {1, -2, 3, -4}).flip();
      FloatBuffer out = ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder()).asFloatBuffer();
      f.call(in, new long[] {4}, out);
      float[] got = new float[4];
      out.get(got);
      assertArrayEquals(new float[] {-1, 2, -3, 4}, got);
    }
  }

  /**
   * Direct buffers are read in place once the signature is compiled (counter InPlaceCall): the
   * same bits as the array path for every batch size (bucketed), buffer positions honoured, the
   * floats around the output region untouched, and nothing kept from the input after the call.
   */
  @Test
  void directBuffersAreReadInPlace() {
    Random r = new Random(3);
    float[] w = new float[5 * 3];
    float[] b = {0.5f, -0.25f, 1};
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) r.nextGaussian();
    }
    try (TensorScope weights = new TensorScope();
         CompiledFunction f = Jxla.compile(in -> new Tensor[] {in[0].matmul(Tensor.of(w, 5, 3)).add(Tensor.of(b, 3)).relu()},
             Bucketing.powersOfTwo())) {
      for (int batch : new int[] {3, 1, 4, 3, 7, 2}) {
        float[] x = new float[batch * 5];
        for (int i = 0; i < x.length; i++) {
          x[i] = (float) r.nextGaussian();
        }
        float[] want = f.call(x, batch, 5);
        FloatBuffer in = ByteBuffer.allocateDirect(4 * (x.length + 3)).order(ByteOrder.nativeOrder()).asFloatBuffer();
        in.put(new float[] {9, 9, 9}).put(x).position(3);
        FloatBuffer out = ByteBuffer.allocateDirect(4 * (want.length + 4)).order(ByteOrder.nativeOrder()).asFloatBuffer();
        for (int i = 0; i < out.capacity(); i++) {
          out.put(i, -7f);
        }
        out.position(2);
        long inPlace = Jxla.counter("InPlaceCall");
        f.call(in, new long[] {batch, 5}, out);
        assertEquals(inPlace + 1, Jxla.counter("InPlaceCall"), "batch " + batch + " was compiled by the array call");
        assertEquals(3, in.position());
        assertEquals(2, out.position());
        float[] got = new float[want.length];
        out.duplicate().get(got);
        assertArrayEquals(want, got, 0f);
        assertEquals(-7f, out.get(0));
        assertEquals(-7f, out.get(1));
        assertEquals(-7f, out.get(2 + want.length));
        assertEquals(-7f, out.get(3 + want.length));
        // overwriting the input afterwards changes nothing already written
        for (int i = 0; i < in.capacity(); i++) {
          in.put(i, 1e6f);
        }
        out.duplicate().get(got);
        assertArrayEquals(want, got, 0f);
      }
      // a too-small output is refused naming the output and the sizes; the function stays usable
      FloatBuffer in = ByteBuffer.allocateDirect(4 * 10).order(ByteOrder.nativeOrder()).asFloatBuffer();
      FloatBuffer small = ByteBuffer.allocateDirect(4 * 5).order(ByteOrder.nativeOrder()).asFloatBuffer();
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.call(in, new long[] {2, 5}, small));
      assertTrue(e.getMessage().contains("output 0") && e.getMessage().contains("24 bytes"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> f.call(in, new long[] {3, 5}, small));
      assertTrue(e.getMessage().contains("input 0 buffer holds 10 elements") && e.getMessage().contains("f32[3, 5] needs 15"),
          e.getMessage());
      FloatBuffer ok = ByteBuffer.allocateDirect(4 * 6).order(ByteOrder.nativeOrder()).asFloatBuffer();
      f.call(in, new long[] {2, 5}, ok);
      float[] got = new float[6];
      ok.get(got);
      assertArrayEquals(f.call(new float[10], 2, 5), got, 0f);
    }
  }

  /**
   * Several typed buffers in and out: f32 and s64 inputs, outputs converted to the output
   * buffers' types (f32 to f64), one output skipped with null; the in-place calls give the tensor
   * path's values, and bad buffers are refused naming the input or output at fault.
   */
  @Test
  void typedBuffersInAndOut() {
    try (CompiledFunction f = Jxla.compile(in -> new Tensor[] {in[0].mul(2f), in[1].add(Tensor.scalar(1L)), in[0].sum(1)})) {
      DoubleBuffer twice = ByteBuffer.allocateDirect(8 * 6).order(ByteOrder.nativeOrder()).asDoubleBuffer();
      LongBuffer ids = ByteBuffer.allocateDirect(8 * 2).order(ByteOrder.nativeOrder()).asLongBuffer();
      LongBuffer next = ByteBuffer.allocateDirect(8 * 2).order(ByteOrder.nativeOrder()).asLongBuffer();
      FloatBuffer x = ByteBuffer.allocateDirect(4 * 6).order(ByteOrder.nativeOrder()).asFloatBuffer();
      for (int round = 0; round < 3; round++) {  // round 0 compiles; 1 and 2 are in place
        x.put(0, new float[] {1.5f, -2, 3, 4, 5.25f, -6});
        x.put(0, x.get(0) + round);
        ids.put(0, 41L + round).put(1, 1L << 40);
        long inPlace = Jxla.counter("InPlaceCall");
        f.call(new Buffer[] {x, ids}, new long[][] {{2, 3}, {2}}, new Buffer[] {twice, next});
        assertEquals(inPlace + (round == 0 ? 0 : 1), Jxla.counter("InPlaceCall"));
        double[] t = new double[6];
        twice.get(0, t);
        assertArrayEquals(new double[] {2 * (1.5 + round), -4, 6, 8, 10.5, -12}, t, 0.0);
        assertEquals(42L + round, next.get(0));
        assertEquals((1L << 40) + 1, next.get(1));
      }
      assertEquals(1, f.compileCount());
      // errors name the buffer at fault; the function stays usable
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.call(
          new Buffer[] {ByteBuffer.allocateDirect(12).asShortBuffer(), ids}, new long[][] {{6}, {2}}, new Buffer[] {twice}));
      assertTrue(e.getMessage().contains("input 0 is a DirectShortBuffer"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class,
          () -> f.call(new Buffer[] {x, ids}, new long[][] {{2, 3}, {2}}, new Buffer[] {null, null, null, twice}));
      assertTrue(e.getMessage().contains("4 outputs requested, the function has 3"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> f.call(new Buffer[] {x}, new long[][] {{2, 3}, {2}}, new Buffer[0]));
      assertTrue(e.getMessage().contains("one shape per input"), e.getMessage());
      FloatBuffer sums = ByteBuffer.allocateDirect(4 * 2).order(ByteOrder.nativeOrder()).asFloatBuffer();
      x.put(0, new float[] {1, 2, 3, 4, 5, 6});
      f.call(new Buffer[] {x, ids}, new long[][] {{2, 3}, {2}}, new Buffer[] {null, null, sums});
      assertEquals(6f, sums.get(0));
      assertEquals(15f, sums.get(1));
    }
  }

  @Test
  void staticInputsAreTracedWithTheirValues() {
    try (CompiledFunction f = Jxla.compile(in -> new Tensor[] {in[0].reshape(in[1].toLongArray())}, Bucketing.none(), 1);
         TensorScope s = new TensorScope()) {
      Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 6);
      assertArrayEquals(new long[] {2, 3}, f.call(x, Tensor.of(new long[] {2, 3}, 2))[0].shape());
      assertArrayEquals(new long[] {3, 2}, f.call(x, Tensor.of(new long[] {3, 2}, 2))[0].shape());
      assertArrayEquals(new long[] {2, 3}, f.call(x, Tensor.of(new long[] {2, 3}, 2))[0].shape());
      assertEquals(2, f.compileCount());
    }
  }

  @Test
  void compiledForTheEmulatedTpu() {
    // small integers are exact in bf16 and their products and sums are exact in f32, so even the
    // DEFAULT (one bf16 pass) MXU matmul must give the closed form exactly
    Random r = new Random(5);
    float[] w = ints(r, 4 * 3, -3, 3), b = ints(r, 3, -2, 2);
    Device tpu = Device.tpu("v5e");
    try (Tensor wt = Tensor.of(w, 4, 3); Tensor bt = Tensor.of(b, 3);
         CompiledFunction f = Jxla.compile(in -> new Tensor[] {in[0].matmul(wt).add(bt).relu().mul(2.0)}, tpu,
             Bucketing.powersOfTwo())) {
      tpu.profileAndClear();
      float[] x = ints(r, 5 * 4, -4, 4);
      assertArrayEquals(expected(x, w, b, 5, 4, 3), f.call(x, 5, 4));  // host input, bucket 8
      assertTrue(tpu.profile().contains(" dot_general "), tpu.profile());
      try (TensorScope s = new TensorScope()) {
        Tensor onTpu = Tensor.of(x, 5, 4).to(tpu);  // device-resident input: no transfer by the call
        Tensor[] out = f.call(onTpu);
        assertEquals(tpu, out[0].device());
        assertArrayEquals(expected(x, w, b, 5, 4, 3), out[0].toFloatArray());
        Tensor other = Tensor.of(x, 5, 4).to(Device.tpu("v4"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.call(other));
        assertTrue(e.getMessage().contains("tpu:v4") && e.getMessage().contains("tpu:v5e"), e.getMessage());
      }
      assertEquals(1, f.compileCount());
    }
    assertThrows(IllegalArgumentException.class, () -> Jxla.compile(in -> in, (Device) null));
  }

  @Test
  void errorsAndClose() {
    CompiledFunction f = Jxla.compile(in -> new Tensor[] {in[0].exp()});
    try (TensorScope s = new TensorScope()) {
      assertArrayEquals(new float[] {1}, f.call(new float[] {0}, 1));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Jxla.compile(in -> new Tensor[] {in[0].matmul(in[1])}).call(Tensor.of(new float[] {1, 2}, 1, 2), Tensor.of(new float[] {1, 2, 3}, 3, 1)));
      assertTrue(e.getMessage().contains("matmul"), e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> Jxla.compile(in -> null).call(Tensor.scalar(1f)));
      f.close();
      f.close();
      assertTrue(f.isClosed());
      assertThrows(IllegalStateException.class, () -> f.call(new float[] {0}, 1));
    }
  }
}
