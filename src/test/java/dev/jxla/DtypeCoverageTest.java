package dev.jxla;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * "Every op on every dtype it is defined on", asserted rather than hoped for: each Java API call
 * is probed with operands of every dtype; whenever the engine accepts the combination (no
 * IllegalArgumentException at trace time), the fixtures must hold a case for that call with the
 * same operand dtypes (and the same target dtype for convert, one_hot and the creation ops).
 */
final class DtypeCoverageTest {
  private static final DType[] ALL = DType.values();

  private static Tensor t(DType dt, long... shape) {
    return Tensor.full(1, dt, shape);
  }

  private static String key(String call, List<DType> ins, DType target) {
    StringBuilder sb = new StringBuilder(call).append(':');
    for (DType d : ins) {
      sb.append(d.irName()).append(',');
    }
    return sb.append(':').append(target == null ? "-" : target.irName()).toString();
  }

  /** A probe: the operand dtypes it uses for dt, and the call on operands of those dtypes. */
  private static final class Probe {
    final String call;
    final Function<DType, List<DType>> ins;
    final Function<DType, Tensor> run;
    final boolean targetIsDt;

    Probe(String call, Function<DType, List<DType>> ins, Function<DType, Tensor> run, boolean targetIsDt) {
      this.call = call;
      this.ins = ins;
      this.run = run;
      this.targetIsDt = targetIsDt;
    }
  }

  private static List<Probe> probes() {
    List<Probe> p = new ArrayList<>();
    Function<DType, List<DType>> one = d -> List.of(d);
    Function<DType, List<DType>> two = d -> List.of(d, d);
    String[] unary = {"neg", "abs", "exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "tanh", "sigmoid", "relu", "gelu",
        "gelu_tanh", "erf", "sin", "cos", "floor", "ceil", "round", "sign", "not", "unique", "nonzero", "softmax",
        "log_softmax"};
    for (String u : unary) {
      p.add(new Probe(u, one, d -> OpFixtureTest.call(fake(u, Map.of("axis", "0")), new Tensor[] {t(d, 3)}), false));
    }
    String[] binary = {"add", "sub", "mul", "div", "pow", "max", "min", "eq", "ne", "lt", "le", "gt", "ge", "and", "or", "xor",
        "matmul"};
    for (String b : binary) {
      p.add(new Probe(b, two, d -> OpFixtureTest.call(fake(b, Map.of()), new Tensor[] {t(d, 2, 2), t(d, 2, 2)}), false));
    }
    String[] reduce = {"sum", "prod", "max", "min", "mean", "logsumexp"};
    for (String r : reduce) {
      p.add(new Probe(r + "(axes)", one, d -> OpFixtureTest.call(fake(r, Map.of("axes", "[0]", "keepdims", "0")),
          new Tensor[] {t(d, 3)}), false));
    }
    for (String a : new String[] {"argmax", "argmin"}) {
      p.add(new Probe(a, one, d -> OpFixtureTest.call(fake(a, Map.of("axis", "0", "keepdims", "0")), new Tensor[] {t(d, 3)}),
          false));
    }
    p.add(new Probe("where", d -> List.of(DType.BOOL, d, d), d -> Tensor.where(t(DType.BOOL, 2, 3), t(d, 2, 3), t(d, 2, 3)), false));
    p.add(new Probe("clamp", d -> List.of(d, d, d), d -> t(d, 2).clamp(t(d), t(d)), false));
    p.add(new Probe("reshape", one, d -> t(d, 2, 3).reshape(3, 2), false));
    p.add(new Probe("permute", one, d -> t(d, 2, 3).permute(1, 0), false));
    p.add(new Probe("broadcast_to", one, d -> t(d, 3, 1).broadcastTo(2, 3, 4), false));
    p.add(new Probe("slice", one, d -> t(d, 4).slice(0, 1, 3, 1), false));
    p.add(new Probe("concat", d -> List.of(d, d, d), d -> Tensor.concat(0, t(d, 1), t(d, 0), t(d, 2)), false));
    p.add(new Probe("pad", one, d -> t(d, 2).pad(new long[] {1}, new long[] {0}, 0), false));
    p.add(new Probe("gather", d -> List.of(d, DType.S64), d -> t(d, 3).gather(t(DType.S64, 2), 0), false));
    p.add(new Probe("take_along_axis", d -> List.of(d, DType.S64), d -> t(d, 3).takeAlongAxis(t(DType.S64, 2), 0), false));
    p.add(new Probe("scatter_add", d -> List.of(d, DType.S64, d), d -> t(d, 3).scatterAdd(0, t(DType.S64, 2), t(d, 2)), false));
    p.add(new Probe("masked_select", d -> List.of(d, DType.BOOL), d -> t(d, 3).maskedSelect(t(DType.BOOL, 3)), false));
    p.add(new Probe("conv2d", two, d -> t(d, 1, 1, 3, 3).conv2d(t(d, 1, 1, 2, 2)), false));
    p.add(new Probe("max_pool2d", one, d -> t(d, 1, 1, 2, 2).maxPool2d(new int[] {2, 2}, new int[] {2, 2}, new int[] {0, 0}), false));
    p.add(new Probe("avg_pool2d", one,
        d -> t(d, 1, 1, 2, 2).avgPool2d(new int[] {2, 2}, new int[] {2, 2}, new int[] {0, 0}, true), false));
    p.add(new Probe("one_hot", d -> List.of(DType.S64), d -> t(DType.S64, 2).oneHot(3, d), true));
    p.add(new Probe("full", d -> List.of(), d -> Tensor.full(0.5, d, 2), true));
    p.add(new Probe("iota", d -> List.of(), d -> Tensor.iota(d, 0, 2), true));
    p.add(new Probe("rand", d -> List.of(), d -> Tensor.rand(new Rng(1), d, 2), true));
    p.add(new Probe("randn", d -> List.of(), d -> Tensor.randn(new Rng(1), d, 2), true));
    return p;
  }

