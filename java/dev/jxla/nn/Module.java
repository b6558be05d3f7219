package dev.jxla.nn;

import dev.jxla.Tensor;
import dev.jxla.TensorScope;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Base of every layer: named parameters (leaves with requiresGrad), child modules, train/eval
 * mode, and a state dict saved/loaded in the safetensors format. A module owns its parameters:
 * {@link #close()} frees them (and their gradients). Parameter names join the path of child
 * modules with dots, like PyTorch ("0.weight", "encoder.fc.bias").
 */
public abstract class Module implements AutoCloseable {
  private final Map<String, Tensor> params = new LinkedHashMap<>();
  private final Map<String, Module> children = new LinkedHashMap<>();
  private boolean training = true;
  private boolean closed;

  /** Applies the module. */
  public abstract Tensor forward(Tensor x);

  /**
   * Registers a trainable parameter: it is materialized, made a gradient leaf and taken out of
   * any open {@link TensorScope} (the module owns it).
   */
  protected final Tensor registerParameter(String name, Tensor t) {
    checkName(name);
    TensorScope.escape(t);
    t.materialized();
    t.requiresGrad(true);
    params.put(name, t);
    return t;
  }

  /** This module's own parameter {@code name} (layers read it at every forward: to() may replace it). */
  protected final Tensor param(String name) {
    Tensor t = params.get(name);
    if (t == null) {
      throw new IllegalArgumentException("module: no parameter '" + name + "'");
    }
    return t;
  }

  /**
   * Moves every parameter (here and in the children) to {@code device}: each one is replaced by
   * a materialized copy on that device that requires grad; the old tensors are closed. Build
   * optimizers after moving (they hold the parameter tensors). Returns this module.
   */
  public Module to(dev.jxla.Device device) {
    for (Map.Entry<String, Tensor> e : params.entrySet()) {
      Tensor p = e.getValue();
      if (p.device().equals(device)) {
        continue;
      }
      Tensor q = TensorScope.escape(p.to(device));
      q.materialized();
      q.requiresGrad(true);
      e.setValue(q);
      p.close();
    }
    for (Module m : children.values()) {
      m.to(device);
    }
    return this;
  }

  /** Registers a child module under {@code name}. */
  protected final <M extends Module> M registerModule(String name, M m) {
    checkName(name);
    children.put(name, m);
    return m;
  }

  private void checkName(String name) {
    if (name == null || name.isEmpty() || name.contains(".")) {
      throw new IllegalArgumentException("module: invalid name '" + name + "' (non-empty, no dots)");
    }
    if (params.containsKey(name) || children.containsKey(name)) {
      throw new IllegalArgumentException("module: name '" + name + "' is already registered");
    }
  }

  /** Every parameter of this module and its children, by dotted name, in registration order. */
  public final Map<String, Tensor> namedParameters() {
    Map<String, Tensor> out = new LinkedHashMap<>();
    collect("", out);
    return Collections.unmodifiableMap(out);
  }

  private void collect(String prefix, Map<String, Tensor> out) {
    for (Map.Entry<String, Tensor> e : params.entrySet()) {
      out.put(prefix + e.getKey(), e.getValue());
    }
    for (Map.Entry<String, Module> e : children.entrySet()) {
      e.getValue().collect(prefix + e.getKey() + ".", out);
    }
  }

  /** The parameters in {@link #namedParameters()} order. */
  public final List<Tensor> parameters() {
    return new ArrayList<>(namedParameters().values());
  }

  /** Number of scalar parameters. */
  public final long parameterCount() {
    long n = 0;
    for (Tensor t : parameters()) {
      n += t.numel();
    }
    return n;
  }

  /** The direct children by name. */
  public final Map<String, Module> children() {
    return Collections.unmodifiableMap(children);
  }

  /** Sets training mode (true) or evaluation mode (false) here and in every child. */
  public Module train(boolean on) {
    training = on;
    for (Module m : children.values()) {
      m.train(on);
    }
    return this;
  }

  /** Training mode. */
  public final Module train() {
    return train(true);
  }

  /** Evaluation mode (Dropout becomes the identity). */
  public final Module eval() {
    return train(false);
  }

  /** True in training mode. */
  public final boolean isTraining() {
    return training;
  }

  /** Frees the gradient of every parameter. */
  public final void zeroGrad() {
    for (Tensor t : parameters()) {
      t.zeroGrad();
    }
  }

  /** The state dict: the parameters by dotted name (live tensors, not copies). */
  public final Map<String, Tensor> stateDict() {
    return namedParameters();
  }

  /**
   * Copies values into the parameters (names, dtypes and shapes must match exactly; strict like
   * PyTorch's default). The tensors of {@code state} are not retained.
   */
  public final void loadStateDict(Map<String, Tensor> state) {
    Map<String, Tensor> mine = namedParameters();
    if (!mine.keySet().equals(state.keySet())) {
      List<String> missing = new ArrayList<>(mine.keySet());
      missing.removeAll(state.keySet());
      List<String> extra = new ArrayList<>(state.keySet());
      extra.removeAll(mine.keySet());
      throw new IllegalArgumentException("loadStateDict: missing keys " + missing + ", unexpected keys " + extra);
    }
    for (Map.Entry<String, Tensor> e : mine.entrySet()) {
      Tensor src = state.get(e.getKey());
      Tensor dst = e.getValue();
      if (src.dtype() != dst.dtype() || !java.util.Arrays.equals(src.shape(), dst.shape())) {
        throw new IllegalArgumentException("loadStateDict: '" + e.getKey() + "' is " + src.dtype()
            + java.util.Arrays.toString(src.shape()) + " but the parameter is " + dst.dtype()
            + java.util.Arrays.toString(dst.shape()));
      }
      Tensor v = src.device().equals(dst.device()) ? src : src.to(dst.device());
      dst.assign(v).materialized();
      if (v != src) {
        v.close();
      }
    }
  }

  /** Writes the state dict to a .safetensors file. */
  public final void save(Path file) throws IOException {
    SafeTensors.write(file, stateDict(), Map.of("format", "jxla"));
  }

  /** Loads parameters from a .safetensors file written by {@link #save(Path)} (or PyTorch). */
  public final void load(Path file) throws IOException {
    Map<String, Tensor> m = SafeTensors.read(file);
    try {
      loadStateDict(m);
    } finally {
      for (Tensor t : m.values()) {
        t.close();
      }
    }
  }

  /** Frees the parameters of this module and its children. Idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (Tensor t : params.values()) {
      t.close();
    }
    for (Module m : children.values()) {
      m.close();
    }
  }
}
