package dev.jxla.onnx;

import dev.jxla.DType;
import dev.jxla.Device;
import dev.jxla.Tensor;
import java.util.HashMap;
import java.util.Map;

/**
 * The ONNX 8- and 4-bit floating-point element types (FLOAT8E4M3FN, FLOAT8E4M3FNUZ, FLOAT8E5M2,
 * FLOAT8E5M2FNUZ, FLOAT8E8M0, FLOAT4E2M1) without engine dtypes: a tensor of such a type is an
 * f32 tensor whose every element is a value of the format (f32 holds all of them exactly, the
 * E8M0 extremes 2^-127 and 2^127 included). Hence a Cast FROM such a type is an ordinary f32
 * conversion, and a Cast TO it is {@link #round}: a graph computation (the inputs arrive at run
 * time) that rounds to the format's grid with the ONNX rules.
 *
 * <p>Codes ({@link #decode}, {@link #encode}) follow the ONNX technical notes float8.md and
 * float4.md: E4M3FN bias 7, max 448, NaN S.1111.111, no infinity; E4M3FNUZ bias 8, max 240;
 * E5M2 bias 15, max 57344, infinities S.11111.00, NaN S.11111.{01,10,11}; E5M2FNUZ bias 16, max
 * 57344; FNUZ formats have one zero and one NaN (0x80); E8M0 is 2^(c-127), c = 0..254, NaN 0xFF;
 * E2M1 (4 bits) bias 1, max 6, no NaN or infinity.
 *
 * <p>Rounding (ONNX Cast, opsets 19-25): the IEEE-like formats round to nearest, ties to even, in
 * the format's precision (subnormals included). A result beyond the largest finite value (and
 * an infinite input) becomes with {@code saturate} that largest finite value with the input's
 * sign; without it infinity for E5M2 and NaN for the others. -0 stays -0 except in the FNUZ
 * formats (no negative zero: every zero result is +0). NaN stays NaN. FLOAT4E2M1 always
 * saturates and maps NaN to 6 (float4.md). E8M0 rounds to a power of two by {@code round_mode}:
 * "up" to the next power of two at or above x, "down" to the one at or below, "nearest" to the
 * nearer of the two (ties up); a result above 2^127 or below 2^-127 (0 included) saturates to
 * that bound, or without {@code saturate} becomes NaN. The spec leaves negative inputs
 * unspecified; here they are out of range below (2^-127 with saturate, else NaN).
 */
public enum NarrowFloat {
  E4M3FN(OnnxTensors.FLOAT8E4M3FN, 4, 3, 7, 448.0, false, false),
  E4M3FNUZ(OnnxTensors.FLOAT8E4M3FNUZ, 4, 3, 8, 240.0, false, true),
  E5M2(OnnxTensors.FLOAT8E5M2, 5, 2, 15, 57344.0, true, false),
  E5M2FNUZ(OnnxTensors.FLOAT8E5M2FNUZ, 5, 2, 16, 57344.0, false, true),
  E8M0(OnnxTensors.FLOAT8E8M0, 8, 0, 127, 0x1p127, false, false),
  E2M1(OnnxTensors.FLOAT4E2M1, 2, 1, 1, 6.0, false, false);

  /** The ONNX TensorProto data type code. */
  public final int onnxType;
  final int expBits;
  final int manBits;
  final int bias;
  /** The largest finite value. */
  public final double max;
  final boolean hasInf;
  /** FNUZ: no negative zero, NaN is the single code 0x80. */
  final boolean unsignedZero;
  private Map<Long, Integer> codeOf;

  NarrowFloat(int onnxType, int expBits, int manBits, int bias, double max, boolean hasInf, boolean unsignedZero) {
    this.onnxType = onnxType;
    this.expBits = expBits;
    this.manBits = manBits;
    this.bias = bias;
    this.max = max;
    this.hasInf = hasInf;
    this.unsignedZero = unsignedZero;
  }

  /** The format of ONNX type {@code t}, or null if {@code t} is not one of these types. */
  public static NarrowFloat of(int t) {
    for (NarrowFloat f : values()) {
      if (f.onnxType == t) {
        return f;
      }
    }
    return null;
  }

  /** Bits per element (8, or 4 for E2M1: two elements per byte, the first in the low nibble). */
  public int bits() {
    return this == E2M1 ? 4 : 8;
  }

  /** Number of codes (256, or 16). */
  public int codes() {
    return 1 << bits();
  }

  /** The value of code {@code c} (exact; NaN for the NaN codes). */
  public double decode(int c) {
    if (c < 0 || c >= codes()) {
      throw new IllegalArgumentException(this + ": code " + c + " is out of range");
    }
    if (this == E8M0) {
      return c == 0xff ? Double.NaN : Math.scalb(1.0, c - 127);
    }
    int signBit = bits() - 1;
    boolean neg = ((c >>> signBit) & 1) != 0;
    int e = (c >>> manBits) & ((1 << expBits) - 1);
    int f = c & ((1 << manBits) - 1);
    if (unsignedZero && c == 0x80) {
      return Double.NaN;
    }
    if (this == E4M3FN && (c & 0x7f) == 0x7f) {
      return Double.NaN;
    }
    if (this == E5M2 && e == 31) {
      return f == 0 ? (neg ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY) : Double.NaN;
    }
    double v = e == 0 ? Math.scalb((double) f, 1 - bias - manBits) : Math.scalb(1.0 + Math.scalb((double) f, -manBits), e - bias);
    return neg ? -v : v;
  }

  /** The code of NaN (E2M1 has none: -1). */
  public int nanCode() {
    switch (this) {
      case E4M3FN: return 0x7f;
      case E5M2: return 0x7e;
      case E8M0: return 0xff;
      case E2M1: return -1;
      default: return 0x80;
    }
  }

