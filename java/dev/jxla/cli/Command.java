package dev.jxla.cli;

import java.io.PrintStream;

/** One subcommand of the {@code jxla} command line (demo, and later train, run, report). */
interface Command {
  /** The word that selects this command, e.g. "demo". */
  String name();

  /** One line for the usage text. */
  String summary();

  /** Runs the command; returns the process exit code (0 = success). */
  int run(String[] args, PrintStream out) throws Exception;
}
