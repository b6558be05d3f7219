package dev.jxla.internal;

/**
 * Op ids resolved by name from the engine's op table at class initialization, so the Java side
 * keeps no copy of the numbering (native/ir/ops.def is the single source).
 */
public final class Ops {
  private Ops() {}

  public static final int FULL = Native.opId("full");
  public static final int IOTA = Native.opId("iota");
  public static final int RNG_UNIFORM = Native.opId("rng_uniform");
  public static final int RNG_NORMAL = Native.opId("rng_normal");
  public static final int NEG = Native.opId("neg");
  public static final int ABS = Native.opId("abs");
  public static final int EXP = Native.opId("exp");
  public static final int LOG = Native.opId("log");
  public static final int LOG1P = Native.opId("log1p");
  public static final int EXPM1 = Native.opId("expm1");
  public static final int SQRT = Native.opId("sqrt");
  public static final int RSQRT = Native.opId("rsqrt");
  public static final int TANH = Native.opId("tanh");
  public static final int SIGMOID = Native.opId("sigmoid");
  public static final int RELU = Native.opId("relu");
  public static final int GELU = Native.opId("gelu");
  public static final int GELU_TANH = Native.opId("gelu_tanh");
  public static final int ERF = Native.opId("erf");
  public static final int SIN = Native.opId("sin");
  public static final int COS = Native.opId("cos");
  public static final int FLOOR = Native.opId("floor");
  public static final int CEIL = Native.opId("ceil");
  public static final int ROUND = Native.opId("round");
  public static final int SIGN = Native.opId("sign");
  public static final int NOT = Native.opId("not");
  public static final int CONVERT = Native.opId("convert");
  public static final int ADD = Native.opId("add");
  public static final int SUB = Native.opId("sub");
  public static final int MUL = Native.opId("mul");
  public static final int DIV = Native.opId("div");
  public static final int POW = Native.opId("pow");
  public static final int MAX = Native.opId("max");
  public static final int MIN = Native.opId("min");
  public static final int EQ = Native.opId("eq");
  public static final int NE = Native.opId("ne");
  public static final int LT = Native.opId("lt");
  public static final int LE = Native.opId("le");
  public static final int GT = Native.opId("gt");
  public static final int GE = Native.opId("ge");
  public static final int AND = Native.opId("and");
  public static final int OR = Native.opId("or");
  public static final int XOR = Native.opId("xor");
  public static final int SELECT = Native.opId("select");
  public static final int CLAMP = Native.opId("clamp");
  public static final int RESHAPE = Native.opId("reshape");
  public static final int TRANSPOSE = Native.opId("transpose");
  public static final int BROADCAST = Native.opId("broadcast");
  public static final int SLICE = Native.opId("slice");
  public static final int CONCAT = Native.opId("concat");
  public static final int PAD = Native.opId("pad");
  public static final int GATHER = Native.opId("gather");
  public static final int TAKE_ALONG_AXIS = Native.opId("take_along_axis");
  public static final int SCATTER_ADD = Native.opId("scatter_add");
  public static final int ONE_HOT = Native.opId("one_hot");
  public static final int REDUCE_SUM = Native.opId("reduce_sum");
  public static final int REDUCE_MAX = Native.opId("reduce_max");
  public static final int REDUCE_MIN = Native.opId("reduce_min");
  public static final int REDUCE_PROD = Native.opId("reduce_prod");
  public static final int ARGMAX = Native.opId("argmax");
  public static final int ARGMIN = Native.opId("argmin");
  public static final int TOP_K = Native.opId("top_k");
  public static final int DOT_GENERAL = Native.opId("dot_general");
  public static final int CONV2D = Native.opId("conv2d");
  public static final int MAX_POOL2D = Native.opId("max_pool2d");
  public static final int AVG_POOL2D = Native.opId("avg_pool2d");
  public static final int NONZERO = Native.opId("nonzero");
  public static final int UNIQUE = Native.opId("unique");
  public static final int MASKED_SELECT = Native.opId("masked_select");
  public static final int REDUCE_MEAN = Native.opId("reduce_mean");
  public static final int LOGSUMEXP = Native.opId("logsumexp");
  public static final int SOFTMAX = Native.opId("softmax");
  public static final int LOG_SOFTMAX = Native.opId("log_softmax");
}
