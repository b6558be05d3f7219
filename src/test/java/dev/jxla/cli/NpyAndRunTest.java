package dev.jxla.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jxla.DType;
import dev.jxla.Tensor;
import dev.jxla.TensorScope;
import dev.jxla.onnx.MlpModel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The .npy reader on NumPy-written fixtures (src/test/resources/npy/make_npy.py) and the run command. */
class NpyAndRunTest {
  private static final Path DIR = Path.of("src/test/resources/npy");

  @TempDir
  Path tmp;

  @Test
  void readsNumpyFixtures() throws Exception {
    try (TensorScope s = new TensorScope()) {
      Tensor a = Npy.read(DIR.resolve("f32_2x3.npy"));
      assertArrayEquals(new long[] {2, 3}, a.shape());
      assertArrayEquals(new float[] {-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f}, a.toFloatArray());
      Tensor b = Npy.read(DIR.resolve("f64_scalar.npy"));
      assertEquals(0, b.rank());
      assertEquals(3.25, b.item());
      assertArrayEquals(new long[] {-2, 0, 7, 1L << 40}, Npy.read(DIR.resolve("i64_4.npy")).toLongArray());
      assertArrayEquals(new int[] {0, 128, 255}, Npy.read(DIR.resolve("u8_3.npy")).toIntArray());
      assertArrayEquals(new int[] {1, -2, 3, -4}, Npy.read(DIR.resolve("i32_2x2.npy")).toIntArray());
      assertArrayEquals(new boolean[] {true, false, true}, Npy.read(DIR.resolve("bool_3.npy")).toBooleanArray());
      Tensor h = Npy.read(DIR.resolve("f16_2.npy"));
      assertEquals(DType.F16, h.dtype());
      assertArrayEquals(new float[] {0.5f, -1.25f}, h.toFloatArray());
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Npy.read(DIR.resolve("fortran.npy")));
      assertTrue(e.getMessage().contains("Fortran"), e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> Npy.parse(new byte[] {1, 2, 3}, "junk"));
      byte[] f = Files.readAllBytes(DIR.resolve("f32_2x3.npy"));
      assertThrows(IllegalArgumentException.class, () -> Npy.parse(java.util.Arrays.copyOf(f, f.length - 3), "short"));
    }
  }

  @Test
  void runPrintsOutputsAndMetrics() throws Exception {
    MlpModel m = new MlpModel(5, 6, 4, 3);
    Path model = tmp.resolve("mlp.onnx");
    Files.write(model, m.toBytes());
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    RunCommand.run(new String[] {model.toString(), "--input", "x=" + DIR.resolve("mlp_x.npy")},
        new PrintStream(bytes, true, StandardCharsets.UTF_8));
    String out = bytes.toString(StandardCharsets.UTF_8);
    float[] x = new float[12];
    for (int i = 0; i < 12; i++) {
      x[i] = (float) i / 10 - 0.5f;
    }
    double[] want = m.reference(x, 2);
    assertTrue(out.startsWith("y: f32[2, 3]"), out);
    String first = out.substring(out.indexOf("first=[") + 7, out.indexOf(']', out.indexOf("first=[")));
    String[] vals = first.split(",\\s*");
    assertEquals(6, vals.length, out);
    for (int i = 0; i < 6; i++) {
      // f32 dot products of length <= 6 against the double reference
      assertEquals(want[i], Double.parseDouble(vals[i]), 1e-5, out);
    }
    assertTrue(out.contains("CompileTime") || out.contains("Compile"), out);
    assertThrows(IllegalArgumentException.class, () -> RunCommand.run(new String[] {model.toString()}, System.out));
    assertThrows(IllegalArgumentException.class,
        () -> RunCommand.run(new String[] {model.toString(), "--input", "x=" + DIR.resolve("mlp_x.npy"), "--device", "gpu"}, System.out));
    assertThrows(IllegalArgumentException.class,
        () -> RunCommand.run(new String[] {model.toString(), "--input", "x=" + DIR.resolve("mlp_x.npy"), "--precision", "max"}, System.out));
  }

  @Test
  void runOnTheEmulatedTpu() throws Exception {
    MlpModel m = new MlpModel(5, 6, 4, 3);
    Path model = tmp.resolve("mlp.onnx");
    Files.write(model, m.toBytes());
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    dev.jxla.Precision before = dev.jxla.Jxla.matmulPrecision();
    RunCommand.run(new String[] {model.toString(), "--input", "x=" + DIR.resolve("mlp_x.npy"), "--device", "tpu:v5e",
        "--precision", "HIGHEST"}, new PrintStream(bytes, true, StandardCharsets.UTF_8));
    assertEquals(before, dev.jxla.Jxla.matmulPrecision(), "the run restores the process-wide precision");
    String out = bytes.toString(StandardCharsets.UTF_8);
    float[] x = new float[12];
    for (int i = 0; i < 12; i++) {
      x[i] = (float) i / 10 - 0.5f;
    }
    double[] want = m.reference(x, 2);
    String first = out.substring(out.indexOf("first=[") + 7, out.indexOf(']', out.indexOf("first=[")));
    String[] vals = first.split(",\\s*");
    for (int i = 0; i < 6; i++) {
      // HIGHEST: dot error <= (2^-20 + 1.1 (K + 6) u) sum|a||b| with K <= 6 and |a||b| sums below 4 here
      assertEquals(want[i], Double.parseDouble(vals[i]), 1e-5, out);
    }
    // the profile lists the model's two MXU matmuls, and the metrics hold the simulated DeviceTime
    assertTrue(out.contains("tpu:v5e (precision HIGHEST): simulated device time"), out);
    assertEquals(2, out.lines().filter(l -> l.contains(" dot_general ")).count(), out);
    assertTrue(out.contains("DeviceTime"), out);
  }
}
