package dev.jxla;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Threads: each Java thread traces its own pending graph and Jxla.sync() materializes only the
 * caller's tensors; the shared engine state (cache, metrics, allocator, hash-cons table) is
 * thread-safe. All values are small integers held in f32, so every result is exact.
 */
class ThreadsTest {
  private static final int THREADS = 8;
  private static final int ITERS = 150;

  /** Thread id's graph on step it; returns the result and checks it against plain Java. */
  private static void runGraph(int id, int it, Tensor shared, float[] sharedWant) {
    int rows = 2 + id % 3;
    int cols = 3 + id;
    float[] a = new float[rows * cols];
    float[] b = new float[rows * cols];
    for (int k = 0; k < a.length; k++) {
      a[k] = (k * (id + 1) + it) % 9 - 4;
      b[k] = (k + 2 * it + id) % 7 - 3;
    }
    try (TensorScope scope = new TensorScope()) {
      Tensor x = Tensor.of(a, rows, cols);
      Tensor y = Tensor.of(b, rows, cols);
      Tensor out;
      float[] want;
      switch (id % 4) {
        case 0: {  // (x*y + it) summed over columns
          out = x.mul(y).add(it).sum(1);
          want = new float[rows];
          for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
              want[i] += a[i * cols + j] * b[i * cols + j] + it;
            }
          }
          break;
        }
        case 1: {  // relu(x @ y^T)
          out = x.matmul(y.transpose(0, 1)).relu();
          want = new float[rows * rows];
          for (int i = 0; i < rows; i++) {
            for (int j = 0; j < rows; j++) {
              float s = 0;
              for (int k = 0; k < cols; k++) {
                s += a[i * cols + k] * b[j * cols + k];
              }
              want[i * rows + j] = Math.max(0, s);
            }
          }
          break;
        }
        case 2: {  // max over rows of concat([x, |y|], axis 0)
          // max(int...) reduces; note max(0) alone would pick max(double), the element-wise max
          out = Tensor.concat(0, x, y.abs()).max(new int[] {0});
          want = new float[cols];
          for (int j = 0; j < cols; j++) {
            float m = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < rows; i++) {
              m = Math.max(m, Math.max(a[i * cols + j], Math.abs(b[i * cols + j])));
            }
            want[j] = m;
          }
          break;
        }
        default: {  // (x - y)^T, clamped to [-2, 2]
          out = x.sub(y).transpose(0, 1).clamp(-2, 2);
          want = new float[rows * cols];
          for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
              want[j * rows + i] = Math.max(-2, Math.min(2, a[i * cols + j] - b[i * cols + j]));
            }
          }
          break;
        }
      }
      assertFalse(out.isMaterialized());
      Jxla.sync();  // syncs this thread's pending tensors only
      assertTrue(out.isMaterialized(), "thread " + id + " step " + it);
      assertArrayEquals(want, out.toFloatArray(), "thread " + id + " step " + it);
      if (it == ITERS / 2) {
        // every thread reads the main thread's pending tensor, concurrently
        assertArrayEquals(sharedWant, shared.toFloatArray(), "cross-thread read by thread " + id);
      }
    }
  }

  @Test
  void eightThreadsTraceAndSyncDifferentGraphsWithExactResults() throws Exception {
    long tensors = Jxla.liveTensors();
    long bytes = Jxla.liveBytes();
    long syncsBefore = Jxla.counter("MarkStep");
    try (TensorScope scope = new TensorScope()) {
      // pending in the main thread; no thread syncs it, each reads it (one of them materializes it)
      Tensor base = Tensor.of(new float[] {1, -2, 3, -4}, 4);
      Tensor shared = base.mul(base).sub(1f);
      float[] sharedWant = {0, 3, 8, 15};
      ExecutorService pool = Executors.newFixedThreadPool(THREADS);
      CyclicBarrier start = new CyclicBarrier(THREADS);
      List<Future<?>> fs = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        int id = t;
        fs.add(pool.submit(() -> {
          start.await();
          for (int it = 0; it < ITERS; it++) {
            runGraph(id, it, shared, sharedWant);
          }
          return null;
        }));
      }
      for (Future<?> f : fs) {
        f.get(5, TimeUnit.MINUTES);  // rethrows a worker's assertion failure
      }
      pool.shutdown();
      assertTrue(pool.awaitTermination(1, TimeUnit.MINUTES));
      assertTrue(shared.isMaterialized());
      assertArrayEquals(sharedWant, shared.toFloatArray());
    }
    assertEquals((long) THREADS * ITERS, Jxla.counter("MarkStep") - syncsBefore);
    assertEquals(tensors, Jxla.liveTensors());
    assertEquals(bytes, Jxla.liveBytes());
  }

  @Test
  void syncInOneThreadLeavesAnotherThreadsTensorsPending() throws Exception {
    CountDownLatch traced = new CountDownLatch(1);
    CountDownLatch mainSynced = new CountDownLatch(1);
    CountDownLatch checked = new CountDownLatch(1);
    Throwable[] failure = new Throwable[1];
    Tensor[] other = new Tensor[1];
    try (TensorScope scope = new TensorScope()) {
      Tensor mine = Tensor.of(new float[] {1, 2}, 2).add(10f);
      Thread b = new Thread(() -> {
        try (TensorScope s = new TensorScope()) {
          Tensor t = Tensor.of(new float[] {3, 4}, 2).mul(3f);
          other[0] = t;
          traced.countDown();
          mainSynced.await();
          // main's sync did not touch this thread's registry
          assertFalse(t.isMaterialized(), "B's tensor after A's sync");
          checked.await();
          Jxla.sync();
          assertTrue(t.isMaterialized());
          assertArrayEquals(new float[] {9, 12}, t.toFloatArray());
        } catch (Throwable e) {
          failure[0] = e;
        }
      });
      b.start();
      assertTrue(traced.await(1, TimeUnit.MINUTES));
      Jxla.sync();
      assertTrue(mine.isMaterialized());
      assertFalse(other[0].isMaterialized(), "A's sync must not materialize B's tensor");
      mainSynced.countDown();
      checked.countDown();
      b.join(60_000);
      assertFalse(b.isAlive());
      if (failure[0] != null) {
        throw new AssertionError(failure[0]);
      }
      assertArrayEquals(new float[] {11, 12}, mine.toFloatArray());
    }
  }

  @Test
  void aPendingTensorCanBeReadFromAnotherThread() throws Exception {
    try (TensorScope scope = new TensorScope()) {
      Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
      Tensor y = x.matmul(x.transpose(0, 1));  // pending in this thread
      float[][] got = new float[1][];
      Throwable[] failure = new Throwable[1];
      Thread reader = new Thread(() -> {
        try {
          got[0] = y.toFloatArray();
        } catch (Throwable e) {
          failure[0] = e;
        }
      });
      reader.start();
      reader.join(60_000);
      if (failure[0] != null) {
        throw new AssertionError(failure[0]);
      }
      // [1,2,3;4,5,6] @ its transpose
      assertArrayEquals(new float[] {14, 32, 32, 77}, got[0]);
      assertTrue(y.isMaterialized());
      Jxla.sync();  // the owner's registry drops the entry the read materialized
      assertEquals(0, Jxla.engineStat("pending_tensors"));
    }
  }
}
