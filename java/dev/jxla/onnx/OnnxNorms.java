package dev.jxla.onnx;

import dev.jxla.DType;
import dev.jxla.Tensor;
import java.util.Arrays;

/**
 * ONNX normalizations and small activations as composites: InstanceNormalization,
 * GroupNormalization (opset 18: scale/bias per group; 21: per channel), MeanVarianceNormalization,
 * LpNormalization, Celu, Shrink, Hardmax. Statistics are biased (divide by the count) and, for
 * f16/bf16 inputs, computed in f32 (the stash_type default), as in LayerNormalization.
 */
final class OnnxNorms {
  private OnnxNorms() {}

  private static int[] range(int from, int to) {
    int[] r = new int[Math.max(to - from, 0)];
    for (int i = 0; i < r.length; i++) {
      r[i] = from + i;
    }
    return r;
  }

  private static Tensor stash(Tensor x) {
    return x.dtype() == DType.F64 ? x : x.to(DType.F32);
  }

  /** (x - mean) / sqrt(var + eps) over {@code axes}, in the stash type. */
  private static Tensor standardize(Tensor x, int[] axes, double eps) {
    Tensor xf = stash(x);
    Tensor d = xf.sub(xf.mean(true, axes));
    return d.mul(d.mul(d).mean(true, axes).add(eps).rsqrt());
  }

  private static long[] channels(int rank, long c) {
    long[] s = new long[rank];
    Arrays.fill(s, 1);
    s[1] = c;
    return s;
  }

  static Tensor instanceNorm(OnnxAttrs a, Tensor[] in) {
    Tensor x = in[0];
    if (x.rank() < 3) {
      throw a.error("input must be [N, C, D1, ...], got " + Arrays.toString(x.shape()));
    }
    long c = x.shape()[1];
    Tensor y = standardize(x, range(2, x.rank()), a.f("epsilon", 1e-5f)).to(x.dtype());
    return y.mul(in[1].reshape(channels(x.rank(), c))).add(in[2].reshape(channels(x.rank(), c)));
  }

  static Tensor groupNorm(OnnxAttrs a, Tensor[] in, int opset) {
    Tensor x = in[0];
    long[] xs = x.shape();
    long g = a.i("num_groups", 0);
    if (xs.length < 2 || g <= 0 || xs[1] % g != 0) {
      throw a.error("num_groups " + g + " must divide the channels of " + Arrays.toString(xs));
    }
    long c = xs[1];
    Tensor grouped = x.reshape(xs[0], g, OnnxOps.prod(xs, 1, xs.length) / g);
    Tensor y = standardize(grouped, new int[] {2}, a.f("epsilon", 1e-5f)).to(x.dtype()).reshape(xs);
    Tensor scale = in[1];
    Tensor bias = in[2];
    if (scale.shape()[0] == g && g != c) {
      // opset 18: one scale and bias per group, applied to each of its c/g channels
      long[] rep = new long[(int) c];
      for (int i = 0; i < rep.length; i++) {
        rep[i] = i / (c / g);
      }
      Tensor idx = Tensor.of(rep, rep.length);
      scale = scale.gather(idx, 0);
      bias = bias.gather(idx, 0);
    } else if (scale.shape()[0] != c) {
      throw a.error("scale of shape " + Arrays.toString(scale.shape()) + " is neither per channel (" + c + ") nor per group ("
          + g + ")");
    }
    return y.mul(scale.reshape(channels(xs.length, c))).add(bias.reshape(channels(xs.length, c)));
  }

  /** (x - E[x]) / (sqrt(E[x^2] - E[x]^2) + 1e-9), the ONNX function body. */
  static Tensor meanVarianceNorm(OnnxAttrs a, Tensor x) {
    long[] ax = a.ints("axes", new long[] {0, 2, 3});
    int[] axes = new int[ax.length];
    for (int i = 0; i < ax.length; i++) {
      axes[i] = OnnxOps.norm(a, ax[i], x.rank());
    }
    Tensor mean = x.mean(true, axes);
    Tensor var = x.mul(x).mean(true, axes).sub(mean.mul(mean));
    return x.sub(mean).div(var.sqrt().add(1e-9));
  }

  static Tensor lpNorm(OnnxAttrs a, Tensor x) {
    int axis = OnnxOps.norm(a, a.i("axis", -1), x.rank());
    long p = a.i("p", 2);
    if (p != 1 && p != 2) {
      throw a.error("p must be 1 or 2, got " + p);
    }
    Tensor n = p == 1 ? x.abs().sum(true, axis) : x.mul(x).sum(true, axis).sqrt();
    return x.div(n);
  }

  static Tensor celu(OnnxAttrs a, Tensor x) {
    double alpha = a.f("alpha", 1f);
    return x.max(0.0).add(x.div(alpha).expm1().mul(alpha).min(0.0));
  }

  static Tensor shrink(OnnxAttrs a, Tensor x) {
    double bias = a.f("bias", 0f);
    double lambd = a.f("lambd", 0.5f);
    Tensor zero = Tensor.zeros(x.dtype(), x.shape());
    return Tensor.where(x.lt(-lambd), x.add(bias), Tensor.where(x.gt(lambd), x.sub(bias), zero));
  }

  /** 1 at the first maximum along axis, 0 elsewhere (before opset 13: over the 2-D coercion at axis). */
  static Tensor hardmax(OnnxAttrs a, Tensor x, int opset) {
    long[] xs = x.shape();
    if (opset < 13) {
      int axis = OnnxOps.norm(a, a.i("axis", 1), Math.max(x.rank(), 1));
      Tensor flat = x.reshape(OnnxOps.prod(xs, 0, axis), OnnxOps.prod(xs, axis, xs.length));
      return hardmaxAlong(flat, 1).reshape(xs);
    }
    return hardmaxAlong(x, OnnxOps.norm(a, a.i("axis", -1), x.rank()));
  }

  private static Tensor hardmaxAlong(Tensor x, int axis) {
    Tensor idx = x.argmax(axis, true);
    Tensor pos = Tensor.iota(idx.dtype(), axis, x.shape());
    return pos.eq(idx).to(x.dtype());
  }
}
