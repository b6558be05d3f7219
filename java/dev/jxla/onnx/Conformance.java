package dev.jxla.onnx;

import dev.jxla.CompiledFunction;
import dev.jxla.Device;
import dev.jxla.Jxla;
import dev.jxla.Precision;
import dev.jxla.Tensor;
import dev.jxla.TensorScope;
import dev.jxla.onnx.proto.Onnx.OptionalProto;
import dev.jxla.onnx.proto.Onnx.SequenceProto;
import dev.jxla.onnx.proto.Onnx.TensorProto;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * The ONNX node-test conformance runner: each test directory holds model.onnx and
 * test_data_set_N/ with input_i.pb / output_i.pb TensorProtos. A test passes when the model
 * loads, runs on the device (the host, or an emulated TPU: the model is traced on the host and
 * compiled for the device) and every output matches: same dims, integers and bools exactly (after
 * wrapping widened integers back to the declared type), float8/float4 values exactly (the sign of
 * zero included), other floats within
 * |actual - expected| <= atol + rtol * |expected| (ONNX's own runner: rtol 1e-3, atol 1e-7;
 * NaN matches NaN, infinities must be equal). Sequence outputs must have the expected length
 * and every tensor must match; optional outputs must be present or absent as expected.
 */
public final class Conformance {
  /** ONNX's default tolerances (onnx/backend/test/runner). */
  public static final double RTOL = 1e-3;
  public static final double ATOL = 1e-7;

  private Conformance() {}

  /** One test's outcome; {@code detail} says why it failed (empty when it passed). */
  public static final class Result {
    public final String name;
    public final boolean passed;
    public final String detail;

    Result(String name, boolean passed, String detail) {
      this.name = name;
      this.passed = passed;
      this.detail = detail;
    }

    @Override
    public String toString() {
      return (passed ? "PASS " : "FAIL ") + name + (passed ? "" : ": " + detail);
    }
  }

  /** Every test_* directory under {@code root}, sorted by name. */
  public static List<Path> tests(Path root) throws IOException {
    try (Stream<Path> s = Files.list(root)) {
      return s.filter(p -> Files.isDirectory(p) && p.getFileName().toString().startsWith("test_")).sorted().toList();
    }
  }

  /** Runs every test under {@code root} on the host. */
  public static List<Result> runAll(Path root, String filter) throws IOException {
    return runAll(root, filter, Device.host(), null);
  }

  /**
   * Runs every test under {@code root} on {@code device}; a non-null {@code precision} is the
   * process-wide MXU precision for the run (restored afterwards).
   */
  public static List<Result> runAll(Path root, String filter, Device device, Precision precision) throws IOException {
    List<Result> r = new ArrayList<>();
    Precision before = Jxla.matmulPrecision();
    if (precision != null) {
      Jxla.setMatmulPrecision(precision);
    }
    try {
      for (Path t : tests(root)) {
        if (filter == null || t.getFileName().toString().contains(filter)) {
          r.add(run(t, device));
        }
      }
    } finally {
      Jxla.setMatmulPrecision(before);
    }
    return r;
  }

  /** Runs one test directory on the host; never throws for a failing test. */
  public static Result run(Path dir) {
    return run(dir, Device.host());
  }

  /** Runs one test directory on {@code device}; never throws for a failing test. */
  public static Result run(Path dir, Device device) {
    String name = dir.getFileName().toString();
    try (TensorScope scope = new TensorScope()) {
      OnnxModel model = OnnxModel.open(dir.resolve("model.onnx"));
      try (CompiledFunction f = model.compile(dev.jxla.Bucketing.none(), device)) {
        List<Path> sets;
        try (Stream<Path> s = Files.list(dir)) {
          sets = s.filter(p -> p.getFileName().toString().startsWith("test_data_set_")).sorted().toList();
        }
        if (sets.isEmpty()) {
          return new Result(name, false, "no test_data_set_* directory");
        }
        for (Path set : sets) {
          String why = runSet(model, f, set);
          if (why != null) {
            return new Result(name, false, set.getFileName() + ": " + why);
          }
        }
        return new Result(name, true, "");
      }
    } catch (Exception | AssertionError e) {
      String m = e.getMessage();
      return new Result(name, false, e.getClass().getSimpleName() + ": " + (m == null ? "" : m.split("\n")[0]));
    }
  }

