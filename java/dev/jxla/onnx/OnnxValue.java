package dev.jxla.onnx;

import dev.jxla.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A value at the boundary of an ONNX model: a tensor, a sequence of tensors, or an absent
 * optional ({@link #none()}); a present optional is its content (a tensor or a sequence).
 * Models whose inputs or outputs are sequences or optionals are called through
 * {@link OnnxModel#call}, which flattens these values into the tensors of the compiled function
 * (see OnnxModel). Immutable; it does not own its tensors.
 */
public final class OnnxValue {
  private final Tensor tensor;
  private final List<Tensor> sequence;

  private OnnxValue(Tensor tensor, List<Tensor> sequence) {
    this.tensor = tensor;
    this.sequence = sequence;
  }

  /** A tensor value. */
  public static OnnxValue of(Tensor t) {
    if (t == null) {
      throw new IllegalArgumentException("OnnxValue.of: tensor is null");
    }
    return new OnnxValue(t, null);
  }

  /** A sequence of tensors (possibly empty). */
  public static OnnxValue sequence(List<Tensor> ts) {
    if (ts == null) {
      throw new IllegalArgumentException("OnnxValue.sequence: the list is null");
    }
    for (Tensor t : ts) {
      if (t == null) {
        throw new IllegalArgumentException("OnnxValue.sequence: an element is null");
      }
    }
    return new OnnxValue(null, Collections.unmodifiableList(new ArrayList<>(ts)));
  }

  /** An optional without a value. */
  public static OnnxValue none() {
    return new OnnxValue(null, null);
  }

  public boolean isTensor() {
    return tensor != null;
  }

  public boolean isSequence() {
    return sequence != null;
  }

  public boolean isNone() {
    return tensor == null && sequence == null;
  }

  /** The tensor (throws if this is not a tensor). */
  public Tensor tensor() {
    if (tensor == null) {
      throw new IllegalStateException("OnnxValue: " + this + " is not a tensor");
    }
    return tensor;
  }

  /** The tensors of a sequence (throws if this is not a sequence). */
  public List<Tensor> sequence() {
    if (sequence == null) {
      throw new IllegalStateException("OnnxValue: " + this + " is not a sequence");
    }
    return sequence;
  }

  @Override
  public String toString() {
    return isTensor() ? "tensor" : isSequence() ? "sequence of " + sequence.size() : "none";
  }
}
