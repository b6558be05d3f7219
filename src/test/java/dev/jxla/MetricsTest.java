package dev.jxla;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The metrics report has PyTorch/XLA's text format (torch_xla.debug.metrics.metrics_report()):
 * <pre>
 * Metric: CompileTime
 *   TotalSamples: 2
 *   Accumulator: 012ms345.678us
 *   Percentiles: 1%=...; 5%=...; 10%=...; 20%=...; 50%=...; 80%=...; 90%=...; 95%=...; 99%=...
 * Counter: CachedCompile
 *   Value: 3
 * </pre>
 * and its numbers agree with the counters and the work done.
 */
class MetricsTest {
  private static final Pattern METRIC = Pattern.compile(
      "Metric: (\\S+)\n  TotalSamples: (\\d+)\n  Accumulator: (\\S+)\n  Percentiles: ((?:\\d+%=\\S+?; ){8}99%=\\S+)\n");
  private static final Pattern COUNTER = Pattern.compile("Counter: (\\S+)\n  Value: (-?\\d+)\n");
  // PyTorch/XLA's time format: [MMm][SSs][mmmms]uuu.uuuus, leading zero units dropped
  private static final Pattern TIME = Pattern.compile("(\\d{2}m)?(\\d{2}s)?(\\d{3}ms)?\\d+\\.\\d{3}us");

  /** Parses the whole report; fails if any line is outside the two block formats. */
  private static Map<String, String[]> parse(String report) {
    Map<String, String[]> out = new HashMap<>();
    int pos = 0;
    Matcher m = METRIC.matcher(report);
    Matcher c = COUNTER.matcher(report);
    while (pos < report.length()) {
      if (m.find(pos) && m.start() == pos) {
        out.put(m.group(1), new String[] {m.group(2), m.group(3), m.group(4)});
        pos = m.end();
      } else if (c.find(pos) && c.start() == pos) {
        out.put("counter:" + c.group(1), new String[] {c.group(2)});
        pos = c.end();
      } else {
        int eol = report.indexOf('\n', pos);
        throw new AssertionError("unexpected report line: " + report.substring(pos, eol < 0 ? report.length() : eol));
      }
    }
    return out;
  }

  private static void work(int n, int len) {
    for (int i = 0; i < n; i++) {
      try (TensorScope scope = new TensorScope()) {
        float[] a = new float[len];
        for (int k = 0; k < len; k++) {
          a[k] = k + i;
        }
        Tensor y = Tensor.of(a, len).mul(2f).sum();
        Jxla.sync();
        assertEquals((double) len * (len - 1) + 2.0 * i * len, y.item());
      }
    }
  }

  @Test
  void reportHasPyTorchXlaFormatAndAgreesWithTheCounters() {
    Jxla.clearMetrics();
    work(1, 97);  // a shape of its own: one compile
    work(4, 97);  // four hits
    String report = Jxla.metricsReport();
    assertTrue(report.contains("Metric: CompileTime\n"), report);
    assertTrue(report.contains("  TotalSamples: "), report);
    assertTrue(report.contains("  Accumulator: "), report);
    assertTrue(report.contains("  Percentiles: 1%="), report);
    assertTrue(report.contains("Counter: CachedCompile\n  Value: 4\n"), report);
    Map<String, String[]> r = parse(report);
    assertEquals("1", r.get("CompileTime")[0]);
    assertEquals("5", r.get("ExecuteTime")[0], "one execution per sync");
    assertEquals("1", r.get("counter:UncachedCompile")[0]);
    assertEquals("5", r.get("counter:MarkStep")[0]);
    for (String name : new String[] {"CompileTime", "ExecuteTime", "TransferToDeviceTime", "TransferFromDeviceTime"}) {
      String[] v = r.get(name);
      assertTrue(v != null, name + " missing:\n" + report);
      assertTrue(TIME.matcher(v[1]).matches(), name + " accumulator " + v[1]);
      for (String p : v[2].split("; ")) {
        assertTrue(TIME.matcher(p.substring(p.indexOf('=') + 1)).matches(), name + " percentile " + p);
      }
    }
    for (Map.Entry<String, String[]> e : r.entrySet()) {
      if (e.getKey().startsWith("counter:")) {
        String name = e.getKey().substring("counter:".length());
        assertEquals(Jxla.counter(name), Long.parseLong(e.getValue()[0]), "counter " + name);
      }
    }
    // percentiles are sorted samples: non-decreasing
    String[] ps = r.get("ExecuteTime")[2].split("; ");
    double prev = -1;
    for (String p : ps) {
      double us = micros(p.substring(p.indexOf('=') + 1));
      assertTrue(us >= prev, "percentiles decrease: " + r.get("ExecuteTime")[2]);
      prev = us;
    }
  }

