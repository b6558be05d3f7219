package dev.jxla.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** The IDX reader on the shipped digits and on hand-made files. */
class MnistTest {
  @Test
  void bundledDigitsHaveTheDocumentedClassCounts() throws IOException {
    Mnist m = Mnist.bundled();
    assertEquals(10000, m.count);
    assertEquals(28, m.rows);
    assertEquals(28, m.cols);
    int[] counts = new int[10];
    for (int l : m.labels) {
      counts[l]++;
    }
    // from the data set's README
    assertArrayEquals(new int[] {1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978}, counts);
    float max = 0;
    for (float v : m.images) {
      max = Math.max(max, v);
    }
    assertEquals(1.0f, max, 0);
  }

  static byte[] idx(int magic, int... header) {
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 + 4 * header.length);
    b.putInt(magic);
    for (int h : header) {
      b.putInt(h);
    }
    return b.array();
  }

  @Test
  void rawIdxIsReadAndBadFilesAreRejected() throws IOException {
    byte[] img = idx(0x803, 2, 1, 2);
    byte[] imgData = java.util.Arrays.copyOf(img, img.length + 4);
    imgData[img.length] = (byte) 255;
    imgData[img.length + 3] = (byte) 51;
    byte[] lab = idx(0x801, 2);
    byte[] labData = java.util.Arrays.copyOf(lab, lab.length + 2);
    labData[lab.length] = 7;
    labData[lab.length + 1] = 3;
    Mnist m = Mnist.read(new ByteArrayInputStream(imgData), new ByteArrayInputStream(labData));
    assertArrayEquals(new float[] {1, 0, 0, 0.2f}, m.images, 0);
    assertArrayEquals(new int[] {7, 3}, m.labels);
    IOException e = assertThrows(IOException.class,
        () -> Mnist.read(new ByteArrayInputStream(idx(0x802, 2, 1, 2)), new ByteArrayInputStream(labData)));
    assertTrue(e.getMessage().contains("magic"), e.getMessage());
    e = assertThrows(IOException.class,
        () -> Mnist.read(new ByteArrayInputStream(img), new ByteArrayInputStream(labData)));
    assertTrue(e.getMessage().contains("shorter"), e.getMessage());
  }
}
