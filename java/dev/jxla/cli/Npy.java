package dev.jxla.cli;

import dev.jxla.DType;
import dev.jxla.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reader of NumPy's .npy format (versions 1-3): the magic "\x93NUMPY", a version, a header length
 * (2 bytes in v1, 4 in v2/v3) and a Python dict literal with 'descr', 'fortran_order' and 'shape',
 * then the raw C-order data (format description: numpy.lib.format). Supported descr: f4 f8 f2
 * i4 i8 i2 i1 u1 u2 b1, little-endian or single byte. Errors name the file and the problem.
 */
public final class Npy {
  private Npy() {}

  private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

  /** Reads a .npy file into a data tensor (narrow integers widened to s32). */
  public static Tensor read(Path file) throws IOException {
    return parse(Files.readAllBytes(file), file.toString());
  }

  /** Parses .npy bytes. */
  public static Tensor parse(byte[] b, String what) {
    ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    if (b.length < 10 || (b[0] & 0xff) != 0x93 || !new String(b, 1, 5, StandardCharsets.ISO_8859_1).equals("NUMPY")) {
      throw new IllegalArgumentException(what + ": not a .npy file (bad magic)");
    }
    int major = b[6];
    int hlen, off;
    if (major == 1) {
      hlen = buf.getShort(8) & 0xffff;
      off = 10;
    } else if (major == 2 || major == 3) {
      if (b.length < 12) {
        throw new IllegalArgumentException(what + ": truncated header");
      }
      hlen = buf.getInt(8);
      off = 12;
    } else {
      throw new IllegalArgumentException(what + ": unsupported .npy version " + major);
    }
    if (hlen < 0 || off + hlen > b.length) {
      throw new IllegalArgumentException(what + ": truncated header");
    }
    String header = new String(b, off, hlen, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    Matcher d = DESCR.matcher(header), f = FORTRAN.matcher(header), s = SHAPE.matcher(header);
    if (!d.find() || !f.find() || !s.find()) {
      throw new IllegalArgumentException(what + ": header lacks descr/fortran_order/shape: " + header.trim());
    }
    if (f.group(1).equals("True")) {
      throw new IllegalArgumentException(what + ": Fortran-order arrays are not supported (save with np.ascontiguousarray)");
    }
    List<Long> dims = new ArrayList<>();
    for (String t : s.group(1).split(",")) {
      if (!t.trim().isEmpty()) {
        dims.add(Long.parseLong(t.trim()));
      }
    }
    long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
    long n = 1;
    for (long x : shape) {
      n = Math.multiplyExact(n, x);
    }
    String descr = d.group(1);
    if (descr.startsWith(">") && !descr.endsWith("1")) {
      throw new IllegalArgumentException(what + ": big-endian data (" + descr + ") is not supported");
    }
    String code = descr.replaceFirst("^[<|=]", "");
    int size = Integer.parseInt(code.substring(1));
    int data = off + hlen;
    if (n > Integer.MAX_VALUE || (long) data + n * size != b.length) {
      throw new IllegalArgumentException(what + ": " + (b.length - data) + " data bytes for " + descr + " " + dims);
    }
    int cnt = (int) n;
    buf.position(data);
    switch (code) {
      case "f4": {
        float[] a = new float[cnt];
        buf.asFloatBuffer().get(a);
        return Tensor.of(a, shape);
      }
      case "f8": {
        double[] a = new double[cnt];
        buf.asDoubleBuffer().get(a);
        return Tensor.of(a, shape);
      }
      case "f2": {
        ByteBuffer direct = ByteBuffer.allocateDirect(cnt * 2).order(ByteOrder.nativeOrder());
        for (int i = 0; i < cnt; i++) {
          direct.putShort(buf.getShort());
        }
        direct.flip();
        return Tensor.of(direct, DType.F16, shape);
      }
      case "i8": {
        long[] a = new long[cnt];
        buf.asLongBuffer().get(a);
        return Tensor.of(a, shape);
      }
      case "i4": case "i2": case "i1": case "u1": case "u2": {
        int[] a = new int[cnt];
        for (int i = 0; i < cnt; i++) {
          switch (code) {
            case "i4": a[i] = buf.getInt(); break;
            case "i2": a[i] = buf.getShort(); break;
            case "u2": a[i] = buf.getShort() & 0xffff; break;
            case "i1": a[i] = buf.get(); break;
            default: a[i] = buf.get() & 0xff; break;
          }
        }
        return Tensor.of(a, shape);
      }
      case "b1": {
        boolean[] a = new boolean[cnt];
        for (int i = 0; i < cnt; i++) {
          a[i] = buf.get() != 0;
        }
        return Tensor.of(a, shape);
      }
      default:
        throw new IllegalArgumentException(what + ": dtype " + descr + " is not supported");
    }
  }
}
