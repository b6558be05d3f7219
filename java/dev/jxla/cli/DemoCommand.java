package dev.jxla.cli;

import dev.jxla.DType;
import dev.jxla.Jxla;
import dev.jxla.Rng;
import dev.jxla.Tensor;
import dev.jxla.TensorScope;
import java.io.PrintStream;
import java.util.Locale;

/**
 * {@code jxla demo}: builds the DESIGN section 8 example on the host, {@code relu(x @ w + 1)}
 * followed by a softmax, prints the inputs, the traced text IR, the results and the metrics
 * report; a second step with new data shows the compile-cache hit.
 */
final class DemoCommand implements Command {
  @Override
  public String name() {
    return "demo";
  }

  @Override
  public String summary() {
    return "trace, compile and run a small graph on the host; print its IR, results and metrics";
  }

  @Override
  public int run(String[] args, PrintStream out) {
    Jxla.clearMetrics();
    out.println("JXLA demo: y = relu(x @ w + 1), p = softmax(y, axis 1), on the host backend");
    out.println();
    Rng rng = new Rng(42);
    try (TensorScope scope = new TensorScope()) {
      // materialized now, so both steps below see w as data and trace the same graph
      Tensor w = Tensor.randn(rng, DType.F32, 3, 4).materialized();
      for (int step = 1; step <= 2; step++) {
        try (TensorScope stepScope = new TensorScope()) {
          float[] xv = new float[6];
          for (int i = 0; i < 6; i++) {
            xv[i] = step == 1 ? i + 1 : (i % 3) - 1;  // new data in step 2: same graph
          }
          Tensor x = Tensor.of(xv, 2, 3);
          Tensor y = x.matmul(w).add(1f).relu();  // lazy: nothing runs yet
          Tensor p = y.softmax(1);
          out.println("== step " + step);
          print(out, "x", x);
          if (step == 1) {
            print(out, "w = randn(seed 42)", w);
            out.println("traced graph of p (text IR, before sync):");
            out.print(indent(p.ir()));
          }
          long compiles = Jxla.counter("UncachedCompile");
          Jxla.sync();  // compile (cached by graph structure) and run everything pending
          boolean compiled = Jxla.counter("UncachedCompile") > compiles;
          out.println("Jxla.sync(): " + (compiled ? "compiled the graph (cache miss)"
              : "compile-cache hit (same graph, new data)"));
          print(out, "y = relu(x @ w + 1)", y);
          print(out, "p = softmax(y, 1)", p);
          out.println();
        }
      }
    }
    out.println("== Jxla.metricsReport()");
    out.print(Jxla.metricsReport());
    return 0;
  }

  private static void print(PrintStream out, String label, Tensor t) {
    long[] s = t.shape();
    out.println(label + ": " + t.dtype().irName() + shapeText(s));
    float[] v = t.toFloatArray();
    int cols = s.length == 0 ? 1 : (int) s[s.length - 1];
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < v.length; i++) {
      sb.append(i % cols == 0 ? "  [" : " ").append(String.format(Locale.ROOT, "%9.4f", v[i]));
      if (i % cols == cols - 1) {
        sb.append(" ]\n");
      }
    }
    out.print(sb);
  }

  private static String shapeText(long[] s) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < s.length; i++) {
      sb.append(i > 0 ? "," : "").append(s[i]);
    }
    return sb.append(']').toString();
  }

  private static String indent(String text) {
    return "  " + text.replace("\n", "\n  ").replaceAll(" +$", "");
  }
}