  private static String runSet(OnnxModel model, CompiledFunction f, Path set) throws IOException {
    int nin = model.inputNames().size();
    OnnxValue[] in = new OnnxValue[nin];
    for (int i = 0; i < nin; i++) {
      Path p = set.resolve("input_" + i + ".pb");
      if (!Files.exists(p)) {
        return "missing " + p.getFileName() + " for input '" + model.inputNames().get(i) + "'";
      }
      in[i] = readValue(Files.readAllBytes(p), model.inputIsSequence(i), model.inputIsOptional(i), p.toString(), null);
    }
    OnnxValue[] out = model.call(f, in);
    for (int i = 0; i < model.outputNames().size(); i++) {
      Path p = set.resolve("output_" + i + ".pb");
      if (!Files.exists(p)) {
        continue;
      }
      String what = "output " + i + " ('" + model.outputNames().get(i) + "'): ";
      List<OnnxTensors.HostTensor> ws = new ArrayList<>();
      OnnxValue want = readValue(Files.readAllBytes(p), model.outputIsSequence(i), model.outputIsOptional(i), p.toString(), ws);
      if (want.isNone() != out[i].isNone() || want.isSequence() != out[i].isSequence()) {
        return what + out[i] + ", expected " + want;
      }
      List<Tensor> as = new ArrayList<>();
      if (want.isSequence()) {
        if (want.sequence().size() != out[i].sequence().size()) {
          return what + out[i] + ", expected " + want;
        }
        as.addAll(out[i].sequence());
      } else if (want.isTensor()) {
        as.add(out[i].tensor());
      }
      for (int k = 0; k < ws.size(); k++) {
        String why = compare(ws.get(k), as.get(k), RTOL, ATOL);
        if (why != null) {
          return what + (want.isSequence() ? "tensor " + k + ": " : "") + why;
        }
      }
    }
    return null;
  }

  /**
   * A test-data value: a TensorProto, or for sequence/optional values a SequenceProto /
   * OptionalProto (onnx-data.proto) of tensors. The decoded host tensors (exact, with their
   * declared ONNX type, for comparisons) are appended to {@code host} when it is not null.
   */
  private static OnnxValue readValue(byte[] bytes, boolean sequence, boolean optional, String what,
      List<OnnxTensors.HostTensor> host) throws IOException {
    if (optional) {
      OptionalProto o = OptionalProto.parseFrom(bytes);
      if (o.hasTensorValue()) {
        return tensorValue(o.getTensorValue(), what, host);
      }
      if (o.hasSequenceValue()) {
        return sequenceValue(o.getSequenceValue(), what, host);
      }
      if (o.hasOptionalValue() || o.getElemType() > 3) {
        throw new OnnxException(what + ": nested optional or map values are not supported");
      }
      return OnnxValue.none();
    }
    return sequence ? sequenceValue(SequenceProto.parseFrom(bytes), what, host)
        : tensorValue(TensorProto.parseFrom(bytes), what, host);
  }

  private static OnnxValue sequenceValue(SequenceProto s, String what, List<OnnxTensors.HostTensor> host) {
    if (s.getSequenceValuesCount() > 0 || s.getOptionalValuesCount() > 0) {
      throw new OnnxException(what + ": sequences of sequences or optionals are not supported");
    }
    List<Tensor> ts = new ArrayList<>();
    for (TensorProto t : s.getTensorValuesList()) {
      ts.add(tensorValue(t, what, host).tensor());
    }
    return OnnxValue.sequence(ts);
  }

  private static OnnxValue tensorValue(TensorProto p, String what, List<OnnxTensors.HostTensor> host) {
    OnnxTensors.HostTensor h = OnnxTensors.decode(p, what);
    if (host != null) {
      host.add(h);
    }
    return OnnxValue.of(OnnxTensors.toTensor(h, what));
  }

  /** Null if {@code actual} matches {@code want}, else the first difference. */
  public static String compare(OnnxTensors.HostTensor want, Tensor actual, double rtol, double atol) {
    long[] shape = actual.shape();
    if (!Arrays.equals(shape, want.dims)) {
      return "shape " + Arrays.toString(shape) + ", expected " + Arrays.toString(want.dims);
    }
    if (want.isFloat()) {
      if (!actual.dtype().isFloatingPoint()) {
        return "dtype " + actual.dtype() + ", expected " + OnnxTensors.typeName(want.type);
      }
      double[] a = actual.toDoubleArray();
      boolean exact = NarrowFloat.of(want.type) != null;
      for (int k = 0; k < a.length; k++) {
        double e = want.f[k];
        if (exact) {
          // float8/float4: the format's value exactly, the sign of zero included (NaN matches NaN)
          if (Double.compare(a[k], e) != 0 && !(Double.isNaN(a[k]) && Double.isNaN(e))) {
            return "element " + k + " is " + a[k] + ", expected " + e + " (" + OnnxTensors.typeName(want.type) + ", exact)";
          }
          continue;
        }
        boolean ok = Double.isNaN(e) ? Double.isNaN(a[k])
            : Double.isInfinite(e) ? a[k] == e : Math.abs(a[k] - e) <= atol + rtol * Math.abs(e);
        if (!ok) {
          return "element " + k + " is " + a[k] + ", expected " + e;
        }
      }
      return null;
    }
    if (actual.dtype().isFloatingPoint()) {
      return "dtype " + actual.dtype() + ", expected " + OnnxTensors.typeName(want.type);
    }
    long[] a = actual.toLongArray();
    for (int k = 0; k < a.length; k++) {
      long v = OnnxTensors.narrow(a[k], want.type);
      if (v != want.i[k]) {
        return "element " + k + " is " + v + ", expected " + want.i[k];
      }
    }
    return null;
  }
}
