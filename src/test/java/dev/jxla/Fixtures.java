package dev.jxla;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Reads the op fixtures written by {@code src/test/resources/fixtures/gen_fixtures.py} (the file
 * format is described there), makes input tensors from them and reads results back in their own
 * dtype, bit for bit. bf16/f16 values are encoded/decoded here from their IEEE definitions (not by
 * the engine), and every encoded input is checked to round-trip exactly.
 */
final class Fixtures {
  private Fixtures() {}

  /** One tensor of a fixture: dtype, shape and the exact values (floats as double, ints as long). */
  static final class Spec {
    final DType dtype;
    final long[] shape;
    final double[] f;  // floating-point dtypes
    final long[] i;    // integer and bool dtypes

    Spec(DType dtype, long[] shape, double[] f, long[] i) {
      this.dtype = dtype;
      this.shape = shape;
      this.f = f;
      this.i = i;
    }

    int size() {
      return dtype.isFloatingPoint() ? f.length : i.length;
    }
  }

  /** One fixture case. */
  static final class Case {
    String id;
    String file;
    List<String> ops = new ArrayList<>();
    String call;
    final Map<String, String> args = new LinkedHashMap<>();
    final List<Spec> inputs = new ArrayList<>();
    Spec out;
    int tolUlps;
    double tolFloor;

    String arg(String k) {
      String v = args.get(k);
      if (v == null) {
        throw new IllegalStateException(id + ": missing arg " + k);
      }
      return v;
    }

    int intArg(String k) {
      return Integer.parseInt(arg(k));
    }

    long longArg(String k) {
      return Long.parseLong(arg(k));
    }

    double doubleArg(String k) {
      return parseDouble(arg(k));
    }

    DType dtypeArg(String k) {
      return dtypeOf(arg(k));
    }

    long[] longsArg(String k) {
      String v = arg(k);
      String body = v.substring(1, v.length() - 1).trim();
      return body.isEmpty() ? new long[0] : Arrays.stream(body.split(",")).mapToLong(Long::parseLong).toArray();
    }

    int[] intsArg(String k) {
      return Arrays.stream(longsArg(k)).mapToInt(x -> (int) x).toArray();
    }

    @Override
    public String toString() {
      return id;
    }
  }

  static DType dtypeOf(String name) {
    for (DType d : DType.values()) {
      if (d.irName().equals(name)) {
        return d;
      }
    }
    throw new IllegalArgumentException("unknown dtype " + name);
  }

  static double parseDouble(String s) {
    switch (s) {
      case "nan":
        return Double.NaN;
      case "inf":
        return Double.POSITIVE_INFINITY;
      case "-inf":
        return Double.NEGATIVE_INFINITY;
      default:
        return Double.parseDouble(s);
    }
  }

