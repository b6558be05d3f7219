package dev.jxla.onnx;

import com.google.protobuf.ByteString;
import dev.jxla.DType;
import dev.jxla.Tensor;
import dev.jxla.onnx.proto.Onnx.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Conversion between ONNX TensorProto and JXLA tensors/Java arrays.
 *
 * <p>Element types: FLOAT, DOUBLE, FLOAT16, BFLOAT16, INT32, INT64 and BOOL map to the JXLA dtype
 * of the same name. The narrow integer types (INT8, INT16, UINT8, UINT16) are widened to s32 and
 * UINT32/UINT64 to s64: arithmetic on the wide type followed by {@link #narrow} (two's-complement
 * wrap-around to the declared type) gives the ONNX result for the operators we map (add, sub,
 * mul, comparisons, min/max, division of non-negative values). Every other type is rejected
 * with an {@link OnnxException} naming it. The packed 4- and 2-bit integers (INT4, UINT4, INT2,
 * UINT2) are unpacked to s32 (first element in the low bits of each byte). The 8- and 4-bit
 * float types (float8 E4M3FN/E4M3FNUZ/E5M2/E5M2FNUZ/E8M0, FLOAT4E2M1) are decoded to their
 * values in f32 tensors (exact; see {@link NarrowFloat}).
 *
 * <p>Data comes from raw_data (little-endian) or the typed fields; a size that does not match
 * the dims is reported as a malformed tensor, never read past.
 */
public final class OnnxTensors {
  private OnnxTensors() {}

  // ONNX TensorProto.DataType codes
  public static final int FLOAT = 1;
  public static final int UINT8 = 2;
  public static final int INT8 = 3;
  public static final int UINT16 = 4;
  public static final int INT16 = 5;
  public static final int INT32 = 6;
  public static final int INT64 = 7;
  public static final int STRING = 8;
  public static final int BOOL = 9;
  public static final int FLOAT16 = 10;
  public static final int DOUBLE = 11;
  public static final int UINT32 = 12;
  public static final int UINT64 = 13;
  public static final int BFLOAT16 = 16;
  public static final int FLOAT8E4M3FN = 17;
  public static final int FLOAT8E4M3FNUZ = 18;
  public static final int FLOAT8E5M2 = 19;
  public static final int FLOAT8E5M2FNUZ = 20;
  public static final int FLOAT4E2M1 = 23;
  public static final int FLOAT8E8M0 = 24;
  public static final int UINT4 = 21;
  public static final int INT4 = 22;
  public static final int UINT2 = 25;
  public static final int INT2 = 26;

  private static final String[] NAMES = {"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64",
      "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16",
      "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4", "INT4", "FLOAT4E2M1",
      "FLOAT8E8M0", "UINT2", "INT2"};

  /** The ONNX name of an element type code. */
  public static String typeName(int t) {
    return t >= 0 && t < NAMES.length ? NAMES[t] : "type#" + t;
  }

  /** True if JXLA can hold ONNX element type {@code t} (possibly widened). */
  public static boolean supported(int t) {
    switch (t) {
      case FLOAT: case DOUBLE: case FLOAT16: case BFLOAT16: case INT32: case INT64: case BOOL:
      case INT8: case INT16: case UINT8: case UINT16: case UINT32: case UINT64:
      case UINT4: case INT4: case UINT2: case INT2:
        return true;
      default:
        return NarrowFloat.of(t) != null;
    }
  }

  /** The JXLA dtype holding ONNX type {@code t}. */
  public static DType dtypeOf(int t, String what) {
    switch (t) {
      case FLOAT: return DType.F32;
      case DOUBLE: return DType.F64;
      case FLOAT16: return DType.F16;
      case BFLOAT16: return DType.BF16;
      case INT32: case INT8: case INT16: case UINT8: case UINT16: return DType.S32;
      case INT4: case UINT4: case INT2: case UINT2: return DType.S32;
      case INT64: case UINT32: case UINT64: return DType.S64;
      case BOOL: return DType.BOOL;
      default:
        if (NarrowFloat.of(t) != null) {
          return DType.F32;  // values of the format, exactly (see NarrowFloat)
        }
        throw new OnnxException(what + ": element type " + typeName(t) + " is not supported");
    }
  }

  /** Bits per element of the packed sub-byte types (4 or 2), else 0. */
  static int subByteBits(int t) {
    return t == INT4 || t == UINT4 ? 4 : t == INT2 || t == UINT2 ? 2 : 0;
  }

  /** Wraps a widened integer back to the ONNX type {@code t} (identity for other types). */
  public static long narrow(long v, int t) {
    switch (t) {
      case INT8: return (byte) v;
      case UINT8: return v & 0xffL;
      case INT16: return (short) v;
      case UINT16: return v & 0xffffL;
      case INT32: return (int) v;
      case UINT32: return v & 0xffffffffL;
      default: return v;
    }
  }

