package dev.jxla.onnx;

import dev.jxla.DType;
import dev.jxla.Tensor;
import dev.jxla.onnx.proto.Onnx.AttributeProto;
import dev.jxla.onnx.proto.Onnx.GraphProto;
import dev.jxla.onnx.proto.Onnx.NodeProto;
import dev.jxla.onnx.proto.Onnx.TensorProto;
import dev.jxla.onnx.proto.Onnx.ValueInfoProto;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * ONNX control flow (Loop, Scan, If) resolved while tracing, the way JAX resolves Python control flow:
 * the engine's graphs have none, so
 * <ul>
 *   <li>a Loop is unrolled: its trip count M and condition must be known when tracing (constants,
 *       static inputs or values computed from them; the load-time analysis {@link #staticNeeds}
 *       makes the graph inputs they come from static), and so must the condition the body
 *       computes; the body is traced once per iteration (at most {@link #MAX_UNROLL});</li>
 *   <li>a Scan is unrolled over its scan inputs' sequence length (known from shapes);</li>
 *   <li>an If on a known condition traces only the branch taken; on a data-dependent condition
 *       it traces both branches and selects elementwise (XLA's select), which needs equal output
 *       shapes and dtypes in both branches.</li>
 * </ul>
 * Invariants: subgraphs read enclosing values by name (ONNX's lexical scoping); the load-time
 * analyses (float8 values, sequence values) see a Loop/If as reading its implicit inputs, the
 * enclosing names its subgraphs use ({@link #withImplicitInputs}); nothing here changes a node.
 */
final class OnnxControlFlow {
  private OnnxControlFlow() {}

  /** Most iterations a Loop may be unrolled to (each one adds the body's nodes to the graph). */
  static final int MAX_UNROLL = 4096;

  /** The bodies' values: one per subgraph output, and whether each is known when tracing. */
  record Result(Tensor[] values, boolean[] known) {}

  /** Traces a subgraph in the enclosing scope with its graph inputs bound to {@code inputs}. */
  interface Subgraph {
    Result run(GraphProto g, Tensor[] inputs, boolean[] inputsKnown);
  }

  static boolean isControlFlow(String op) {
    return op.equals("Loop") || op.equals("If") || op.equals("Scan");
  }

  private static GraphProto graph(NodeProto n, String attr) {
    for (AttributeProto a : n.getAttributeList()) {
      if (a.getName().equals(attr) && a.hasG()) {
        return a.getG();
      }
    }
    return null;
  }

  private static List<GraphProto> subgraphs(NodeProto n) {
    List<GraphProto> r = new ArrayList<>();
    for (AttributeProto a : n.getAttributeList()) {
      if (a.hasG()) {
        r.add(a.getG());
      }
      r.addAll(a.getGraphsList());
    }
    return r;
  }

  private static List<String> names(List<ValueInfoProto> vs) {
    return vs.stream().map(ValueInfoProto::getName).toList();
  }

  private static Set<String> initNames(GraphProto g) {
    Set<String> r = new HashSet<>();
    for (TensorProto t : g.getInitializerList()) {
      r.add(t.getName());
    }
    return r;
  }

  /** Enclosing names a subgraph reads: used by its nodes (or nested subgraphs) and not defined inside. */
  static Set<String> implicitInputs(GraphProto g) {
    Set<String> defined = new HashSet<>(names(g.getInputList()));
    defined.addAll(initNames(g));
    defined.add("");
    Set<String> used = new LinkedHashSet<>();
    for (NodeProto n : g.getNodeList()) {
      for (String s : n.getInputList()) {
        if (!defined.contains(s)) {
          used.add(s);
        }
      }
      for (GraphProto sub : subgraphs(n)) {
        for (String s : implicitInputs(sub)) {
          if (!defined.contains(s)) {
            used.add(s);
          }
        }
      }
      defined.addAll(n.getOutputList());
    }
    return used;
  }

  /** For load-time analyses only: the node with its implicit inputs appended to its inputs. */
  static NodeProto withImplicitInputs(NodeProto n) {
    List<GraphProto> subs = subgraphs(n);
    if (subs.isEmpty()) {
      return n;
    }
    Set<String> extra = new LinkedHashSet<>();
    for (GraphProto g : subs) {
      extra.addAll(implicitInputs(g));
    }
    extra.removeAll(n.getInputList());
    return extra.isEmpty() ? n : n.toBuilder().addAllInput(extra).build();
  }

  // ------------------------------------------------------------------ load-time checks

  /**
   * Adds to {@code out} why this node (and, for Loop/If, every node of its subgraphs) cannot be
   * imported: a foreign domain, an unknown operator, an unsupported attribute, or a malformed
   * Loop/If. {@code nested} marks nodes inside a subgraph (float8/float4 casts are refused there,
   * since the float8 analysis covers the main graph only).
   */
  static void collectUnsupported(NodeProto n, int opset, boolean nested, Set<String> out) {
    String dom = n.getDomain();
    String op = n.getOpType();
    if (!dom.isEmpty() && !dom.equals("ai.onnx")) {
      out.add(dom + "." + op);
      return;
    }
    if (!OnnxOps.SUPPORTED.contains(op)) {
      out.add(op);
      return;
    }
    String why = OnnxOps.check(n, opset);
    if (why != null) {
      out.add(why);
    }
    if (nested && (op.equals("QuantizeLinear") || op.startsWith("QLinear"))) {
      out.add(op + " inside a Loop/If/Scan body");  // its target type is found in the main graph only
    }
    if (nested && (op.equals("Cast") || op.equals("Constant"))) {
      OnnxAttrs a = new OnnxAttrs(n);
      int t = op.equals("Cast") ? (int) a.i("to", 0) : a.t("value") != null ? a.t("value").getDataType() : 0;
      if (NarrowFloat.of(t) != null) {
        out.add(op + " of " + OnnxTensors.typeName(t) + " inside a Loop/If body");
      }
    }
    if (op.equals("Loop")) {
      GraphProto body = graph(n, "body");
      int carried = n.getInputCount() - 2;
      if (body == null || carried < 0 || body.getInputCount() != carried + 2
          || body.getOutputCount() < carried + 1 || n.getOutputCount() != body.getOutputCount() - 1) {
        out.add("Loop(malformed: needs M, cond and N loop-carried inputs, a body with N+2 inputs and 1+N+K outputs, and N+K outputs)");
        return;
      }
      if (n.getInput(0).isEmpty() && n.getInput(1).isEmpty()) {
        out.add("Loop(without trip count and condition: an endless loop cannot be unrolled)");
      }
      for (NodeProto b : body.getNodeList()) {
        collectUnsupported(b, opset, true, out);
      }
    } else if (op.equals("Scan")) {
      GraphProto body = graph(n, "body");
      long m = new OnnxAttrs(n).i("num_scan_inputs", -1);
      long states = n.getInputCount() - m;
      if (opset < 9) {
        out.add("Scan(opset 8: batch axis and sequence_lens)");
        return;
      }
      if (body == null || m < 1 || states < 0 || body.getInputCount() != n.getInputCount()
          || body.getOutputCount() < states || n.getOutputCount() != body.getOutputCount()) {
        out.add("Scan(malformed: needs N states and num_scan_inputs M >= 1 inputs, a body with N+M inputs and N+K outputs, and N+K outputs)");
        return;
      }
      for (NodeProto b : body.getNodeList()) {
        collectUnsupported(b, opset, true, out);
      }
    } else if (op.equals("If")) {
      for (String br : List.of("then_branch", "else_branch")) {
        GraphProto g = graph(n, br);
        if (g == null || g.getOutputCount() != n.getOutputCount() || g.getInputCount() != 0 || n.getInputCount() != 1) {
          out.add("If(malformed: needs one condition and two branches without inputs, each with one output per If output)");
          return;
        }
        for (NodeProto b : g.getNodeList()) {
          collectUnsupported(b, opset, true, out);
        }
      }
    }
  }

  /** Every value a Loop/If's subgraphs use is defined earlier (in them or in {@code outer}), recursively. */
  static void checkDefined(NodeProto n, Set<String> outer, String source) {
    for (GraphProto g : subgraphs(n)) {
      Set<String> defined = new HashSet<>(outer);
      defined.addAll(names(g.getInputList()));
      defined.addAll(initNames(g));
      defined.add("");
      for (NodeProto b : g.getNodeList()) {
        for (String s : b.getInputList()) {
          if (!defined.contains(s)) {
            throw new OnnxException(source + ": " + OnnxAttrs.describe(b) + " (in the body of " + OnnxAttrs.describe(n)
                + ") uses '" + s + "', which no earlier node, input or initializer defines");
          }
        }
        checkDefined(b, defined, source);
        defined.addAll(b.getOutputList());
      }
      for (String o : names(g.getOutputList())) {
        if (!defined.contains(o)) {
          throw new OnnxException(source + ": " + OnnxAttrs.describe(n) + ": subgraph output '" + o + "' is never computed");
        }
      }
    }
  }

  // ------------------------------------------------------------------ static analysis

  /**
   * Names read by {@code nodes} but defined outside them (graph inputs, initializers or enclosing
   * values) whose values must be known when tracing: the static operands of the nodes, Loop trip
   * counts and conditions, and everything the values in {@code needed} are computed from. Shape
   * and Size results are known from shapes alone, so the search stops there.
   */
  static Set<String> staticNeeds(List<NodeProto> nodes, Collection<String> needed, int opset) {
    Map<String, NodeProto> producer = new HashMap<>();
    for (NodeProto n : nodes) {
      for (String o : n.getOutputList()) {
        producer.put(o, n);
      }
    }
    ArrayDeque<String> work = new ArrayDeque<>(needed);
    for (NodeProto n : nodes) {
      for (int k : OnnxOps.staticInputs(n.getOpType(), opset)) {
        if (k < n.getInputCount() && !n.getInput(k).isEmpty()) {
          work.add(n.getInput(k));
        }
      }
      if (isControlFlow(n.getOpType())) {
        work.addAll(nodeNeeds(n, Set.of(), opset));
      }
    }
    Set<String> seen = new HashSet<>();
    Set<String> result = new LinkedHashSet<>();
    while (!work.isEmpty()) {
      String v = work.poll();
      if (v.isEmpty() || !seen.add(v)) {
        continue;
      }
      NodeProto p = producer.get(v);
      if (p == null) {
        result.add(v);
      } else if (isControlFlow(p.getOpType())) {
        Set<Integer> outs = new HashSet<>();
        for (int i = 0; i < p.getOutputCount(); i++) {
          if (p.getOutput(i).equals(v)) {
            outs.add(i);
          }
        }
        work.addAll(nodeNeeds(p, outs, opset));
      } else if (!p.getOpType().equals("Shape") && !p.getOpType().equals("Size")) {
        work.addAll(p.getInputList());
      }
    }
    return result;
  }

  /** What a Loop/If reads (inputs or enclosing names) that must be known, given which of its outputs must be. */
  private static Set<String> nodeNeeds(NodeProto n, Set<Integer> outs, int opset) {
    Set<String> r = new LinkedHashSet<>();
    if (n.getOpType().equals("Loop")) {
      GraphProto body = graph(n, "body");
      if (body == null || n.getInputCount() < 2 || body.getInputCount() != n.getInputCount()) {
        return r;  // malformed: refused by collectUnsupported
      }
      List<String> bo = names(body.getOutputList());
      int carried = n.getInputCount() - 2;
      r.add(n.getInput(0));
      r.add(n.getInput(1));
      Set<String> want = new LinkedHashSet<>();
      want.add(bo.get(0));  // the body's condition decides whether the next iteration is traced
      for (int o : outs) {
        if (1 + o < bo.size()) {
          want.add(bo.get(1 + o));
        }
        if (o < carried) {
          r.add(n.getInput(2 + o));  // the result after zero iterations
        }
      }
      // body input 0 is the iteration number (always known); a loop-carried value (input k >= 2)
      // known in iteration i+1 is the body's output k-1 of iteration i
      bodyNeeds(n, body, want, 1, k -> k >= 2 ? k - 1 : -1, r, opset);
    } else if (n.getOpType().equals("Scan")) {
      GraphProto body = graph(n, "body");
      if (body == null || body.getInputCount() != n.getInputCount()) {
        return r;  // malformed: refused by collectUnsupported
      }
      List<String> bo = names(body.getOutputList());
      int states = n.getInputCount() - (int) new OnnxAttrs(n).i("num_scan_inputs", 0);
      Set<String> want = new LinkedHashSet<>();
      for (int o : outs) {
        if (o < bo.size()) {
          want.add(bo.get(o));
        }
        if (o < states) {
          r.add(n.getInput(o));  // the result of an empty sequence
        }
      }
      // a state (input k < N) known in step t+1 is the body's output k of step t
      bodyNeeds(n, body, want, 0, k -> k < states ? k : -1, r, opset);
    } else if (n.getOpType().equals("If")) {
      if (!outs.isEmpty() && n.getInputCount() > 0) {
        r.add(n.getInput(0));
      }
      for (String br : List.of("then_branch", "else_branch")) {
        GraphProto g = graph(n, br);
        if (g == null) {
          continue;
        }
        List<String> want = new ArrayList<>();
        for (int o : outs) {
          if (o < g.getOutputCount()) {
            want.add(g.getOutput(o).getName());
          }
        }
        Set<String> inner = staticNeeds(g.getNodeList(), want, opset);
        inner.removeAll(initNames(g));
        r.addAll(inner);
      }
    }
    r.remove("");
    return r;
  }

  /**
   * Adds to {@code r} what a Loop/Scan must know for its body's values {@code want}: body input
   * k >= firstMapped is node input k (inputs below it are always known); an enclosing name is
   * itself; and for a body input with a back edge (backEdge(k) >= 0), the body output it comes
   * from in the previous iteration is wanted too, to a fixed point.
   */
  private static void bodyNeeds(NodeProto n, GraphProto body, Set<String> want, int firstMapped,
      java.util.function.IntUnaryOperator backEdge, Set<String> r, int opset) {
    List<String> bi = names(body.getInputList());
    List<String> bo = names(body.getOutputList());
    Set<String> inits = initNames(body);
    for (boolean grew = true; grew; ) {
      grew = false;
      for (String s : staticNeeds(body.getNodeList(), want, opset)) {
        int k = bi.indexOf(s);
        if (k >= firstMapped) {
          r.add(n.getInput(k));
          int out = backEdge.applyAsInt(k);
          grew |= out >= 0 && out < bo.size() && want.add(bo.get(out));
        } else if (k < 0 && !inits.contains(s)) {
          r.add(s);
        }
      }
    }
  }

  // ------------------------------------------------------------------ tracing

  private static boolean flag(OnnxAttrs a, Tensor t, String what) {
    long[] v = t.toLongArray();
    if (v.length != 1) {
      throw a.error(what + " must hold one element, got shape " + Arrays.toString(t.shape()));
    }
    return v[0] != 0;
  }

  /** Unrolls a Loop: the node's outputs (final loop-carried values, then the stacked scan outputs). */
  static Result loop(NodeProto n, Tensor[] args, boolean[] argKnown, Subgraph sub) {
    OnnxAttrs a = new OnnxAttrs(n);
    GraphProto body = graph(n, "body");
    for (int k = 0; k < 2; k++) {
      if (args[k] != null && !argKnown[k]) {  // the static analysis should prevent this; never read placeholder data
        throw a.error("input " + k + " ('" + n.getInput(k) + "', the " + (k == 0 ? "trip count" : "condition")
            + ") depends on input data; a Loop is unrolled when traced, so it must be known (constants, static inputs or values computed from them)");
      }
    }
    long max = Long.MAX_VALUE;
    if (args[0] != null) {
      long[] m = args[0].toLongArray();
      if (m.length != 1) {
        throw a.error("trip count M must hold one element, got shape " + Arrays.toString(args[0].shape()));
      }
      max = m[0];
      if (max > MAX_UNROLL) {
        throw a.error("a Loop is unrolled when traced, to at most " + MAX_UNROLL + " iterations; trip count M is " + max);
      }
    }
    boolean hasCond = args[1] != null;
    boolean cond = !hasCond || flag(a, args[1], "condition");
    int carried = args.length - 2;
    int scans = body.getOutputCount() - 1 - carried;
    Tensor[] state = Arrays.copyOfRange(args, 2, args.length);
    boolean[] stateKnown = Arrays.copyOfRange(argKnown, 2, args.length);
    List<List<Tensor>> scanned = new ArrayList<>();
    boolean[] scanKnown = new boolean[scans];
    Arrays.fill(scanKnown, true);
    for (int j = 0; j < scans; j++) {
      scanned.add(new ArrayList<>());
    }
    for (long i = 0; i < max && cond; i++) {
      if (i == MAX_UNROLL) {
        throw a.error("a Loop is unrolled when traced, to at most " + MAX_UNROLL + " iterations; its condition was still true");
      }
      Result r = sub.run(body, bodyInputs(i, cond, state), bodyKnown(stateKnown));
      if (hasCond) {  // without a condition input, the body's condition output is ignored (a for loop)
        if (!r.known()[0]) {
          throw a.error("the condition the body computes depends on input data; a Loop is unrolled when traced,"
              + " so its trip count and condition must be known (constants, static inputs or values computed from them)");
        }
        cond = flag(a, r.values()[0], "the body's condition output");
      }
      state = Arrays.copyOfRange(r.values(), 1, 1 + carried);
      stateKnown = Arrays.copyOfRange(r.known(), 1, 1 + carried);
      for (int j = 0; j < scans; j++) {
        scanned.get(j).add(r.values()[1 + carried + j]);
        scanKnown[j] &= r.known()[1 + carried + j];
      }
    }
    Tensor[] out = new Tensor[carried + scans];
    boolean[] known = new boolean[carried + scans];
    System.arraycopy(state, 0, out, 0, carried);
    System.arraycopy(stateKnown, 0, known, 0, carried);
    Result probe = null;
    for (int j = 0; j < scans; j++) {
      List<Tensor> s = scanned.get(j);
      if (s.isEmpty()) {
        // zero iterations: the scan output is empty; one throwaway trace of the body gives its element shape
        if (probe == null) {
          probe = sub.run(body, bodyInputs(0, true, state), bodyKnown(stateKnown));
        }
        Tensor e = probe.values()[1 + carried + j];
        long[] shape = new long[e.shape().length + 1];
        System.arraycopy(e.shape(), 0, shape, 1, e.shape().length);
        out[carried + j] = Tensor.zeros(e.dtype(), shape);
      } else {
        Tensor[] parts = new Tensor[s.size()];
        for (int k = 0; k < parts.length; k++) {
          parts[k] = s.get(k).unsqueeze(0);
        }
        out[carried + j] = parts.length == 1 ? parts[0] : Tensor.concat(0, parts);
      }
      known[carried + j] = scanKnown[j];
    }
    return new Result(out, known);
  }

  private static Tensor[] bodyInputs(long i, boolean cond, Tensor[] state) {
    Tensor[] in = new Tensor[state.length + 2];
    in[0] = Tensor.scalar(i);
    in[1] = Tensor.scalar(cond);
    System.arraycopy(state, 0, in, 2, state.length);
    return in;
  }

  private static boolean[] bodyKnown(boolean[] stateKnown) {
    boolean[] k = new boolean[stateKnown.length + 2];
    k[0] = true;
    k[1] = true;
    System.arraycopy(stateKnown, 0, k, 2, stateKnown.length);
    return k;
  }

  /**
   * Unrolls a Scan (opset 9+): the body runs once per element along each scan input's axis
   * (reversed for direction 1), threading the N states; each scan output stacks the body's
   * per-step values along its axis (prepended for direction 1). The sequence length comes from
   * shapes, so it is always known.
   */
  static Result scan(NodeProto n, Tensor[] args, boolean[] argKnown, Subgraph sub) {
    OnnxAttrs a = new OnnxAttrs(n);
    GraphProto body = graph(n, "body");
    int m = (int) a.i("num_scan_inputs", 0);
    int states = args.length - m;
    int outsK = body.getOutputCount() - states;
    long[] inAxes = a.ints("scan_input_axes", new long[m]);
    long[] inDirs = a.ints("scan_input_directions", new long[m]);
    long[] outAxes = a.ints("scan_output_axes", new long[outsK]);
    long[] outDirs = a.ints("scan_output_directions", new long[outsK]);
    if (inAxes.length != m || inDirs.length != m || outAxes.length != outsK || outDirs.length != outsK) {
      throw a.error("scan_input_axes/directions need " + m + " values and scan_output_axes/directions " + outsK);
    }
    long len = -1;
    int[] axis = new int[m];
    for (int j = 0; j < m; j++) {
      Tensor x = args[states + j];
      if (x == null) {
        throw a.error("scan input " + j + " is missing");
      }
      axis[j] = OnnxOps.norm(a, inAxes[j], x.rank());
      long l = x.shape()[axis[j]];
      if (len >= 0 && l != len) {
        throw a.error("scan inputs have different sequence lengths: " + len + " and " + l + " (scan input " + j
            + ", shape " + Arrays.toString(x.shape()) + ", axis " + axis[j] + ")");
      }
      len = l;
    }
    if (len > MAX_UNROLL) {
      throw a.error("a Scan is unrolled when traced, to at most " + MAX_UNROLL + " steps; the sequence has " + len);
    }
    if (len == 0 && outsK > 0) {
      throw a.error("a Scan over an empty sequence with scan outputs is not supported (their element shape is unknown)");
    }
    Tensor[] state = Arrays.copyOfRange(args, 0, states);
    boolean[] stateKnown = Arrays.copyOfRange(argKnown, 0, states);
    List<List<Tensor>> steps = new ArrayList<>();
    boolean[] outKnown = new boolean[outsK];
    Arrays.fill(outKnown, true);
    for (int k = 0; k < outsK; k++) {
      steps.add(new ArrayList<>());
    }
    for (long t = 0; t < len; t++) {
      Tensor[] in = new Tensor[states + m];
      boolean[] ink = new boolean[states + m];
      System.arraycopy(state, 0, in, 0, states);
      System.arraycopy(stateKnown, 0, ink, 0, states);
      for (int j = 0; j < m; j++) {
        long at = inDirs[j] != 0 ? len - 1 - t : t;
        in[states + j] = args[states + j].slice(axis[j], at, at + 1).squeeze(axis[j]);
        ink[states + j] = argKnown[states + j];
      }
      Result r = sub.run(body, in, ink);
      state = Arrays.copyOfRange(r.values(), 0, states);
      stateKnown = Arrays.copyOfRange(r.known(), 0, states);
      for (int k = 0; k < outsK; k++) {
        steps.get(k).add(r.values()[states + k]);
        outKnown[k] &= r.known()[states + k];
      }
    }
    Tensor[] out = new Tensor[states + outsK];
    boolean[] known = new boolean[states + outsK];
    System.arraycopy(state, 0, out, 0, states);
    System.arraycopy(stateKnown, 0, known, 0, states);
    for (int k = 0; k < outsK; k++) {
      List<Tensor> s = steps.get(k);
      int ax = OnnxOps.norm(a, outAxes[k], s.get(0).rank() + 1);
      Tensor[] parts = new Tensor[s.size()];
      for (int t = 0; t < parts.length; t++) {
        parts[outDirs[k] != 0 ? parts.length - 1 - t : t] = s.get(t).unsqueeze(ax);
      }
      out[states + k] = parts.length == 1 ? parts[0] : Tensor.concat(ax, parts);
      known[states + k] = outKnown[k];
    }
    return new Result(out, known);
  }

  /** An If: the branch taken when the condition is known, else both branches selected elementwise. */
  static Result branch(NodeProto n, Tensor[] args, boolean[] argKnown, Subgraph sub) {
    OnnxAttrs a = new OnnxAttrs(n);
    GraphProto then = graph(n, "then_branch");
    GraphProto other = graph(n, "else_branch");
    if (argKnown[0]) {
      return sub.run(flag(a, args[0], "condition") ? then : other, new Tensor[0], new boolean[0]);
    }
    if (args[0].shape().length > 1 || (args[0].shape().length == 1 && args[0].shape()[0] != 1)) {
      throw a.error("condition must hold one element, got shape " + Arrays.toString(args[0].shape()));
    }
    Tensor c = args[0].reshape().to(DType.BOOL);
    Result t = sub.run(then, new Tensor[0], new boolean[0]);
    Result e = sub.run(other, new Tensor[0], new boolean[0]);
    Tensor[] out = new Tensor[n.getOutputCount()];
    for (int o = 0; o < out.length; o++) {
      Tensor x = t.values()[o];
      Tensor y = e.values()[o];
      if (!Arrays.equals(x.shape(), y.shape()) || x.dtype() != y.dtype()) {
        throw a.error("the condition depends on input data, so both branches are traced and selected elementwise;"
            + " output " + o + " is " + x.dtype() + Arrays.toString(x.shape()) + " in then_branch but "
            + y.dtype() + Arrays.toString(y.shape()) + " in else_branch");
      }
      out[o] = Tensor.where(c, x, y);
    }
    return new Result(out, new boolean[out.length]);
  }
}
