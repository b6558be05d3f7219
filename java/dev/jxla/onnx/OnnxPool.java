package dev.jxla.onnx;

import dev.jxla.DType;
import dev.jxla.Tensor;
import java.util.Arrays;

/**
 * MaxPool / AveragePool of any spatial rank with dilations, as a composite of strided slices:
 * the input is padded (with -inf for max, 0 for average), and for every kernel offset the strided
 * window view is sliced out and combined (max, or sum then divided by the element count). The
 * native pool kernels cover 1-D/2-D without dilation; this covers 3-D and dilated pools.
 *
 * <p>Output size per dim: floor (or ceil with ceil_mode) of (in + pads - ((k-1)*d + 1)) / s + 1,
 * dropping a last window that would start in the end padding. Divisor of AveragePool: the number
 * of input elements in the window (count_include_pad=0), or the elements of input plus explicit
 * pads (count_include_pad=1); the extra end padding that ceil_mode adds is never counted.
 */
final class OnnxPool {
  private OnnxPool() {}

  static Tensor pool(OnnxAttrs a, Tensor x, boolean max, long[] k, long[] st, long[] dil, long[][] pads, boolean ceil) {
    long[] xs = x.shape();
    int sd = xs.length - 2;
    long[] out = new long[sd];
    long[] extra = new long[sd];
    for (int i = 0; i < sd; i++) {
      long in = xs[2 + i], ek = (k[i] - 1) * dil[i] + 1;
      long len = in + pads[i][0] + pads[i][1] - ek;
      if (len < 0) {
        throw a.error("kernel " + Arrays.toString(k) + " (dilated) is larger than the padded input " + Arrays.toString(xs));
      }
      long o = ceil ? (len + st[i] - 1) / st[i] + 1 : len / st[i] + 1;
      if (ceil && (o - 1) * st[i] >= in + pads[i][0]) {
        o--;
      }
      out[i] = o;
      extra[i] = Math.max(0, (o - 1) * st[i] + ek - (in + pads[i][0] + pads[i][1]));
    }
    DType dt = x.dtype();
    Tensor xf = dt.isFloatingPoint() ? x : x.to(DType.F32);
    long[] lo = new long[xs.length], hi = new long[xs.length];
    for (int i = 0; i < sd; i++) {
      lo[2 + i] = pads[i][0];
      hi[2 + i] = pads[i][1] + extra[i];
    }
    Tensor padded = xf.pad(lo, hi, max ? Double.NEGATIVE_INFINITY : 0);
    Tensor count = null;
    if (!max) {
      boolean includePad = a.i("count_include_pad", 0) != 0;
      long[] inner = xs.clone();
      inner[0] = 1;
      inner[1] = 1;
      Tensor ones = Tensor.full(1, xf.dtype(), inner);
      long[] lo2 = includePad ? lo : new long[xs.length], hi2 = new long[xs.length];
      for (int i = 0; i < sd; i++) {
        hi2[2 + i] = includePad ? pads[i][1] : 0;
      }
      Tensor region = includePad ? ones.pad(lo2, hi2, 1) : ones;
      long[] lo3 = new long[xs.length], hi3 = new long[xs.length];
      for (int i = 0; i < sd; i++) {
        lo3[2 + i] = includePad ? 0 : pads[i][0];
        hi3[2 + i] = (includePad ? 0 : pads[i][1]) + extra[i];
      }
      count = windows(region.pad(lo3, hi3, 0), false, k, st, dil, out).materialized();
    }
    Tensor r = windows(padded, max, k, st, dil, out);
    if (!max) {
      r = r.div(count);
    }
    return dt.isFloatingPoint() ? r : r.to(dt);
  }

