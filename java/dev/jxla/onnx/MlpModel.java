package dev.jxla.onnx;

import dev.jxla.onnx.proto.Onnx.AttributeProto;
import dev.jxla.onnx.proto.Onnx.GraphProto;
import dev.jxla.onnx.proto.Onnx.ModelProto;
import dev.jxla.onnx.proto.Onnx.NodeProto;
import dev.jxla.onnx.proto.Onnx.OperatorSetIdProto;
import dev.jxla.onnx.proto.Onnx.TensorShapeProto;
import dev.jxla.onnx.proto.Onnx.TypeProto;
import dev.jxla.onnx.proto.Onnx.ValueInfoProto;
import java.util.Random;

/**
 * Writes a multi-layer perceptron as an ONNX model with the project's own protobuf classes:
 * layers {@code sizes[0] -> sizes[1] -> ...}, each a Gemm (transB=1, weights [out, in] as in
 * PyTorch's Linear export) followed by Relu except the last. Input "x" is [batch, sizes[0]]
 * with a symbolic batch dimension; output "y". Weights are uniform in +-1/sqrt(fan_in)
 * (PyTorch's Linear initialization) from a seeded generator, so tests can recompute the model.
 */
public final class MlpModel {
  /** weights[l] is [sizes[l+1] * sizes[l]] row-major ([out, in]); biases[l] is [sizes[l+1]]. */
  public final float[][] weights;
  public final float[][] biases;
  public final int[] sizes;
  private final ModelProto proto;

  /** Builds the model with seeded weights. */
  public MlpModel(long seed, int... sizes) {
    if (sizes == null || sizes.length < 2) {
      throw new IllegalArgumentException("MlpModel: need at least an input and an output size");
    }
    this.sizes = sizes.clone();
    Random r = new Random(seed);
    int layers = sizes.length - 1;
    weights = new float[layers][];
    biases = new float[layers][];
    GraphProto.Builder g = GraphProto.newBuilder().setName("mlp");
    g.addInput(valueInfo("x", "batch", sizes[0]));
    String prev = "x";
    for (int l = 0; l < layers; l++) {
      int in = sizes[l], out = sizes[l + 1];
      float bound = (float) (1 / Math.sqrt(in));
      weights[l] = new float[out * in];
      biases[l] = new float[out];
      for (int i = 0; i < weights[l].length; i++) {
        weights[l][i] = (r.nextFloat() * 2 - 1) * bound;
      }
      for (int i = 0; i < out; i++) {
        biases[l][i] = (r.nextFloat() * 2 - 1) * bound;
      }
      g.addInitializer(OnnxTensors.floatTensor("w" + l, weights[l], out, in));
      g.addInitializer(OnnxTensors.floatTensor("b" + l, biases[l], out));
      boolean last = l == layers - 1;
      String gemmOut = last ? "y" : "h" + l;
      g.addNode(NodeProto.newBuilder().setOpType("Gemm").setName("fc" + l).addInput(prev).addInput("w" + l)
          .addInput("b" + l).addOutput(gemmOut)
          .addAttribute(AttributeProto.newBuilder().setName("transB").setType(AttributeProto.AttributeType.INT).setI(1)));
      prev = gemmOut;
      if (!last) {
        g.addNode(NodeProto.newBuilder().setOpType("Relu").setName("relu" + l).addInput(gemmOut).addOutput("a" + l));
        prev = "a" + l;
      }
    }
    g.addOutput(valueInfo("y", "batch", sizes[layers]));
    proto = ModelProto.newBuilder().setIrVersion(8).setProducerName("jxla")
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(17)).setGraph(g).build();
  }

  private static ValueInfoProto valueInfo(String name, String batch, int features) {
    TensorShapeProto shape = TensorShapeProto.newBuilder()
        .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam(batch))
        .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(features)).build();
    return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
        .setTensorType(TypeProto.Tensor.newBuilder().setElemType(OnnxTensors.FLOAT).setShape(shape))).build();
  }

  /** The serialized ModelProto (the bytes of a .onnx file). */
  public byte[] toBytes() {
    return proto.toByteArray();
  }

  /** The model in double precision, row-major x [batch, sizes[0]] -> [batch, last size]. */
  public double[] reference(float[] x, int batch) {
    double[] h = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      h[i] = x[i];
    }
    for (int l = 0; l < weights.length; l++) {
      int in = sizes[l], out = sizes[l + 1];
      double[] o = new double[batch * out];
      for (int b = 0; b < batch; b++) {
        for (int j = 0; j < out; j++) {
          double s = biases[l][j];
          for (int k = 0; k < in; k++) {
            s += h[b * in + k] * weights[l][j * in + k];
          }
          o[b * out + j] = l < weights.length - 1 ? Math.max(0, s) : s;
        }
      }
      h = o;
    }
    return h;
  }
}
