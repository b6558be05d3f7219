package dev.jxla;

import static dev.jxla.TensorArgs.list;
import static dev.jxla.TensorArgs.normAxis;

import dev.jxla.internal.Ops;
import java.util.Arrays;

/**
 * Shape planning behind {@link Tensor}'s shape and linear-algebra methods: NumPy broadcasting,
 * slice bounds, squeeze/unsqueeze, axis permutations and NumPy matmul lowered to dot_general.
 *
 * <p>Invariants: everything is checked against the operands' current shapes before an op is
 * traced, so a bad argument throws {@link IllegalArgumentException} naming the public op and
 * records no IR; intermediates a method traces are closed before it returns (only the result
 * escapes to the caller's scope).
 */
final class TensorShapes {
  private TensorShapes() {}

  /** The identity permutation of {@code rank} dims with {@code a} and {@code b} swapped. */
  static int[] swapPerm(int a, int b, int rank) {
    int[] perm = identity(rank);
    int na = normAxis("transpose", a, rank), nb = normAxis("transpose", b, rank);
    perm[na] = nb;
    perm[nb] = na;
    return perm;
  }

  /** 0, 1, ..., n-1. */
  static int[] identity(int n) {
    int[] a = new int[n];
    for (int i = 0; i < n; i++) {
      a[i] = i;
    }
    return a;
  }

  /** {@code t} broadcast to {@code shape}: size-1 dims are dropped by a reshape, then broadcast. */
  static Tensor broadcastTo(Tensor t, long[] shape) {
    if (shape == null) {
      throw new IllegalArgumentException("broadcastTo: shape is null");
    }
    long[] s = t.shape();
    if (s.length > shape.length) {
      throw new IllegalArgumentException("broadcastTo: cannot broadcast " + list(s) + " to " + list(shape));
    }
    int off = shape.length - s.length;
    long[] kept = new long[s.length];
    int[] dims = new int[s.length];
    int k = 0;
    for (int i = 0; i < s.length; i++) {
      if (s[i] == shape[off + i]) {
        kept[k] = s[i];
        dims[k++] = off + i;
      } else if (s[i] != 1) {
        throw new IllegalArgumentException("broadcastTo: cannot broadcast " + list(s) + " to "
            + list(shape) + " (dimension " + i + ")");
      }
    }
    long[] keptShape = Arrays.copyOf(kept, k);
    String attrs = "dims=" + list(Arrays.copyOf(dims, k)) + ", shape=" + list(shape);
    if (k == s.length) {
      return t.apply(Ops.BROADCAST, attrs);
    }
    try (Tensor r = t.reshape(keptShape)) {
      return r.apply(Ops.BROADCAST, attrs);
    }
  }

  /** The slice op's attributes for {@code Tensor.slice} on a tensor of shape {@code s}. */
  static String sliceAttrs(long[] s, int axis, long start, long end, long step) {
    int ax = normAxis("slice", axis, s.length);
    long n = s[ax];
    long st = start < 0 ? start + n : start;
    long en = end < 0 ? end + n : end;
    st = Math.max(0, Math.min(n, st));
    en = Math.max(st, Math.min(n, en));
    if (step < 1) {
      throw new IllegalArgumentException("slice: step " + step + " must be >= 1");
    }
    long[] lo = new long[s.length];
    long[] hi = s.clone();
    long[] sd = new long[s.length];
    Arrays.fill(sd, 1);
    lo[ax] = st;
    hi[ax] = en;
    sd[ax] = step;
    return "limit=" + list(hi) + ", start=" + list(lo) + ", stride=" + list(sd);
  }

  /** {@code s} without dimension {@code axis}, which must have size 1. */
  static long[] squeezed(long[] s, int axis) {
    int ax = normAxis("squeeze", axis, s.length);
    if (s[ax] != 1) {
      throw new IllegalArgumentException("squeeze: dimension " + axis + " of " + list(s) + " has size " + s[ax] + ", not 1");
    }
    long[] r = new long[s.length - 1];
    for (int i = 0, k = 0; i < s.length; i++) {
      if (i != ax) {
        r[k++] = s[i];
      }
    }
    return r;
  }