  private static Fixtures.Case fake(String call, Map<String, String> args) {
    Fixtures.Case c = new Fixtures.Case();
    c.id = "probe/" + call;
    c.call = call;
    c.args.putAll(args);
    return c;
  }

  @Test
  void everyAcceptedDtypeCombinationHasFixtures() throws IOException {
    Set<String> have = new TreeSet<>();
    for (List<Fixtures.Case> cs : Fixtures.load().values()) {
      for (Fixtures.Case c : cs) {
        List<DType> ins = new ArrayList<>();
        for (Fixtures.Spec s : c.inputs) {
          ins.add(s.dtype);
        }
        String call = c.args.containsKey("axes") ? c.call + "(axes)" : c.call;
        have.add(key(call, ins, c.args.containsKey("dtype") ? Fixtures.dtypeOf(c.args.get("dtype")) : null));
      }
    }
    Map<String, String> missing = new LinkedHashMap<>();
    int accepted = 0;
    for (Probe p : probes()) {
      for (DType d : ALL) {
        try (TensorScope scope = new TensorScope()) {
          p.run.apply(d);
        } catch (IllegalArgumentException rejected) {
          continue;  // the engine does not define the op on this dtype
        }
        accepted++;
        String k = key(p.call, p.ins.apply(d), p.targetIsDt ? d : null);
        if (!have.contains(k)) {
          missing.put(k, p.call + " on " + d);
        }
      }
      // convert: every (source, target) pair
    }
    for (DType s : ALL) {
      for (DType d : ALL) {
        accepted++;
        String k = key("to", List.of(s), d);
        if (!have.contains(k)) {
          missing.put(k, "to " + s + " -> " + d);
        }
      }
    }
    assertTrue(accepted > 300, "only " + accepted + " accepted combinations probed");
    assertTrue(missing.isEmpty(), missing.size() + " accepted op/dtype combinations have no fixture: " + missing.values());
  }
}
