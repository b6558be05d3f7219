package dev.jxla.onnx;

import dev.jxla.Tensor;
import dev.jxla.onnx.proto.Onnx.NodeProto;
import java.util.Arrays;

/**
 * ONNX Split, Slice and Pad (opset-dependent operand forms: attributes before opsets 13, 10 and
 * 11, constant inputs after) onto Tensor slices, gathers and pads; called by
 * {@link OnnxOps#convert}. Their index operands must hold known values (OnnxOps.staticInputs).
 * Out-of-range starts and ends clamp as the ONNX operator documentation specifies; negative steps
 * become a gather of the selected indices; negative pads crop.
 */
final class OnnxSlicing {
  private OnnxSlicing() {}

  static Tensor[] split(OnnxAttrs a, NodeProto n, Tensor[] in, int opset) {
    Tensor x = in[0];
    int axis = OnnxOps.norm(a, a.i("axis", 0), x.rank());
    long dim = x.shape()[axis];
    int nout = n.getOutputCount();
    long[] parts = opset < 13 ? a.ints("split", null) : in.length > 1 && in[1] != null ? OnnxOps.vals(in[1]) : null;
    if (parts == null || parts.length == 0) {
      long k = a.has("num_outputs") ? a.i("num_outputs", nout) : nout;
      long chunk = (dim + k - 1) / k;
      parts = new long[(int) k];
      for (int i = 0; i < k; i++) {
        parts[i] = Math.max(0, Math.min(chunk, dim - i * chunk));
      }
    }
    Tensor[] out = new Tensor[parts.length];
    long off = 0;
    for (int i = 0; i < parts.length; i++) {
      out[i] = x.slice(axis, off, off + parts[i]);
      off += parts[i];
    }
    if (off != dim) {
      throw a.error("split sizes " + Arrays.toString(parts) + " do not add up to dimension " + dim);
    }
    return out;
  }

  static Tensor slice(OnnxAttrs a, Tensor[] in, int opset) {
    Tensor x = in[0];
    long[] s = x.shape();
    long[] starts, ends, axes, steps;
    if (opset < 10) {
      starts = a.ints("starts", new long[0]);
      ends = a.ints("ends", new long[0]);
      axes = a.ints("axes", null);
      steps = null;
    } else {
      starts = OnnxOps.vals(in[1]);
      ends = OnnxOps.vals(in[2]);
      axes = in.length > 3 && in[3] != null ? OnnxOps.vals(in[3]) : null;
      steps = in.length > 4 && in[4] != null ? OnnxOps.vals(in[4]) : null;
    }
    if (ends.length != starts.length) {
      throw a.error("starts " + Arrays.toString(starts) + " and ends " + Arrays.toString(ends) + " differ in length");
    }
    Tensor r = x;
    for (int i = 0; i < starts.length; i++) {
      int ax = OnnxOps.norm(a, axes == null ? i : axes[i], s.length);
      long step = steps == null ? 1 : steps[i];
      long n = s[ax];
      long st = starts[i], en = ends[i];
      if (step == 0) {
        throw a.error("step 0 on axis " + ax);
      }
      if (step > 0) {
        st = st < 0 ? st + n : st;
        en = en < 0 ? en + n : en;
        st = Math.max(0, Math.min(n, st));
        en = Math.max(0, Math.min(n, en));
        r = r.slice(ax, st, Math.max(st, en), step);
      } else {
        st = st < 0 ? st + n : st;
        en = en < 0 ? en + n : en;
        st = Math.max(-1, Math.min(n - 1, st));
        en = Math.max(-1, Math.min(n - 1, en));
        int cnt = (int) Math.max(0, (st - en + (-step) - 1) / (-step));
        long[] idx = new long[cnt];
        for (int k = 0; k < cnt; k++) {
          idx[k] = st + k * step;
        }
        r = r.gather(Tensor.of(idx, cnt), ax);
      }
    }
    return r;
  }

  static Tensor pad(OnnxAttrs a, Tensor[] in, int opset) {
    Tensor x = in[0];
    int r = x.rank();
    long[] pads;
    double value = 0;
    long[] axes = null;
    if (opset < 11) {
      pads = a.ints("pads", a.ints("paddings", new long[0]));
      value = a.f("value", 0f);
    } else {
      pads = OnnxOps.vals(in[1]);
      if (in.length > 2 && in[2] != null) {
        value = in[2].item();
      }
      if (in.length > 3 && in[3] != null) {
        axes = OnnxOps.vals(in[3]);
      }
    }
    int na = axes == null ? r : axes.length;
    if (pads.length != 2 * na) {
      throw a.error("pads " + Arrays.toString(pads) + " must have " + 2 * na + " entries");
    }
    long[] lo = new long[r], hi = new long[r];
    for (int i = 0; i < na; i++) {
      int ax = axes == null ? i : OnnxOps.norm(a, axes[i], r);
      lo[ax] = pads[i];
      hi[ax] = pads[i + na];
    }
    // negative pads crop
    Tensor t = x;
    long[] s = x.shape();
    for (int i = 0; i < r; i++) {
      if (lo[i] < 0 || hi[i] < 0) {
        long st = Math.max(0, -lo[i]), en = s[i] - Math.max(0, -hi[i]);
        t = t.slice(i, st, Math.max(st, en));
        lo[i] = Math.max(0, lo[i]);
        hi[i] = Math.max(0, hi[i]);
      }
    }
    return t.pad(lo, hi, value);
  }
}
