package dev.jxla.onnx;

import com.google.protobuf.CodedInputStream;
import dev.jxla.Bucketing;
import dev.jxla.CompiledFunction;
import dev.jxla.Device;
import dev.jxla.Jxla;
import dev.jxla.Tensor;
import dev.jxla.TensorScope;
import dev.jxla.onnx.proto.Onnx.GraphProto;
import dev.jxla.onnx.proto.Onnx.ModelProto;
import dev.jxla.onnx.proto.Onnx.NodeProto;
import dev.jxla.onnx.proto.Onnx.OperatorSetIdProto;
import dev.jxla.onnx.proto.Onnx.TensorProto;
import dev.jxla.onnx.proto.Onnx.ValueInfoProto;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * ONNX model import: {@link #load(Path)} parses a .onnx file (protobuf-java, the project's own
 * onnx.proto), validates it and returns a {@link CompiledFunction} whose inputs are the graph
 * inputs that are not initializers, in graph order, and whose outputs are the graph outputs.
 *
 * <p>Validation at load: a malformed or truncated file, a missing graph, an opset outside 7..27
 * of the default domain (operator semantics as of opset 21; for the supported operators the
 * versions of opsets 22-27 only widened type constraints), a node that uses an undefined value, an unsupported element type in an
 * initializer, and every unsupported operator (all of them named in one message) throw an
 * {@link OnnxException}. Tracing happens on the first call per input signature: initializers
 * become captured constants, subgraphs of constants are folded, and graph inputs that feed
 * shape-like operands (Reshape's shape, Slice's starts, ...) are static inputs whose values are
 * part of the signature. Narrow integer types are widened (see {@link OnnxTensors}); float8 and
 * float4 values are f32 tensors of the format's values (see {@link NarrowFloat}, checked at load
 * to flow only through Cast/CastLike and element moves). Sequence and optional inputs/outputs
 * are supported at the graph boundary and through Identity; such models are called with
 * {@link #call(CompiledFunction, OnnxValue...)} (see OnnxBoundary for the flat convention).
 * Loop, Scan and If are resolved while tracing (unrolled, or the branch chosen or selected; see
 * OnnxControlFlow), so the graph inputs a Loop's control depends on are static inputs too.
 */
public final class OnnxModel implements AutoCloseable {
  /** Lowest and highest default-domain opset accepted. */
  public static final int MIN_OPSET = 7;
  public static final int MAX_OPSET = 27;

  private final GraphProto graph;
  /** The graph's nodes, with CastLike to a float8/float4 target rewritten as a Cast and QuantizeLinear annotated (OnnxQuant). */
  private final List<NodeProto> nodes;
  private final int opset;
  private final List<String> inputs = new ArrayList<>();
  private final List<Integer> inputTypes = new ArrayList<>();
  private final List<String> outputs = new ArrayList<>();
  private final List<Integer> outputTypes = new ArrayList<>();
  private final Map<String, Tensor> constants = new LinkedHashMap<>();
  /** Values folded from initializers only: computed by the first trace, shared by all signatures. */
  private final Map<String, Tensor> folded = new HashMap<>();
  /** Initializers of Loop/Scan/If bodies, decoded once (not per unrolled iteration); guarded by folded. */
  private final Map<TensorProto, Tensor> bodyInits = new java.util.IdentityHashMap<>();
  /** Graph-input indices (into {@link #inputs}) of the static inputs. */
  private final int[] staticInputs;
  /** Sequence/optional inputs and outputs and the flat convention for them. */
  private final OnnxBoundary boundary = new OnnxBoundary();
  private volatile boolean closed;
  private boolean compiled;
  /** The model file's directory (external data is read relative to it), or null for bytes. */
  private final Path dir;

  private OnnxModel(ModelProto m, String source, Path dir) {
    this.dir = dir;
    if (!m.hasGraph()) {
      throw new OnnxException(source + ": the model has no graph");
    }
    graph = m.getGraph();
    int op = -1;
    for (OperatorSetIdProto o : m.getOpsetImportList()) {
      if (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx")) {
        op = (int) Math.min(Integer.MAX_VALUE, o.getVersion());
      }
    }
    if (op < 0) {
      throw new OnnxException(source + ": the model imports no opset of the default ONNX domain");
    }
    if (op < MIN_OPSET || op > MAX_OPSET) {
      throw new OnnxException(source + ": opset " + op + " is not supported (supported: " + MIN_OPSET + " to " + MAX_OPSET + ")");
    }
    opset = op;
    // every unsupported operator, by name, in one message (inside Loop/If bodies too)
    Set<String> unsupported = new TreeSet<>();
    for (NodeProto n : graph.getNodeList()) {
      OnnxControlFlow.collectUnsupported(n, opset, false, unsupported);
    }
    if (!unsupported.isEmpty()) {
      throw new OnnxException(source + ": unsupported operator(s): " + String.join(", ", unsupported));
    }
    Set<String> inits = new HashSet<>();
    for (TensorProto t : graph.getInitializerList()) {
      inits.add(t.getName());
    }
    nodes = OnnxQuant.annotate(narrowFloatTypes(source), graph, source);
    for (ValueInfoProto v : graph.getInputList()) {
      if (!inits.contains(v.getName())) {
        inputs.add(v.getName());
        boundary.addInput(OnnxBoundary.kind(v, source + " input"));
        inputTypes.add(elemType(v, source + " input"));
      }
    }
    for (ValueInfoProto v : graph.getOutputList()) {
      outputs.add(v.getName());
      boundary.addOutput(OnnxBoundary.kind(v, source + " output"));
      outputTypes.add(elemType(v, source + " output"));
    }
    // every value is defined before use
    Set<String> defined = new HashSet<>(inits);
    defined.addAll(inputs);
    defined.add("");
    for (NodeProto n : nodes) {
      for (String s : n.getInputList()) {
        if (!defined.contains(s)) {
          throw new OnnxException(source + ": " + OnnxAttrs.describe(n) + " uses '" + s + "', which no earlier node, input or initializer defines");
        }
      }
      OnnxControlFlow.checkDefined(n, defined, source);
      defined.addAll(n.getOutputList());
    }
    for (String o : outputs) {
      if (!defined.contains(o)) {
        throw new OnnxException(source + ": graph output '" + o + "' is never computed");
      }
    }
    Set<String> boundaryUses = boundary.check(nodes.stream().map(OnnxControlFlow::withImplicitInputs).toList(), inputs, outputs);
    if (!boundaryUses.isEmpty()) {
      throw new OnnxException(source + ": unsupported operator(s): " + String.join(", ", boundaryUses)
          + " (sequence and optional values are supported at the graph boundary and through Identity)");
    }
    staticInputs = findStaticInputs();
    boundary.flatStatic(staticInputs, inputs);  // rejects a sequence/optional input that feeds a shape
    // initializers: data tensors owned by the model, shared by every compiled signature
    TensorScope.unscoped(() -> {
      try {
        for (TensorProto t : graph.getInitializerList()) {
          TensorProto v = OnnxExternalData.inline(t, dir, source + " initializer");
          constants.put(t.getName(), OnnxTensors.toTensor(OnnxTensors.decode(v, source + " initializer"), source));
        }
      } catch (RuntimeException e) {
        close();
        throw e;
      }
      return null;
    });
  }

  private static int elemType(ValueInfoProto v, String what) {
    int t = OnnxBoundary.elemType(v);  // of the tensors of a sequence/optional
    if (t != 0 && !OnnxTensors.supported(t)) {
      throw new OnnxException(what + " '" + v.getName() + "': element type " + OnnxTensors.typeName(t) + " is not supported");
    }
    return t;
  }

  /** Operators that only move, select or copy elements: they keep float8/float4 values exact. */
  private static final Set<String> VALUE_PRESERVING = Set.of("Identity", "Reshape", "Flatten", "Squeeze", "Unsqueeze",
      "Transpose", "Concat", "Slice", "Gather", "GatherElements", "Expand", "Tile", "Split", "Where");

  /**
   * Float8/float4 values are f32 tensors holding values of the format (see {@link NarrowFloat});
   * this pass finds which values have such a type (graph inputs, initializers, Constant nodes,
   * Cast/CastLike to such a type, and value-preserving operators of them) and rejects every
   * other operator that consumes one, since f32 arithmetic would leave the format's grid. It
   * returns the node list with CastLike to such a target rewritten as Cast (the target's engine
   * dtype is f32, which does not say which format to round to).
   */
  private List<NodeProto> narrowFloatTypes(String source) {
    Map<String, Integer> narrow = new HashMap<>();
    for (ValueInfoProto v : graph.getInputList()) {
      int t = v.hasType() && v.getType().hasTensorType() ? v.getType().getTensorType().getElemType() : 0;
      if (NarrowFloat.of(t) != null) {
        narrow.put(v.getName(), t);
      }
    }
    for (TensorProto t : graph.getInitializerList()) {
      if (NarrowFloat.of(t.getDataType()) != null) {
        narrow.put(t.getName(), t.getDataType());
      }
    }
    List<NodeProto> out = new ArrayList<>();
    Set<String> bad = new TreeSet<>();
    for (NodeProto n : graph.getNodeList()) {
      String op = n.getOpType();
      Integer keep = null;
      if (op.equals("CastLike") && n.getInputCount() == 2 && narrow.containsKey(n.getInput(1))) {
        int to = narrow.get(n.getInput(1));
        NodeProto.Builder b = n.toBuilder().clearInput().addInput(n.getInput(0)).setOpType("Cast").clearAttribute();
        for (var at : n.getAttributeList()) {
          if (at.getName().equals("saturate") || at.getName().equals("round_mode")) {
            b.addAttribute(at);
          }
        }
        b.addAttribute(dev.jxla.onnx.proto.Onnx.AttributeProto.newBuilder().setName("to").setI(to)
            .setType(dev.jxla.onnx.proto.Onnx.AttributeProto.AttributeType.INT));
        n = b.build();
        op = "Cast";
      }
      if (op.equals("Cast")) {
        int to = (int) new OnnxAttrs(n).i("to", 0);
        keep = NarrowFloat.of(to) != null ? to : null;
      } else if (op.equals("Constant")) {
        OnnxAttrs a = new OnnxAttrs(n);
        if (a.has("value") && NarrowFloat.of(a.t("value").getDataType()) != null) {
          keep = a.t("value").getDataType();
        }
      } else {
        NodeProto view = OnnxControlFlow.withImplicitInputs(n);  // a Loop/If body reads enclosing values too
        for (int k = 0; k < view.getInputCount(); k++) {
          Integer t = narrow.get(view.getInput(k));
          if (t == null || op.equals("Shape") || op.equals("Size")) {
            continue;
          }
          if (VALUE_PRESERVING.contains(op)) {
            keep = t;
          } else {
            bad.add(op + " on " + OnnxTensors.typeName(t) + " values");
          }
        }
      }
      if (keep != null) {
        for (String o : n.getOutputList()) {
          narrow.put(o, keep);
        }
      }
      out.add(n);
    }
    if (!bad.isEmpty()) {
      throw new OnnxException(source + ": unsupported operator(s): " + String.join(", ", bad)
          + " (float8/float4 values are supported by Cast, CastLike and the operators that only move elements)");
    }
    return out;
  }

  /** Graph inputs whose values must be known at trace time (they reach a shape-like operand or a Loop's control). */
  private int[] findStaticInputs() {
    Set<String> need = OnnxControlFlow.staticNeeds(nodes, List.of(), opset);
    List<Integer> r = new ArrayList<>();
    for (int i = 0; i < inputs.size(); i++) {
      if (need.contains(inputs.get(i))) {
        r.add(i);
      }
    }
    return r.stream().mapToInt(Integer::intValue).toArray();
  }

  /**
   * Parses and validates a model file. Tensors stored as external data are read from files
   * relative to the model's directory, which they must not leave (see OnnxExternalData).
   */
  public static OnnxModel open(Path path) throws IOException {
    if (path == null) {
      throw new IllegalArgumentException("OnnxModel.open: path is null");
    }
    return parse(Files.readAllBytes(path), path.toString(), path.toAbsolutePath().getParent());
  }

  /**
   * Parses and validates a serialized ModelProto. A model with external data (weights in files
   * beside it) needs its directory: use {@link #open(Path)}.
   */
  public static OnnxModel parse(byte[] bytes, String source) {
    return parse(bytes, source, null);
  }

  private static OnnxModel parse(byte[] bytes, String source, Path dir) {
    if (bytes == null) {
      throw new IllegalArgumentException("OnnxModel.parse: bytes is null");
    }
    ModelProto m;
    try {
      CodedInputStream in = CodedInputStream.newInstance(bytes);
      in.setRecursionLimit(64);
      m = ModelProto.parseFrom(in);
    } catch (IOException | RuntimeException e) {
      throw new OnnxException(source + ": not a valid ONNX model (malformed or truncated protobuf: " + e.getMessage() + ")", e);
    }
    try {
      return new OnnxModel(m, source, dir);
    } catch (OnnxException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new OnnxException(source + ": invalid ONNX model: " + e, e);
    }
  }

  /** Loads a model as a compiled function (it owns the model's weights: close it when done). */
  public static CompiledFunction load(Path path) throws IOException {
    return open(path).compile(Bucketing.none());
  }

  /** Loads a model with shape bucketing of the batch dimension. */
  public static CompiledFunction load(Path path, Bucketing bucketing) throws IOException {
    return open(path).compile(bucketing);
  }

  /**
   * Loads a model compiled for {@code device} (e.g. {@code Device.tpu("v5e")}): traced on the
   * host, run on the device; the weights are uploaded to it once.
   */
  public static CompiledFunction load(Path path, Device device) throws IOException {
    return open(path).compile(Bucketing.none(), device);
  }

  /** Loads a model for {@code device} with shape bucketing of the batch dimension. */
  public static CompiledFunction load(Path path, Bucketing bucketing, Device device) throws IOException {
    return open(path).compile(bucketing, device);
  }

  /**
   * The compiled function over this model. The function owns the model (closing it closes the
   * model), so a model compiles once; open the file again for a second function.
   */
  public CompiledFunction compile(Bucketing bucketing) {
    return compile(bucketing, null);
  }

  /**
   * The compiled function over this model, run on {@code device} (null: the device of the
   * inputs, the host for host inputs). Tracing (and constant folding) happens on the host; each
   * signature's graph is compiled for the device.
   */
  public synchronized CompiledFunction compile(Bucketing bucketing, Device device) {
    if (closed) {
      throw new IllegalStateException("compile: the model is closed");
    }
    if (compiled) {
      throw new IllegalStateException("compile: this model already has its compiled function; open it again for another");
    }
    compiled = true;
    int[] st = boundary.flatStatic(staticInputs, inputs);
    CompiledFunction f = device == null ? Jxla.compile(this::trace, bucketing, st)
        : Jxla.compile(this::trace, device, bucketing, st);
    return f.closeWith(this);
  }

  private Tensor[] trace(Tensor[] in) {
    Map<String, Tensor> env = new HashMap<>(constants);
    Set<String> known = new HashSet<>(constants.keySet());
    // pure: depends on initializers and Constant nodes only (not on static inputs or shapes)
    Set<String> pure = new HashSet<>(constants.keySet());
    OnnxBoundary.Env seqs = new OnnxBoundary.Env();
    boundary.bindInputs(in, inputs, env, seqs);
    for (int i : staticInputs) {
      known.add(inputs.get(i));
    }
    runNodes(nodes, env, known, pure, seqs);
    return boundary.outputs(outputs, env, seqs);
  }

  /**
   * Traces {@code list} in the scope ({@code env}: value by name; {@code known}: values known
   * when tracing; {@code pure}: values that depend on initializers and Constants only, folded
   * once per model). Loop and If trace their subgraphs in a child scope (runSubgraph).
   */
  private void runNodes(List<NodeProto> list, Map<String, Tensor> env, Set<String> known, Set<String> pure,
      OnnxBoundary.Env seqs) {
    for (NodeProto node : list) {
      NodeProto n = node;
      if (n.getOpType().equals("Identity") && n.getInputCount() == 1 && seqs.has(n.getInput(0))) {
        seqs.copy(n.getInput(0), n.getOutput(0));  // a sequence/optional value (the only operator they reach)
        continue;
      }
      Tensor[] args = new Tensor[n.getInputCount()];
      boolean[] argKnown = new boolean[args.length];
      boolean allKnown = true, allPure = true;
      for (int k = 0; k < args.length; k++) {
        String s = n.getInput(k);
        args[k] = s.isEmpty() ? null : env.get(s);
        argKnown[k] = s.isEmpty() || known.contains(s);
        allKnown &= argKnown[k];
        allPure &= s.isEmpty() || pure.contains(s);
      }
      if (allPure && reuseFolded(n, env, known, pure)) {
        continue;
      }
      if (n.getOpType().equals("Gemm") && args.length > 1 && pure.contains(n.getInput(1)) && new OnnxAttrs(n).i("transB", 0) != 0) {
        // a weight stored [out, in] (PyTorch's export) is transposed once per model, not per call or signature
        args[1] = foldedTranspose(n.getInput(1), args[1]);
        n = n.toBuilder().clearAttribute().addAllAttribute(n.getAttributeList().stream()
            .filter(at -> !at.getName().equals("transB")).toList()).build();
      }
      for (int k : OnnxOps.staticInputs(n.getOpType(), opset)) {
        if (k < args.length && args[k] != null && !known.contains(n.getInput(k))) {
          throw new OnnxException(OnnxAttrs.describe(n) + ": input " + k + " ('" + n.getInput(k)
              + "') must be a constant (an initializer, a Constant or a value computed from them)");
        }
      }
      if (OnnxControlFlow.isControlFlow(n.getOpType())) {
        OnnxControlFlow.Subgraph sub = (g, gin, gk) -> runSubgraph(g, gin, gk, env, known);
        OnnxControlFlow.Result r;
        try {
          r = switch (n.getOpType()) {
            case "Loop" -> OnnxControlFlow.loop(n, args, argKnown, sub);
            case "Scan" -> OnnxControlFlow.scan(n, args, argKnown, sub);
            default -> OnnxControlFlow.branch(n, args, argKnown, sub);
          };
        } catch (OnnxException e) {
          throw e;
        } catch (RuntimeException e) {
          throw new OnnxException(OnnxAttrs.describe(n) + ": " + e.getMessage(), e);
        }
        for (int k = 0; k < n.getOutputCount(); k++) {
          if (!n.getOutput(k).isEmpty()) {
            boolean isKnown = r.known()[k];
            env.put(n.getOutput(k), isKnown ? r.values()[k].materialized() : r.values()[k]);
            if (isKnown) {
              known.add(n.getOutput(k));
            }
          }
        }
        continue;
      }
      Tensor[] out;
      try {
        out = OnnxOps.convert(n, args, argKnown, opset);
      } catch (OnnxException e) {
        throw e;
      } catch (RuntimeException e) {
        throw new OnnxException(OnnxAttrs.describe(n) + ": " + e.getMessage(), e);
      }
      boolean isConst = allKnown || n.getOpType().equals("Shape") || n.getOpType().equals("Size");
      for (int k = 0; k < n.getOutputCount(); k++) {
        String name = n.getOutput(k);
        if (name.isEmpty()) {
          continue;
        }
        Tensor t = k < out.length ? out[k] : null;
        if (t == null) {
          throw new OnnxException(OnnxAttrs.describe(n) + ": output " + k + " ('" + name + "') is not supported");
        }
        if (isConst) {
          t = t.materialized();  // constant folding: depends on constants only
          known.add(name);
          if (allPure) {
            pure.add(name);
            Tensor keep = t;
            synchronized (folded) {
              folded.put(name, TensorScope.unscoped(() -> keep.to(keep.device())));  // shares the buffer
            }
          }
        }
        env.put(name, t);
      }
    }
  }

  /** A body initializer as a data tensor owned by the model, decoded on first use. */
  private Tensor bodyInit(TensorProto t) {
    synchronized (folded) {
      return bodyInits.computeIfAbsent(t, p -> TensorScope.unscoped(() -> OnnxTensors.toTensor(
          OnnxTensors.decode(OnnxExternalData.inline(p, dir, "subgraph initializer"), "subgraph initializer"),
          "subgraph initializer")));
    }
  }

  /** Traces subgraph {@code g} in a child of the scope (env, known), its inputs bound to {@code in}. */
  private OnnxControlFlow.Result runSubgraph(GraphProto g, Tensor[] in, boolean[] inKnown, Map<String, Tensor> env,
      Set<String> known) {
    Map<String, Tensor> cenv = new HashMap<>(env);
    Set<String> cknown = new HashSet<>(known);
    for (TensorProto t : g.getInitializerList()) {
      cenv.put(t.getName(), bodyInit(t));
      cknown.add(t.getName());
    }
    for (int k = 0; k < in.length; k++) {
      String name = g.getInput(k).getName();
      cenv.put(name, in[k]);
      if (inKnown[k]) {
        cknown.add(name);
      } else {
        cknown.remove(name);
      }
    }
    runNodes(g.getNodeList(), cenv, cknown, new HashSet<>(), new OnnxBoundary.Env());
    Tensor[] out = new Tensor[g.getOutputCount()];
    boolean[] outKnown = new boolean[out.length];
    for (int k = 0; k < out.length; k++) {
      String name = g.getOutput(k).getName();
      out[k] = cenv.get(name);
      outKnown[k] = cknown.contains(name);
    }
    return new OnnxControlFlow.Result(out, outKnown);
  }

  /**
   * Calls {@code f}, this model's compiled function, on one value per graph input (tensors,
   * sequences of tensors, absent optionals: {@link OnnxValue}) and returns one value per graph
   * output. For a model with sequence/optional inputs or outputs this is how to call it (the
   * function itself uses the flat convention of OnnxBoundary: a leading s64 layout input with
   * each such input's number of tensors, -1 for absent, and a trailing layout output); for
   * other models it is the same as {@code f.call} on the tensors.
   */
  public OnnxValue[] call(CompiledFunction f, OnnxValue... values) {
    if (f == null || values == null) {
      throw new IllegalArgumentException("call: function or values is null");
    }
    return boundary.unflatten(f.call(boundary.flatten(values, inputs)));
  }

  /** True if input i is a sequence of tensors (or an optional of one). */
  public boolean inputIsSequence(int i) {
    return boundary.inKinds.get(i).isSequence();
  }

  /** True if input i is an optional (of a tensor or a sequence). */
  public boolean inputIsOptional(int i) {
    return boundary.inKinds.get(i).isOptional();
  }

  /** True if output i is a sequence of tensors (or an optional of one). */
  public boolean outputIsSequence(int i) {
    return boundary.outKinds.get(i).isSequence();
  }

  /** True if output i is an optional (of a tensor or a sequence). */
  public boolean outputIsOptional(int i) {
    return boundary.outKinds.get(i).isOptional();
  }

  private Tensor foldedTranspose(String name, Tensor w) {
    String key = name + "#transposed";
    synchronized (folded) {
      Tensor t = folded.get(key);
      if (t == null) {
        t = TensorScope.unscoped(() -> w.transpose(0, 1).materialized());
        folded.put(key, t);
      }
      return t;
    }
  }

  /** Binds the outputs of a pure node folded by an earlier trace; false if not folded yet. */
  private boolean reuseFolded(NodeProto n, Map<String, Tensor> env, Set<String> known, Set<String> pure) {
    synchronized (folded) {
      for (String o : n.getOutputList()) {
        if (!o.isEmpty() && !folded.containsKey(o)) {
          return false;
        }
      }
      for (String o : n.getOutputList()) {
        if (!o.isEmpty()) {
          env.put(o, folded.get(o));
          known.add(o);
          pure.add(o);
        }
      }
      return true;
    }
  }

  /** Names of the inputs the compiled function takes, in order. */
  public List<String> inputNames() {
    return Collections.unmodifiableList(inputs);
  }

  /** Names of the outputs, in order. */
  public List<String> outputNames() {
    return Collections.unmodifiableList(outputs);
  }

  /** ONNX element type code of output i (0 if the model does not declare it). */
  public int outputType(int i) {
    return outputTypes.get(i);
  }

  /** ONNX element type code of input i (0 if the model does not declare it). */
  public int inputType(int i) {
    return inputTypes.get(i);
  }

  /** The default-domain opset the model imports. */
  public int opset() {
    return opset;
  }

  /** Frees the initializer tensors. Idempotent. */
  @Override
  public void close() {
    closed = true;
    for (Tensor t : constants.values()) {
      t.close();
    }
    synchronized (folded) {
      for (Tensor t : folded.values()) {
        t.close();
      }
      folded.clear();
      for (Tensor t : bodyInits.values()) {
        t.close();
      }
      bodyInits.clear();
    }
  }
}
