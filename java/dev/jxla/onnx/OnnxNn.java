package dev.jxla.onnx;

import dev.jxla.DType;
import dev.jxla.Tensor;
import dev.jxla.onnx.proto.Onnx.NodeProto;
import java.util.Arrays;

/**
 * ONNX neural-network operators on the Tensor API: MatMul, Gemm, Conv (1-D and 2-D), MaxPool and
 * AveragePool (1-D and 2-D, auto_pad, ceil_mode), global pools, BatchNormalization (inference),
 * LayerNormalization, Softmax and LogSoftmax (the opset < 13 2-D coercion and the opset >= 13
 * single axis). 1-D spatial operators run as 2-D with a height of 1.
 */
final class OnnxNn {
  private OnnxNn() {}

  static Tensor[] convert(String op, OnnxAttrs a, NodeProto n, Tensor[] in, boolean[] known, int opset) {
    Tensor x = in[0];
    switch (op) {
      case "MatMul": return OnnxOps.one(x.matmul(in[1]));
      case "Gemm": {
        // a constant operand is transposed once, at trace time, not on every call
        Tensor A = a.i("transA", 0) != 0 ? constIf(x.transpose(0, 1), known[0]) : x;
        Tensor B = a.i("transB", 0) != 0 ? constIf(in[1].transpose(0, 1), known[1]) : in[1];
        double alpha = a.f("alpha", 1f), beta = a.f("beta", 1f);
        Tensor y = A.matmul(B);
        if (alpha != 1) {
          y = y.mul(alpha);
        }
        if (in.length > 2 && in[2] != null) {
          y = y.add(beta == 1 ? in[2] : in[2].mul(beta));
        }
        return OnnxOps.one(y);
      }
      case "Conv": return OnnxOps.one(conv(a, in));
      case "MaxPool": case "AveragePool": {
        boolean indices = op.equals("MaxPool") && n.getOutputCount() > 1 && !n.getOutput(1).isEmpty();
        return indices ? poolIndices(a, x) : new Tensor[] {pool(a, x, op.equals("MaxPool")), null};
      }
      case "GlobalAveragePool": case "GlobalMaxPool": {
        int r = x.rank();
        int[] axes = new int[r - 2];
        for (int i = 2; i < r; i++) {
          axes[i - 2] = i;
        }
        return OnnxOps.one(op.equals("GlobalMaxPool") ? x.max(true, axes) : x.mean(true, axes));
      }
      case "BatchNormalization": {
        double eps = a.f("epsilon", 1e-5f);
        long[] cs = channelShape(x.rank(), x.shape()[1]);
        Tensor scale = in[1].reshape(cs), bias = in[2].reshape(cs), mean = in[3].reshape(cs), var = in[4].reshape(cs);
        if (a.i("training_mode", 0) != 0) {
          // batch statistics (biased variance) and the updated running statistics (opset 14+)
          int[] axes = new int[x.rank() - 1];
          for (int i = 0, k = 0; i < x.rank(); i++) {
            if (i != 1) {
              axes[k++] = i;
            }
          }
          double mom = a.f("momentum", 0.9f);
          Tensor bm = x.mean(true, axes);
          Tensor d = x.sub(bm);
          Tensor bv = d.mul(d).mean(true, axes);
          Tensor y = d.mul(bv.add(eps).rsqrt().mul(scale)).add(bias);
          Tensor rm = in[3].mul(mom).add(bm.reshape(in[3].shape()).mul(1 - mom));
          Tensor rv = in[4].mul(mom).add(bv.reshape(in[4].shape()).mul(1 - mom));
          return new Tensor[] {y, rm, rv};
        }
        Tensor inv = var.add(eps).rsqrt();
        return OnnxOps.one(x.sub(mean).mul(inv.mul(scale)).add(bias));
      }
      case "LayerNormalization": {
        int r = x.rank();
        int axis = OnnxOps.norm(a, a.i("axis", -1), r);
        double eps = a.f("epsilon", 1e-5f);
        int[] axes = new int[r - axis];
        for (int i = axis; i < r; i++) {
          axes[i - axis] = i;
        }
        DType dt = x.dtype();
        Tensor xf = dt == DType.F64 ? x : x.to(DType.F32);  // stash_type=1: statistics in f32
        Tensor mean = xf.mean(true, axes);
        Tensor d = xf.sub(mean);
        Tensor inv = d.mul(d).mean(true, axes).add(eps).rsqrt();
        Tensor y = d.mul(inv).to(dt).mul(in[1]);
        if (in.length > 2 && in[2] != null) {
          y = y.add(in[2]);
        }
        return new Tensor[] {y, mean, inv};
      }
      case "Softmax": case "LogSoftmax": {
        boolean log = op.equals("LogSoftmax");
        int r = x.rank();
        if (opset >= 13) {
          int axis = OnnxOps.norm(a, a.i("axis", -1), r);
          return OnnxOps.one(log ? x.logSoftmax(axis) : x.softmax(axis));
        }
        // opset < 13: coerce to 2-D [prod(dims < axis), prod(dims >= axis)] and normalize rows
        long ax = a.i("axis", 1);
        int axis = (int) (ax < 0 ? ax + r : ax);
        if (axis < 0 || axis > r) {
          throw a.error("axis " + ax + " is out of range for rank " + r);
        }
        long[] s = x.shape();
        Tensor m = x.reshape(OnnxOps.prod(s, 0, axis), OnnxOps.prod(s, axis, r));
        Tensor y = log ? m.logSoftmax(1) : m.softmax(1);
        return OnnxOps.one(y.reshape(s));
      }
      default:
        throw a.error("operator " + op + " is not supported");
    }
  }

