package dev.jxla.cli;

import dev.jxla.Device;
import dev.jxla.Precision;
import dev.jxla.onnx.Conformance;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code conformance [DIR] [--filter TEXT] [--failures] [--device host|tpu:GEN|all]}: runs the
 * ONNX node tests under DIR (default ../shared/data/onnx-node) on the host, on an emulated TPU at
 * Precision.HIGHEST, or (default, {@code all}) on both; prints PASS/FAIL per test and device
 * (only failures with --failures) and the pass rate per device. Exit status 1 if DIR is missing.
 */
public final class ConformanceCommand {
  private ConformanceCommand() {}

  /** Default location of the node tests, relative to the project root. */
  public static final String DEFAULT_DIR = "../shared/data/onnx-node";

  /** Entry point of the subcommand. */
  public static void run(String[] args) throws Exception {
    if (!run(args, System.out)) {
      System.exit(1);
    }
  }

  /** Runs with output to {@code out} (tests); false if the test directory is missing. */
  public static boolean run(String[] args, java.io.PrintStream out) throws Exception {
    Path dir = null;
    String filter = null;
    boolean onlyFailures = false;
    String devices = "all";
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--filter": filter = args[++i]; break;
        case "--failures": onlyFailures = true; break;
        case "--device": devices = args[++i]; break;
        default: dir = Path.of(args[i]);
      }
    }
    if (dir == null) {
      dir = locate();
    }
    if (dir == null || !Files.isDirectory(dir)) {
      System.err.println("conformance: test directory not found (" + (dir == null ? DEFAULT_DIR : dir) + ")");
      return false;
    }
    String[] names = devices.equals("all") ? new String[] {"host", TPU} : new String[] {devices};
    StringBuilder summary = new StringBuilder();
    for (String name : names) {
      Device dev = RunCommand.parseDevice(name);
      // the TPU runs f32 matmuls at HIGHEST (6 bf16 passes): ONNX's tolerances assume f32 math
      Precision p = dev.isHost() ? null : Precision.HIGHEST;
      List<Conformance.Result> rs = Conformance.runAll(dir, filter, dev, p);
      int pass = 0;
      for (Conformance.Result r : rs) {
        if (r.passed) {
          pass++;
        }
        if (!r.passed || !onlyFailures) {
          out.println("[" + name + "] " + r);
        }
      }
      summary.append(String.format("conformance (%s%s): %d of %d ONNX node tests pass (%.1f%%)%n", name,
          p == null ? "" : ", " + p, pass, rs.size(), rs.isEmpty() ? 0.0 : 100.0 * pass / rs.size()));
    }
    out.print(summary);
    return true;
  }

  /** The emulated TPU the conformance run uses. */
  public static final String TPU = "tpu:v5e";

  /** ../shared/data/onnx-node, or one level higher (a git worktree nested one folder deeper). */
  public static Path locate() {
    for (String c : new String[] {DEFAULT_DIR, "../../shared/data/onnx-node"}) {
      Path p = Path.of(c);
      if (Files.isDirectory(p)) {
        return p;
      }
    }
    return null;
  }
}
