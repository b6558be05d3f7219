package dev.jxla;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** A multi-core emulated TPU: per-core devices, concurrent execution, exact collectives. */
class TpuPodTest {
  private static final int CORES = 8;

  private static float[][] data(int n, long seed) {
    Random r = new Random(seed);
    float[][] v = new float[CORES][n];
    for (float[] row : v) {
      for (int i = 0; i < n; i++) {
        row[i] = (float) (r.nextGaussian() * 100);
      }
    }
    return v;
  }

  @Test
  void collectivesAreExact() {
    Device pod = Device.tpu("v4", CORES);
    assertTrue(pod.describe().contains("x8"));
    assertNotEquals(pod.core(1).describe(), pod.core(2).describe());
    int n = 16;
    float[][] x = data(n, 11);
    try (TensorScope scope = new TensorScope()) {
      Tensor[] t = new Tensor[CORES];
      for (int c = 0; c < CORES; c++) {
        // some per-core work first: the cores' graphs run concurrently at the collective
        t[c] = Tensor.of(x[c], 2, 8).to(pod.core(c)).mul(Tensor.of(new float[] {1f}, 1, 1).to(pod.core(c)));
      }
      // sum and mean: the cores folded in order 0..7 with f32 adds
      float[] sum = new float[n];
      float[] max = new float[n];
      for (int i = 0; i < n; i++) {
        float s = x[0][i];
        float m = x[0][i];
        for (int c = 1; c < CORES; c++) {
          s = s + x[c][i];
          m = Math.max(m, x[c][i]);
        }
        sum[i] = s;
        max[i] = m;
      }
      Tensor[] rs = Collectives.allReduce(Collectives.Reduction.SUM, t);
      Tensor[] rm = Collectives.allReduce(Collectives.Reduction.MAX, t);
      Tensor[] ra = Collectives.allReduce(Collectives.Reduction.MEAN, t);
      for (int c = 0; c < CORES; c++) {
        assertEquals(pod.core(c), rs[c].device());
        assertArrayEquals(sum, rs[c].toFloatArray());
        assertArrayEquals(max, rm[c].toFloatArray());
        float[] mean = ra[c].toFloatArray();
        for (int i = 0; i < n; i++) {
          assertEquals(sum[i] / CORES, mean[i]);
        }
      }
      // all_gather along axis 0: [2,8] per core -> [16,8] on every core
      Tensor[] g = Collectives.allGather(0, t);
      float[] want = new float[CORES * n];
      for (int c = 0; c < CORES; c++) {
        System.arraycopy(x[c], 0, want, c * n, n);
      }
      for (int c = 0; c < CORES; c++) {
        assertArrayEquals(new long[] {16, 8}, g[c].shape());
        assertArrayEquals(want, g[c].toFloatArray());
      }
      // reduce_scatter along axis 1: core c gets columns c of the sum
      Tensor[] rsc = Collectives.reduceScatter(Collectives.Reduction.SUM, 1, t);
      for (int c = 0; c < CORES; c++) {
        assertArrayEquals(new long[] {2, 1}, rsc[c].shape());
        assertArrayEquals(new float[] {sum[c], sum[8 + c]}, rsc[c].toFloatArray());
      }
      assertTrue(pod.core(3).profile().contains("all_reduce:sum"));
      String trace = pod.chromeTrace();
      assertTrue(trace.startsWith("{\"displayTimeUnit\""), trace);
      assertTrue(trace.contains("\"name\": \"all_reduce:sum\", \"cat\": \"ici\", \"ph\": \"X\", \"pid\": 0, \"tid\": 7"));
      assertTrue(trace.contains("\"args\": {\"name\": \"tpu:v4x8:5\"}"));
      assertEquals(trace.chars().filter(ch -> ch == '{').count(), trace.chars().filter(ch -> ch == '}').count());
      // errors name the operand at fault
      Tensor[] wrong = t.clone();
      wrong[2] = t[3];
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Collectives.allReduce(Collectives.Reduction.SUM, wrong));
      assertTrue(e.getMessage().contains("operand 2"), e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> Collectives.reduceScatter(Collectives.Reduction.SUM, 0, t));
    }
  }

  @Test
  void integerAllReduceAndRingTime() {
    Device pod = Device.tpu("v5e", 4);
    try (TensorScope scope = new TensorScope()) {
      Tensor[] t = new Tensor[4];
      for (int c = 0; c < 4; c++) {
        t[c] = Tensor.of(new int[] {c, 10 * c, -c}, 3).to(pod.core(c));
      }
      double before = pod.core(0).simulatedSeconds();
      Tensor[] r = Collectives.allReduce(Collectives.Reduction.SUM, t);
      assertArrayEquals(new int[] {6, 60, -6}, r[1].toIntArray());
      // ring all_reduce of 12 bytes on 4 cores: 2*3/4*12 B / 100 GB/s + 6 hops * 1 us (plus the transfers)
      double ring = 2.0 * 3 / 4 * 12 / 100e9 + 6e-6;
      assertTrue(pod.core(0).simulatedSeconds() - before >= ring);
      String prof = pod.core(0).profile();
      String line = null;
      for (String l : prof.split("\n")) {
        if (l.contains("all_reduce:sum")) {
          line = l;
        }
      }
      assertEquals(ring * 1e6, Double.parseDouble(line.trim().split("\\s+")[1]), 1e-3);
    }
  }

  @Test
  void coreToCoreCopiesGoOverIci() {
    // v5e: ICI link 100 GB/s, 1 us per hop (chip table); a 4-core ring: core 0 -> core 2 is 2
    // hops, core 0 -> core 3 is 1 hop; a host -> core copy stays PCIe
    Device pod = Device.tpu("v5e", 4);
    try (TensorScope scope = new TensorScope()) {
      float[] data = new float[25000];  // 100,000 bytes
      for (int i = 0; i < data.length; i++) {
        data[i] = i * 0.5f;
      }
      Tensor a = Tensor.of(data, data.length).to(pod.core(0));
      double[] hops = {2, 1};
      int[] dst = {2, 3};
      for (int k = 0; k < 2; k++) {
        Device d = pod.core(dst[k]);
        double before = d.simulatedSeconds();
        Tensor b = a.to(d);
        assertArrayEquals(data, b.toFloatArray());
        double expect = hops[k] * 1e-6 + 100000 / 100e9;
        String line = null;
        for (String l : d.profile().split("\n")) {
          if (l.contains("transfer:ici")) {
            line = l;
          }
        }
        assertEquals(expect * 1e6, Double.parseDouble(line.trim().split("\\s+")[1]), 1e-3);
        assertTrue(d.simulatedSeconds() - before >= expect);
      }
      assertTrue(pod.core(0).profile().contains("transfer:h2d"));
    }
  }
}
