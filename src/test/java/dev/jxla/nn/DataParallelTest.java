package dev.jxla.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jxla.Device;
import dev.jxla.Jxla;
import dev.jxla.Rng;
import dev.jxla.Tensor;
import dev.jxla.TensorScope;
import dev.jxla.optim.SGD;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Data parallelism over 4 replicas (host devices until the TPU emulator's cores are available):
 * parameters are bit-identical on every replica after each step, and the trajectory matches one
 * model trained on the whole batch (the mean of equal-sized shard means is the batch mean, so
 * only float rounding differs: f32, 3 SGD steps, tolerance 1e-5).
 */
class DataParallelTest {
  static Module net(long seed) {
    Rng r = new Rng(seed);
    return new Sequential(new Linear(8, 16, r), new Tanh(), new Linear(16, 4, r));
  }

  @Test
  void replicasStayIdenticalAndMatchFullBatchTraining() {
    TrainingTest.Blobs data = new TrainingTest.Blobs(32, 8);
    List<Device> devs = Collections.nCopies(4, Device.host());
    CrossEntropyLoss ce = new CrossEntropyLoss();
    try (DataParallel dp = new DataParallel(() -> net(1), devs, ps -> new SGD(ps, 0.1, 0.9, 0, 0, false));
        Module single = net(1); SGD opt = new SGD(single.parameters(), 0.1, 0.9, 0, 0, false)) {
      for (int t = 0; t < 3; t++) {
        Tensor loss;
        try (TensorScope s = new TensorScope()) {
          loss = s.keep(dp.step(Tensor.of(data.x, 32, 8), Tensor.of(data.y, 32), ce));
        }
        Jxla.sync();
        double dpLoss = loss.item();
        loss.close();
        double l = TrainingTest.step(single, opt, ce, data.x, data.y, 32);
        assertEquals(l, dpLoss, 1e-5, "step " + t);
        Map<String, Tensor> ref = dp.replicas().get(0).namedParameters();
        for (Module r : dp.replicas()) {
          for (Map.Entry<String, Tensor> e : r.namedParameters().entrySet()) {
            float[] a = ref.get(e.getKey()).toFloatArray(), b = e.getValue().toFloatArray();
            for (int i = 0; i < a.length; i++) {
              assertEquals(Float.floatToRawIntBits(a[i]), Float.floatToRawIntBits(b[i]), e.getKey() + "[" + i + "]");
            }
          }
        }
        for (Map.Entry<String, Tensor> e : single.namedParameters().entrySet()) {
          assertArrayEquals(e.getValue().toFloatArray(), ref.get(e.getKey()).toFloatArray(), 1e-5f, e.getKey());
        }
      }
      assertThrows(IllegalArgumentException.class, () -> dp.step(Tensor.of(new float[30 * 8], 30, 8),
          Tensor.of(new int[30], 30), ce));
    }
  }
}
