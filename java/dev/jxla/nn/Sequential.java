package dev.jxla.nn;

import dev.jxla.Tensor;
import dev.jxla.TensorScope;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Applies its modules in order; they are named "0", "1", ... like PyTorch's nn.Sequential. */
public final class Sequential extends Module {
  private final List<Module> layers = new ArrayList<>();

  /** A sequence of modules. */
  public Sequential(Module... modules) {
    for (Module m : modules) {
      add(m);
    }
  }

  /** Appends a module. */
  public Sequential add(Module m) {
    if (m == null) {
      throw new IllegalArgumentException("Sequential: module is null");
    }
    registerModule(Integer.toString(layers.size()), m);
    layers.add(m);
    return this;
  }

  /** The modules in order. */
  public List<Module> layers() {
    return Collections.unmodifiableList(layers);
  }

  @Override
  public Tensor forward(Tensor x) {
    try (TensorScope s = new TensorScope()) {  // frees the intermediate activations' handles
      Tensor h = x;
      for (Module m : layers) {
        h = m.forward(h);
      }
      return h == x ? h : s.keep(h);
    }
  }
}