  /**
   * The code of value {@code v}, which must be a value of the format (exact, -0 distinct where
   * the format has it); NaN gives {@link #nanCode}. Used to write tensors of these types.
   */
  public int encode(double v) {
    if (Double.isNaN(v)) {
      if (nanCode() < 0) {
        throw new IllegalArgumentException(this + " has no NaN");
      }
      return nanCode();
    }
    Map<Long, Integer> m;
    synchronized (this) {
      if (codeOf == null) {
        codeOf = new HashMap<>();
        for (int c = 0; c < codes(); c++) {
          double d = decode(c);
          if (!Double.isNaN(d)) {
            codeOf.putIfAbsent(Double.doubleToRawLongBits(d), c);
          }
        }
      }
      m = codeOf;
    }
    Integer c = m.get(Double.doubleToRawLongBits(v == 0 && unsignedZero ? 0.0 : v));
    if (c == null) {
      throw new IllegalArgumentException(v + " is not a " + this + " value");
    }
    return c;
  }

  /**
   * Records the ONNX Cast of {@code x} (any dtype) to this format: an f32 tensor of format
   * values. {@code roundMode} ("up", "down", "nearest") applies to E8M0 only.
   */
  public Tensor round(Tensor x, boolean saturate, String roundMode) {
    if (this == E8M0) {
      return roundE8M0(x, saturate, roundMode);
    }
    // f64 and integer inputs are rounded from f64 (no double rounding through f32); the others
    // convert to f32 exactly
    DType w = x.dtype() == DType.F64 || !x.dtype().isFloatingPoint() ? DType.F64 : DType.F32;
    Device d = x.device();
    Tensor xw = x.to(w);
    Tensor a = xw.abs();
    // quantum 2^(max(floor(log2 a), emin) - m), by comparisons against exact powers of two
    int emin = 1 - bias;
    int emax = Math.getExponent(max);
    Tensor q = Tensor.full(d, Math.scalb(1.0, emin - manBits), w, x.shape());
    for (int k = emin + 1; k <= emax; k++) {
      q = Tensor.where(a.ge(cst(Math.scalb(1.0, k), w, d)), cst(Math.scalb(1.0, k - manBits), w, d), q);
    }
    // a / q and r * q are exact (powers of two, no overflow or underflow); round() is half to even
    Tensor r = a.div(q).round().mul(q);
    boolean sat = saturate || this == E2M1;
    double over = sat ? max : hasInf ? Double.POSITIVE_INFINITY : Double.NaN;
    r = Tensor.where(r.gt(max), cst(over, w, d), r);  // infinite inputs included
    Tensor signed = Tensor.where(xw.lt(0), r.neg(), r);
    Tensor zero = cst(0.0, w, d);
    signed = unsignedZero ? Tensor.where(r.eq(0), zero, signed)  // no -0
        : Tensor.where(xw.eq(0), xw, signed);  // -0 stays -0
    Tensor nan = cst(this == E2M1 ? max : Double.NaN, w, d);
    return Tensor.where(xw.ne(xw), nan, signed).to(DType.F32);
  }

  /** A scalar constant on device d (eager use on a device; a trace runs on the host). */
  private static Tensor cst(double v, DType w, Device d) {
    Tensor s = Tensor.scalar(v, w);
    if (d.isHost()) {
      return s;
    }
    try (Tensor h = s) {
      return h.to(d);
    }
  }

  private static Tensor roundE8M0(Tensor x, boolean saturate, String mode) {
    if (!mode.equals("up") && !mode.equals("down") && !mode.equals("nearest")) {
      throw new OnnxException("Cast to FLOAT8E8M0: round_mode '" + mode + "' is not up, down or nearest");
    }
    DType w = DType.F64;  // holds every f32 input and 2^+-130 exactly
    Device d = x.device();
    Tensor xw = x.to(w);
    // beyond [2^-130, 2^130] every mode lands outside [2^-127, 2^127] on the same side
    Tensor s = xw.clamp(0x1p-130, 0x1p130);
    // normalize s = m * p, m in [1, 2), p a power of two, by exact scalings (binary search)
    Tensor p = Tensor.full(d, 1.0, w, x.shape());
    for (int step = 128; step >= 1; step >>= 1) {
      Tensor c = s.ge(cst(Math.scalb(1.0, step), w, d));
      s = Tensor.where(c, s.mul(Math.scalb(1.0, -step)), s);
      p = Tensor.where(c, p.mul(Math.scalb(1.0, step)), p);
    }
    for (int step = 128; step >= 1; step >>= 1) {
      Tensor c = s.lt(cst(Math.scalb(1.0, 1 - step), w, d));
      s = Tensor.where(c, s.mul(Math.scalb(1.0, step)), s);
      p = Tensor.where(c, p.mul(Math.scalb(1.0, -step)), p);
    }
    Tensor r = mode.equals("down") ? p
        : Tensor.where(mode.equals("up") ? s.gt(1.0) : s.ge(cst(1.5, w, d)), p.mul(2.0), p);
    Tensor lo = cst(saturate ? 0x1p-127 : Double.NaN, w, d);
    Tensor hi = cst(saturate ? 0x1p127 : Double.NaN, w, d);
    r = Tensor.where(r.lt(0x1p-127), lo, r);
    r = Tensor.where(r.gt(0x1p127), hi, r);
    r = Tensor.where(xw.le(cst(0.0, w, d)), lo, r);  // zero and (unspecified) negatives: below the range
    return Tensor.where(xw.ne(xw), cst(Double.NaN, w, d), r).to(DType.F32);
  }
}
