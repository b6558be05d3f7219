package dev.jxla;

import dev.jxla.internal.Native;

/**
 * Collectives across the cores of an emulated TPU pod ({@code Device.tpu("v4", 8)}), like
 * {@code jax.lax.psum} / {@code all_gather} / {@code psum_scatter}. Pass one tensor per core, the
 * i-th on {@code pod.core(i)}; the result has one tensor per core, the i-th on core i. Pending
 * inputs are computed first (the cores concurrently). Results are exact and deterministic: the
 * cores are reduced in order 0..n-1, each step one correctly rounded add (or max) in the dtype.
 * Simulated time: the cores synchronize, then a ring over ICI is charged on each.
 */
public final class Collectives {
  private Collectives() {}

  /** How values from the cores combine. */
  public enum Reduction {
    SUM,
    MEAN,
    MAX;

    String attr() {
      return "op=" + name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** Every core receives the reduction of all cores' tensors. */
  public static Tensor[] allReduce(Reduction op, Tensor... perCore) {
    return run("all_reduce", op == null ? null : op.attr(), perCore);
  }

  /** Every core receives the concatenation of all cores' tensors along {@code axis}. */
  public static Tensor[] allGather(int axis, Tensor... perCore) {
    return run("all_gather", "axis=" + axis, perCore);
  }

  /** Core i receives slice i (along {@code axis}) of the reduction of all cores' tensors. */
  public static Tensor[] reduceScatter(Reduction op, int axis, Tensor... perCore) {
    return run("reduce_scatter", op == null ? null : op.attr() + ", axis=" + axis, perCore);
  }

  private static Tensor[] run(String kind, String attrs, Tensor[] perCore) {
    if (attrs == null) {
      throw new IllegalArgumentException(kind + ": reduction is null");
    }
    if (perCore == null || perCore.length == 0) {
      throw new IllegalArgumentException(kind + ": no tensors");
    }
    long[] hs = new long[perCore.length];
    for (int i = 0; i < perCore.length; i++) {
      if (perCore[i] == null) {
        throw new IllegalArgumentException(kind + ": tensor " + i + " is null");
      }
      hs[i] = perCore[i].handle();
    }
    long[] outs = Native.collective(kind, hs, attrs);
    Tensor[] r = new Tensor[outs.length];
    for (int i = 0; i < outs.length; i++) {
      r[i] = new Tensor(outs[i], perCore[i].device());
    }
    return r;
  }
}
