package dev.jxla.onnx;

import dev.jxla.DType;
import dev.jxla.Tensor;
import dev.jxla.onnx.proto.Onnx.NodeProto;
import java.util.Arrays;
import java.util.Set;

/**
 * Maps ONNX operators (default domain, opsets 7-21) onto the Tensor API. {@link #convert} records
 * one node's outputs from its inputs during tracing; absent optional inputs are null. Operands
 * listed by {@link #staticInputs} (shapes, axes, pads, ...) must hold known values: the importer
 * guarantees they are constants (initializers, Constant/Shape results, folded constant
 * subgraphs or static graph inputs) before calling. Neural-network operators live in
 * {@link OnnxNn}; Split, Slice and Pad in {@link OnnxSlicing}. Semantics follow the ONNX operator documentation (onnx/docs/Operators.md).
 */
final class OnnxOps {
  private OnnxOps() {}

  static final Set<String> SUPPORTED = Set.of(
      "Trilu", "CumSum", "Einsum", "Resize",  // OnnxExtraOps
      "GatherND", "ScatterND", "ScatterElements",  // OnnxScatter
      "InstanceNormalization", "GroupNormalization", "MeanVarianceNormalization", "LpNormalization", "Celu", "Shrink",
      "Hardmax",  // OnnxNorms
      "TopK",  // OnnxSortOps
      "Abs", "Neg", "Exp", "Log", "Sqrt", "Relu", "Sigmoid", "Tanh", "Erf", "Ceil", "Floor", "Round", "Sign", "Sin",
      "Cos", "Not", "Identity", "Reciprocal", "Softplus", "Softsign", "Elu", "Selu", "LeakyRelu", "PRelu", "HardSigmoid",
      "HardSwish", "ThresholdedRelu", "Mish", "Gelu", "IsNaN",
      "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "Equal", "Less", "Greater", "LessOrEqual",
      "GreaterOrEqual", "And", "Or", "Xor", "Where", "Clip", "Cast", "CastLike",
      "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Concat", "Slice", "Gather", "GatherElements", "Expand",
      "Tile", "Pad", "Shape", "Size", "ConstantOfShape", "Range", "OneHot", "Split", "Constant", "Dropout",
      "ArgMax", "ArgMin", "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceLogSumExp",
      "ReduceSumSquare", "ReduceL1", "ReduceL2", "ReduceLogSum",
      "MatMul", "Gemm", "Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "BatchNormalization",
      "LayerNormalization", "Softmax", "LogSoftmax", "Loop", "If", "Scan",
      "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "MatMulInteger",
      "ConvInteger", "QLinearMatMul", "QLinearConv");

  /** Why this node cannot be imported (checked at load, beyond the operator name), or null. */
  static String check(NodeProto n, int opset) {
    OnnxAttrs a = new OnnxAttrs(n);
    String op = n.getOpType();
    switch (op) {
      case "Pad":
        String mode = a.s("mode", "constant");
        return mode.equals("constant") ? null : "Pad(mode=" + mode + ")";
      case "BatchNormalization":
        // training mode (opset 14+) returns the updated running statistics; older saved_* outputs are not supported
        return n.getOutputCount() > 3 && !n.getOutput(3).isEmpty() ? "BatchNormalization(saved_mean/saved_var outputs)" : null;
      case "Cast": case "CastLike": {
        String rm = a.s("round_mode", "up");
        if (!rm.equals("up") && !rm.equals("down") && !rm.equals("nearest")) {
          return op + "(round_mode=" + rm + ")";
        }
        return op.equals("CastLike") || OnnxTensors.supported((int) a.i("to", 0)) ? null
            : "Cast(to=" + OnnxTensors.typeName((int) a.i("to", 0)) + ")";
      }
      case "Einsum": case "Resize":
        return OnnxExtraOps.check(n, opset);
      case "ScatterND": case "ScatterElements":
        return OnnxScatter.check(a, op);
      case "Constant":
        return a.has("sparse_value") || a.has("value_string") || a.has("value_strings") ? "Constant(sparse or string)" : null;
      default:
        return null;
    }
  }

