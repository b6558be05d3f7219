package dev.jxla.onnx;

import dev.jxla.DType;
import dev.jxla.Tensor;
import dev.jxla.onnx.proto.Onnx.AttributeProto;
import dev.jxla.onnx.proto.Onnx.GraphProto;
import dev.jxla.onnx.proto.Onnx.NodeProto;
import dev.jxla.onnx.proto.Onnx.TensorProto;
import dev.jxla.onnx.proto.Onnx.ValueInfoProto;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * QuantizeLinear and DequantizeLinear (opsets 10-21), the QDQ format of quantized ONNX models,
 * and DynamicQuantizeLinear with MatMulInteger, what ONNX Runtime's dynamic quantization emits:
 * {@code y = saturate(round_half_even(x / scale) + zero_point)} and
 * {@code y = (x - zero_point) * scale}, per tensor, per axis (1-D scale along {@code axis}) or
 * blocked (opset 21: scale of x's rank, {@code block_size} elements of x per scale along axis).
 *
 * <p>Integer types narrower than 32 bits are s32 tensors here (see OnnxTensors), so a quantized
 * tensor's ONNX type is not in its dtype. {@link #annotate} finds it at load (the zero point's
 * declared type, else {@code output_dtype}, else uint8) and records it on the node as the
 * internal attribute {@link #QTYPE}; the converter saturates to that type's range, so values
 * always fit it. Quantization to float8/float4 is refused at load. Arithmetic is in the scale's
 * dtype (f32 for f32 scales), as the spec says; dequantized outputs have the scale's dtype.
 */
final class OnnxQuant {
  private OnnxQuant() {}

  /** Internal attribute: the ONNX element type QuantizeLinear produces (set by {@link #annotate}). */
  static final String QTYPE = "jxla.quantized_type";

  /**
   * Returns the nodes with every QuantizeLinear annotated with its target type. The types of
   * values come from initializers, graph inputs, value_info, Constant, Cast and earlier
   * QuantizeLinear nodes; a zero point of unknown type, or a float8/float4 target, throws.
   */
  static List<NodeProto> annotate(List<NodeProto> nodes, GraphProto g, String source) {
    Map<String, Integer> types = new HashMap<>();
    for (TensorProto t : g.getInitializerList()) {
      types.put(t.getName(), t.getDataType());
    }
    for (List<ValueInfoProto> vs : List.of(g.getInputList(), g.getValueInfoList(), g.getOutputList())) {
      for (ValueInfoProto v : vs) {
        if (v.hasType() && v.getType().hasTensorType() && v.getType().getTensorType().getElemType() != 0) {
          types.put(v.getName(), v.getType().getTensorType().getElemType());
        }
      }
    }
    List<NodeProto> out = new ArrayList<>();
    for (NodeProto n : nodes) {
      OnnxAttrs a = new OnnxAttrs(n);
      switch (n.getOpType()) {
        case "Constant" -> {
          if (a.t("value") != null && n.getOutputCount() > 0) {
            types.put(n.getOutput(0), a.t("value").getDataType());
          }
        }
        case "Cast" -> types.put(n.getOutput(0), (int) a.i("to", 0));
        case "Identity" -> {
          if (types.containsKey(n.getInput(0))) {
            types.put(n.getOutput(0), types.get(n.getInput(0)));
          }
        }
        case "QuantizeLinear" -> {
          int q;
          if (n.getInputCount() > 2 && !n.getInput(2).isEmpty()) {
            Integer zt = types.get(n.getInput(2));
            if (zt == null) {
              throw new OnnxException(source + ": " + a.where() + ": the type of zero point '" + n.getInput(2)
                  + "' is not declared (give it as an initializer, a Constant or a typed value_info)");
            }
            q = zt;
          } else {
            q = (int) a.i("output_dtype", OnnxTensors.UINT8);
          }
          if (range(q) == null) {
            throw new OnnxException(source + ": unsupported operator(s): QuantizeLinear to " + OnnxTensors.typeName(q)
                + " (integer targets only: int8, uint8, int16, uint16, int4, uint4, int2, uint2)");
          }
          types.put(n.getOutput(0), q);
          n = n.toBuilder().addAttribute(AttributeProto.newBuilder().setName(QTYPE).setI(q)
              .setType(AttributeProto.AttributeType.INT)).build();
        }
        case "DynamicQuantizeLinear" -> {
          List<Integer> t = List.of(OnnxTensors.UINT8, OnnxTensors.FLOAT, OnnxTensors.UINT8);
          for (int k = 0; k < Math.min(3, n.getOutputCount()); k++) {
            types.put(n.getOutput(k), t.get(k));
          }
        }
        case "MatMulInteger", "ConvInteger" -> types.put(n.getOutput(0), OnnxTensors.INT32);
        case "QLinearMatMul", "QLinearConv" -> {
          Integer zt = n.getInputCount() > 7 ? types.get(n.getInput(7)) : null;
          if (zt == null || range(zt) == null) {
            throw new OnnxException(source + ": " + a.where() + ": the output zero point's type must be a declared 8-bit integer type, got "
                + (zt == null ? "none" : OnnxTensors.typeName(zt)));
          }
          types.put(n.getOutput(0), zt);
          n = n.toBuilder().addAttribute(AttributeProto.newBuilder().setName(QTYPE).setI(zt)
              .setType(AttributeProto.AttributeType.INT)).build();
        }
        default -> { }
      }
      out.add(n);
    }
    return out;
  }

  /** The saturation range of an integer quantization type, or null for other types. */
  static long[] range(int t) {
    return switch (t) {
      case OnnxTensors.UINT8 -> new long[] {0, 255};
      case OnnxTensors.INT8 -> new long[] {-128, 127};
      case OnnxTensors.UINT16 -> new long[] {0, 65535};
      case OnnxTensors.INT16 -> new long[] {-32768, 32767};
      case OnnxTensors.UINT4 -> new long[] {0, 15};
      case OnnxTensors.INT4 -> new long[] {-8, 7};
      case OnnxTensors.UINT2 -> new long[] {0, 3};
      case OnnxTensors.INT2 -> new long[] {-2, 1};
      default -> null;
    };
  }

  /** QuantizeLinear(x, y_scale[, y_zero_point]) -> s32 values of the annotated type. */
  static Tensor quantize(OnnxAttrs a, Tensor[] in, int opset) {
    long[] r = range((int) a.i(QTYPE, OnnxTensors.UINT8));
    Tensor x = in[0];
    Tensor s = in[1];
    DType ft = s.dtype().isFloatingPoint() ? s.dtype() : DType.F32;
    Tensor scale = param(a, s, x, "y_scale", opset).to(ft);
    Tensor q = x.to(ft).div(scale).round();
    if (in.length > 2 && in[2] != null) {
      q = q.add(param(a, in[2], x, "y_zero_point", opset).to(ft));
    }
    return q.clamp(r[0], r[1]).to(DType.S32);
  }

  /** DequantizeLinear(x, x_scale[, x_zero_point]) -> values in the scale's dtype. */
  static Tensor dequantize(OnnxAttrs a, Tensor[] in, int opset) {
    Tensor x = in[0];
    Tensor s = in[1];
    DType ft = s.dtype().isFloatingPoint() ? s.dtype() : DType.F32;
    Tensor v = x.to(ft);
    if (in.length > 2 && in[2] != null) {
      v = v.sub(param(a, in[2], x, "x_zero_point", opset).to(ft));
    }
    return v.mul(param(a, s, x, "x_scale", opset).to(ft));
  }

  /**
   * A scale or zero point shaped to broadcast against x: a scalar (or one element) per tensor; a
   * 1-D tensor of x.shape[axis] per axis; x's rank with ceil(D / block_size) along axis, blocked.
   */
  private static Tensor param(OnnxAttrs a, Tensor p, Tensor x, String name, int opset) {
    long[] ps = p.shape();
    long[] xs = x.shape();
    if (OnnxOps.prod(ps, 0, ps.length) == 1) {
      return p.reshape();  // one value: per tensor (also a per-axis or blocked scale of one element)
    }
    if (opset < 13) {
      throw a.error(name + " must be a scalar before opset 13, got shape " + Arrays.toString(ps));
    }
    int ax = OnnxOps.norm(a, a.i("axis", 1), Math.max(xs.length, 1));
    long block = a.i("block_size", 0);
    if (block <= 0) {
      if (ps.length != 1 || ps[0] != xs[ax]) {
        throw a.error(name + " of shape " + Arrays.toString(ps) + " is neither a scalar nor a 1-D tensor of x.shape[" + ax
            + "] = " + xs[ax] + " (x is " + Arrays.toString(xs) + ")");
      }
      long[] shape = new long[xs.length];
      Arrays.fill(shape, 1);
      shape[ax] = xs[ax];
      return p.reshape(shape);
    }
    boolean ok = ps.length == xs.length && ps[ax] == (xs[ax] + block - 1) / block;
    for (int d = 0; ok && d < xs.length; d++) {
      ok = d == ax || ps[d] == xs[d];
    }
    if (!ok) {
      throw a.error(name + " of shape " + Arrays.toString(ps) + " does not block x " + Arrays.toString(xs) + " with block_size "
          + block + " along axis " + ax + " (expected x's shape with ceil(" + xs[ax] + " / " + block + ") along the axis)");
    }
    long[] idx = new long[(int) xs[ax]];
    for (int i = 0; i < idx.length; i++) {
      idx[i] = i / block;
    }
    return p.gather(Tensor.of(idx, idx.length), ax);
  }

  /**
   * DynamicQuantizeLinear(x) -> (y uint8, y_scale, y_zero_point uint8), opset 11: the range of x
   * widened to include 0 maps onto [0, 255]. All-zero x (scale 0, where the spec's formula
   * divides 0 by 0) gives scale 0, zero point 0 and y 0.
   */
  static Tensor[] dynamicQuantize(Tensor x) {
    Tensor f = x.to(DType.F32);
    Tensor flat = f.reshape(OnnxOps.prod(f.shape(), 0, f.rank()));
    Tensor lo = flat.min(new int[] {0}).min(0.0);  // axes, then the scalar 0
    Tensor hi = flat.max(new int[] {0}).max(0.0);
    Tensor scale = hi.sub(lo).div(255.0);
    Tensor zero = scale.eq(0.0);
    Tensor safe = Tensor.where(zero, Tensor.scalar(1f), scale);
    Tensor zp = Tensor.where(zero, Tensor.scalar(0f), lo.neg().div(safe).clamp(0, 255).round());
    Tensor y = f.div(safe).round().add(zp).clamp(0, 255);
    return new Tensor[] {y.to(DType.S32), scale, zp.to(DType.S32)};
  }

  /**
   * MatMulInteger(A, B[, a_zero_point][, b_zero_point]) -> int32 (A - a_zp) @ (B - b_zp), opset
   * 10; a_zp per tensor or per row of A (1-D of M), b_zp per tensor or per column (1-D of N).
   * Computed in f64: 8-bit products summed over K stay exact below 2^53 (f32 would round once K
   * exceeds ~258), then converted.
   */
  static Tensor matMulInteger(OnnxAttrs a, Tensor[] in) {
    return integerProduct(a, in[0], in[1], arg(in, 2), arg(in, 3), false).to(DType.S32);
  }

  /**
   * ConvInteger(x, w[, x_zero_point][, w_zero_point]) -> int32, opset 10: Conv's attributes;
   * (x - x_zp) conv (w - w_zp) in f64 (exact), so padding stands for the real value 0, as when
   * x is padded with its zero point; w_zp per tensor or per output channel.
   */
  static Tensor convInteger(OnnxAttrs a, Tensor[] in) {
    return integerProduct(a, in[0], in[1], arg(in, 2), arg(in, 3), true).to(DType.S32);
  }

  /**
   * QLinearMatMul(a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp) and QLinearConv(x, x_scale,
   * x_zp, w, w_scale, w_zp, y_scale, y_zp[, B]): the exact integer product (plus the int32 bias
   * B for Conv), requantized as saturate(round(acc * (s_in * s_w / y_scale)) + y_zp) with the
   * multiplier in f32, as ONNX Runtime computes it. s_w may be per output channel / column.
   */
  static Tensor qlinear(OnnxAttrs a, Tensor[] in, boolean conv) {
    long[] r = range((int) a.i(QTYPE, OnnxTensors.UINT8));
    Tensor acc = integerProduct(a, in[0], in[3], in[2], in[5], conv);
    if (conv && in.length > 8 && in[8] != null) {
      acc = acc.add(in[8].to(DType.F64).reshape(biasShape(acc.rank(), in[8].shape()[0])));
    }
    Tensor sw = in[4].to(DType.F32);
    if (sw.rank() == 1 && sw.shape()[0] != 1) {
      sw = sw.reshape(conv ? biasShape(acc.rank(), sw.shape()[0]) : new long[] {sw.shape()[0]});
    } else {
      sw = sw.reshape();
    }
    Tensor mult = in[1].to(DType.F32).reshape().mul(sw).div(in[6].to(DType.F32).reshape());
    Tensor y = acc.to(DType.F32).mul(mult).round().add(in[7].to(DType.F32).reshape());
    return y.clamp(r[0], r[1]).to(DType.S32);
  }

  private static long[] biasShape(int rank, long c) {
    long[] s = new long[rank];
    Arrays.fill(s, 1);
    s[1] = c;
    return s;
  }

  private static Tensor arg(Tensor[] in, int k) {
    return in.length > k ? in[k] : null;
  }

  /** (x - x_zp) @ (w - w_zp), or conv for {@code conv}, in f64: exact for 8-bit operands. */
  private static Tensor integerProduct(OnnxAttrs a, Tensor x, Tensor w, Tensor xz, Tensor wz, boolean conv) {
    Tensor A = x.to(DType.F64);
    Tensor B = w.to(DType.F64);
    long[] as = A.shape();
    long[] bs = B.shape();
    if (as.length < 1 || bs.length < 1) {
      throw a.error("inputs " + Arrays.toString(as) + " and " + Arrays.toString(bs) + " must have rank >= 1");
    }
    if (xz != null) {
      long n = OnnxOps.prod(xz.shape(), 0, xz.rank());
      if (n == 1) {
        A = A.sub(xz.to(DType.F64).reshape());
      } else if (!conv && xz.rank() == 1 && as.length >= 2 && n == as[as.length - 2]) {
        A = A.sub(xz.to(DType.F64).reshape(n, 1));  // one zero point per row of A
      } else {
        throw a.error("the input zero point of shape " + Arrays.toString(xz.shape()) + " is neither a scalar"
            + (conv ? "" : " nor one per row of A " + Arrays.toString(as)));
      }
    }
    if (wz != null) {
      long n = OnnxOps.prod(wz.shape(), 0, wz.rank());
      long per = conv ? bs[0] : bs[bs.length - 1];
      if (n == 1) {
        B = B.sub(wz.to(DType.F64).reshape());
      } else if (wz.rank() == 1 && n == per) {
        long[] shape = new long[bs.length];
        Arrays.fill(shape, 1);
        shape[conv ? 0 : bs.length - 1] = n;  // per output channel (Conv) or per column (MatMul)
        B = B.sub(wz.to(DType.F64).reshape(shape));
      } else {
        throw a.error("the weight zero point of shape " + Arrays.toString(wz.shape()) + " is neither a scalar nor one per "
            + (conv ? "output channel" : "column") + " of " + Arrays.toString(bs));
      }
    }
    return conv ? OnnxNn.conv(a, new Tensor[] {A, B}) : A.matmul(B);
  }
}
