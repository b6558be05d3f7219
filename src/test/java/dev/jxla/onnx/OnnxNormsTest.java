package dev.jxla.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jxla.Bucketing;
import dev.jxla.CompiledFunction;
import dev.jxla.Tensor;
import dev.jxla.TensorScope;
import dev.jxla.onnx.proto.Onnx.AttributeProto;
import dev.jxla.onnx.proto.Onnx.GraphProto;
import dev.jxla.onnx.proto.Onnx.ModelProto;
import dev.jxla.onnx.proto.Onnx.NodeProto;
import dev.jxla.onnx.proto.Onnx.OperatorSetIdProto;
import dev.jxla.onnx.proto.Onnx.TensorProto;
import dev.jxla.onnx.proto.Onnx.ValueInfoProto;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * OnnxNorms against naive double loops: Instance/Group/MeanVariance/Lp normalization (f32,
 * tolerance 1e-5 relative: a few roundings of unit-sized values), Celu, Shrink and Hardmax
 * (exact, including Hardmax's first-maximum rule on ties and the pre-13 2-D coercion).
 */
class OnnxNormsTest {
  private static float[] x(int n) {
    float[] v = new float[n];
    java.util.Random r = new java.util.Random(n);
    for (int i = 0; i < n; i++) {
      v[i] = (float) (r.nextGaussian() * 2 + 0.5);
    }
    return v;
  }

  private static AttributeProto f(String k, float v) {
    return AttributeProto.newBuilder().setName(k).setF(v).setType(AttributeProto.AttributeType.FLOAT).build();
  }

  private static AttributeProto i(String k, long... v) {
    AttributeProto.Builder b = AttributeProto.newBuilder().setName(k);
    if (v.length == 1 && !k.equals("axes")) {
      return b.setI(v[0]).setType(AttributeProto.AttributeType.INT).build();
    }
    for (long e : v) {
      b.addInts(e);
    }
    return b.setType(AttributeProto.AttributeType.INTS).build();
  }

  private static float[] run(String op, int opset, float[] x, long[] shape, List<TensorProto> inits, AttributeProto... attrs) {
    NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName("n").addInput("x").addOutput("y")
        .addAllAttribute(List.of(attrs));
    GraphProto.Builder g = GraphProto.newBuilder().addInput(ValueInfoProto.newBuilder().setName("x"));
    for (TensorProto t : inits) {
      g.addInitializer(t);
      n.addInput(t.getName());
    }
    g.addNode(n).addOutput(ValueInfoProto.newBuilder().setName("y"));
    OnnxModel m = OnnxModel.parse(ModelProto.newBuilder().setIrVersion(9)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(opset)).setGraph(g).build().toByteArray(), op);
    try (TensorScope s = new TensorScope(); CompiledFunction fn = m.compile(Bucketing.none())) {
      return fn.call(Tensor.of(x, shape))[0].toFloatArray();
    }
  }

  private static void close(double[] want, float[] got) {
    assertEquals(want.length, got.length);
    for (int k = 0; k < want.length; k++) {
      assertEquals(want[k], got[k], 1e-5 * Math.max(1, Math.abs(want[k])), "element " + k);
    }
  }

  /** Standardizes groups of `len` consecutive elements, then y = v * scale[ch(k)] + bias[ch(k)]. */
  private static double[] standardized(float[] x, int len, double eps) {
    double[] y = new double[x.length];
    for (int g0 = 0; g0 < x.length; g0 += len) {
      double m = 0, v = 0;
      for (int k = 0; k < len; k++) {
        m += x[g0 + k];
      }
      m /= len;
      for (int k = 0; k < len; k++) {
        v += (x[g0 + k] - m) * (x[g0 + k] - m);
      }
      v /= len;
      for (int k = 0; k < len; k++) {
        y[g0 + k] = (x[g0 + k] - m) / Math.sqrt(v + eps);
      }
    }
    return y;
  }

  @Test
  void instanceAndGroupNormalization() {
    float[] xv = x(2 * 4 * 6);  // [2,4,2,3]
    float[] sc = {1.5f, -0.5f, 2f, 0.25f};
    float[] bi = {0.1f, 0.2f, -0.3f, 1f};
    List<TensorProto> per4 = List.of(OnnxTensors.floatTensor("s", sc, 4), OnnxTensors.floatTensor("b", bi, 4));
    double[] inst = standardized(xv, 6, 1e-5);
    for (int k = 0; k < inst.length; k++) {
      int ch = (k / 6) % 4;
      inst[k] = inst[k] * sc[ch] + bi[ch];
    }
    close(inst, run("InstanceNormalization", 17, xv, new long[] {2, 4, 2, 3}, per4));
    // 2 groups of 2 channels: opset 21 per-channel scale; opset 18 per-group scale
    double[] grp = standardized(xv, 12, 1e-3);
    double[] grp18 = grp.clone();
    for (int k = 0; k < grp.length; k++) {
      int ch = (k / 6) % 4;
      grp[k] = grp[k] * sc[ch] + bi[ch];
      grp18[k] = grp18[k] * sc[ch / 2] + bi[ch / 2];
    }
    close(grp, run("GroupNormalization", 21, xv, new long[] {2, 4, 2, 3}, per4, i("num_groups", 2), f("epsilon", 1e-3f)));
    close(grp18, run("GroupNormalization", 18, xv, new long[] {2, 4, 2, 3},
        List.of(OnnxTensors.floatTensor("s", new float[] {sc[0], sc[1]}, 2), OnnxTensors.floatTensor("b", new float[] {bi[0], bi[1]}, 2)),
        i("num_groups", 2), f("epsilon", 1e-3f)));
    OnnxException e = assertThrows(OnnxException.class,
        () -> run("GroupNormalization", 21, xv, new long[] {2, 4, 2, 3}, per4, i("num_groups", 3)));
    assertTrue(e.getMessage().contains("GroupNormalization node 'n'") && e.getMessage().contains("num_groups 3"), e.getMessage());
  }

  @Test
  void meanVarianceAndLpNormalization() {
    float[] xv = x(2 * 3 * 4);  // [2,3,4]
    // MVN over axes 0 and 2, per channel: (x - m) / (sqrt(E[x^2] - m^2) + 1e-9)
    double[] mvn = new double[xv.length];
    for (int c = 0; c < 3; c++) {
      double m = 0, sq = 0;
      for (int b = 0; b < 2; b++) {
        for (int k = 0; k < 4; k++) {
          double v = xv[(b * 3 + c) * 4 + k];
          m += v / 8;
          sq += v * v / 8;
        }
      }
      for (int b = 0; b < 2; b++) {
        for (int k = 0; k < 4; k++) {
          mvn[(b * 3 + c) * 4 + k] = (xv[(b * 3 + c) * 4 + k] - m) / (Math.sqrt(sq - m * m) + 1e-9);
        }
      }
    }
    close(mvn, run("MeanVarianceNormalization", 13, xv, new long[] {2, 3, 4}, List.of(), i("axes", 0, 2)));
    for (long p : new long[] {1, 2}) {
      double[] lp = new double[xv.length];
      for (int r = 0; r < 8; r++) {  // axis 1 of [2,3,4]: stride 4
        int b = r / 4, k = r % 4;
        double n = 0;
        for (int c = 0; c < 3; c++) {
          double v = xv[(b * 3 + c) * 4 + k];
          n += p == 1 ? Math.abs(v) : v * v;
        }
        n = p == 1 ? n : Math.sqrt(n);
        for (int c = 0; c < 3; c++) {
          lp[(b * 3 + c) * 4 + k] = xv[(b * 3 + c) * 4 + k] / n;
        }
      }
      close(lp, run("LpNormalization", 13, xv, new long[] {2, 3, 4}, List.of(), i("axis", 1), i("p", p)));
    }
  }

  @Test
  void celuShrinkAndHardmax() {
    float[] xv = {-3, -0.5f, 0, 0.25f, 0.6f, 2};
    double[] celu = new double[6];
    double[] shrink = new double[6];
    for (int k = 0; k < 6; k++) {
      celu[k] = Math.max(0, xv[k]) + Math.min(0, 2 * Math.expm1(xv[k] / 2.0));
      shrink[k] = xv[k] < -0.5 ? xv[k] + 0.1f : xv[k] > 0.5 ? xv[k] - 0.1f : 0;
    }
    close(celu, run("Celu", 13, xv, new long[] {6}, List.of(), f("alpha", 2f)));
    close(shrink, run("Shrink", 13, xv, new long[] {6}, List.of(), f("bias", 0.1f), f("lambd", 0.5f)));
    // Hardmax: the first maximum wins ties; axis 0 of [3,2] at opset 13; the 2-D coercion before
    float[] h = {1, 5, 3, 5, 3, 0};  // [3,2]: column 0 max 3 at rows 1 and 2 -> row 1; column 1 max 5 at rows 0, 1 -> row 0
    assertArrayEquals(new float[] {0, 1, 1, 0, 0, 0}, run("Hardmax", 13, h, new long[] {3, 2}, List.of(), i("axis", 0)));
    // opset 11, axis 1 of [3,2]: each row is one group -> first max of each row
    assertArrayEquals(new float[] {0, 1, 0, 1, 1, 0}, run("Hardmax", 11, h, new long[] {3, 2}, List.of(), i("axis", 1)));
    // opset 11, axis 0: the whole tensor is one group; the first 5 (index 1) wins
    assertArrayEquals(new float[] {0, 1, 0, 0, 0, 0}, run("Hardmax", 11, h, new long[] {3, 2}, List.of(), i("axis", 0)));
  }
}