  /** Input positions whose values must be known when tracing. */
  static int[] staticInputs(String op, int opset) {
    switch (op) {
      case "Reshape": case "Expand": case "Tile": case "ConstantOfShape": case "OneHot":
        return op.equals("ConstantOfShape") ? new int[] {0} : new int[] {1};
      case "Squeeze": case "Unsqueeze":
        return new int[] {1};
      case "Split":
        return new int[] {1};
      case "Slice":
        return new int[] {1, 2, 3, 4};
      case "Pad":
        return new int[] {1, 2, 3};
      case "Range":
        return new int[] {0, 1, 2};
      case "Trilu": case "CumSum":
        return new int[] {1};
      case "Resize":
        return new int[] {1, 2, 3};
      case "TopK":
        return opset >= 10 ? new int[] {1} : new int[0];
      case "ReduceSum": case "ReduceMean": case "ReduceMax": case "ReduceMin": case "ReduceProd": case "ReduceLogSumExp":
      case "ReduceSumSquare": case "ReduceL1": case "ReduceL2": case "ReduceLogSum":
        return new int[] {1};
      default:
        return new int[0];
    }
  }

  // ------------------------------------------------------------------ helpers

  static Tensor sc(double v, DType dt) {
    return Tensor.scalar(v, dt);
  }

  static long[] vals(Tensor t) {
    return t.toLongArray();
  }

  static int[] toInts(long[] v) {
    int[] r = new int[v.length];
    for (int i = 0; i < v.length; i++) {
      r[i] = Math.toIntExact(v[i]);
    }
    return r;
  }

  static int norm(OnnxAttrs a, long axis, int rank) {
    long x = axis < 0 ? axis + rank : axis;
    if (x < 0 || x >= Math.max(rank, 1)) {
      throw a.error("axis " + axis + " is out of range for rank " + rank);
    }
    return (int) x;
  }

  static long prod(long[] s, int from, int to) {
    long p = 1;
    for (int i = from; i < to; i++) {
      p *= s[i];
    }
    return p;
  }

  private static Tensor where(Tensor c, Tensor a, Tensor b) {
    return Tensor.where(c, a, b);
  }

  /** Negative indices count from the end of a dimension of size n. */
  static Tensor normIndices(Tensor idx, long n, boolean known) {
    if (known) {
      long[] v = vals(idx);
      for (int i = 0; i < v.length; i++) {
        if (v[i] < 0) {
          v[i] += n;
        }
      }
      return Tensor.of(v, idx.shape());
    }
    Tensor neg = idx.lt(0);
    return where(neg, idx.add((double) n), idx);
  }

  private static int[] reduceAxes(OnnxAttrs a, Tensor axesIn, boolean fromInput, int rank, boolean[] noop) {
    long[] axes = fromInput ? (axesIn == null ? new long[0] : vals(axesIn)) : a.ints("axes", new long[0]);
    if (axes.length == 0) {
      noop[0] = a.i("noop_with_empty_axes", 0) != 0;
      int[] all = new int[rank];
      for (int i = 0; i < rank; i++) {
        all[i] = i;
      }
      return all;
    }
    int[] r = new int[axes.length];
    for (int i = 0; i < r.length; i++) {
      r[i] = norm(a, axes[i], rank);
    }
    return r;
  }

  // ------------------------------------------------------------------ conversion

