package dev.jxla.cli;

/**
 * The jxla command line. Subcommands: {@code conformance} (ONNX node tests; see
 * {@link ConformanceCommand}), {@code run} (an ONNX model on .npy inputs; {@link RunCommand}). Other subcommands are added by their own classes.
 */
public final class Main {
  private Main() {}

  /** Dispatches to a subcommand. */
  public static void main(String[] args) throws Exception {
    if (args.length == 0) {
      System.err.println("usage: jxla conformance [DIR] [--filter TEXT] [--failures] | run MODEL.onnx --input NAME=FILE.npy ...");
      System.exit(2);
    }
    String[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
    try {
      switch (args[0]) {
        case "conformance": ConformanceCommand.run(rest); break;
        case "run": RunCommand.run(rest); break;
        default:
          System.err.println("unknown command: " + args[0]);
          System.exit(2);
      }
    } catch (RuntimeException | java.io.IOException e) {
      // user errors (bad model, bad arguments, missing files): one line, no stack trace
      System.err.println("error: " + e.getMessage());
      System.exit(1);
    }
  }
}
