package dev.jxla.onnx;

import dev.jxla.onnx.proto.Onnx.AttributeProto;
import dev.jxla.onnx.proto.Onnx.NodeProto;
import dev.jxla.onnx.proto.Onnx.TensorProto;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/** Typed access to a node's attributes with ONNX defaults; errors name the node and attribute. */
final class OnnxAttrs {
  private final Map<String, AttributeProto> byName = new HashMap<>();
  private final String where;

  OnnxAttrs(NodeProto n) {
    this.where = describe(n);
    for (AttributeProto a : n.getAttributeList()) {
      byName.put(a.getName(), a);
    }
  }

  /** "Conv node 'conv1'" (or the first output when the node has no name). */
  static String describe(NodeProto n) {
    String name = !n.getName().isEmpty() ? n.getName() : n.getOutputCount() > 0 ? n.getOutput(0) : "?";
    return n.getOpType() + " node '" + name + "'";
  }

  String where() {
    return where;
  }

  boolean has(String k) {
    return byName.containsKey(k);
  }

  long i(String k, long dflt) {
    AttributeProto a = byName.get(k);
    return a == null ? dflt : a.getI();
  }

  float f(String k, float dflt) {
    AttributeProto a = byName.get(k);
    return a == null ? dflt : a.getF();
  }

  String s(String k, String dflt) {
    AttributeProto a = byName.get(k);
    return a == null ? dflt : a.getS().toString(StandardCharsets.UTF_8);
  }

  long[] ints(String k, long[] dflt) {
    AttributeProto a = byName.get(k);
    if (a == null) {
      return dflt;
    }
    long[] r = new long[a.getIntsCount()];
    for (int j = 0; j < r.length; j++) {
      r[j] = a.getInts(j);
    }
    return r;
  }

  float[] floats(String k) {
    AttributeProto a = byName.get(k);
    if (a == null) {
      return null;
    }
    float[] r = new float[a.getFloatsCount()];
    for (int j = 0; j < r.length; j++) {
      r[j] = a.getFloats(j);
    }
    return r;
  }

  TensorProto t(String k) {
    AttributeProto a = byName.get(k);
    return a == null || !a.hasT() ? null : a.getT();
  }

  OnnxException error(String msg) {
    return new OnnxException(where + ": " + msg);
  }
}