  /**
   * Records node {@code n}; returns one tensor per output (null for outputs it does not make).
   * {@code known[i]} says input i is a constant (importers may pre-compute on it, e.g. transpose
   * a weight once at trace time instead of on every call).
   */
  static Tensor[] convert(NodeProto n, Tensor[] in, boolean[] known, int opset) {
    OnnxAttrs a = new OnnxAttrs(n);
    String op = n.getOpType();
    Tensor x = in.length > 0 ? in[0] : null;
    switch (op) {
      case "Abs": return one(x.abs());
      case "Neg": return one(x.neg());
      case "Exp": return one(x.exp());
      case "Log": return one(x.log());
      case "Sqrt": return one(x.sqrt());
      case "Relu": return one(x.relu());
      case "Sigmoid": return one(x.sigmoid());
      case "Tanh": return one(x.tanh());
      case "Erf": return one(x.erf());
      case "Ceil": return one(x.ceil());
      case "Floor": return one(x.floor());
      case "Round": return one(x.round());
      case "Sign": return one(x.sign());
      case "Sin": return one(x.sin());
      case "Cos": return one(x.cos());
      case "Not": return one(x.not());
      case "IsNaN": return one(x.ne(x));
      case "Identity": return one(x);
      case "QuantizeLinear": return one(OnnxQuant.quantize(a, in, opset));
      case "DequantizeLinear": return one(OnnxQuant.dequantize(a, in, opset));
      case "DynamicQuantizeLinear": return OnnxQuant.dynamicQuantize(x);
      case "MatMulInteger": return one(OnnxQuant.matMulInteger(a, in));
      case "ConvInteger": return one(OnnxQuant.convInteger(a, in));
      case "QLinearMatMul": return one(OnnxQuant.qlinear(a, in, false));
      case "QLinearConv": return one(OnnxQuant.qlinear(a, in, true));
      case "Reciprocal": return one(sc(1, x.dtype()).div(x));
      case "Softplus": return one(x.exp().log1p());
      case "Softsign": return one(x.div(x.abs().add(1)));
      case "Elu": {
        double alpha = a.f("alpha", 1f);
        return one(where(x.lt(0), x.expm1().mul(alpha), x));
      }
      case "Selu": {
        double alpha = a.f("alpha", 1.67326319217681884765625f), gamma = a.f("gamma", 1.05070102214813232421875f);
        return one(where(x.gt(0), x, x.expm1().mul(alpha)).mul(gamma));
      }
      case "LeakyRelu": return one(where(x.lt(0), x.mul((double) a.f("alpha", 0.01f)), x));
      case "PRelu": return one(where(x.lt(0), x.mul(in[1]), x));
      case "ThresholdedRelu": return one(where(x.gt((double) a.f("alpha", 1f)), x, sc(0, x.dtype())));
      case "HardSigmoid":
        return one(x.mul((double) a.f("alpha", 0.2f)).add((double) a.f("beta", 0.5f)).max(0).min(1));
      case "HardSwish": return one(x.mul(x.mul(1.0 / 6).add(0.5).max(0).min(1)));
      case "Mish": return one(x.mul(x.exp().log1p().tanh()));
      case "Gelu": return one(x.gelu(a.s("approximate", "none").equals("tanh")));

      case "Add": return one(x.add(in[1]));
      case "Sub": return one(x.sub(in[1]));
      case "Mul": return one(x.mul(in[1]));
      case "Div": return one(x.div(in[1]));
      case "Pow": {
        Tensor r = x.pow(in[1]);
        return one(r.dtype() == x.dtype() ? r : r.to(x.dtype()));
      }
      case "Max": case "Min": case "Sum": case "Mean": {
        Tensor r = in[0];
        for (int i = 1; i < in.length; i++) {
          r = op.equals("Max") ? r.max(in[i]) : op.equals("Min") ? r.min(in[i]) : r.add(in[i]);
        }
        if (op.equals("Mean") && in.length > 1) {
          r = r.div((double) in.length);
        }
        return one(r);
      }
      case "Equal": return one(x.eq(in[1]));
      case "Less": return one(x.lt(in[1]));
      case "Greater": return one(x.gt(in[1]));
      case "LessOrEqual": return one(x.le(in[1]));
      case "GreaterOrEqual": return one(x.ge(in[1]));
      case "And": return one(x.and(in[1]));
      case "Or": return one(x.or(in[1]));
      case "Xor": return one(x.xor(in[1]));
      case "Where": return one(where(x, in[1], in[2]));
      case "Clip": {
        Tensor lo = opset < 11 ? (a.has("min") ? sc(a.f("min", 0), x.dtype()) : null) : in.length > 1 ? in[1] : null;
        Tensor hi = opset < 11 ? (a.has("max") ? sc(a.f("max", 0), x.dtype()) : null) : in.length > 2 ? in[2] : null;
        Tensor r = x;
        if (lo != null) {
          r = r.max(lo.to(x.dtype()));
        }
        if (hi != null) {
          r = r.min(hi.to(x.dtype()));
        }
        return one(r);
      }
      case "Cast": {
        int to = (int) a.i("to", 0);
        NarrowFloat nf = NarrowFloat.of(to);
        if (nf != null) {
          // float8/float4: an f32 tensor of the format's values, rounded by the ONNX rules
          return one(nf.round(x, a.i("saturate", 1) != 0, a.s("round_mode", "up")));
        }
        int bits = OnnxTensors.subByteBits(to);
        if (bits > 0) {
          // 4-/2-bit integers: round half to even, then wrap around (two's complement), as the
          // ONNX node tests expect (FLOAT -9 -> INT4 7, FLOAT -3 -> UINT2 1)
          Tensor v = (x.dtype().isFloatingPoint() ? x.round() : x).to(DType.S64);
          Tensor mask = Tensor.scalar((1L << bits) - 1);
          boolean signed = to == OnnxTensors.INT4 || to == OnnxTensors.INT2;
          Tensor w = signed ? v.add((double) (1L << (bits - 1))).and(mask).sub((double) (1L << (bits - 1))) : v.and(mask);
          return one(w.to(DType.S32));
        }
        return one(x.to(OnnxTensors.dtypeOf(to, a.where())));
      }
      case "CastLike": return one(x.to(in[1].dtype()));

      case "Reshape": {
        long[] s = vals(in[1]);
        long[] xs = x.shape();
        boolean allowZero = a.i("allowzero", 0) != 0;
        for (int i = 0; i < s.length; i++) {
          if (s[i] == 0 && !allowZero) {
            if (i >= xs.length) {
              throw a.error("shape " + Arrays.toString(s) + " copies dimension " + i + " of a rank-" + xs.length + " input");
            }
            s[i] = xs[i];
          }
        }
        return one(x.reshape(s));
      }
      case "Flatten": {
        long[] s = x.shape();
        long ax = a.i("axis", 1);
        int axis = (int) (ax < 0 ? ax + s.length : ax);
        if (axis < 0 || axis > s.length) {
          throw a.error("axis " + ax + " is out of range for rank " + s.length);
        }
        return one(x.reshape(prod(s, 0, axis), prod(s, axis, s.length)));
      }
      case "Transpose": {
        int r = x.rank();
        int[] perm = new int[r];
        for (int i = 0; i < r; i++) {
          perm[i] = r - 1 - i;
        }
        if (a.has("perm")) {
          perm = toInts(a.ints("perm", null));
        }
        return one(x.permute(perm));
      }
      case "Squeeze": {
        long[] s = x.shape();
        long[] axes = opset < 13 ? a.ints("axes", null) : in.length > 1 && in[1] != null ? vals(in[1]) : null;
        boolean[] drop = new boolean[s.length];
        if (axes == null || axes.length == 0) {
          for (int i = 0; i < s.length; i++) {
            drop[i] = s[i] == 1;
          }
        } else {
          for (long ax : axes) {
            int d = norm(a, ax, s.length);
            if (s[d] != 1) {
              throw a.error("cannot squeeze dimension " + ax + " of size " + s[d] + " in " + Arrays.toString(s));
            }
            drop[d] = true;
          }
        }
        long[] r = new long[s.length];
        int k = 0;
        for (int i = 0; i < s.length; i++) {
          if (!drop[i]) {
            r[k++] = s[i];
          }
        }
        return one(x.reshape(Arrays.copyOf(r, k)));
      }
      case "Unsqueeze": {
        long[] s = x.shape();
        long[] axes = opset < 13 ? a.ints("axes", new long[0]) : vals(in[1]);
        int outRank = s.length + axes.length;
        boolean[] ins = new boolean[outRank];
        for (long ax : axes) {
          int d = norm(a, ax, outRank);
          if (ins[d]) {
            throw a.error("axes " + Arrays.toString(axes) + " repeat an axis");
          }
          ins[d] = true;
        }
        long[] r = new long[outRank];
        for (int i = 0, k = 0; i < outRank; i++) {
          r[i] = ins[i] ? 1 : s[k++];
        }
        return one(x.reshape(r));
      }
      case "Concat": return one(Tensor.concat(norm(a, a.i("axis", 0), in[0].rank()), in));
      case "Split": return OnnxSlicing.split(a, n, in, opset);
      case "Slice": return one(OnnxSlicing.slice(a, in, opset));
      case "Gather": {
        int axis = norm(a, a.i("axis", 0), x.rank());
        Tensor idx = normIndices(in[1], x.shape()[axis], false);
        return one(x.gather(idx, axis));
      }
      case "GatherND": return one(OnnxScatter.gatherND(a, x, in[1]));
      case "ScatterND": return one(OnnxScatter.scatterND(a, x, in[1], in[2]));
      case "ScatterElements": return one(OnnxScatter.scatterElements(a, x, in[1], in[2]));
      case "GatherElements": {
        int axis = norm(a, a.i("axis", 0), x.rank());
        Tensor idx = normIndices(in[1], x.shape()[axis], false);
        return one(x.takeAlongAxis(idx, axis));
      }
      case "Expand": {
        long[] s = vals(in[1]), xs = x.shape();
        int r = Math.max(s.length, xs.length);
        long[] out = new long[r];
        for (int i = 0; i < r; i++) {
          long p = i - (r - xs.length) >= 0 ? xs[i - (r - xs.length)] : 1;
          long q = i - (r - s.length) >= 0 ? s[i - (r - s.length)] : 1;
          if (p != q && p != 1 && q != 1) {
            throw a.error("cannot expand " + Arrays.toString(xs) + " to " + Arrays.toString(s));
          }
          out[i] = p == 1 ? q : p;
        }
        return one(x.broadcastTo(out));
      }
      case "Tile": {
        long[] rep = vals(in[1]), s = x.shape();
        if (rep.length != s.length) {
          throw a.error("repeats " + Arrays.toString(rep) + " must have one entry per dimension of " + Arrays.toString(s));
        }
        long[] inter = new long[2 * s.length], big = new long[2 * s.length], out = new long[s.length];
        for (int i = 0; i < s.length; i++) {
          inter[2 * i] = 1;
          inter[2 * i + 1] = s[i];
          big[2 * i] = rep[i];
          big[2 * i + 1] = s[i];
          out[i] = rep[i] * s[i];
        }
        return one(x.reshape(inter).broadcastTo(big).reshape(out));
      }
      case "Pad": return one(OnnxSlicing.pad(a, in, opset));
      case "Shape": {
        long[] s = x.shape();
        int r = s.length;
        long st = a.i("start", 0), en = a.i("end", r);
        st = Math.max(0, Math.min(r, st < 0 ? st + r : st));
        en = Math.max(st, Math.min(r, en < 0 ? en + r : en));
        return one(Tensor.of(Arrays.copyOfRange(s, (int) st, (int) en), en - st));
      }
      case "Size": return one(Tensor.of(new long[] {x.numel()}, new long[0]));
      case "ConstantOfShape": {
        long[] s = vals(in[0]);
        if (a.t("value") == null) {
          return one(Tensor.full(0, DType.F32, s));
        }
        OnnxTensors.HostTensor v = OnnxTensors.decode(a.t("value"), a.where() + " value");
        double val = v.isFloat() ? v.f[0] : v.i[0];
        return one(Tensor.full(val, OnnxTensors.dtypeOf(v.type, a.where()), s));
      }
      case "Range": {
        DType dt = in[0].dtype();
        double st = in[0].item(), lim = in[1].item(), d = in[2].item();
        if (d == 0) {
          throw a.error("delta is 0");
        }
        int cnt = (int) Math.max(0, Math.ceil((lim - st) / d));
        double[] v = new double[cnt];
        for (int i = 0; i < cnt; i++) {
          v[i] = st + i * d;
        }
        try (Tensor t = Tensor.of(v, cnt)) {
          return one(t.to(dt));
        }
      }
      case "OneHot": {
        long depth = (long) in[1].item();
        Tensor idx = in[0].to(DType.S64);
        idx = where(idx.lt(0), idx.add((double) depth), idx);
        Tensor hot = idx.oneHot(Math.toIntExact(depth), DType.S32).eq(1);
        Tensor off = in[2].slice(0, 0, 1).reshape(), on = in[2].slice(0, 1, 2).reshape();
        Tensor r = where(hot, on, off);
        int rank = r.rank();
        int axis = norm(a, a.i("axis", -1), rank);
        if (axis != rank - 1) {
          int[] perm = new int[rank];
          for (int i = 0, k = 0; i < rank; i++) {
            perm[i] = i == axis ? rank - 1 : k++;
          }
          r = r.permute(perm);
        }
        return one(r);
      }
      case "Constant": return one(constant(a));
      case "Dropout": {
        Tensor mask = n.getOutputCount() > 1 ? Tensor.full(1, DType.BOOL, x.shape()) : null;
        return new Tensor[] {x, mask};
      }
      case "ArgMax": case "ArgMin": {
        int axis = norm(a, a.i("axis", 0), x.rank());
        boolean keep = a.i("keepdims", 1) != 0;
        boolean last = a.i("select_last_index", 0) != 0;
        boolean max = op.equals("ArgMax");
        if (!last) {
          return one(max ? x.argmax(axis, keep) : x.argmin(axis, keep));
        }
        long len = x.shape()[axis];
        long[] rev = new long[(int) len];
        for (int i = 0; i < len; i++) {
          rev[i] = len - 1 - i;
        }
        Tensor flipped = x.gather(Tensor.of(rev, len), axis);
        Tensor r = max ? flipped.argmax(axis, keep) : flipped.argmin(axis, keep);
        return one(sc(len - 1, DType.S64).sub(r));
      }
      case "ReduceSum": case "ReduceMean": case "ReduceMax": case "ReduceMin": case "ReduceProd": case "ReduceLogSumExp":
      case "ReduceSumSquare": case "ReduceL1": case "ReduceL2": case "ReduceLogSum": {
        boolean fromInput = op.equals("ReduceSum") ? opset >= 13 : opset >= 18;
        boolean[] noop = {false};
        int[] axes = reduceAxes(a, in.length > 1 ? in[1] : null, fromInput, x.rank(), noop);
        if (noop[0]) {
          return one(x);
        }
        boolean keep = a.i("keepdims", 1) != 0;
        return one(reduce(op, x, axes, keep));
      }
      case "Trilu": return OnnxExtraOps.trilu(a, in);
      case "CumSum": return OnnxExtraOps.cumsum(a, in);
      case "Einsum": return OnnxExtraOps.einsum(a, in);
      case "Resize": return OnnxExtraOps.resize(a, in, opset);
      case "TopK": return OnnxSortOps.topk(a, in, opset);
      case "InstanceNormalization": return one(OnnxNorms.instanceNorm(a, in));
      case "GroupNormalization": return one(OnnxNorms.groupNorm(a, in, opset));
      case "MeanVarianceNormalization": return one(OnnxNorms.meanVarianceNorm(a, x));
      case "LpNormalization": return one(OnnxNorms.lpNorm(a, x));
      case "Celu": return one(OnnxNorms.celu(a, x));
      case "Shrink": return one(OnnxNorms.shrink(a, x));
      case "Hardmax": return one(OnnxNorms.hardmax(a, x, opset));
      default:
        return OnnxNn.convert(op, a, n, in, known, opset);
    }
  }