  /** The fixture directory on the test class path. */
  static Path dir() {
    URL u = Fixtures.class.getClassLoader().getResource("fixtures");
    if (u == null) {
      throw new IllegalStateException("fixtures/ is not on the test class path");
    }
    try {
      return Paths.get(u.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** All cases, grouped by file name (sorted). */
  static Map<String, List<Case>> load() throws IOException {
    Map<String, List<Case>> all = new LinkedHashMap<>();
    List<Path> files;
    try (Stream<Path> s = Files.list(dir())) {
      files = s.filter(p -> p.toString().endsWith(".txt")).sorted().collect(Collectors.toList());
    }
    for (Path p : files) {
      all.put(p.getFileName().toString(), parse(p));
    }
    return all;
  }

  static List<Case> parse(Path p) throws IOException {
    List<Case> cases = new ArrayList<>();
    Case c = null;
    int lineNo = 0;
    for (String line : Files.readAllLines(p, StandardCharsets.UTF_8)) {
      lineNo++;
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String[] t = line.trim().split(" +");
      try {
        switch (t[0]) {
          case "case":
            c = new Case();
            c.id = t[1];
            c.file = p.getFileName().toString();
            break;
          case "op":
            c.ops.addAll(Arrays.asList(t).subList(1, t.length));
            break;
          case "call":
            c.call = t[1];
            break;
          case "arg":
            c.args.put(t[1], t[2]);
            break;
          case "in":
            c.inputs.add(spec(t));
            break;
          case "out":
            c.out = spec(t);
            break;
          case "tol":
            c.tolUlps = Integer.parseInt(t[1]);
            c.tolFloor = parseDouble(t[2]);
            break;
          case "end":
            cases.add(c);
            c = null;
            break;
          default:
            throw new IllegalStateException("unknown line kind " + t[0]);
        }
      } catch (RuntimeException e) {
        throw new IllegalStateException(p.getFileName() + ":" + lineNo + ": " + e.getMessage(), e);
      }
    }
    return cases;
  }

  private static Spec spec(String[] t) {
    DType dt = dtypeOf(t[1]);
    String sh = t[2].substring(1, t[2].length() - 1);
    long[] shape = sh.isEmpty() ? new long[0] : Arrays.stream(sh.split(",")).mapToLong(Long::parseLong).toArray();
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    int count = t.length - 3;
    if (count != n) {
      throw new IllegalStateException(count + " values for shape " + Arrays.toString(shape));
    }
    if (dt.isFloatingPoint()) {
      double[] f = new double[count];
      for (int k = 0; k < count; k++) {
        f[k] = parseDouble(t[3 + k]);
      }
      return new Spec(dt, shape, f, null);
    }
    long[] v = new long[count];
    for (int k = 0; k < count; k++) {
      v[k] = Long.parseLong(t[3 + k]);
    }
    return new Spec(dt, shape, null, v);
  }

  // ------------------------------------------------------------------ half-precision encodings

  /** IEEE binary16 bits of v, which must be exactly representable (checked). */
  static short halfBits(double v) {
    int sign = (Double.doubleToRawLongBits(v) >>> 63) != 0 ? 0x8000 : 0;
    int bits;
    double a = Math.abs(v);
    if (Double.isNaN(v)) {
      bits = 0x7e00;
    } else if (Double.isInfinite(v)) {
      bits = sign | 0x7c00;
    } else if (a == 0) {
      bits = sign;
    } else {
      int e = Math.getExponent(a);
      if (e < -14) {
        bits = sign | (int) (a * 0x1p24);  // subnormal: units of 2^-24
      } else {
        bits = sign | ((e + 15) << 10) | (int) ((Math.scalb(a, -e) - 1.0) * 1024);
      }
    }
    short h = (short) bits;
    double back = halfToDouble(h);
    if (!(back == v || Double.isNaN(v) && Double.isNaN(back))) {
      throw new IllegalArgumentException(v + " is not an f16 value");
    }
    return h;
  }

  /** The value of IEEE binary16 bits. */
  static double halfToDouble(short h) {
    int sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    double v;
    if (exp == 0) {
      v = Math.scalb((double) mant, -24);
    } else if (exp == 31) {
      v = mant != 0 ? Double.NaN : Double.POSITIVE_INFINITY;
    } else {
      v = Math.scalb((double) (1024 + mant), exp - 25);
    }
    return sign != 0 ? -v : v;
  }

  /** bfloat16 bits of v (the high half of its float32), which must be exactly representable. */
  static short bf16Bits(double v) {
    if (Double.isNaN(v)) {
      return (short) 0x7fc0;
    }
    int f = Float.floatToRawIntBits((float) v);
    short b = (short) (f >>> 16);
    if (bf16ToDouble(b) != v) {
      throw new IllegalArgumentException(v + " is not a bf16 value");
    }
    return b;
  }

  static double bf16ToDouble(short b) {
    return Float.intBitsToFloat((b & 0xffff) << 16);
  }

  // ------------------------------------------------------------------ tensors in and out

  /** A tensor holding exactly the spec's values, made through the public data constructors. */
  static Tensor make(Spec s) {
    int n = s.size();
    switch (s.dtype) {
      case F32: {
        float[] a = new float[n];
        for (int k = 0; k < n; k++) {
          a[k] = (float) s.f[k];
          if (a[k] != s.f[k] && !Double.isNaN(s.f[k])) {
            throw new IllegalArgumentException(s.f[k] + " is not an f32 value");
          }
        }
        return Tensor.of(a, s.shape);
      }
      case F64:
        return Tensor.of(s.f.clone(), s.shape);
      case S32: {
        int[] a = new int[n];
        for (int k = 0; k < n; k++) {
          a[k] = Math.toIntExact(s.i[k]);
        }
        return Tensor.of(a, s.shape);
      }
      case S64:
        return Tensor.of(s.i.clone(), s.shape);
      case BOOL: {
        boolean[] a = new boolean[n];
        for (int k = 0; k < n; k++) {
          a[k] = s.i[k] != 0;
        }
        return Tensor.of(a, s.shape);
      }
      default: {  // BF16, F16: raw bits through a direct buffer
        ByteBuffer bb = ByteBuffer.allocateDirect(2 * n).order(ByteOrder.nativeOrder());
        for (int k = 0; k < n; k++) {
          bb.putShort(2 * k, s.dtype == DType.BF16 ? bf16Bits(s.f[k]) : halfBits(s.f[k]));
        }
        return Tensor.of(bb, s.dtype, s.shape);
      }
    }
  }

  /** Reads t in its own dtype (no conversion by the engine): floats as double, others as long. */
  static Spec read(Tensor t) {
    DType dt = t.dtype();
    long[] shape = t.shape();
    int n = Math.toIntExact(t.numel());
    ByteBuffer bb = ByteBuffer.allocateDirect(Math.max(1, n * dt.byteSize())).order(ByteOrder.nativeOrder());
    t.copyTo(bb, dt);
    double[] f = dt.isFloatingPoint() ? new double[n] : null;
    long[] v = dt.isFloatingPoint() ? null : new long[n];
    for (int k = 0; k < n; k++) {
      switch (dt) {
        case F32:
          f[k] = bb.getFloat(4 * k);
          break;
        case F64:
          f[k] = bb.getDouble(8 * k);
          break;
        case BF16:
          f[k] = bf16ToDouble(bb.getShort(2 * k));
          break;
        case F16:
          f[k] = halfToDouble(bb.getShort(2 * k));
          break;
        case S32:
          v[k] = bb.getInt(4 * k);
          break;
        case S64:
          v[k] = bb.getLong(8 * k);
          break;
        default:
          v[k] = bb.get(k);
          break;
      }
    }
    return new Spec(dt, shape, f, v);
  }
}
