package dev.jxla;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Native memory stays flat: a 10,000-step loop in a TensorScope returns the engine's live-bytes
 * and live-tensor counters (and its IR-node, pending and compile-cache gauges) to their baseline
 * after every step; tensors dropped without close are freed by the GC fallback.
 */
class MemoryTest {
  private static final int STEPS = 10_000;

  /** x[2,4] @ w[4,3] + b, relu, summed: the value a step reads back, computed in plain Java. */
  private static double expected(float[] x, float[] w, float b) {
    double s = 0;
    for (int i = 0; i < 2; i++) {
      for (int j = 0; j < 3; j++) {
        double acc = b;
        for (int k = 0; k < 4; k++) {
          acc += x[4 * i + k] * w[3 * k + j];
        }
        s += Math.max(0, acc);
      }
    }
    return s;
  }

  /** One training-loop-like step; every input value changes with i (small integers: exact). */
  private static void step(int i) {
    float[] x = new float[8];
    float[] w = new float[12];
    for (int k = 0; k < x.length; k++) {
      x[k] = (i + k) % 7 - 3;
    }
    for (int k = 0; k < w.length; k++) {
      w[k] = (i * 3 + k) % 5 - 2;
    }
    float b = i % 4;
    try (TensorScope scope = new TensorScope()) {
      Tensor xt = Tensor.of(x, 2, 4);
      Tensor wt = Tensor.of(w, 4, 3);
      Tensor h = xt.matmul(wt).add(b).relu();
      Tensor y = h.sum();
      if (i % 2 == 0) {
        Jxla.sync();  // every pending tensor of the step as one graph
        assertTrue(y.isMaterialized());
      }
      // odd steps: the read materializes what y needs
      assertEquals(expected(x, w, b), y.item(), "step " + i);
    }
  }

  @Test
  void tenThousandStepsKeepNativeMemoryFlat() throws InterruptedException {
    step(0);  // compiles the sync-path graph
    step(1);  // and the read-path graph
    settle();
    long tensors = Jxla.liveTensors();
    long bytes = Jxla.liveBytes();
    long nodes = Jxla.engineStat("live_nodes");
    long pending = Jxla.engineStat("pending_tensors");
    long cacheEntries = Jxla.engineStat("compile_cache_entries");
    long uncached = Jxla.counter("UncachedCompile");
    long cached = Jxla.counter("CachedCompile");
    for (int i = 2; i < STEPS + 2; i++) {
      step(i);
      // checked after every step, not just at the end: a leak of one buffer per step shows at once
      // "<=": tensors that earlier tests dropped without close may still be collected by the
      // GC fallback meanwhile; a leak of even one tensor per step exceeds the baseline at once
      if (Jxla.liveTensors() > tensors || Jxla.liveBytes() > bytes) {
        assertEquals(tensors, Jxla.liveTensors(), "live tensors after step " + i);
        assertEquals(bytes, Jxla.liveBytes(), "live bytes after step " + i);
      }
    }
    assertTrue(Jxla.engineStat("live_nodes") <= nodes, "IR nodes alive: " + Jxla.engineStat("live_nodes") + " > " + nodes);
    assertEquals(pending, Jxla.engineStat("pending_tensors"), "pending registry entries");
    assertEquals(cacheEntries, Jxla.engineStat("compile_cache_entries"), "compile cache entries");
    assertEquals(uncached, Jxla.counter("UncachedCompile"), "no recompiles: only the data changed");
    assertEquals(STEPS, Jxla.counter("CachedCompile") - cached, "one cache hit per step");
  }

  @Test
  void keptTensorsMoveToTheEnclosingScope() {
    long tensors = Jxla.liveTensors();
    long bytes = Jxla.liveBytes();
    try (TensorScope outer = new TensorScope()) {
      Tensor kept;
      try (TensorScope inner = new TensorScope()) {
        Tensor a = Tensor.of(new float[] {1, 2, 3}, 3);
        kept = inner.keep(a.mul(a));
        assertEquals(1, inner.size());  // frees a; the product is kept
      }
      assertArrayEquals(new float[] {1, 4, 9}, kept.toFloatArray());
      assertTrue(Jxla.liveTensors() > tensors);
    }
    assertEquals(tensors, Jxla.liveTensors());
    assertEquals(bytes, Jxla.liveBytes());
  }

  @Test
  void keepAfterCloseIsRejected() {
    TensorScope s = new TensorScope();
    Tensor t = Tensor.of(new float[] {1}, 1);
    s.close();
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> s.keep(t));
    assertTrue(e.getMessage().contains("keep"), e.getMessage());
    assertTrue(t.isClosed());
  }

  @Test
  void droppedTensorsAreFreedByTheGcFallback() throws InterruptedException {
    Jxla.sync();
    long tensors = Jxla.liveTensors();
    long bytes = Jxla.liveBytes();
    // made outside any scope and never closed: only the JavaCPP deallocator can free them;
    // half of them are still pending in this thread's registry when dropped
    for (int i = 0; i < 2000; i++) {
      Tensor t = Tensor.of(new float[256], 16, 16);
      Tensor u = t.add(t);
      if (i % 2 == 0) {
        u.exp();
      }
    }
    assertTrue(Jxla.liveTensors() > tensors, "the dropped tensors are alive until collected");
    long deadline = System.nanoTime() + 60_000_000_000L;
    int rounds = 0;
    // "<=": garbage that earlier tests dropped may be collected during this loop too
    while ((Jxla.liveTensors() > tensors || Jxla.liveBytes() > bytes) && System.nanoTime() < deadline) {
      System.gc();
      Thread.sleep(20);
      Jxla.sync();  // races with the deallocator thread freeing pending tensors: must be safe
      rounds++;
    }
    assertTrue(Jxla.liveTensors() <= tensors, "live tensors after " + rounds + " GC rounds: " + Jxla.liveTensors() + " > " + tensors);
    assertTrue(Jxla.liveBytes() <= bytes, "live bytes after " + rounds + " GC rounds: " + Jxla.liveBytes() + " > " + bytes);
  }

  /** Lets the GC fallback free what earlier tests dropped, so the baseline is stable. */
  static void settle() throws InterruptedException {
    long last = -1;
    int same = 0;
    for (int i = 0; i < 100 && same < 3; i++) {
      System.gc();
      Thread.sleep(10);
      long now = Jxla.liveTensors();
      same = now == last ? same + 1 : 0;
      last = now;
    }
  }
}