  /** Microseconds of a PyTorch/XLA time string. */
  private static double micros(String t) {
    Matcher m = Pattern.compile("(?:(\\d+)m)?(?:(\\d+)s)?(?:(\\d+)ms)?([\\d.]+)us").matcher(t);
    assertTrue(m.matches(), t);
    double us = Double.parseDouble(m.group(4));
    if (m.group(3) != null) {
      us += 1e3 * Long.parseLong(m.group(3));
    }
    if (m.group(2) != null) {
      us += 1e6 * Long.parseLong(m.group(2));
    }
    if (m.group(1) != null) {
      us += 60e6 * Long.parseLong(m.group(1));
    }
    return us;
  }

  @Test
  void clearMetricsResetsEverything() {
    work(2, 5);
    assertTrue(Jxla.counter("MarkStep") > 0);
    Jxla.clearMetrics();
    assertEquals("", Jxla.metricsReport());
    assertEquals(0, Jxla.counter("MarkStep"));
    assertEquals(0, Jxla.counter("CachedCompile"));
    work(3, 5);  // cached from before the clear: the cache is not a metric
    Map<String, String[]> r = parse(Jxla.metricsReport());
    assertEquals("3", r.get("counter:CachedCompile")[0]);
    assertFalse(r.containsKey("CompileTime"));
    assertFalse(r.containsKey("counter:UncachedCompile"));
    assertEquals("3", r.get("ExecuteTime")[0]);
  }

  @Test
  void shortReportKeepsTheStepExplainingEntries() {
    work(1, 5);  // compiled before the clear
    Jxla.clearMetrics();
    work(2, 5);
    String s = Jxla.shortMetricsReport();
    Map<String, String[]> r = parse(s);
    assertTrue(r.containsKey("ExecuteTime"), s);
    assertEquals("2", r.get("counter:CachedCompile")[0], s);
    assertEquals("2", r.get("counter:MarkStep")[0], s);
    assertFalse(r.containsKey("TransferToDeviceTime"), "short report is a subset:\n" + s);
    assertFalse(r.containsKey("counter:LazyTracing"), s);
    assertTrue(Jxla.metricsReport().length() > s.length());
  }

  @Test
  void metricsAreThreadSafe() throws InterruptedException {
    Jxla.clearMetrics();
    Thread[] ts = new Thread[4];
    Throwable[] fail = new Throwable[1];
    for (int t = 0; t < ts.length; t++) {
      ts[t] = new Thread(() -> {
        try {
          work(25, 6);
        } catch (Throwable e) {
          fail[0] = e;
        }
      });
      ts[t].start();
    }
    for (Thread t : ts) {
      t.join();
    }
    if (fail[0] != null) {
      throw new AssertionError(fail[0]);
    }
    Map<String, String[]> r = parse(Jxla.metricsReport());
    assertEquals("100", r.get("counter:MarkStep")[0]);
    assertEquals("100", r.get("ExecuteTime")[0]);
    long compiles = Jxla.counter("CachedCompile") + Jxla.counter("UncachedCompile");
    assertEquals(100, compiles, "one compile-cache lookup per sync");
  }
}
