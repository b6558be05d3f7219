package dev.jxla.cli;

import java.util.Arrays;

/** The command line: {@code jxla <command> [options]}. */
public final class Main {
  private Main() {}

  /** Dispatches to a subcommand. */
  public static void main(String[] args) {
    if (args.length == 0) {
      System.err.println("usage: jxla <command> [options]\ncommands: train");
      System.exit(2);
    }
    String[] rest = Arrays.copyOfRange(args, 1, args.length);
    switch (args[0]) {
      case "train": TrainCommand.run(rest); break;  // training (issue 5)
      default:
        System.err.println("jxla: unknown command '" + args[0] + "' (commands: train)");
        System.exit(2);
    }
  }
}
