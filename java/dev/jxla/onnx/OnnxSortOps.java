package dev.jxla.onnx;

import dev.jxla.DType;
import dev.jxla.Tensor;
import java.util.Arrays;

/**
 * ONNX TopK on the engine's top_k op (through {@link Tensor#topk}; called by
 * {@link OnnxOps#convert}). Opsets 7-9 take k as an attribute, opsets 10+ as input 1, which must be
 * a known constant (OnnxOps.staticInputs) because it fixes the output shape. Order: descending
 * for largest=1 (ascending otherwise), equal values by the lower index (the ONNX rule), NaN above
 * +inf (ONNX Runtime's choice). sorted=0 leaves the order to the implementation, so the sorted
 * result is returned either way. Outputs: Values (input dtype), Indices (int64).
 */
final class OnnxSortOps {
  private OnnxSortOps() {}

  static Tensor[] topk(OnnxAttrs a, Tensor[] in, int opset) {
    Tensor x = in[0];
    long[] s = x.shape();
    if (s.length == 0) {
      throw a.error("input must have rank >= 1, got a scalar");
    }
    if (x.dtype() == DType.BOOL) {
      throw a.error("bool input (shape " + Arrays.toString(s) + ") is not a TopK type");
    }
    long k;
    if (opset < 10) {
      if (!a.has("k")) {
        throw a.error("attribute k is missing (opset " + opset + ")");
      }
      k = a.i("k", 0);
    } else {
      if (in.length < 2 || in[1] == null) {
        throw a.error("input K is missing");
      }
      long[] kv = OnnxOps.vals(in[1]);
      if (kv.length != 1) {
        throw a.error("K must hold one element, got shape " + Arrays.toString(in[1].shape()));
      }
      k = kv[0];
    }
    long axis = a.i("axis", -1);
    long ax = axis < 0 ? axis + s.length : axis;
    if (ax < 0 || ax >= s.length) {
      throw a.error("axis " + axis + " is out of range for input shape " + Arrays.toString(s));
    }
    if (k < 0 || k > s[(int) ax]) {
      throw a.error("K = " + k + " is out of range [0, " + s[(int) ax] + "] for axis " + axis + " of input shape "
          + Arrays.toString(s));
    }
    return x.topk((int) k, (int) ax, a.i("largest", 1) != 0);
  }
}
