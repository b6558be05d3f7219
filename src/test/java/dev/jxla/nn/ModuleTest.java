package dev.jxla.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jxla.DType;
import dev.jxla.Rng;
import dev.jxla.Tensor;
import dev.jxla.TensorScope;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Modules, losses and the safetensors state dict. */
class ModuleTest {
  static Sequential mlp(long seed) {
    Rng r = new Rng(seed);
    return new Sequential(new Linear(4, 8, r), new ReLU(), new LayerNorm(8), new Linear(8, 3, r));
  }

  @Test
  void namedParametersFollowPyTorchNaming() {
    try (Sequential m = mlp(1)) {
      assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias", "3.weight", "3.bias"),
          List.copyOf(m.namedParameters().keySet()));
      assertArrayEquals(new long[] {8, 4}, m.namedParameters().get("0.weight").shape());
      assertEquals(4 * 8 + 8 + 8 + 8 + 8 * 3 + 3, m.parameterCount());
      for (Tensor p : m.parameters()) {
        assertTrue(p.requiresGrad());
      }
    }
  }

  @Test
  void moduleToItsOwnDeviceKeepsTheParameters() {
    try (Sequential m = mlp(1)) {
      Tensor w = m.namedParameters().get("0.weight");
      m.to(dev.jxla.Device.host());
      assertTrue(w == m.namedParameters().get("0.weight") && !w.isClosed());
    }
  }

  @Test
  void saveLoadRoundTripIsBitIdentical(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("m.safetensors");
    try (Sequential a = mlp(1); Sequential b = mlp(2)) {
      a.save(f);
      assertNotEquals(a.namedParameters().get("0.weight").toFloatArray()[0], b.namedParameters().get("0.weight").toFloatArray()[0]);
      b.load(f);
      for (Map.Entry<String, Tensor> e : a.namedParameters().entrySet()) {
        float[] x = e.getValue().toFloatArray(), y = b.namedParameters().get(e.getKey()).toFloatArray();
        assertEquals(x.length, y.length);
        for (int i = 0; i < x.length; i++) {
          assertEquals(Float.floatToRawIntBits(x[i]), Float.floatToRawIntBits(y[i]), e.getKey() + "[" + i + "]");
        }
      }
    }
    // the file layout: 8-byte LE header length, JSON header (8-aligned), then the raw data
    byte[] bytes = Files.readAllBytes(f);
    long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertEquals(0, n % 8);
    String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
    assertTrue(header.contains("\"0.weight\":{\"dtype\":\"F32\",\"shape\":[8,4],\"data_offsets\":["), header);
    long total = 4L * (4 * 8 + 8 + 8 + 8 + 8 * 3 + 3);
    assertEquals(8 + n + total, bytes.length);
  }

  @Test
  void corruptFilesAreRejectedWithIoErrors(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("bad.safetensors");
    byte[] json = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]".getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + json.length + 8).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(json.length).put(json);
    Files.write(f, b.array());
    java.io.IOException e = assertThrows(java.io.IOException.class, () -> SafeTensors.read(f));
    assertTrue(e.getMessage().contains("malformed header"), e.getMessage());
    Files.write(f, new byte[] {100, 0, 0, 0, 0, 0, 0, 0, '{', '}'});
    e = assertThrows(java.io.IOException.class, () -> SafeTensors.read(f));
    assertTrue(e.getMessage().contains("header length"), e.getMessage());
  }

  @Test
  void loadRejectsMismatchedState(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("m.safetensors");
    try (Sequential a = mlp(1); Sequential b = new Sequential(new Linear(4, 9, new Rng(3)))) {
      a.save(f);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.load(f));
      assertTrue(e.getMessage().contains("missing keys") || e.getMessage().contains("unexpected"), e.getMessage());
    }
  }

  @Test
  void dropoutZeroesAboutPInTrainingAndIsIdentityInEval() {
    try (TensorScope s = new TensorScope()) {
      Dropout d = new Dropout(0.3, new Rng(7));
      Tensor x = Tensor.full(2.0, DType.F32, 100, 100);
      float[] y = d.forward(x).toFloatArray();
      int zeros = 0;
      for (float v : y) {
        if (v == 0) {
          zeros++;
        } else {
          assertEquals(2.0f / 0.7f, v, 1e-6f);
        }
      }
      // binomial(10000, 0.3): sd = 46, so +-300 is > 6 sd
      assertTrue(zeros > 2700 && zeros < 3300, "zeros = " + zeros);
      float[] y2 = d.forward(x).toFloatArray();  // a fresh mask each call
      assertTrue(!java.util.Arrays.equals(y, y2));
      d.eval();
      assertArrayEquals(x.toFloatArray(), d.forward(x).toFloatArray(), 0);
    }
  }

  @Test
  void layersMatchDirectComputation() {
    try (TensorScope s = new TensorScope(); Linear lin = new Linear(3, 2, new Rng(5)); LayerNorm ln = new LayerNorm(3)) {
      float[] w = lin.weight().toFloatArray(), b = lin.bias().toFloatArray();
      float[] x = {1, -2, 0.5f, 3, 0, -1};
      float[] y = lin.forward(Tensor.of(x, 2, 3)).toFloatArray();
      for (int r = 0; r < 2; r++) {
        for (int o = 0; o < 2; o++) {
          double acc = b[o];
          for (int i = 0; i < 3; i++) {
            acc += x[r * 3 + i] * w[o * 3 + i];
          }
          assertEquals(acc, y[r * 2 + o], 1e-6);
        }
      }
      float[] z = ln.forward(Tensor.of(x, 2, 3)).toFloatArray();
      for (int r = 0; r < 2; r++) {
        double mean = 0, var = 0;
        for (int i = 0; i < 3; i++) {
          mean += x[r * 3 + i] / 3.0;
        }
        for (int i = 0; i < 3; i++) {
          var += Math.pow(x[r * 3 + i] - mean, 2) / 3.0;
        }
        for (int i = 0; i < 3; i++) {
          assertEquals((x[r * 3 + i] - mean) / Math.sqrt(var + 1e-5), z[r * 3 + i], 1e-5);
        }
      }
    }
  }

  @Test
  void lossesMatchTheirDefinitions() {
    try (TensorScope s = new TensorScope()) {
      double[] lg = {1, 2, 0.5, -1, 0, 3};
      int[] t = {1, 2};
      Tensor logits = Tensor.of(lg, 2, 3), target = Tensor.of(t, 2);
      for (double eps : new double[] {0, 0.1}) {
        double want = 0;
        for (int r = 0; r < 2; r++) {
          double lse = Math.log(Math.exp(lg[r * 3]) + Math.exp(lg[r * 3 + 1]) + Math.exp(lg[r * 3 + 2]));
          for (int c = 0; c < 3; c++) {
            double q = (c == t[r] ? 1 - eps : 0) + eps / 3;
            want -= q * (lg[r * 3 + c] - lse) / 2;
          }
        }
        assertEquals(want, new CrossEntropyLoss(eps).apply(logits, target).item(), 1e-12);
      }
      double[] y = {0, 1, 1, 0, 0.5, 1};
      double bce = 0;
      for (int i = 0; i < 6; i++) {
        double p = 1 / (1 + Math.exp(-lg[i]));
        bce -= (y[i] * Math.log(p) + (1 - y[i]) * Math.log(1 - p)) / 6;
      }
      assertEquals(bce, new BCEWithLogitsLoss().apply(logits, Tensor.of(y, 2, 3)).item(), 1e-12);
      double mse = 0;
      for (int i = 0; i < 6; i++) {
        mse += Math.pow(lg[i] - y[i], 2) / 6;
      }
      assertEquals(mse, new MSELoss().apply(logits, Tensor.of(y, 2, 3)).item(), 1e-12);
      assertThrows(IllegalArgumentException.class, () -> new CrossEntropyLoss().apply(logits, Tensor.of(new double[] {1, 2})));
    }
  }

  @Test
  void convPoolEmbeddingShapesAndGradients() {
    Rng r = new Rng(9);
    try (TensorScope s = new TensorScope();
        Sequential cnn = new Sequential(new Conv2d(1, 4, 3, 1, 1, 1, r), new GELU(), new MaxPool2d(2), new Flatten(),
            new Linear(4 * 3 * 3, 2, r), new Tanh(), new Sigmoid());
        Embedding emb = new Embedding(5, 3, r)) {
      Tensor x = Tensor.rand(r, DType.F32, 2, 1, 6, 6);
      Tensor y = cnn.forward(x);
      assertArrayEquals(new long[] {2, 2}, y.shape());
      y.sum().backward();
      for (Map.Entry<String, Tensor> e : cnn.namedParameters().entrySet()) {
        assertArrayEquals(e.getValue().shape(), e.getValue().grad().shape(), e.getKey());
      }
      cnn.zeroGrad();
      Tensor idx = Tensor.of(new int[] {4, 0, 4}, 3);
      Tensor ev = emb.forward(idx);
      assertArrayEquals(new long[] {3, 3}, ev.shape());
      ev.sum().backward();
      float[] g = emb.weight().grad().toFloatArray();  // row 4 used twice, row 0 once, others never
      assertArrayEquals(new float[] {1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2}, g, 0);
    }
  }
}
