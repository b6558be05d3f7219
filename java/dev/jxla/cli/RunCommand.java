package dev.jxla.cli;

import dev.jxla.Bucketing;
import dev.jxla.CompiledFunction;
import dev.jxla.Device;
import dev.jxla.Jxla;
import dev.jxla.Precision;
import dev.jxla.Tensor;
import dev.jxla.TensorScope;
import dev.jxla.onnx.OnnxModel;
import dev.jxla.onnx.OnnxValue;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code run MODEL.onnx --input NAME=FILE.npy ... [--device host|tpu:GEN] [--precision P]}: loads
 * an ONNX model, compiles it for the device (the host, or an emulated TPU such as tpu:v5e), feeds
 * the named inputs from .npy files, and prints each output's dtype, shape and a summary (min, max,
 * mean, first values), then the short metrics report. On a TPU it also prints the simulated
 * device time and the kernels of the run (the TPU profile); {@code --precision} (DEFAULT, HIGH,
 * HIGHEST; default DEFAULT, as JAX) sets the MXU precision of f32 matmuls for the run.
 */
public final class RunCommand {
  private RunCommand() {}

  /** Entry point of the subcommand. */
  public static void run(String[] args) throws Exception {
    run(args, System.out);
  }

  /** Runs with output to {@code out} (tests). Throws IllegalArgumentException on bad arguments. */
  public static void run(String[] args, PrintStream out) throws Exception {
    Path model = null;
    Map<String, Path> inputs = new HashMap<>();
    String device = "host";
    Precision precision = null;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--input") && i + 1 < args.length) {
        String[] kv = args[++i].split("=", 2);
        if (kv.length != 2) {
          throw new IllegalArgumentException("run: --input expects NAME=FILE.npy, got " + args[i]);
        }
        inputs.put(kv[0], Path.of(kv[1]));
      } else if (args[i].equals("--device") && i + 1 < args.length) {
        device = args[++i];
      } else if (args[i].equals("--precision") && i + 1 < args.length) {
        try {
          precision = Precision.valueOf(args[++i].toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("run: --precision expects DEFAULT, HIGH or HIGHEST, got " + args[i]);
        }
      } else if (model == null && !args[i].startsWith("--")) {
        model = Path.of(args[i]);
      } else {
        throw new IllegalArgumentException("run: unexpected argument " + args[i]);
      }
    }
    if (model == null) {
      throw new IllegalArgumentException("usage: run MODEL.onnx --input NAME=FILE.npy ... [--device host|tpu:v5e] [--precision DEFAULT|HIGH|HIGHEST]");
    }
    Device dev = parseDevice(device);
    Precision before = Jxla.matmulPrecision();
    if (precision != null) {
      Jxla.setMatmulPrecision(precision);
    }
    try {
      runOn(model, inputs, dev, out);
    } finally {
      Jxla.setMatmulPrecision(before);
    }
  }

  /** "host" or "tpu:GEN" (v4, v5e, v5p, v6e). */
  static Device parseDevice(String name) {
    if (name.equals("host")) {
      return Device.host();
    }
    if (name.startsWith("tpu:") && name.length() > 4) {
      return Device.tpu(name.substring(4));
    }
    throw new IllegalArgumentException("run: unknown device '" + name + "' (use host or tpu:v4|v5e|v5p|v6e)");
  }

  private static void runOn(Path model, Map<String, Path> inputs, Device dev, PrintStream out) throws Exception {
    Jxla.clearMetrics();
    OnnxModel m = OnnxModel.open(model);
    if (!dev.isHost()) {
      dev.profileAndClear();
    }
    double sim0 = dev.isHost() ? 0 : dev.simulatedSeconds();
    try (CompiledFunction f = m.compile(Bucketing.none(), dev); TensorScope scope = new TensorScope()) {
      List<String> names = m.inputNames();
      OnnxValue[] in = new OnnxValue[names.size()];
      for (int i = 0; i < in.length; i++) {
        Path p = inputs.remove(names.get(i));
        if (p == null) {
          throw new IllegalArgumentException("run: missing --input " + names.get(i) + "=FILE.npy (model inputs: " + names + ")");
        }
        if (m.inputIsSequence(i)) {
          throw new IllegalArgumentException("run: input " + names.get(i) + " is a sequence of tensors; a .npy file holds one tensor");
        }
        in[i] = OnnxValue.of(Npy.read(p));
      }
      if (!inputs.isEmpty()) {
        throw new IllegalArgumentException("run: the model has no input(s) " + inputs.keySet() + " (model inputs: " + names + ")");
      }
      OnnxValue[] outs = m.call(f, in);
      for (int i = 0; i < outs.length; i++) {
        String name = m.outputNames().get(i);
        if (outs[i].isNone()) {
          out.println(name + ": none (absent optional)");
        } else if (outs[i].isSequence()) {
          out.println(name + ": sequence of " + outs[i].sequence().size() + " tensors");
          for (int k = 0; k < outs[i].sequence().size(); k++) {
            out.println(summary(name + "[" + k + "]", outs[i].sequence().get(k)));
          }
        } else {
          out.println(summary(name, outs[i].tensor()));
        }
      }
      if (!dev.isHost()) {
        out.printf("%n%s (precision %s): simulated device time %.3f us (weights upload included)%n", dev.name(),
            Jxla.matmulPrecision(), (dev.simulatedSeconds() - sim0) * 1e6);
        String[] lines = dev.profile().split("\n");
        for (int i = 0; i < Math.min(lines.length, 60); i++) {
          out.println(lines[i]);
        }
        if (lines.length > 60) {
          out.println("... " + (lines.length - 60) + " more profile lines");
        }
      }
    }
    out.println();
    out.print(Jxla.shortMetricsReport());
  }

  /** "name: f32[2, 3] min=.. max=.. mean=.. first=[..]". */
  static String summary(String name, Tensor t) {
    double[] v = t.toDoubleArray();
    double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY, sum = 0;
    for (double x : v) {
      min = Math.min(min, x);
      max = Math.max(max, x);
      sum += x;
    }
    double[] first = Arrays.copyOf(v, Math.min(v.length, 6));
    return String.format("%s: %s%s min=%.6g max=%.6g mean=%.6g first=%s", name, t.dtype().irName(),
        Arrays.toString(t.shape()), min, max, v.length == 0 ? Double.NaN : sum / v.length, Arrays.toString(first));
  }
}
