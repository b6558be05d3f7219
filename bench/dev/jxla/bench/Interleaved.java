package dev.jxla.bench;

import java.lang.management.ManagementFactory;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * A side-by-side harness for the ratio of two benchmarks of one JMH class on a shared, noisy
 * machine. JMH runs one benchmark's iterations after the other's, so a neighbour's burst lands
 * on one side only; here the two methods alternate in short blocks of calls (ABBA order, so a
 * steady drift cancels), each round gives the ratio of its two block times, and the median ratio
 * over the rounds is reported with its quartiles. The state is the JMH class itself: its public
 * {@code @Param} fields are set from {@code name=value} arguments, its {@code @Setup} methods run
 * once before and its {@code @TearDown} methods once after. Each block starts after a 50 ms
 * pause, so neither side starts with the other's pool threads still spinning (ONNX Runtime's
 * intra-op threads spin for milliseconds after a call).
 *
 * <p>Command: {@code JXLA_NUM_THREADS=2 mvn -q -Pbench -DskipTests package exec:exec
 * -Dbench.main=dev.jxla.bench.Interleaved -Djmh.args="OnnxMlpBench jxla onnxRuntime 40 10 batch=256"}
 * (class, method A, method B, rounds, calls per block, fields; a warm-up of a quarter of the
 * rounds runs first and is discarded).
 */
public final class Interleaved {
  private static final long PAUSE_MS = 50;

  private Interleaved() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 3) {
      throw new IllegalArgumentException("usage: Class methodA methodB [rounds] [calls] [field=value ...]");
    }
    Class<?> cls = Class.forName("dev.jxla.bench." + args[0]);
    Object state = cls.getDeclaredConstructor().newInstance();
    Method a = cls.getMethod(args[1]);
    Method b = cls.getMethod(args[2]);
    int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 40;
    int calls = args.length > 4 ? Integer.parseInt(args[4]) : 10;
    List<String> params = new ArrayList<>();
    for (int i = 5; i < args.length; i++) {
      String[] kv = args[i].split("=", 2);
      Field f = cls.getField(kv[0]);
      Class<?> t = f.getType();
      f.set(state, t == int.class ? Integer.valueOf(kv[1]) : t == boolean.class ? Boolean.valueOf(kv[1])
          : t == long.class ? Long.valueOf(kv[1]) : kv[1]);
      params.add(args[i]);
    }
    invokeAnnotated(cls, state, Setup.class);
    try {
      run(state, a, b, Math.max(1, rounds / 4), calls);  // warm-up: JIT, pools, caches
      double[][] r = run(state, a, b, rounds, calls);
      System.out.printf(Locale.ROOT,
          "%s %s: %d rounds of %d calls: %s median %.1f us, %s median %.1f us; ratio %s/%s median %.3f "
              + "(quartiles %.3f-%.3f, min %.3f, max %.3f); load %.2f%n",
          args[0], params, rounds, calls, args[1], quantile(r[0], 0.5), args[2], quantile(r[1], 0.5), args[1], args[2],
          quantile(r[2], 0.5), quantile(r[2], 0.25), quantile(r[2], 0.75), quantile(r[2], 0), quantile(r[2], 1),
          ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    } finally {
      invokeAnnotated(cls, state, TearDown.class);
    }
  }

  private static void invokeAnnotated(Class<?> cls, Object state, Class<? extends java.lang.annotation.Annotation> ann)
      throws Exception {
    for (Method m : cls.getMethods()) {
      if (m.isAnnotationPresent(ann) && m.getParameterCount() == 0) {
        m.invoke(state);
      }
    }
  }

  /** Per round: A's us per call, B's us per call, their ratio. */
  private static double[][] run(Object s, Method a, Method b, int rounds, int calls) throws Exception {
    double[] ta = new double[rounds], tb = new double[rounds], ratio = new double[rounds];
    for (int i = 0; i < rounds; i++) {
      boolean aFirst = (i & 1) == 0;
      double first = block(s, aFirst ? a : b, calls);
      double second = block(s, aFirst ? b : a, calls);
      ta[i] = aFirst ? first : second;
      tb[i] = aFirst ? second : first;
      ratio[i] = ta[i] / tb[i];
    }
    return new double[][] {ta, tb, ratio};
  }

  private static Object sink;

  private static double block(Object s, Method m, int calls) throws Exception {
    Thread.sleep(PAUSE_MS);
    long t0 = System.nanoTime();
    for (int c = 0; c < calls; c++) {
      sink = m.invoke(s);
    }
    return (System.nanoTime() - t0) / 1e3 / calls;
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
