package dev.jxla.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The command line dispatches to its commands; the demo prints IR, results and metrics. */
class MainTest {
  private static final class Run {
    final int rc;
    final String out;
    final String err;

    Run(String... args) throws Exception {
      ByteArrayOutputStream o = new ByteArrayOutputStream();
      ByteArrayOutputStream e = new ByteArrayOutputStream();
      rc = Main.run(args, new PrintStream(o, true, "UTF-8"), new PrintStream(e, true, "UTF-8"));
      out = o.toString(StandardCharsets.UTF_8);
      err = e.toString(StandardCharsets.UTF_8);
    }
  }

  @Test
  void demoPrintsGraphResultsAndMetrics() throws Exception {
    Run r = new Run("demo");
    assertEquals(0, r.rc, r.err);
    String o = r.out;
    assertTrue(o.contains("x: f32[2,3]"), o);
    assertTrue(o.contains("y = relu(x @ w + 1): f32[2,4]"), o);
    assertTrue(o.contains("p = softmax(y, 1): f32[2,4]"), o);
    assertTrue(o.contains("dot_general(") && o.contains("relu(") && o.contains("return %"), o);
    // step 2 has new data and the same graph
    String step2 = o.substring(o.indexOf("== step 2"));
    assertTrue(step2.contains("Jxla.sync(): compile-cache hit (same graph, new data)"), o);
    assertTrue(o.contains("Metric: ExecuteTime\n  TotalSamples: "), o);
    assertTrue(o.contains("Counter: CachedCompile\n  Value: "), o);
    // step 1's x = [[1,2,3],[4,5,6]] is printed as data
    assertTrue(o.contains("  [   1.0000    2.0000    3.0000 ]\n  [   4.0000    5.0000    6.0000 ]\n"), o);
  }

  @Test
  void usageAndUnknownCommands() throws Exception {
    Run none = new Run();
    assertEquals(2, none.rc);
    assertTrue(none.err.contains("usage: jxla <command>") && none.err.contains("demo"), none.err);
    Run help = new Run("--help");
    assertEquals(0, help.rc);
    assertTrue(help.out.contains("demo"), help.out);
    Run bad = new Run("frobnicate");
    assertEquals(2, bad.rc);
    assertTrue(bad.err.contains("unknown command 'frobnicate'"), bad.err);
  }
}