  /**
   * MaxPool with its Indices output: the flat index into the input of each window's first maximum
   * (row-major; with storage_order=1 the spatial part is column-major). Indices ride along the max as a constant index map over the
   * padded input.
   */
  static Tensor[] maxWithIndices(OnnxAttrs a, Tensor x, long[] k, long[] st, long[] dil, long[][] pads, boolean ceil) {
    boolean colMajor = a.i("storage_order", 0) != 0;
    long[] xs = x.shape();
    int sd = xs.length - 2;
    long[] out = new long[sd], lo = new long[xs.length], hi = new long[xs.length];
    for (int i = 0; i < sd; i++) {
      long in = xs[2 + i], ek = (k[i] - 1) * dil[i] + 1;
      long len = in + pads[i][0] + pads[i][1] - ek;
      long o = ceil ? (len + st[i] - 1) / st[i] + 1 : len / st[i] + 1;
      if (ceil && (o - 1) * st[i] >= in + pads[i][0]) {
        o--;
      }
      out[i] = o;
      lo[2 + i] = pads[i][0];
      hi[2 + i] = pads[i][1] + Math.max(0, (o - 1) * st[i] + ek - (in + pads[i][0] + pads[i][1]));
    }
    long[] ps = new long[xs.length];
    long n = 1;
    for (int d = 0; d < xs.length; d++) {
      ps[d] = xs[d] + lo[d] + hi[d];
      n *= ps[d];
    }
    if (n > Integer.MAX_VALUE - 8) {
      throw a.error("input " + Arrays.toString(xs) + " is too large for the Indices output");
    }
    long[] map = new long[(int) n];
    long[] pos = new long[xs.length];
    for (int e = 0; e < n; e++) {
      long flat = 0;
      for (int d = 0; d < 2; d++) {
        flat = flat * xs[d] + pos[d];
      }
      // spatial part: row-major, or column-major (first spatial dim fastest) for storage_order=1
      for (int j = 0; j < sd; j++) {
        int d = colMajor ? xs.length - 1 - j : 2 + j;
        long c = Math.min(Math.max(pos[d] - lo[d], 0), xs[d] - 1);  // pads never win: any in-range value
        flat = flat * xs[d] + c;
      }
      map[e] = flat;
      for (int d = xs.length - 1; d >= 0 && ++pos[d] == ps[d]; d--) {
        pos[d] = 0;
      }
    }
    DType dt = x.dtype();
    Tensor xf = dt.isFloatingPoint() ? x : x.to(DType.F32);
    Tensor pv = xf.pad(lo, hi, Double.NEGATIVE_INFINITY);
    Tensor pi = Tensor.of(map, ps);
    long[] off = new long[sd];
    Tensor accV = null, accI = null;
    while (true) {
      Tensor v = pv, ix = pi;
      for (int i = 0; i < sd; i++) {
        long start = off[i] * dil[i];
        v = v.slice(2 + i, start, start + (out[i] - 1) * st[i] + 1, st[i]);
        ix = ix.slice(2 + i, start, start + (out[i] - 1) * st[i] + 1, st[i]);
      }
      if (accV == null) {
        accV = v;
        accI = ix;
      } else {
        Tensor better = v.gt(accV);  // strictly greater: the first maximum wins
        accV = Tensor.where(better, v, accV);
        accI = Tensor.where(better, ix, accI);
      }
      int d = sd - 1;
      while (d >= 0 && ++off[d] == k[d]) {
        off[d] = 0;
        d--;
      }
      if (d < 0) {
        return new Tensor[] {dt.isFloatingPoint() ? accV : accV.to(dt), accI};
      }
    }
  }

  /** Max or sum over the kernel offsets of strided window views of an already padded input. */
  private static Tensor windows(Tensor p, boolean max, long[] k, long[] st, long[] dil, long[] out) {
    int sd = k.length;
    long[] off = new long[sd];
    Tensor acc = null;
    while (true) {
      Tensor v = p;
      for (int i = 0; i < sd; i++) {
        long start = off[i] * dil[i];
        v = v.slice(2 + i, start, start + (out[i] - 1) * st[i] + 1, st[i]);
      }
      acc = acc == null ? v : max ? acc.max(v) : acc.add(v);
      int d = sd - 1;
      while (d >= 0 && ++off[d] == k[d]) {
        off[d] = 0;
        d--;
      }
      if (d < 0) {
        return acc;
      }
    }
  }
}