  private static Tensor constIf(Tensor t, boolean isConst) {
    return isConst ? t.materialized() : t;
  }

  private static long[] channelShape(int rank, long c) {
    long[] s = new long[rank];
    Arrays.fill(s, 1);
    s[1] = c;
    return s;
  }

  /** Per spatial dim: {begin, end} padding from pads/auto_pad. */
  private static long[][] pads(OnnxAttrs a, long[] inDims, long[] k, long[] stride, long[] dil) {
    int sd = inDims.length;
    long[][] p = new long[sd][2];
    String auto = a.s("auto_pad", "NOTSET");
    if (auto.equals("SAME_UPPER") || auto.equals("SAME_LOWER")) {
      for (int i = 0; i < sd; i++) {
        long out = (inDims[i] + stride[i] - 1) / stride[i];
        long total = Math.max(0, (out - 1) * stride[i] + (k[i] - 1) * dil[i] + 1 - inDims[i]);
        long small = total / 2, big = total - small;
        p[i][0] = auto.equals("SAME_UPPER") ? small : big;
        p[i][1] = auto.equals("SAME_UPPER") ? big : small;
      }
    } else if (!auto.equals("VALID")) {
      long[] pp = a.ints("pads", new long[2 * sd]);
      if (pp.length != 2 * sd) {
        throw a.error("pads " + Arrays.toString(pp) + " must have " + 2 * sd + " entries");
      }
      for (int i = 0; i < sd; i++) {
        p[i][0] = pp[i];
        p[i][1] = pp[i + sd];
      }
    }
    return p;
  }

  private static long[] fill(OnnxAttrs a, String k, int n, long dflt) {
    long[] v = a.ints(k, null);
    if (v == null) {
      v = new long[n];
      Arrays.fill(v, dflt);
    }
    if (v.length != n) {
      throw a.error("attribute " + k + " " + Arrays.toString(v) + " must have " + n + " entries");
    }
    return v;
  }

