package dev.jxla.onnx;

import dev.jxla.DType;
import dev.jxla.Tensor;
import java.util.Arrays;

/**
 * ONNX GatherND, ScatterND and ScatterElements on the engine's gather and scatter_add. GatherND
 * and ScatterND linearize the k index components (row-major over the first k indexed dimensions,
 * plus the batch dimensions for GatherND's batch_dims) so one gather or scatter along axis 0 of
 * the data flattened to [positions, rest] does the work. Negative indices count from the end.
 *
 * <p>Decision for reduction "none": the result takes the updates where any index points and the
 * data elsewhere, built as a select on a scattered count; ONNX leaves duplicate indices undefined
 * for "none", and here their updates are summed. "add" is scatter_add itself; "mul", "max" and
 * "min" are refused at load (no scatter for them in the engine).
 */
final class OnnxScatter {
  private OnnxScatter() {}

  /** Why a scatter node cannot be imported (its reduction), or null. */
  static String check(OnnxAttrs a, String op) {
    String r = a.s("reduction", "none");
    return r.equals("none") || r.equals("add") ? null : op + "(reduction=" + r + ")";
  }

  /** The index components idx[..., j] as one linear position (s64), each normalized against dims[j]. */
  private static Tensor linear(OnnxAttrs a, Tensor idx, long[] dims, int from) {
    long[] is = idx.shape();
    int k = (int) is[is.length - 1];
    if (k > dims.length - from) {
      throw a.error("indices " + Arrays.toString(is) + " index " + k + " dimensions but the data has only "
          + (dims.length - from) + " after the batch dimensions (data " + Arrays.toString(dims) + ")");
    }
    Tensor i64 = idx.to(DType.S64);
    Tensor lin = null;
    long stride = 1;
    for (int j = k - 1; j >= 0; j--) {
      Tensor c = OnnxOps.normIndices(i64.slice(is.length - 1, j, j + 1).squeeze(is.length - 1), dims[from + j], false);
      Tensor term = stride == 1 ? c : c.mul((double) stride);
      lin = lin == null ? term : lin.add(term);
      stride *= dims[from + j];
    }
    return lin == null ? Tensor.zeros(DType.S64, Arrays.copyOf(is, is.length - 1)) : lin;
  }

  /** GatherND(data, indices), batch_dims b: out shape indices.shape[:-1] + data.shape[b + k:]. */
  static Tensor gatherND(OnnxAttrs a, Tensor data, Tensor idx) {
    long[] ds = data.shape();
    long[] is = idx.shape();
    int b = (int) a.i("batch_dims", 0);
    if (is.length < 1 || b < 0 || b >= is.length || b > ds.length) {
      throw a.error("batch_dims " + b + " does not fit data " + Arrays.toString(ds) + " and indices " + Arrays.toString(is));
    }
    for (int d = 0; d < b; d++) {
      if (ds[d] != is[d]) {
        throw a.error("batch dimension " + d + " differs: data " + Arrays.toString(ds) + ", indices " + Arrays.toString(is));
      }
    }
    int k = (int) is[is.length - 1];
    Tensor lin = linear(a, idx, ds, b);
    long positions = OnnxOps.prod(ds, b, b + k);
    if (b > 0) {
      // the batch position, row-major over the first b dimensions, selects the block of `positions`
      long[] ls = Arrays.copyOf(is, is.length - 1);
      long stride = positions;
      for (int d = b - 1; d >= 0; d--) {
        lin = lin.add(Tensor.iota(DType.S64, d, ls).mul((double) stride));
        stride *= ds[d];
      }
    }
    long rest = OnnxOps.prod(ds, b + k, ds.length);
    Tensor flat = data.reshape(OnnxOps.prod(ds, 0, b + k), rest);
    Tensor g = flat.gather(lin, 0);  // indices.shape[:-1] + [rest]
    long[] out = new long[is.length - 1 + ds.length - b - k];
    System.arraycopy(is, 0, out, 0, is.length - 1);
    System.arraycopy(ds, b + k, out, is.length - 1, ds.length - b - k);
    return g.reshape(out);
  }

  /** ScatterND(data, indices, updates): updates.shape = indices.shape[:-1] + data.shape[k:]. */
  static Tensor scatterND(OnnxAttrs a, Tensor data, Tensor idx, Tensor upd) {
    long[] ds = data.shape();
    long[] is = idx.shape();
    int k = is.length == 0 ? 0 : (int) is[is.length - 1];
    long[] want = new long[Math.max(is.length - 1, 0) + ds.length - Math.min(k, ds.length)];
    if (is.length >= 1 && k <= ds.length) {
      System.arraycopy(is, 0, want, 0, is.length - 1);
      System.arraycopy(ds, k, want, is.length - 1, ds.length - k);
    }
    if (is.length < 1 || k > ds.length || !Arrays.equals(want, upd.shape())) {
      throw a.error("data " + Arrays.toString(ds) + ", indices " + Arrays.toString(is) + " and updates "
          + Arrays.toString(upd.shape()) + " do not fit (updates must be indices.shape[:-1] + data.shape[k:])");
    }
    long rest = OnnxOps.prod(ds, k, ds.length);
    long n = OnnxOps.prod(is, 0, is.length - 1);
    Tensor lin = linear(a, idx, ds, 0).reshape(n, 1).broadcastTo(n, rest);
    Tensor flat = data.reshape(OnnxOps.prod(ds, 0, k), rest);
    Tensor u = upd.reshape(n, rest);
    return combine(a, flat, lin, u, 0).reshape(ds);
  }

  /** ScatterElements(data, indices, updates), axis: the inverse of GatherElements. */
  static Tensor scatterElements(OnnxAttrs a, Tensor data, Tensor idx, Tensor upd) {
    int axis = OnnxOps.norm(a, a.i("axis", 0), data.rank());
    if (!Arrays.equals(idx.shape(), upd.shape()) || idx.rank() != data.rank()) {
      throw a.error("indices " + Arrays.toString(idx.shape()) + " and updates " + Arrays.toString(upd.shape())
          + " must have one shape, of the rank of data " + Arrays.toString(data.shape()));
    }
    Tensor i = OnnxOps.normIndices(idx.to(DType.S64), data.shape()[axis], false);
    return combine(a, data, i, upd, axis);
  }

  /** data with updates scattered along axis: added ("add"), or replacing data where hit ("none"). */
  private static Tensor combine(OnnxAttrs a, Tensor data, Tensor idx, Tensor upd, int axis) {
    Tensor u = upd.to(data.dtype());
    if (a.s("reduction", "none").equals("add")) {
      return data.scatterAdd(axis, idx, u);
    }
    Tensor zeros = Tensor.zeros(data.dtype(), data.shape());
    Tensor hits = Tensor.zeros(DType.F32, data.shape()).scatterAdd(axis, idx, Tensor.ones(DType.F32, upd.shape()));
    return Tensor.where(hits.gt(0.0), zeros.scatterAdd(axis, idx, u), data);
  }
}
