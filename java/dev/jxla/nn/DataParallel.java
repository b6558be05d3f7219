package dev.jxla.nn;

import dev.jxla.Collectives;
import dev.jxla.DType;
import dev.jxla.Device;
import dev.jxla.Jxla;
import dev.jxla.Tensor;
import dev.jxla.TensorScope;
import dev.jxla.optim.Optimizer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Synchronous data parallelism: one replica of a module per device (e.g. the cores of
 * {@code Device.tpu("v4", 8)}), each step splits the batch along dimension 0 across the
 * replicas, every replica computes its gradients, the gradients are all-reduced (mean) and each
 * replica's optimizer applies the same mean gradient, so the parameters stay identical on every
 * replica after each step. Replicas start from replica 0's parameters. The all-reduce gathers
 * the per-replica gradients on replica 0's device, averages there and sends the mean back; when
 * the replicas are the cores of one emulated TPU pod ({@code pod.core(i)} for replica i) it is
 * the emulator's {@link Collectives#allReduce} (mean) instead, timed as a ring over ICI.
 */
public final class DataParallel implements AutoCloseable {
  private final List<Module> replicas = new ArrayList<>();
  private final List<Optimizer> optimizers = new ArrayList<>();
  private final List<Device> devices;

  /**
   * Builds {@code devices.size()} replicas with {@code factory} (equal architecture), moves
   * replica i to device i, copies replica 0's parameters into the others and creates one
   * optimizer per replica with {@code optimizer}.
   */
  public DataParallel(Supplier<Module> factory, List<Device> devices, Function<List<Tensor>, Optimizer> optimizer) {
    if (devices == null || devices.isEmpty()) {
      throw new IllegalArgumentException("DataParallel: no devices");
    }
    this.devices = List.copyOf(devices);
    for (Device d : this.devices) {
      replicas.add(factory.get().to(d));
    }
    for (int i = 1; i < replicas.size(); i++) {
      replicas.get(i).loadStateDict(replicas.get(0).stateDict());
    }
    for (Module m : replicas) {
      optimizers.add(optimizer.apply(m.parameters()));
    }
  }

  /** The replicas (replica i lives on device i). */
  public List<Module> replicas() {
    return Collections.unmodifiableList(replicas);
  }

  /** The optimizers (one per replica; set the learning rate on all of them). */
  public List<Optimizer> optimizers() {
    return Collections.unmodifiableList(optimizers);
  }

  /**
   * Traces one data-parallel step on a host batch (x and y split along dimension 0; the batch
   * must divide evenly) and returns the mean loss over the replicas as a pending tensor on
   * replica 0's device (the caller closes it, after {@link dev.jxla.Jxla#sync()}).
   */
  public Tensor step(Tensor x, Tensor y, Loss loss) {
    Tensor[] r = stepWithOutputs(x, y, loss);
    r[1].close();
    return r[0];
  }

  /**
   * Like {@link #step}, also returning the replicas' outputs concatenated along dimension 0 on
   * replica 0's device: {loss, outputs} (both pending; the caller closes them). On the cores of
   * an emulated TPU pod the forward and backward passes are synced (one graph per core, run
   * concurrently, like {@link Jxla#sync()}) before the gradient all-reduce; the optimizer update
   * stays pending for the caller's sync.
   */
  public Tensor[] stepWithOutputs(Tensor x, Tensor y, Loss loss) {
    int n = replicas.size();
    long b = x.shape()[0];
    if (b % n != 0 || y.shape()[0] != b) {
      throw new IllegalArgumentException("DataParallel.step: batch " + b + " (targets " + y.shape()[0]
          + ") must split evenly across " + n + " replicas");
    }
    long shard = b / n;
    Device home = devices.get(0);
    boolean ici = onPodCores();
    try (TensorScope s = new TensorScope()) {
      Tensor[] losses = new Tensor[n];
      Tensor[] outs = new Tensor[n];
      for (int i = 0; i < n; i++) {
        try (TensorScope r = new TensorScope()) {  // frees the activations' handles (not their IR)
          Tensor xi = x.slice(0, i * shard, (i + 1) * shard);
          Tensor yi = y.slice(0, i * shard, (i + 1) * shard);
          if (!devices.get(i).equals(x.device())) {
            xi = xi.to(devices.get(i));
            yi = yi.to(devices.get(i));
          }
          Tensor out = replicas.get(i).forward(xi);
          Tensor li = loss.apply(out, yi);
          li.backward();
          outs[i] = r.keep(out);
          losses[i] = r.keep(li);
        }
      }
      if (ici) {
        // one graph per core (forward + backward: loss, outputs and gradients together), the
        // cores run concurrently; otherwise the transfers and the collective below would each
        // materialize their own tensors and recompute the forward pass
        Jxla.sync();
      }
      Tensor total = null;
      for (int i = 0; i < n; i++) {
        boolean local = devices.get(i).equals(home);
        Tensor lh = local ? losses[i] : losses[i].to(home);
        total = total == null ? lh : total.add(lh);
        outs[i] = local ? outs[i] : outs[i].to(home);
      }
      allReduceMeanGradients();
      for (Optimizer o : optimizers) {
        o.step();
        o.zeroGrad();
      }
      return new Tensor[] {s.keep(total.mul(1.0 / n)), s.keep(n == 1 ? outs[0] : Tensor.concat(0, outs))};
    }
  }

