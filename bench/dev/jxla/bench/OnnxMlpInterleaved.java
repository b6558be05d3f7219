package dev.jxla.bench;

import java.util.Arrays;
import java.util.Locale;

/**
 * A side-by-side harness for OnnxMlpBench's JXLA-vs-ONNX-Runtime ratio on a shared, noisy
 * machine. JMH runs one benchmark's iterations after the other's, so a neighbour's burst lands
 * on one engine only; here the two engines alternate in short blocks of calls (ABBA order, so a
 * steady drift cancels), each round gives the ratio of its two block times, and the median ratio
 * over the rounds is reported with its quartiles. The engines, model, inputs and per-call work
 * are exactly OnnxMlpBench's (its setup, which also checks that both engines agree). Each block
 * starts after a 50 ms pause, so neither engine starts with the other's threads still spinning.
 *
 * <p>Command: {@code JXLA_NUM_THREADS=2 mvn -q -Pbench -DskipTests package exec:exec
 * -Dbench.main=dev.jxla.bench.OnnxMlpInterleaved -Djmh.args="256 40 10"} (batch, rounds, calls
 * per block; a warm-up of a quarter of the rounds is run first and discarded).
 */
public final class OnnxMlpInterleaved {
  private static final long PAUSE_MS = 50;

  private OnnxMlpInterleaved() {}

  public static void main(String[] args) throws Exception {
    int batch = args.length > 0 ? Integer.parseInt(args[0]) : 256;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 40;
    int calls = args.length > 2 ? Integer.parseInt(args[2]) : 10;
    OnnxMlpBench b = new OnnxMlpBench();
    b.batch = batch;
    b.setup();
    try {
      run(b, Math.max(1, rounds / 4), calls);  // warm-up: JIT, pools, caches
      double[][] r = run(b, rounds, calls);
      double[] jx = r[0], ort = r[1], ratio = r[2];
      System.out.printf(Locale.ROOT,
          "batch %d, %d rounds of %d calls each: jxla median %.1f us, onnxruntime median %.1f us; "
              + "ratio jxla/ort median %.3f (quartiles %.3f-%.3f, min %.3f, max %.3f); load %.2f%n",
          batch, rounds, calls, median(jx), median(ort), median(ratio), quantile(ratio, 0.25),
          quantile(ratio, 0.75), quantile(ratio, 0), quantile(ratio, 1),
          java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    } finally {
      b.tearDown();
    }
  }

  /** Per round: JXLA us per call, ORT us per call, their ratio. */
  private static double[][] run(OnnxMlpBench b, int rounds, int calls) throws Exception {
    double[] jx = new double[rounds], ort = new double[rounds], ratio = new double[rounds];
    for (int i = 0; i < rounds; i++) {
      boolean jxlaFirst = (i & 1) == 0;
      double first = block(b, jxlaFirst, calls);
      double second = block(b, !jxlaFirst, calls);
      jx[i] = jxlaFirst ? first : second;
      ort[i] = jxlaFirst ? second : first;
      ratio[i] = jx[i] / ort[i];
    }
    return new double[][] {jx, ort, ratio};
  }

  private static double block(OnnxMlpBench b, boolean jxla, int calls) throws Exception {
    // both engines' pools spin after a call (ORT's intra-op threads for milliseconds): without
    // a pause the engine that runs second would share the cores with the other one's spinners
    Thread.sleep(PAUSE_MS);
    float sink = 0;
    long t0 = System.nanoTime();
    for (int c = 0; c < calls; c++) {
      sink += jxla ? b.jxla() : b.onnxRuntime();
    }
    long dt = System.nanoTime() - t0;
    if (Float.isNaN(sink)) {
      throw new IllegalStateException("NaN output");
    }
    return dt / 1e3 / calls;
  }

  private static double median(double[] v) {
    return quantile(v, 0.5);
  }

  private static double quantile(double[] v, double q) {
    double[] s = v.clone();
    Arrays.sort(s);
    double pos = q * (s.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(s.length - 1, lo + 1);
    return s[lo] + (pos - lo) * (s[hi] - s[lo]);
  }
}