  /** Host copy of a TensorProto: dims, element type and values (floats as double, ints as long). */
  public static final class HostTensor {
    public final int type;
    public final long[] dims;
    /** Values for floating-point types (NaN/inf preserved), else null. */
    public final double[] f;
    /** Values for integer and bool types (unsigned 64-bit as raw bits), else null. */
    public final long[] i;

    HostTensor(int type, long[] dims, double[] f, long[] i) {
      this.type = type;
      this.dims = dims;
      this.f = f;
      this.i = i;
    }

    public int numel() {
      return f != null ? f.length : i.length;
    }

    public boolean isFloat() {
      return f != null;
    }
  }

  static long numel(long[] dims, String what) {
    long n = 1;
    for (long d : dims) {
      if (d < 0) {
        throw new OnnxException(what + ": negative dimension in " + Arrays.toString(dims));
      }
      n = Math.multiplyExact(n, d);
      if (n > Integer.MAX_VALUE - 8) {
        throw new OnnxException(what + ": " + Arrays.toString(dims) + " is too large");
      }
    }
    return n;
  }

  private static int elemBytes(int t) {
    switch (t) {
      case BOOL: case INT8: case UINT8: return 1;
      case FLOAT8E4M3FN: case FLOAT8E4M3FNUZ: case FLOAT8E5M2: case FLOAT8E5M2FNUZ: case FLOAT8E8M0: return 1;
      case INT16: case UINT16: case FLOAT16: case BFLOAT16: return 2;
      case FLOAT: case INT32: case UINT32: return 4;
      default: return 8;
    }
  }

  private static boolean isFloatType(int t) {
    return t == FLOAT || t == DOUBLE || t == FLOAT16 || t == BFLOAT16 || NarrowFloat.of(t) != null;
  }

  /** Decodes a TensorProto into host values. */
  public static HostTensor decode(TensorProto p, String what) {
    int t = p.getDataType();
    String w = what + (p.getName().isEmpty() ? "" : " '" + p.getName() + "'");
    if (!supported(t)) {
      throw new OnnxException(w + ": element type " + typeName(t) + " is not supported");
    }
    if (p.getDataLocation() == 1) {
      throw new OnnxException(w + ": external data is supported for initializers of a model opened from its file only");
    }
    long[] dims = new long[p.getDimsCount()];
    for (int k = 0; k < dims.length; k++) {
      dims[k] = p.getDims(k);
    }
    int n = (int) numel(dims, w);
    double[] f = isFloatType(t) ? new double[n] : null;
    long[] iv = f == null ? new long[n] : null;
    NarrowFloat nf = NarrowFloat.of(t);
    int bits = nf != null ? nf.bits() : subByteBits(t);
    if (bits < 8 && bits > 0) {
      // packed, the first element in the low bits of each byte (raw_data or one byte per int32_data)
      int perByte = 8 / bits;
      int nbytes = (n + perByte - 1) / perByte;
      boolean raw = p.hasRawData();
      int have = raw ? p.getRawData().size() : p.getInt32DataCount();
      if (have != nbytes) {
        throw new OnnxException(w + ": holds " + have + " packed bytes but " + typeName(t) + Arrays.toString(dims) + " needs " + nbytes);
      }
      boolean signed = t == INT4 || t == INT2;
      int mask = (1 << bits) - 1;
      for (int k = 0; k < n; k++) {
        int by = raw ? p.getRawData().byteAt(k / perByte) & 0xff : p.getInt32Data(k / perByte) & 0xff;
        int v = (by >>> ((k % perByte) * bits)) & mask;
        if (nf != null) {
          f[k] = nf.decode(v);
        } else {
          iv[k] = signed && v >= (1 << (bits - 1)) ? v - (1 << bits) : v;
        }
      }
      return new HostTensor(t, dims, f, iv);
    }
    if (p.hasRawData()) {
      ByteString raw = p.getRawData();
      long want = (long) n * elemBytes(t);
      if (raw.size() != want) {
        throw new OnnxException(w + ": raw_data has " + raw.size() + " bytes but " + typeName(t) + Arrays.toString(dims)
            + " needs " + want);
      }
      ByteBuffer b = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
      for (int k = 0; k < n; k++) {
        if (nf != null) {
          f[k] = nf.decode(b.get() & 0xff);  // one code per byte
          continue;
        }
        switch (t) {
          case FLOAT: f[k] = b.getFloat(); break;
          case DOUBLE: f[k] = b.getDouble(); break;
          case FLOAT16: f[k] = halfToFloat(b.getShort() & 0xffff); break;
          case BFLOAT16: f[k] = Float.intBitsToFloat((b.getShort() & 0xffff) << 16); break;
          case BOOL: iv[k] = b.get() != 0 ? 1 : 0; break;
          case INT8: iv[k] = b.get(); break;
          case UINT8: iv[k] = b.get() & 0xff; break;
          case INT16: iv[k] = b.getShort(); break;
          case UINT16: iv[k] = b.getShort() & 0xffff; break;
          case INT32: iv[k] = b.getInt(); break;
          case UINT32: iv[k] = b.getInt() & 0xffffffffL; break;
          default: iv[k] = b.getLong(); break;
        }
      }
      return new HostTensor(t, dims, f, iv);
    }
    int have;
    switch (t) {
      case FLOAT: have = p.getFloatDataCount(); break;
      case DOUBLE: have = p.getDoubleDataCount(); break;
      case INT64: have = p.getInt64DataCount(); break;
      case UINT32: case UINT64: have = p.getUint64DataCount(); break;
      default: have = p.getInt32DataCount(); break;
    }
    if (have != n) {
      throw new OnnxException(w + ": holds " + have + " values but " + typeName(t) + Arrays.toString(dims) + " needs " + n);
    }
    for (int k = 0; k < n; k++) {
      if (nf != null) {
        int c = p.getInt32Data(k);  // one code per int32 (the TensorProto convention for float8)
        if (c < 0 || c > 0xff) {
          throw new OnnxException(w + ": int32_data[" + k + "] = " + c + " is not a " + typeName(t) + " code");
        }
        f[k] = nf.decode(c);
        continue;
      }
      switch (t) {
        case FLOAT: f[k] = p.getFloatData(k); break;
        case DOUBLE: f[k] = p.getDoubleData(k); break;
        case FLOAT16: f[k] = halfToFloat(p.getInt32Data(k) & 0xffff); break;
        case BFLOAT16: f[k] = Float.intBitsToFloat((p.getInt32Data(k) & 0xffff) << 16); break;
        case INT64: iv[k] = p.getInt64Data(k); break;
        case UINT32: case UINT64: iv[k] = p.getUint64Data(k); break;
        case BOOL: iv[k] = p.getInt32Data(k) != 0 ? 1 : 0; break;
        default: iv[k] = narrow(p.getInt32Data(k), t); break;
      }
    }
    return new HostTensor(t, dims, f, iv);
  }

