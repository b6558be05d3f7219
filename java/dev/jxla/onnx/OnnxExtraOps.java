package dev.jxla.onnx;

import dev.jxla.DType;
import dev.jxla.Tensor;
import dev.jxla.onnx.proto.Onnx.NodeProto;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * ONNX Trilu, CumSum, Einsum and Resize as composites of Tensor ops (called by
 * {@link OnnxOps#convert}; load-time refusals in {@link #check}). Invariants: every operand that
 * shapes the graph (Trilu's k, CumSum's axis, Resize's roi/scales/sizes) is a known constant
 * (OnnxOps.staticInputs), so masks, scan steps, einsum plans and resize indices/weights are
 * decided in Java at trace time and the recorded graph holds only iota/compare/select,
 * slice/pad/add, permute/reshape/matmul/reduce and gather/multiply-add ops. Integer CumSum adds
 * integers only (exact); nothing here changes the native engine.
 */
final class OnnxExtraOps {
  private OnnxExtraOps() {}

  static final Set<String> NEAREST_MODES = Set.of("round_prefer_floor", "round_prefer_ceil", "floor", "ceil");
  static final Set<String> COORD_MODES = Set.of("half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
      "asymmetric");

  /** Why node {@code n} (Trilu, CumSum, Einsum or Resize) cannot be imported, or null; names the node. */
  static String check(NodeProto n, int opset) {
    OnnxAttrs a = new OnnxAttrs(n);
    String op = n.getOpType();
    String at = " in node '" + (!n.getName().isEmpty() ? n.getName() : n.getOutputCount() > 0 ? n.getOutput(0) : "?") + "'";
    switch (op) {
      case "Einsum": {
        String why = einsumSyntax(a.s("equation", ""));
        return why == null ? null : "Einsum(equation='" + a.s("equation", "") + "': " + why + ")" + at;
      }
      case "Resize": {
        if (opset < 11) {
          return "Resize(opset " + opset + ": only the opset 11+ form with roi/scales/sizes inputs)" + at;
        }
        String mode = a.s("mode", "nearest");
        if (!mode.equals("nearest") && !mode.equals("linear")) {
          return "Resize(mode=" + mode + ": only nearest and linear)" + at;
        }
        String ctm = a.s("coordinate_transformation_mode", "half_pixel");
        if (!COORD_MODES.contains(ctm)) {
          return "Resize(coordinate_transformation_mode=" + ctm + ": supported are " + new TreeSet<>(COORD_MODES) + ")" + at;
        }
        String nm = a.s("nearest_mode", "round_prefer_floor");
        if (!NEAREST_MODES.contains(nm)) {
          return "Resize(nearest_mode=" + nm + ")" + at;
        }
        if (a.i("antialias", 0) != 0) {
          return "Resize(antialias=" + a.i("antialias", 0) + ": only 0)" + at;
        }
        String policy = a.s("keep_aspect_ratio_policy", "stretch");
        return policy.equals("stretch") ? null : "Resize(keep_aspect_ratio_policy=" + policy + ": only stretch)" + at;
      }
      default:
        return null;
    }
  }

  /** The value of a static scalar (or one-element) operand. */
  private static long scalarArg(OnnxAttrs a, Tensor t, String what) {
    long[] v = OnnxOps.vals(t);
    if (v.length != 1) {
      throw a.error(what + " must be a scalar or have one element, got shape " + Arrays.toString(t.shape()));
    }
    return v[0];
  }

  // ------------------------------------------------------------------ Trilu

  /**
   * Keeps the elements with {@code j - i >= k} (upper) or {@code j - i <= k} (lower) of the last
   * two dimensions; the mask is two iotas compared in the graph (no n*m constant to upload) and
   * broadcast over the batch dimensions by the select.
   */
  static Tensor[] trilu(OnnxAttrs a, Tensor[] in) {
    Tensor x = in[0];
    long[] s = x.shape();
    int r = s.length;
    if (r < 2) {
      throw a.error("input must have rank >= 2, got shape " + Arrays.toString(s));
    }
    long k = in.length > 1 && in[1] != null ? scalarArg(a, in[1], "k") : 0;
    long n = s[r - 2], m = s[r - 1];
    k = Math.max(-(n + 1), Math.min(m + 1, k));  // beyond the matrix every k behaves alike; keeps k +- 1 exact
    Tensor diff = Tensor.iota(DType.S64, 1, n, m).sub(Tensor.iota(DType.S64, 0, n, m));
    Tensor keep = a.i("upper", 1) != 0 ? diff.gt((double) (k - 1)) : diff.lt((double) (k + 1));
    return OnnxOps.one(Tensor.where(keep, x, OnnxOps.sc(0, x.dtype())));
  }

  // ------------------------------------------------------------------ CumSum

  /**
   * Inclusive scan by log-step doubling (Hillis-Steele): y += y shifted by 1, 2, 4, ... along the
   * axis (a shift is a slice plus a zero pad), ceil(log2 n) adds. Integers stay integers (exact);
   * for floats each output is a balanced-tree sum (error growth log2(n), not n as a sequential
   * scan). exclusive shifts the input by one first; reverse shifts toward the low end.
   */
  static Tensor[] cumsum(OnnxAttrs a, Tensor[] in) {
    Tensor x = in[0];
    DType dt = x.dtype();
    if (dt == DType.BOOL) {
      throw a.error("input type BOOL is not supported (numeric types only)");
    }
    long[] s = x.shape();
    int axis = OnnxOps.norm(a, scalarArg(a, in[1], "axis"), s.length);
    boolean reverse = a.i("reverse", 0) != 0;
    long n = s[axis];
    Tensor y = a.i("exclusive", 0) != 0 ? shift(x, axis, 1, reverse) : x;
    for (long d = 1; d < n; d *= 2) {
      y = y.add(shift(y, axis, d, reverse));
    }
    return OnnxOps.one(y);
  }

  /** t moved d places along axis (toward the high end, or the low end if reverse), zeros shifted in. */
  private static Tensor shift(Tensor t, int axis, long d, boolean reverse) {
    long[] s = t.shape();
    long n = s[axis];
    if (d >= n) {
      return Tensor.full(0, t.dtype(), s);
    }
    long[] lo = new long[s.length], hi = new long[s.length];
    (reverse ? hi : lo)[axis] = d;
    Tensor part = reverse ? t.slice(axis, d, n) : t.slice(axis, 0, n - d);
    return part.pad(lo, hi, 0);
  }

  // ------------------------------------------------------------------ Einsum

  /** Label id of the j-th dimension of the broadcast ellipsis block (letters use their char code). */
  private static final int ELLIPSIS = 1000;

  /** Why an equation is malformed (independent of operand ranks), or null. */
  static String einsumSyntax(String eq) {
    String e = eq.replace(" ", "");
    if (e.isEmpty()) {
      return "the equation is missing";
    }
    int arrow = e.indexOf("->");
    if (arrow >= 0 && e.indexOf("->", arrow + 1) >= 0) {
      return "more than one '->'";
    }
    String lhs = arrow < 0 ? e : e.substring(0, arrow), rhs = arrow < 0 ? null : e.substring(arrow + 2);
    if (rhs != null && rhs.contains(",")) {
      return "the output has a ','";
    }
    for (String t : rhs == null ? lhs.split(",", -1) : (lhs + "," + rhs).split(",", -1)) {
      String rest = t.replaceFirst("\\.\\.\\.", "");
      if (rest.contains(".")) {
        return "'" + t + "' has a '.' that is not one ellipsis '...'";
      }
      for (char c : rest.toCharArray()) {
        if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z')) {
          return "'" + t + "' has the character '" + c + "' (labels are letters)";
        }
      }
    }
    return null;
  }

  /** Labels of one term; an ellipsis stands for {@code ell} dimensions, aligned right in the block of {@code maxEll}. */
  private static List<Integer> labels(String term, int ell, int maxEll) {
    List<Integer> r = new ArrayList<>();
    for (int i = 0; i < term.length(); i++) {
      if (term.charAt(i) == '.') {
        for (int j = 0; j < ell; j++) {
          r.add(ELLIPSIS + maxEll - ell + j);
        }
        i += 2;
      } else {
        r.add((int) term.charAt(i));
      }
    }
    return r;
  }

  private static String name(int label) {
    return label >= ELLIPSIS ? "...[" + (label - ELLIPSIS) + "]" : String.valueOf((char) label);
  }

  /**
   * np.einsum semantics. Plan: take diagonals of labels repeated within an operand (a gather of
   * the flattened pair), drop size-1 dimensions that broadcast against a larger size, sum labels
   * that no other operand nor the output uses, then fold the operands left to right, each pair
   * as one batched matmul over [shared kept labels | left-only | contracted | right-only]
   * (permute + reshape), and finally permute to the output.
   */
  static Tensor[] einsum(OnnxAttrs a, Tensor[] in) {
    String eq = a.s("equation", "");
    String bad = einsumSyntax(eq);
    if (bad != null) {
      throw a.error("equation '" + eq + "': " + bad);
    }
    String e = eq.replace(" ", "");
    int arrow = e.indexOf("->");
    String[] terms = (arrow < 0 ? e : e.substring(0, arrow)).split(",", -1);
    if (terms.length != in.length) {
      throw a.error("equation '" + eq + "' has " + terms.length + " operand term(s) but the node has " + in.length + " input(s)");
    }
    int maxEll = 0;
    int[] ell = new int[in.length];
    for (int i = 0; i < in.length; i++) {
      int letters = terms[i].replace("...", "").length();
      int rank = in[i].rank();
      boolean hasEll = terms[i].contains("...");
      if (hasEll ? rank < letters : rank != letters) {
        throw a.error("term '" + terms[i] + "' does not match input " + i + " of shape " + Arrays.toString(in[i].shape()));
      }
      ell[i] = hasEll ? rank - letters : 0;
      maxEll = Math.max(maxEll, ell[i]);
    }
    List<List<Integer>> lab = new ArrayList<>();
    List<Tensor> ops = new ArrayList<>();
    Map<Integer, Long> size = new HashMap<>();
    Map<Integer, Integer> count = new HashMap<>();
    for (int i = 0; i < in.length; i++) {
      List<Integer> l = labels(terms[i], ell[i], maxEll);
      long[] s = in[i].shape();
      for (int d = 0; d < l.size(); d++) {
        long old = size.getOrDefault(l.get(d), 1L);
        if (old != s[d] && old != 1 && s[d] != 1) {
          throw a.error("label " + name(l.get(d)) + " has size " + old + " and " + s[d] + " (input " + i + " of shape "
              + Arrays.toString(s) + ")");
        }
        size.put(l.get(d), Math.max(old, s[d]));
        count.merge(l.get(d), 1, Integer::sum);
      }
      lab.add(l);
      ops.add(in[i]);
    }
    List<Integer> out = new ArrayList<>();
    if (arrow >= 0) {
      String rhs = e.substring(arrow + 2);
      if (maxEll > 0 && !rhs.contains("...")) {
        throw a.error("equation '" + eq + "': the inputs' '...' covers " + maxEll + " dimension(s) but the output has no '...'");
      }
      out = labels(rhs, maxEll, maxEll);
      for (int l : out) {
        if (!size.containsKey(l)) {
          throw a.error("equation '" + eq + "': output label " + name(l) + " is not in any input");
        }
        if (out.indexOf(l) != out.lastIndexOf(l)) {
          throw a.error("equation '" + eq + "': output label " + name(l) + " repeats");
        }
      }
    } else {
      for (int j = 0; j < maxEll; j++) {
        out.add(ELLIPSIS + j);
      }
      new TreeSet<>(size.keySet()).stream().filter(l -> l < ELLIPSIS && count.get(l) == 1).forEach(out::add);
    }
    for (int i = 0; i < ops.size(); i++) {
      diagonals(ops, lab, i);
      dropBroadcast(ops, lab, i, size);
    }
    for (int i = 0; i < ops.size(); i++) {
      sumUnused(ops, lab, i, out, ops.size());
    }
    Tensor acc = ops.get(0);
    List<Integer> accL = lab.get(0);
    for (int i = 1; i < ops.size(); i++) {
      Set<Integer> keep = new TreeSet<>(out);
      for (int j = i + 1; j < ops.size(); j++) {
        keep.addAll(lab.get(j));
      }
      List<Integer> newL = new ArrayList<>();
      acc = pair(acc, accL, ops.get(i), lab.get(i), keep, newL);
      accL = newL;
    }
    return OnnxOps.one(toOutput(acc, accL, out));
  }

  /** Replaces each label repeated within operand i by its diagonal. */
  private static void diagonals(List<Tensor> ops, List<List<Integer>> lab, int i) {
    List<Integer> l = new ArrayList<>(lab.get(i));
    Tensor t = ops.get(i);
    for (int p = 0; p < l.size(); p++) {
      int q = l.lastIndexOf(l.get(p));
      if (q == p) {
        continue;
      }
      long[] s = t.shape();  // s[p] == s[q]: einsum checked every label's sizes
      int r = s.length;
      int[] perm = new int[r];
      List<Integer> nl = new ArrayList<>();
      long[] ns = new long[r - 1];
      for (int d = 0, k = 0; d < r; d++) {
        if (d != p && d != q) {
          perm[k] = d;
          ns[k] = s[d];
          nl.add(l.get(d));
          k++;
        }
      }
      perm[r - 2] = p;
      perm[r - 1] = q;
      long n = s[p];
      ns[r - 2] = n * n;
      long[] idx = new long[(int) n];
      for (int j = 0; j < n; j++) {
        idx[j] = j * (n + 1);
      }
      t = t.permute(perm).reshape(ns).gather(Tensor.of(idx, n), r - 2);
      nl.add(l.get(p));
      l = nl;
      p = -1;  // rescan: positions moved
    }
    ops.set(i, t);
    lab.set(i, l);
  }

  /** Removes size-1 dimensions whose label is larger elsewhere (the operand is constant along them). */
  private static void dropBroadcast(List<Tensor> ops, List<List<Integer>> lab, int i, Map<Integer, Long> size) {
    List<Integer> l = lab.get(i), nl = new ArrayList<>();
    long[] s = ops.get(i).shape();
    List<Long> ns = new ArrayList<>();
    for (int d = 0; d < s.length; d++) {
      if (s[d] == 1 && size.get(l.get(d)) != 1) {
        continue;
      }
      nl.add(l.get(d));
      ns.add(s[d]);
    }
    if (nl.size() != l.size()) {
      ops.set(i, ops.get(i).reshape(ns.stream().mapToLong(Long::longValue).toArray()));
      lab.set(i, nl);
    }
  }

  /** Sums the labels of operand i that neither the output nor another operand has. */
  private static void sumUnused(List<Tensor> ops, List<List<Integer>> lab, int i, List<Integer> out, int nops) {
    List<Integer> l = lab.get(i), nl = new ArrayList<>();
    List<Integer> axes = new ArrayList<>();
    for (int d = 0; d < l.size(); d++) {
      boolean used = out.contains(l.get(d));
      for (int j = 0; j < nops && !used; j++) {
        used = j != i && lab.get(j).contains(l.get(d));
      }
      if (used) {
        nl.add(l.get(d));
      } else {
        axes.add(d);
      }
    }
    if (!axes.isEmpty()) {
      ops.set(i, ops.get(i).sum(false, axes.stream().mapToInt(Integer::intValue).toArray()));
      lab.set(i, nl);
    }
  }

  /** x (labels lx) times y (labels ly), summing the shared labels not in keep; result labels go to outL. */
  private static Tensor pair(Tensor x, List<Integer> lx, Tensor y, List<Integer> ly, Set<Integer> keep, List<Integer> outL) {
    List<Integer> batch = new ArrayList<>(), con = new ArrayList<>(), fx = new ArrayList<>(), fy = new ArrayList<>();
    for (int l : lx) {
      (ly.contains(l) ? keep.contains(l) ? batch : con : fx).add(l);
    }
    for (int l : ly) {
      if (!lx.contains(l)) {
        fy.add(l);
      }
    }
    long[] sx = x.shape(), sy = y.shape();
    long pb = 1, pc = 1, px = 1, py = 1;
    List<Long> outS = new ArrayList<>();
    for (int l : batch) {
      pb *= sx[lx.indexOf(l)];
      outS.add(sx[lx.indexOf(l)]);
    }
    for (int l : con) {
      pc *= sx[lx.indexOf(l)];
    }
    for (int l : fx) {
      px *= sx[lx.indexOf(l)];
      outS.add(sx[lx.indexOf(l)]);
    }
    for (int l : fy) {
      py *= sy[ly.indexOf(l)];
      outS.add(sy[ly.indexOf(l)]);
    }
    Tensor xm = x.permute(order(lx, batch, fx, con)), ym = y.permute(order(ly, batch, con, fy));
    Tensor r = batch.isEmpty() ? xm.reshape(px, pc).matmul(ym.reshape(pc, py))
        : xm.reshape(pb, px, pc).matmul(ym.reshape(pb, pc, py));
    outL.addAll(batch);
    outL.addAll(fx);
    outL.addAll(fy);
    return r.reshape(outS.stream().mapToLong(Long::longValue).toArray());
  }

  private static int[] order(List<Integer> l, List<Integer> g1, List<Integer> g2, List<Integer> g3) {
    int[] p = new int[l.size()];
    int k = 0;
    for (List<Integer> g : List.of(g1, g2, g3)) {
      for (int x : g) {
        p[k++] = l.indexOf(x);
      }
    }
    return p;
  }

  /**
   * Permutes t (labels l) to the output order. Every output label is in l: the operand that
   * gives a label its (largest) size keeps it, and labels in the output are never summed.
   */
  private static Tensor toOutput(Tensor t, List<Integer> l, List<Integer> out) {
    int[] perm = new int[out.size()];
    for (int j = 0; j < out.size(); j++) {
      perm[j] = l.indexOf(out.get(j));
    }
    return t.permute(perm);
  }

  // ------------------------------------------------------------------ Resize

  /**
   * Nearest or (multi)linear Resize, one resized axis at a time: the source coordinate of every
   * output index is computed in Java (f64) by the coordinate_transformation_mode formulas of the
   * ONNX operator documentation, so nearest is one gather per axis and linear two gathers and
   * a weighted sum with constant weights. Out-of-range neighbours clamp to the edge, as the
   * reference's edge padding does. Axes whose mapping is the identity are skipped.
   */
  static Tensor[] resize(OnnxAttrs a, Tensor[] in, int opset) {
    Tensor x = in[0];
    long[] s = x.shape();
    int r = s.length;
    double[] scales = in.length > 2 && in[2] != null && in[2].numel() > 0 ? in[2].toDoubleArray() : null;
    long[] sizes = in.length > 3 && in[3] != null && in[3].numel() > 0 ? OnnxOps.vals(in[3]) : null;
    if ((scales == null) == (sizes == null)) {
      throw a.error("exactly one of the inputs scales and sizes must be given (non-empty), got "
          + (scales == null ? "neither" : "both"));
    }
    int[] axes = new int[r];
    long[] axAttr = opset >= 18 ? a.ints("axes", null) : null;
    if (axAttr != null) {
      axes = new int[axAttr.length];
      for (int i = 0; i < axes.length; i++) {
        axes[i] = OnnxOps.norm(a, axAttr[i], r);
      }
    } else {
      for (int i = 0; i < r; i++) {
        axes[i] = i;
      }
    }
    int given = scales != null ? scales.length : sizes.length;
    if (given != axes.length) {
      throw a.error((scales != null ? "scales " + Arrays.toString(scales) : "sizes " + Arrays.toString(sizes)) + " must have "
          + axes.length + " entries (input shape " + Arrays.toString(s) + (axAttr != null ? ", axes " + Arrays.toString(axAttr) : "") + ")");
    }
    boolean linear = a.s("mode", "nearest").equals("linear");
    if (linear && !x.dtype().isFloatingPoint()) {
      throw a.error("mode=linear needs a floating-point input, got " + x.dtype());
    }
    String ctm = a.s("coordinate_transformation_mode", "half_pixel");
    String nm = a.s("nearest_mode", "round_prefer_floor");
    Tensor y = x;
    for (int i = 0; i < axes.length; i++) {
      int ax = axes[i];
      long len = s[ax];
      long outLen;
      double scale;
      if (scales != null) {
        scale = scales[i];
        if (!(scale > 0) || Double.isInfinite(scale)) {
          throw a.error("scale " + scale + " for axis " + ax + " must be positive and finite");
        }
        outLen = (long) Math.floor(len * scale);
      } else {
        outLen = sizes[i];
        if (outLen < 0) {
          throw a.error("size " + outLen + " for axis " + ax + " is negative");
        }
        scale = len == 0 ? 1 : (double) outLen / len;
      }
      if (len == 0 && outLen > 0) {
        throw a.error("cannot resize the empty axis " + ax + " of " + Arrays.toString(s) + " to " + outLen);
      }
      y = resizeAxis(y, ax, len, outLen, scale, ctm, linear, nm);
    }
    return OnnxOps.one(y);
  }

  /** The ONNX source coordinate of output index j (length_resized = outLen, the integer length). */
  static double sourceCoord(String ctm, long j, long len, long outLen, double scale) {
    switch (ctm) {
      case "asymmetric": return j / scale;
      case "align_corners": return outLen == 1 ? 0 : j * (double) (len - 1) / (outLen - 1);
      case "pytorch_half_pixel": return outLen > 1 ? (j + 0.5) / scale - 0.5 : 0;
      case "half_pixel_symmetric": {
        double adjustment = outLen / (scale * len);
        double offset = len / 2.0 * (1 - adjustment);
        return offset + (j + 0.5) / scale - 0.5;
      }
      default: return (j + 0.5) / scale - 0.5;  // half_pixel
    }
  }

  private static Tensor resizeAxis(Tensor y, int ax, long len, long outLen, double scale, String ctm, boolean linear, String nm) {
    int n = Math.toIntExact(outLen);
    long[] i0 = new long[n], i1 = new long[n];
    double[] w = new double[n];
    boolean identity = outLen == len;
    for (int j = 0; j < n; j++) {
      double xo = sourceCoord(ctm, j, len, outLen, scale);
      double fl = Math.floor(xo), frac = xo - fl;
      if (linear) {
        i0[j] = clamp((long) fl, len);
        i1[j] = clamp((long) fl + 1, len);
        w[j] = i0[j] == i1[j] ? 0 : frac;
      } else {
        boolean up = frac != 0 && switch (nm) {
          case "round_prefer_ceil" -> frac >= 0.5;
          case "floor" -> false;
          case "ceil" -> true;
          default -> frac > 0.5;  // round_prefer_floor
        };
        i0[j] = clamp((long) fl + (up ? 1 : 0), len);
      }
      identity &= i0[j] == j && w[j] == 0;
    }
    if (identity) {
      return y;
    }
    Tensor a0 = y.gather(Tensor.of(i0, n), ax);
    if (!linear) {
      return a0;
    }
    long[] ws = new long[y.rank()];
    Arrays.fill(ws, 1);
    ws[ax] = n;
    double[] w0 = new double[n];
    for (int j = 0; j < n; j++) {
      w0[j] = 1 - w[j];
    }
    Tensor t1 = Tensor.of(w, ws).to(y.dtype()), t0 = Tensor.of(w0, ws).to(y.dtype());
    return a0.mul(t0).add(y.gather(Tensor.of(i1, n), ax).mul(t1));
  }

  private static long clamp(long i, long len) {
    return Math.max(0, Math.min(len - 1, i));
  }
}