  private static String list(long... v) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < v.length; i++) {
      sb.append(i > 0 ? "," : "").append(v[i]);
    }
    return sb.append(']').toString();
  }

  static Tensor conv(OnnxAttrs a, Tensor[] in) {
    Tensor x = in[0], w = in[1];
    int sd = x.rank() - 2;
    if (sd != 1 && sd != 2) {
      throw a.error("only 1-D and 2-D convolutions are supported, input is " + Arrays.toString(x.shape()));
    }
    long[] ws = w.shape();
    long[] k = a.has("kernel_shape") ? a.ints("kernel_shape", null) : Arrays.copyOfRange(ws, 2, ws.length);
    long[] st = fill(a, "strides", sd, 1), dl = fill(a, "dilations", sd, 1);
    long[] xs = x.shape();
    long[][] p = pads(a, Arrays.copyOfRange(xs, 2, xs.length), k, st, dl);
    long g = a.i("group", 1);
    if (sd == 1) {
      x = x.unsqueeze(2);
      w = w.unsqueeze(2);
      st = new long[] {1, st[0]};
      dl = new long[] {1, dl[0]};
      p = new long[][] {{0, 0}, p[0]};
    }
    Tensor y = Tensor.op("conv2d", "dilation=" + list(dl) + ", groups=" + g + ", padding="
        + list(p[0][0], p[0][1], p[1][0], p[1][1]) + ", stride=" + list(st), x, w);
    if (in.length > 2 && in[2] != null) {
      y = y.add(in[2].reshape(channelShape(4, in[2].shape()[0])));
    }
    return sd == 1 ? y.squeeze(2) : y;
  }

  private static Tensor[] poolIndices(OnnxAttrs a, Tensor x) {
    int sd = x.rank() - 2;
    long[] k = a.ints("kernel_shape", null);
    if (sd < 1 || k == null || k.length != sd) {
      throw a.error("kernel_shape must have one entry per spatial dimension of " + Arrays.toString(x.shape()));
    }
    long[] st = fill(a, "strides", sd, 1), dil = fill(a, "dilations", sd, 1);
    long[] xs = x.shape();
    long[][] p = pads(a, Arrays.copyOfRange(xs, 2, xs.length), k, st, dil);
    return OnnxPool.maxWithIndices(a, x, k, st, dil, p, a.i("ceil_mode", 0) != 0);
  }

  private static Tensor pool(OnnxAttrs a, Tensor x, boolean max) {
    int sd = x.rank() - 2;
    if (sd < 1) {
      throw a.error("pooling needs an input of rank >= 3, got " + Arrays.toString(x.shape()));
    }
    long[] k = a.ints("kernel_shape", null);
    if (k == null || k.length != sd) {
      throw a.error("kernel_shape must have " + sd + " entries");
    }
    long[] st = fill(a, "strides", sd, 1), dil = fill(a, "dilations", sd, 1);
    long[] xs = x.shape();
    long[][] p = pads(a, Arrays.copyOfRange(xs, 2, xs.length), k, st, dil);
    boolean dilated = false;
    for (long d : dil) {
      dilated |= d != 1;
    }
    if (sd > 2 || dilated) {
      return OnnxPool.pool(a, x, max, k, st, dil, p, a.i("ceil_mode", 0) != 0);
    }
    long ceil = a.i("ceil_mode", 0);
    if (sd == 1) {
      x = x.unsqueeze(2);
      k = new long[] {1, k[0]};
      st = new long[] {1, st[0]};
      p = new long[][] {{0, 0}, p[0]};
    }
    DType dt = x.dtype();
    Tensor xf = dt.isFloatingPoint() ? x : x.to(DType.F32);
    String attrs = "ceil_mode=" + ceil + ", kernel=" + list(k) + ", padding=" + list(p[0][0], p[0][1], p[1][0], p[1][1])
        + ", stride=" + list(st);
    Tensor y = max ? Tensor.op("max_pool2d", attrs, xf)
        : Tensor.op("avg_pool2d", attrs + ", count_include_pad=" + a.i("count_include_pad", 0), xf);
    if (!dt.isFloatingPoint()) {
      y = y.to(dt);
    }
    return sd == 1 ? y.squeeze(2) : y;
  }
}