  /** IEEE half bits to float (exact). */
  static float halfToFloat(int h) {
    int s = (h >>> 15) & 1, e = (h >>> 10) & 0x1f, m = h & 0x3ff;
    float v;
    if (e == 0) {
      v = m * 0x1p-24f;
    } else if (e == 31) {
      v = m == 0 ? Float.POSITIVE_INFINITY : Float.NaN;
    } else {
      v = Float.intBitsToFloat(((e - 15 + 127) << 23) | (m << 13));
    }
    return s == 1 ? -v : v;
  }

  /** A data tensor holding {@code h} in its JXLA dtype. */
  public static Tensor toTensor(HostTensor h, String what) {
    DType dt = dtypeOf(h.type, what);
    long[] dims = h.dims;
    int n = h.numel();
    switch (dt) {
      case F32: {
        float[] a = new float[n];
        for (int k = 0; k < n; k++) {
          a[k] = (float) h.f[k];
        }
        return Tensor.of(a, dims);
      }
      case F64:
        return Tensor.of(h.f.clone(), dims);
      case F16: case BF16: {
        // the values are exact in f32: convert on the engine (round to nearest even is exact)
        float[] a = new float[n];
        for (int k = 0; k < n; k++) {
          a[k] = (float) h.f[k];
        }
        try (Tensor t = Tensor.of(a, dims)) {
          return t.to(dt).materialized();
        }
      }
      case S32: {
        int[] a = new int[n];
        for (int k = 0; k < n; k++) {
          a[k] = (int) h.i[k];
        }
        return Tensor.of(a, dims);
      }
      case S64:
        return Tensor.of(h.i.clone(), dims);
      default: {
        boolean[] a = new boolean[n];
        for (int k = 0; k < n; k++) {
          a[k] = h.i[k] != 0;
        }
        return Tensor.of(a, dims);
      }
    }
  }

  /** Encodes a float32 array as a TensorProto with raw_data (used to write models and test data). */
  public static TensorProto floatTensor(String name, float[] data, long... dims) {
    ByteBuffer b = ByteBuffer.allocate(4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : data) {
      b.putFloat(v);
    }
    b.flip();
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(FLOAT).setRawData(ByteString.copyFrom(b));
    for (long d : dims) {
      t.addDims(d);
    }
    return t.build();
  }
}