  static Tensor[] one(Tensor t) {
    return new Tensor[] {t};
  }

  private static Tensor reduce(String op, Tensor x, int[] axes, boolean keep) {
    if (axes.length == 0) {
      axes = new int[0];
    }
    switch (op) {
      case "ReduceSum": return x.sum(keep, axes);
      case "ReduceMean": return x.mean(keep, axes);
      case "ReduceMax": return x.max(keep, axes);
      case "ReduceMin": return x.min(keep, axes);
      case "ReduceProd": return x.prod(keep, axes);
      case "ReduceLogSumExp": return x.logsumexp(keep, axes);
      case "ReduceSumSquare": return x.mul(x).sum(keep, axes);
      case "ReduceL1": return x.abs().sum(keep, axes);
      case "ReduceL2": return x.mul(x).sum(keep, axes).sqrt().to(x.dtype());
      default: return x.sum(keep, axes).log();  // ReduceLogSum
    }
  }

  private static Tensor constant(OnnxAttrs a) {
    if (a.t("value") != null) {
      return OnnxTensors.toTensor(OnnxTensors.decode(a.t("value"), a.where() + " value"), a.where());
    }
    if (a.has("value_float")) {
      return Tensor.scalar(a.f("value_float", 0));
    }
    if (a.has("value_floats")) {
      float[] f = a.floats("value_floats");
      return Tensor.of(f, f.length);
    }
    if (a.has("value_int")) {
      return Tensor.scalar(a.i("value_int", 0));
    }
    if (a.has("value_ints")) {
      long[] v = a.ints("value_ints", new long[0]);
      return Tensor.of(v, v.length);
    }
    throw a.error("has no value attribute");
  }
}
