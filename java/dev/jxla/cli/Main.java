package dev.jxla.cli;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code jxla} command line: {@code jxla <command> [args...]}. Main only dispatches; each
 * command is its own class, registered in {@link #COMMANDS} (add train/run/report there).
 */
public final class Main {
  private static final Map<String, Command> COMMANDS = new LinkedHashMap<>();

  static {
    register(new DemoCommand());
    register(simple("run", "run an ONNX model on .npy inputs: run MODEL.onnx --input name=FILE.npy [--device host|tpu:v5e] [--precision HIGHEST]", RunCommand::run));
    register(simple("conformance", "run ONNX's operator tests (../shared/data/onnx-node)", ConformanceCommand::run));
    register(simple("train", "train an MLP (or --model cnn) on MNIST digits", TrainCommand::run));
  }

  private Main() {}

  /** The static entry point of a command class. */
  @FunctionalInterface
  private interface Body {
    void run(String[] args) throws Exception;
  }

  /** A command whose entry point is a static {@code run(String[])} that prints to System.out. */
  private static Command simple(String name, String summary, Body body) {
    return new Command() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public String summary() {
        return summary;
      }

      @Override
      public int run(String[] args, PrintStream out) throws Exception {
        body.run(args);
        return 0;
      }
    };
  }

  private static void register(Command c) {
    COMMANDS.put(c.name(), c);
  }

  /** Entry point; exits with the command's status when it is not 0. */
  public static void main(String[] args) throws Exception {
    int rc = run(args, System.out, System.err);
    if (rc != 0) {
      System.exit(rc);  // only on failure: under exec:java, exiting would also end Maven
    }
  }

  /** Runs {@code args} and returns the exit code (tests call this directly). */
  static int run(String[] args, PrintStream out, PrintStream err) throws Exception {
    if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help") || args[0].equals("help")) {
      usage(args.length == 0 ? err : out);
      return args.length == 0 ? 2 : 0;
    }
    Command c = COMMANDS.get(args[0]);
    if (c == null) {
      err.println("jxla: unknown command '" + args[0] + "'");
      usage(err);
      return 2;
    }
    return c.run(Arrays.copyOfRange(args, 1, args.length), out);
  }

  private static void usage(PrintStream s) {
    s.println("usage: jxla <command> [args...]");
    s.println("commands:");
    for (Command c : COMMANDS.values()) {
      s.printf("  %-8s %s%n", c.name(), c.summary());
    }
  }
}