  private void allReduceMeanGradients() {
    int n = replicas.size();
    if (n == 1) {
      return;  // nothing to average: the step stays exactly the single-model step
    }
    Device home = devices.get(0);
    List<List<Tensor>> params = new ArrayList<>();
    for (Module m : replicas) {
      params.add(m.parameters());
    }
    boolean ici = onPodCores();
    if (ici) {
      allReduceCombined(params);
      return;
    }
    for (int k = 0; k < params.get(0).size(); k++) {
      Tensor[] grads = new Tensor[n];
      for (int i = 0; i < n; i++) {
        grads[i] = params.get(i).get(k).grad();
        if (grads[i] == null) {
          throw new IllegalStateException("DataParallel: replica " + i + " has no gradient for parameter " + k);
        }
      }
      if (ici) {
        // the emulator's ring all-reduce over ICI: every core receives the same mean (cores
        // reduced in order 0..n-1), charged on the simulated clocks like a real pod's psum
        Tensor[] mean = Collectives.allReduce(Collectives.Reduction.MEAN, grads);
        for (int i = 0; i < n; i++) {
          params.get(i).get(k).setGrad(mean[i]);
        }
        continue;
      }
      Tensor sum = null;
      for (int i = 0; i < n; i++) {
        Tensor g = grads[i];
        Tensor gh = devices.get(i).equals(home) ? g : g.to(home);
        sum = sum == null ? gh : sum.add(gh);
      }
      Tensor mean = sum.mul(1.0 / n);
      for (int i = 0; i < n; i++) {
        Tensor p = params.get(i).get(k);
        p.setGrad(devices.get(i).equals(home) ? mean.detach() : mean.to(devices.get(i)));
      }
    }
  }

  /**
   * One all-reduce for all gradients, as XLA's all-reduce combiner does: each core's gradients
   * are flattened and concatenated (per dtype), reduced in one ring (one set of hop latencies
   * instead of one per parameter), and sliced back. Element-wise the same mean as per-tensor
   * all-reduces, so the results are identical.
   */
  private void allReduceCombined(List<List<Tensor>> params) {
    int n = replicas.size();
    int np = params.get(0).size();
    Map<DType, List<Integer>> byType = new LinkedHashMap<>();
    for (int k = 0; k < np; k++) {
      Tensor g = params.get(0).get(k).grad();
      if (g == null) {
        throw new IllegalStateException("DataParallel: replica 0 has no gradient for parameter " + k);
      }
      byType.computeIfAbsent(g.dtype(), t -> new ArrayList<>()).add(k);
    }
    for (List<Integer> ks : byType.values()) {
      Tensor[] flat = new Tensor[n];
      for (int i = 0; i < n; i++) {
        Tensor[] parts = new Tensor[ks.size()];
        for (int j = 0; j < ks.size(); j++) {
          Tensor g = params.get(i).get(ks.get(j)).grad();
          if (g == null) {
            throw new IllegalStateException("DataParallel: replica " + i + " has no gradient for parameter " + ks.get(j));
          }
          parts[j] = g.reshape(g.numel());
        }
        flat[i] = parts.length == 1 ? parts[0] : Tensor.concat(0, parts);
      }
      Tensor[] mean = Collectives.allReduce(Collectives.Reduction.MEAN, flat);
      for (int i = 0; i < n; i++) {
        long off = 0;
        for (int k : ks) {
          Tensor p = params.get(i).get(k);
          long len = p.numel();
          p.setGrad(mean[i].slice(0, off, off + len).reshape(p.shape()));
          off += len;
        }
      }
    }
  }

  /** True when the replicas sit on distinct cores of one emulated TPU pod, in core order. */
  private boolean onPodCores() {
    Device d0 = devices.get(0);
    if (d0.isHost() || d0.cores() != devices.size()) {
      return false;
    }
    if (!d0.equals(d0.core(0))) {
      return false;  // the pod itself or another core: not replica-per-core
    }
    for (int i = 1; i < devices.size(); i++) {
      if (!devices.get(i).equals(d0.core(i))) {
        return false;
      }
    }
    return true;
  }

  @Override
  public void close() {
    for (Optimizer o : optimizers) {
      o.close();
    }
    for (Module m : replicas) {
      m.close();
    }
  }
}
