package dev.jxla.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Reader of MNIST IDX files (optionally gzip-compressed, detected by the gzip magic): images
 * (magic 0x00000803: count, rows, cols, then unsigned bytes) and labels (0x00000801: count,
 * then unsigned bytes). Headers are big-endian 32-bit integers. Also loads the 10,000-digit
 * copy shipped as a resource (see dev/jxla/data/mnist-10k/ATTRIBUTION.md).
 */
public final class Mnist {
  /** Images as floats scaled to [0, 1], row-major [count, rows * cols]. */
  public final float[] images;
  /** Labels 0-9. */
  public final int[] labels;
  public final int count;
  public final int rows;
  public final int cols;

  private Mnist(float[] images, int[] labels, int rows, int cols) {
    this.images = images;
    this.labels = labels;
    this.count = labels.length;
    this.rows = rows;
    this.cols = cols;
  }

  /** The shipped 10,000 digits. */
  public static Mnist bundled() throws IOException {
    String base = "/dev/jxla/data/mnist-10k/";
    try (InputStream im = open(base + "images-idx3-ubyte.gz"); InputStream lb = open(base + "labels-idx1-ubyte.gz")) {
      return read(im, lb);
    }
  }

  private static InputStream open(String res) throws IOException {
    InputStream in = Mnist.class.getResourceAsStream(res);
    if (in == null) {
      throw new IOException("resource " + res + " is missing from the classpath");
    }
    return in;
  }

  /** Reads an image file and a label file. */
  public static Mnist read(Path images, Path labels) throws IOException {
    try (InputStream im = Files.newInputStream(images); InputStream lb = Files.newInputStream(labels)) {
      return read(im, lb);
    }
  }

  /** Reads IDX streams (gzip or raw). */
  public static Mnist read(InputStream imageStream, InputStream labelStream) throws IOException {
    DataInputStream im = new DataInputStream(maybeGunzip(imageStream));
    DataInputStream lb = new DataInputStream(maybeGunzip(labelStream));
    int mi = im.readInt();
    if (mi != 0x00000803) {
      throw new IOException(String.format("IDX images: bad magic 0x%08x (expected 0x00000803)", mi));
    }
    int n = im.readInt(), rows = im.readInt(), cols = im.readInt();
    int ml = lb.readInt();
    if (ml != 0x00000801) {
      throw new IOException(String.format("IDX labels: bad magic 0x%08x (expected 0x00000801)", ml));
    }
    int nl = lb.readInt();
    if (n < 0 || rows <= 0 || cols <= 0 || (long) n * rows * cols > Integer.MAX_VALUE) {
      throw new IOException("IDX images: bad header count=" + n + " rows=" + rows + " cols=" + cols);
    }
    if (nl != n) {
      throw new IOException("IDX: " + n + " images but " + nl + " labels");
    }
    byte[] px = new byte[n * rows * cols];
    byte[] lab = new byte[n];
    try {
      im.readFully(px);
      lb.readFully(lab);
    } catch (EOFException e) {
      throw new IOException("IDX: file is shorter than its header says", e);
    }
    float[] f = new float[px.length];
    for (int i = 0; i < px.length; i++) {
      f[i] = (px[i] & 0xff) / 255f;
    }
    int[] l = new int[n];
    for (int i = 0; i < n; i++) {
      l[i] = lab[i] & 0xff;
      if (l[i] > 9) {
        throw new IOException("IDX labels: label " + l[i] + " at " + i + " is not a digit");
      }
    }
    return new Mnist(f, l, rows, cols);
  }

  private static InputStream maybeGunzip(InputStream in) throws IOException {
    BufferedInputStream b = new BufferedInputStream(in);
    b.mark(2);
    int a = b.read(), c = b.read();
    b.reset();
    return a == 0x1f && c == 0x8b ? new GZIPInputStream(b, 1 << 16) : b;
  }
}
