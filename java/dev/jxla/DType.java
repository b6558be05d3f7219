package dev.jxla;

/**
 * Element types. The ordinal-independent {@link #id()} equals the engine's {@code JXLA_*} dtype
 * constant. {@code BF16} and {@code F16} conversions round to nearest even; NaN stays NaN.
 */
public enum DType {
  F32(0, 4),
  BF16(1, 2),
  F16(2, 2),
  F64(3, 8),
  S32(4, 4),
  S64(5, 8),
  BOOL(6, 1);

  private final int id;
  private final int byteSize;

  DType(int id, int byteSize) {
    this.id = id;
    this.byteSize = byteSize;
  }

  /** The engine's dtype id. */
  public int id() {
    return id;
  }

  /** Bytes per element. */
  public int byteSize() {
    return byteSize;
  }

  /** True for F32, BF16, F16 and F64. */
  public boolean isFloatingPoint() {
    return this == F32 || this == BF16 || this == F16 || this == F64;
  }

  /** The text-IR name ("f32", "bf16", ...). */
  public String irName() {
    return this == BOOL ? "bool" : name().toLowerCase(java.util.Locale.ROOT);
  }

  /** The DType of an engine id. */
  public static DType ofId(int id) {
    for (DType t : values()) {
      if (t.id == id) {
        return t;
      }
    }
    throw new IllegalArgumentException("unknown dtype id " + id);
  }
}
