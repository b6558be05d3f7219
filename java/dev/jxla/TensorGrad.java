package dev.jxla;

import dev.jxla.internal.Native;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * Autograd bookkeeping for {@link Tensor} (PyTorch semantics on the lazy IR): the registry of
 * leaves that require grad, and {@code backward}, which asks the engine for the gradients of a
 * tensor w.r.t. every live leaf on its device and accumulates them into the leaves' {@code grad}
 * (the gradients are lazy IR, so forward + backward + update make one graph). Also the checks
 * of the fused Adam update, which assigns parameters and moments in one engine call.
 *
 * <p>Invariants: the registry holds leaves weakly (an unreachable leaf drops out by itself); a
 * leaf closed by another thread while backward runs is skipped, never given a gradient; a
 * gradient is owned by its leaf (escaped from every {@link TensorScope}) and the previous
 * accumulated gradient is closed when a sum replaces it.
 */
final class TensorGrad {
  private TensorGrad() {}

  private static final Set<Tensor> LEAVES = Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));

  /** Adds {@code t} (floating-point only) to, or removes it from, the leaves backward() looks at. */
  static void track(Tensor t, boolean on) {
    if (on && !t.dtype().isFloatingPoint()) {
      throw new IllegalArgumentException("requiresGrad: only floating-point tensors have gradients, got " + t.dtype());
    }
    if (on) {
      LEAVES.add(t);
    } else {
      LEAVES.remove(t);
    }
  }

  /** {@code Tensor.setGrad}: {@code t} (open) takes ownership of {@code g}; null clears the gradient. */
  static void setGrad(Tensor t, Tensor g) {
    if (g != null && (g.dtype() != t.dtype() || !Arrays.equals(g.shape(), t.shape()) || !g.device.equals(t.device))) {
      throw new IllegalArgumentException("setGrad: gradient " + g.dtype() + Arrays.toString(g.shape()) + " on " + g.device
          + " does not match the tensor " + t.dtype() + Arrays.toString(t.shape()) + " on " + t.device);
    }
    Tensor old = t.grad;
    t.grad = g == null ? null : TensorScope.escape(g);
    if (old != null && old != g) {
      old.close();
    }
  }

  /** {@code Tensor.backward}: {@code self} is the output's handle, gradient null for d/d(self) = 1. */
  static void backward(Tensor out, long self, Tensor gradient) {
    List<Tensor> leaves = new ArrayList<>();
    synchronized (LEAVES) {
      for (Tensor t : LEAVES) {
        if (!t.isClosed() && t.requiresGrad() && t.device.equals(out.device)) {
          leaves.add(t);
        }
      }
    }
    long[] wrt = new long[leaves.size()];
    int live = 0;
    for (int i = 0; i < wrt.length; i++) {
      long h = leaves.get(i).handleOrZero();  // 0: closed meanwhile by another thread, skipped
      if (h != 0) {
        wrt[live] = h;
        leaves.set(live++, leaves.get(i));
      }
    }
    wrt = Arrays.copyOf(wrt, live);
    leaves = leaves.subList(0, live);
    long[] gs = gradient == null ? Native.grad(self, wrt) : Native.vjp(self, gradient.handle(), wrt);
    for (int i = 0; i < gs.length; i++) {
      if (gs[i] != 0) {
        accumulate(leaves.get(i), new Tensor(gs[i], out.device));
      }
    }
  }

  /** {@code Tensor.adamUpdate}: checks the operands, then one engine call. */
  static void adamUpdate(Tensor p, Tensor g, Tensor m, Tensor v, Tensor[] s) {
    if (p == null || g == null || m == null || v == null || s == null || s.length != 8) {
      throw new IllegalArgumentException("adamUpdate: needs p, g, m, v and 8 scalars");
    }
    long[] sh = TensorArgs.handles("adamUpdate", "scalar", s);
    Native.adamUpdate(p.handle("adamUpdate"), g.handle("adamUpdate"), m.handle("adamUpdate"), v.handle("adamUpdate"), sh);
  }

  /** leaf.grad += g; {@code leaf} takes ownership of {@code g}. */
  private static void accumulate(Tensor leaf, Tensor g) {
    TensorScope.escape(g);
    if (leaf.grad == null) {
      leaf.grad = g;
    } else {
      Tensor sum = leaf.grad.add(g);
      TensorScope.escape(sum);
      leaf.grad.close();
      g.close();
      leaf.grad = sum;
    }
  }
}