  /** {@code s} with a dimension of size 1 inserted at {@code axis} (0..rank). */
  static long[] unsqueezed(long[] s, int axis) {
    int ax = axis < 0 ? axis + s.length + 1 : axis;
    if (ax < 0 || ax > s.length) {
      throw new IllegalArgumentException("unsqueeze: axis " + axis + " is out of range for rank " + s.length);
    }
    long[] r = new long[s.length + 1];
    for (int i = 0, k = 0; i < r.length; i++) {
      r[i] = i == ax ? 1 : s[k++];
    }
    return r;
  }

  /** dot_general of {@code l} and {@code r}; {@code extra} is appended to the attributes. */
  static Tensor dot(Tensor l, Tensor r, int[] lc, int[] rc, int[] lb, int[] rb, String extra) {
    return l.apply(Ops.DOT_GENERAL, "lhs_batch=" + list(lb) + ", lhs_contract=" + list(lc) + ", rhs_batch=" + list(rb)
        + ", rhs_contract=" + list(rc) + extra, r);
  }

  /**
   * NumPy matmul: rank <= 2 is one dot_general; otherwise 1-D operands get a unit dim, batch
   * dims broadcast, and the unit dims are squeezed off the result.
   */
  static Tensor matmul(Tensor self, Tensor other, Precision precision) {
    if (other == null) {
      throw new IllegalArgumentException("matmul: other is null");
    }
    long[] a = self.shape(), b = other.shape();
    if (a.length == 0 || b.length == 0) {
      throw new IllegalArgumentException("matmul: operands must have rank >= 1, got " + list(a) + " and " + list(b));
    }
    String prec = precision == null ? "" : ", precision=" + precision.id();
    if (a.length <= 2 && b.length <= 2) {
      if (a.length == 2 && b.length == 2 && a[1] != b[0] || a.length == 1 && b.length == 2 && a[0] != b[0]
          || a.length == 2 && b.length == 1 && a[1] != b[0] || a.length == 1 && b.length == 1 && a[0] != b[0]) {
        throw new IllegalArgumentException("matmul: shapes " + list(a) + " and " + list(b)
            + " are not aligned (contracting dimensions differ)");
      }
      return dot(self, other, new int[] {a.length - 1}, new int[] {0}, new int[0], new int[0], prec);
    }
    // batched: broadcast batch dims, then dot_general with batch dims
    Tensor l = self, r = other;
    boolean squeezeL = false, squeezeR = false;
    try (TensorScope scope = new TensorScope()) {
      if (a.length == 1) {
        l = self.unsqueeze(0);
        squeezeL = true;
      }
      if (b.length == 1) {
        r = other.unsqueeze(1);
        squeezeR = true;
      }
      long[] ls = l.shape(), rs = r.shape();
      int lb = ls.length - 2, rb = rs.length - 2, nb = Math.max(lb, rb);
      long[] batch = new long[nb];
      for (int i = 0; i < nb; i++) {
        long dl = i - (nb - lb) >= 0 ? ls[i - (nb - lb)] : 1;
        long dr = i - (nb - rb) >= 0 ? rs[i - (nb - rb)] : 1;
        if (dl != dr && dl != 1 && dr != 1) {
          throw new IllegalArgumentException("matmul: batch dimensions of " + list(a) + " and " + list(b) + " do not broadcast");
        }
        batch[i] = Math.max(dl, dr);
      }
      if (ls[ls.length - 1] != rs[rs.length - 2]) {
        throw new IllegalArgumentException("matmul: shapes " + list(a) + " and " + list(b)
            + " are not aligned (" + ls[ls.length - 1] + " vs " + rs[rs.length - 2] + ")");
      }
      Tensor lB = broadcastBatch(l, ls, batch);
      Tensor rB = broadcastBatch(r, rs, batch);
      int[] bd = identity(nb);
      Tensor out = dot(lB, rB, new int[] {nb + 1}, new int[] {nb}, bd, bd, prec);
      if (squeezeL) {
        out = out.squeeze(-2);
      }
      if (squeezeR) {
        out = out.squeeze(-1);
      }
      return scope.keep(out);
    }
  }

  /** {@code t} (shape {@code s}, rank >= 2) with its batch dims broadcast to {@code batch}. */
  private static Tensor broadcastBatch(Tensor t, long[] s, long[] batch) {
    int nb = batch.length;
    long[] target = Arrays.copyOf(batch, nb + 2);
    target[nb] = s[s.length - 2];
    target[nb + 1] = s[s.length - 1];
    return Arrays.equals(s, target) ? t : t.broadcastTo(target);
  }
}
