package dev.jxla.onnx;

import dev.jxla.Tensor;
import dev.jxla.onnx.proto.Onnx.NodeProto;
import dev.jxla.onnx.proto.Onnx.TypeProto;
import dev.jxla.onnx.proto.Onnx.ValueInfoProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Sequence and optional values at the boundary of an ONNX model. A graph input or output may be
 * a tensor, a sequence of tensors, or an optional of either; inside the graph such values may
 * only pass through Identity (checked at load; the sequence/optional operators are not
 * supported). Compiled functions take and return tensors only, so a model with such inputs or
 * outputs ("structured") is compiled with a flat convention:
 *
 * <ul>
 *   <li>inputs: {@code [layout, tensor inputs in graph order..., the tensors of the sequence and
 *       optional inputs in graph order...]}, where layout is an s64 vector with one entry per
 *       sequence/optional input: its number of tensors, or -1 for an absent optional. The layout
 *       is a static input, so it is part of the signature: each layout traces once, like a new
 *       shape. The tensor inputs keep fixed positions, so they can be static inputs too.
 *   <li>outputs: {@code [tensor outputs..., the tensors of the sequence/optional outputs...,
 *       layout]}, the output layout being a constant of the trace.
 * </ul>
 *
 * {@link OnnxModel#call} does this flattening; a model without such values keeps the plain
 * convention (one tensor per input and output).
 */
final class OnnxBoundary {
  enum Kind {
    TENSOR, SEQUENCE, OPTIONAL_TENSOR, OPTIONAL_SEQUENCE;

    boolean isSequence() {
      return this == SEQUENCE || this == OPTIONAL_SEQUENCE;
    }

    boolean isOptional() {
      return this == OPTIONAL_TENSOR || this == OPTIONAL_SEQUENCE;
    }
  }

  final List<Kind> inKinds = new ArrayList<>();
  final List<Kind> outKinds = new ArrayList<>();
  private boolean structured;

  /** Kind of a graph input/output; maps, sparse tensors and nested sequences are rejected. */
  static Kind kind(ValueInfoProto v, String what) {
    if (!v.hasType()) {
      return Kind.TENSOR;
    }
    TypeProto t = v.getType();
    boolean opt = t.hasOptionalType();
    if (opt) {
      t = t.getOptionalType().getElemType();
    }
    if (t.hasTensorType()) {
      return opt ? Kind.OPTIONAL_TENSOR : Kind.TENSOR;
    }
    if (t.hasSequenceType() && t.getSequenceType().getElemType().hasTensorType()) {
      return opt ? Kind.OPTIONAL_SEQUENCE : Kind.SEQUENCE;
    }
    throw new OnnxException(what + " '" + v.getName() + "' is not a tensor, a sequence of tensors or an optional of these"
        + " (map, sparse and nested types are not supported)");
  }

  /** The element type of the tensors of a value (0 if undeclared). */
  static int elemType(ValueInfoProto v) {
    if (!v.hasType()) {
      return 0;
    }
    TypeProto t = v.getType();
    if (t.hasOptionalType()) {
      t = t.getOptionalType().getElemType();
    }
    if (t.hasSequenceType()) {
      t = t.getSequenceType().getElemType();
    }
    return t.hasTensorType() ? t.getTensorType().getElemType() : 0;
  }

  void addInput(Kind k) {
    inKinds.add(k);
    structured |= k != Kind.TENSOR;
  }

  void addOutput(Kind k) {
    outKinds.add(k);
    structured |= k != Kind.TENSOR;
  }

  boolean structured() {
    return structured;
  }

  /**
   * Load check: sequence/optional values flow only through Identity. Returns the unsupported
   * uses (empty if none). A graph output declared as a tensor must not be such a value.
   */
  Set<String> check(List<NodeProto> nodes, List<String> inputs, List<String> outputs) {
    Map<String, Kind> kinds = new HashMap<>();
    for (int i = 0; i < inputs.size(); i++) {
      if (inKinds.get(i) != Kind.TENSOR) {
        kinds.put(inputs.get(i), inKinds.get(i));
      }
    }
    Set<String> bad = new TreeSet<>();
    for (NodeProto n : nodes) {
      for (String s : n.getInputList()) {
        Kind k = kinds.get(s);
        if (k == null) {
          continue;
        }
        if (n.getOpType().equals("Identity") && n.getInputCount() == 1 && n.getOutputCount() == 1) {
          kinds.put(n.getOutput(0), k);
        } else {
          bad.add(n.getOpType() + " on " + (k.isSequence() ? "sequence" : "optional") + " values");
        }
      }
    }
    for (int i = 0; i < outputs.size(); i++) {
      Kind k = kinds.get(outputs.get(i));
      Kind want = outKinds.get(i);
      boolean ok = k == null ? !want.isSequence() : want.isSequence() == k.isSequence() && (want.isOptional() || !k.isOptional());
      if (!ok) {
        bad.add("graph output '" + outputs.get(i) + "' declared " + want + " but computed as " + (k == null ? Kind.TENSOR : k));
      }
    }
    return bad;
  }

  /** Positions of the static inputs in the flat convention (graph-input indices in, flat out). */
  int[] flatStatic(int[] graphStatic, List<String> inputs) {
    if (!structured) {
      return graphStatic;
    }
    List<Integer> r = new ArrayList<>();
    r.add(0);
    for (int i : graphStatic) {
      if (inKinds.get(i) != Kind.TENSOR) {
        throw new OnnxException("input '" + inputs.get(i) + "' (" + inKinds.get(i) + ") feeds a shape-like operand; not supported");
      }
      r.add(1 + plainIndex(i));
    }
    return r.stream().mapToInt(Integer::intValue).toArray();
  }

  private int plainIndex(int i) {
    int p = 0;
    for (int j = 0; j < i; j++) {
      p += inKinds.get(j) == Kind.TENSOR ? 1 : 0;
    }
    return p;
  }

  /** Trace-side values that are not single tensors. */
  static final class Env {
    final Map<String, List<Tensor>> sequences = new HashMap<>();
    final Set<String> absent = new HashSet<>();

    boolean has(String name) {
      return sequences.containsKey(name) || absent.contains(name);
    }

    /** Identity of a sequence/optional value. */
    void copy(String from, String to) {
      if (absent.contains(from)) {
        absent.add(to);
      } else {
        sequences.put(to, sequences.get(from));
      }
    }
  }

  /** Binds the traced flat inputs to the graph input names: tensors into {@code env}, the rest into {@code e}. */
  void bindInputs(Tensor[] in, List<String> inputs, Map<String, Tensor> env, Env e) {
    if (!structured) {
      if (in.length != inputs.size()) {
        throw new IllegalArgumentException("the model takes " + inputs.size() + " inputs " + inputs + ", got " + in.length);
      }
      for (int i = 0; i < in.length; i++) {
        env.put(inputs.get(i), in[i]);
      }
      return;
    }
    long[] layout = in[0].toLongArray();  // a static input: its values are known while tracing
    int p = 1;
    for (int i = 0; i < inputs.size(); i++) {
      if (inKinds.get(i) == Kind.TENSOR) {
        env.put(inputs.get(i), in[p++]);
      }
    }
    int k = 0;
    for (int i = 0; i < inputs.size(); i++) {
      Kind kind = inKinds.get(i);
      if (kind == Kind.TENSOR) {
        continue;
      }
      long n = layout[k++];
      String name = inputs.get(i);
      if (n < 0) {
        e.absent.add(name);
      } else if (kind.isSequence()) {
        List<Tensor> ts = new ArrayList<>();
        for (int j = 0; j < n; j++) {
          ts.add(in[p++]);
        }
        e.sequences.put(name, ts);
      } else {
        env.put(name, in[p++]);
      }
    }
  }

  /** The traced outputs in the flat convention. */
  Tensor[] outputs(List<String> outputs, Map<String, Tensor> env, Env e) {
    List<Tensor> r = new ArrayList<>();
    for (int i = 0; i < outputs.size(); i++) {
      if (outKinds.get(i) == Kind.TENSOR) {
        r.add(env.get(outputs.get(i)));
      }
    }
    if (!structured) {
      return r.toArray(new Tensor[0]);
    }
    List<Long> layout = new ArrayList<>();
    for (int i = 0; i < outputs.size(); i++) {
      String name = outputs.get(i);
      if (outKinds.get(i) == Kind.TENSOR) {
        continue;
      }
      if (e.absent.contains(name)) {
        layout.add(-1L);
      } else if (e.sequences.containsKey(name)) {
        layout.add((long) e.sequences.get(name).size());
        r.addAll(e.sequences.get(name));
      } else {
        layout.add(1L);
        r.add(env.get(name));
      }
    }
    r.add(Tensor.of(layout.stream().mapToLong(Long::longValue).toArray(), layout.size()));
    return r.toArray(new Tensor[0]);
  }

  /** The caller's values in the flat convention (kinds checked). */
  Tensor[] flatten(OnnxValue[] values, List<String> inputs) {
    if (values.length != inKinds.size()) {
      throw new IllegalArgumentException("the model takes " + inKinds.size() + " inputs " + inputs + ", got " + values.length);
    }
    List<Tensor> plain = new ArrayList<>();
    List<Tensor> rest = new ArrayList<>();
    List<Long> layout = new ArrayList<>();
    for (int i = 0; i < values.length; i++) {
      OnnxValue v = values[i];
      Kind k = inKinds.get(i);
      boolean ok = v != null && (v.isNone() ? k.isOptional() : v.isSequence() == k.isSequence());
      if (!ok) {
        throw new IllegalArgumentException("input " + i + " ('" + inputs.get(i) + "') is " + k + ", got " + v);
      }
      if (k == Kind.TENSOR) {
        plain.add(v.tensor());
      } else if (v.isNone()) {
        layout.add(-1L);
      } else if (v.isSequence()) {
        layout.add((long) v.sequence().size());
        rest.addAll(v.sequence());
      } else {
        layout.add(1L);
        rest.add(v.tensor());
      }
    }
    List<Tensor> r = new ArrayList<>();
    if (structured) {
      r.add(Tensor.of(layout.stream().mapToLong(Long::longValue).toArray(), layout.size()));
    }
    r.addAll(plain);
    r.addAll(rest);
    return r.toArray(new Tensor[0]);
  }

  /** The flat results as one value per graph output. */
  OnnxValue[] unflatten(Tensor[] out) {
    OnnxValue[] r = new OnnxValue[outKinds.size()];
    int p = 0;
    for (int i = 0; i < r.length; i++) {
      if (outKinds.get(i) == Kind.TENSOR) {
        r[i] = OnnxValue.of(out[p++]);
      }
    }
    if (!structured) {
      return r;
    }
    long[] layout = out[out.length - 1].toLongArray();
    int k = 0;
    for (int i = 0; i < r.length; i++) {
      Kind kind = outKinds.get(i);
      if (kind == Kind.TENSOR) {
        continue;
      }
      long n = layout[k++];
      if (n < 0) {
        r[i] = OnnxValue.none();
      } else if (kind.isSequence()) {
        List<Tensor> ts = new ArrayList<>();
        for (int j = 0; j < n; j++) {
          ts.add(out[p++]);
        }
        r[i] = OnnxValue.sequence(ts);
      } else {
        r[i] = OnnxValue.of(out[p++]);
      }
    }
    return r;
  }
}
