package dev.jxla;

import static dev.jxla.TensorArgs.list;
import static dev.jxla.TensorArgs.normAxis;

import dev.jxla.internal.Ops;

/**
 * Sorting behind {@link Tensor#topk}: the engine's {@code top_k} op gives int64 indices and the
 * values are {@code takeAlongAxis(indices)}, so the IR stays single-output and the values are
 * differentiable through take_along_axis (the indices are integers and carry no gradient).
 *
 * <p>Order: along the axis, descending for largest (ascending otherwise); equal values keep the
 * lower index first (ONNX TopK); NaN ranks above +inf (as ONNX Runtime does), so NaNs lead for
 * largest and trail for smallest; -0.0 equals 0.0.
 *
 * <p>Invariants: arguments are checked against the current shape before anything is traced, so a
 * bad argument throws {@link IllegalArgumentException} starting with {@code "topk: "} and records
 * no IR; both results escape to the caller's scope, nothing else is traced.
 */
final class TensorSort {
  private TensorSort() {}

  /** {@code {values, indices}} of the k largest/smallest elements along {@code axis}. */
  static Tensor[] topk(Tensor x, int k, int axis, boolean largest) {
    long[] s = x.shape();
    if (s.length == 0) {
      throw new IllegalArgumentException("topk: the tensor must have rank >= 1, got a scalar");
    }
    if (x.dtype() == DType.BOOL) {
      throw new IllegalArgumentException("topk: bool tensors are not supported (shape " + list(s) + "); convert first");
    }
    int ax = normAxis("topk", axis, s.length);
    if (k < 0 || k > s[ax]) {
      throw new IllegalArgumentException("topk: k = " + k + " is out of range [0, " + s[ax] + "] for axis "
          + axis + " of shape " + list(s));
    }
    Tensor idx = x.apply(Ops.TOP_K, "axis=" + ax + ", k=" + k + ", largest=" + TensorArgs.flag(largest));
    return new Tensor[] {x.takeAlongAxis(idx, ax), idx};
  }
}
