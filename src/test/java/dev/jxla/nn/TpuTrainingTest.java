package dev.jxla.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jxla.Device;
import dev.jxla.Jxla;
import dev.jxla.Precision;
import dev.jxla.Tensor;
import dev.jxla.TensorScope;
import dev.jxla.optim.SGD;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Training on the emulated TPU (the 8-16-4 tanh MLP of DataParallelTest on 4 Gaussian blobs,
 * SGD lr 0.1 momentum 0.9, 6 full-batch steps).
 *
 * <p>Tolerance against the host: at the default matmul precision the TPU rounds both f32 operands
 * of every product to bf16 (unit roundoff u = 2^-9), so each product carries a relative error of
 * at most ~2u = 2^-8 and a logit at most 2^-8 * sum|w_i x_i| (about 0.4% of a few units here);
 * cross-entropy is 2-Lipschitz in the max-norm of the logits, and 6 contracting SGD steps on this
 * well-separated problem do not amplify it much: a loss difference above 0.03 (2% of the initial
 * loss ~1.4) would mean more than rounding. With Precision.HIGHEST (bf16_6x, about f32 accuracy)
 * the same run must match the host to 1e-5, which shows the difference is the MXU rounding alone.
 */
class TpuTrainingTest {
  private static final int N = 32;

  private static List<Double> train(Device dev, int steps, List<Map<String, float[]>> params) {
    TrainingTest.Blobs data = new TrainingTest.Blobs(N, 8);
    CrossEntropyLoss ce = new CrossEntropyLoss();
    List<Double> losses = new ArrayList<>();
    try (Module net = DataParallelTest.net(1).to(dev); SGD opt = new SGD(net.parameters(), 0.1, 0.9, 0, 0, false)) {
      for (int t = 0; t < steps; t++) {
        Tensor loss;
        try (TensorScope s = new TensorScope()) {
          Tensor x = Tensor.of(data.x, N, 8), y = Tensor.of(data.y, N);
          if (!dev.isHost()) {
            x = x.to(dev);
            y = y.to(dev);
          }
          loss = s.keep(ce.apply(net.forward(x), y));
          loss.backward();
          opt.step();
          opt.zeroGrad();
        }
        Jxla.sync();
        losses.add(loss.item());
        loss.close();
      }
      if (params != null) {
        Map<String, float[]> p = new java.util.TreeMap<>();
        for (Map.Entry<String, Tensor> e : net.namedParameters().entrySet()) {
          p.put(e.getKey(), e.getValue().toFloatArray());
        }
        params.add(p);
      }
    }
    return losses;
  }

  @Test
  void trainsOnV5eAndMatchesTheHostWithinBf16Rounding() {
    Device tpu = Device.tpu("v5e");
    double sim0 = tpu.simulatedSeconds();
    List<Double> host = train(Device.host(), 6, null);
    List<Double> dev = train(tpu, 6, null);
    assertTrue(tpu.simulatedSeconds() > sim0, "the steps advanced the simulated clock");
    assertTrue(dev.get(5) < 0.7 * dev.get(0), "TPU loss falls: " + dev);
    for (int t = 0; t < 6; t++) {
      assertEquals(host.get(t), dev.get(t), 0.03, "step " + t + " host " + host + " tpu " + dev);
    }
    Jxla.setMatmulPrecision(Precision.HIGHEST);
    try {
      List<Double> exact = train(tpu, 6, null);
      for (int t = 0; t < 6; t++) {
        assertEquals(host.get(t), exact.get(t), 1e-5, "HIGHEST step " + t);
      }
    } finally {
      Jxla.setMatmulPrecision(Precision.DEFAULT);
    }
  }

  @Test
  void dataParallelOverV4CoresKeepsReplicasBitIdentical() {
    Device pod = Device.tpu("v4", 4);
    List<Device> cores = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      cores.add(pod.core(i));
    }
    TrainingTest.Blobs data = new TrainingTest.Blobs(N, 8);
    CrossEntropyLoss ce = new CrossEntropyLoss();
    List<Double> host = train(Device.host(), 4, null);
    pod.profileAndClear();
    try (DataParallel dp = new DataParallel(() -> DataParallelTest.net(1), cores, ps -> new SGD(ps, 0.1, 0.9, 0, 0, false))) {
      for (int t = 0; t < 4; t++) {
        Tensor loss;
        try (TensorScope s = new TensorScope()) {
          loss = s.keep(dp.step(Tensor.of(data.x, N, 8), Tensor.of(data.y, N), ce));
        }
        Jxla.sync();
        double l = loss.item();
        loss.close();
        // the same full-batch trajectory as one host model, up to bf16 MXU rounding (see above)
        assertEquals(host.get(t), l, 0.03, "step " + t);
        Map<String, Tensor> ref = dp.replicas().get(0).namedParameters();
        for (int r = 1; r < 4; r++) {
          Module m = dp.replicas().get(r);
          assertEquals(cores.get(r), m.parameters().get(0).device());
          for (Map.Entry<String, Tensor> e : m.namedParameters().entrySet()) {
            float[] a = ref.get(e.getKey()).toFloatArray(), b = e.getValue().toFloatArray();
            for (int i = 0; i < a.length; i++) {
              assertEquals(Float.floatToRawIntBits(a[i]), Float.floatToRawIntBits(b[i]),
                  "step " + t + " replica " + r + " " + e.getKey() + "[" + i + "]");
            }
          }
        }
      }
    }
    // the gradients went through the emulator's ICI all-reduce (mean), not a host gather
    assertTrue(pod.profile().contains("all_reduce:mean"), pod.profile());
  }
}
