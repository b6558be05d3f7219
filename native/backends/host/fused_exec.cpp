// fused_exec.cpp - the host compiler and the fused executable. compile_host_fused runs the pass
// pipeline, compiles each Loop/Row/Dot kernel of the plan, and keeps the optimized graph.
// run() executes the kernels in order; temporaries live in the slots chosen by buffer
// assignment (a slot buffer is re-typed when reused: sizes match exactly), graph outputs get
// fresh buffers, except a hand-fused Adam kernel's p', m', v' when the caller donates the
// parameter's buffer (run_donated; find_donations says when that is exact), and every value is
// released right after its last reader.
// With flush-to-zero on (denormal.h, off by default) a run flushes subnormals (FTZ/DAZ).
// Thread-safety: run() keeps all per-run state on its own stack, so one executable may run
// concurrently from many threads.
// JXLA_PROFILE=1: each kernel's wall time is summed over runs (relaxed atomics) and the table is
// written to stderr when the executable is released (a diagnostic like XLA's HLO profile; off by
// default, and then costs one branch per kernel). A dot chain (find_dot_chains) is timed as a whole
// and its time is attributed to its first kernel (the others show 0).
#include "backends/host/fused_exec.h"
#include "backends/host/denormal.h"
#include "backends/host/fast_reduce.h"
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include "backends/host/fused_adam.h"
#include "backends/host/fused_kernel.h"
#include "backends/host/reference.h"
#include "ir/error.h"
#include "passes/pass.h"
#include "runtime/metrics.h"

namespace jxla {

namespace {
bool profile_enabled() {
  static const bool on = std::getenv("JXLA_PROFILE") && std::strcmp(std::getenv("JXLA_PROFILE"), "0") != 0;
  return on;
}

class FusedExecutable final : public Executable {
 public:
  FusedExecutable(Graph g, CompileContext ctx, Device* dev) : g_(std::move(g)), ctx_(std::move(ctx)), dev_(dev) {
    std::unordered_map<const Node*, int> id;
    for (size_t i = 0; i < g_.nodes.size(); ++i) id[g_.nodes[i].get()] = static_cast<int>(i);
    const auto& ks = ctx_.plan.kernels;
    std::vector<bool> is_out(g_.nodes.size(), false);
    for (auto& o : g_.outputs) is_out[id.at(o.get())] = true;
    last_use_.assign(g_.nodes.size(), -1);
    size_t flat = 0;
    for (size_t k = 0; k < ks.size(); ++k) {
      Step s;
      s.kernel = &ks[k];
      if (ks[k].kind != Kernel::Single) s.fused = compile_fused_kernel(ks[k]);
      for (const Node* in : ks[k].inputs) {
        s.in.push_back(id.at(in));
        last_use_[id.at(in)] = static_cast<int>(k);
      }
      if (ks[k].kind == Kernel::Single)
        for (auto& x : ks[k].outputs.at(0)->inputs) s.node_in.push_back(id.at(x.get()));
      for (const Node* o : ks[k].outputs) {
        s.out.push_back(id.at(o));
        s.slot.push_back(ctx_.buffers.slot_of_kernel_output.at(flat++));
      }
      steps_.push_back(std::move(s));
    }
    for (size_t i = 0; i < g_.nodes.size(); ++i) if (is_out[i]) last_use_[i] = INT32_MAX;
    find_dot_chains();
    for (auto& p : g_.params) param_id_.push_back(id.at(p.get()));
    for (auto& o : g_.outputs) out_id_.push_back(id.at(o.get()));
    find_donations(is_out);
    if (profile_enabled()) prof_.reset(new std::atomic<int64_t>[steps_.size() + 1]());
    metric_record("PeakTemporaryBytes", static_cast<double>(ctx_.buffers.peak_temp_bytes), MetricUnit::Bytes);
  }

  ~FusedExecutable() override {
    if (prof_) {
      const std::string t = profile();
      if (!t.empty()) std::fputs(t.c_str(), stderr);
    }
  }

  std::vector<BufferRef> run(const std::vector<BufferRef>& params) override { return run_impl(params, nullptr); }

  const std::vector<int>& donatable_params() const override { return donatable_; }

  std::vector<BufferRef> run_donated(const std::vector<BufferRef>& params, const std::vector<char>& donated) override {
    if (donated.size() != params.size()) internal("fused executable: ", donated.size(), " donation flags for ", params.size(), " buffers");
    return run_impl(params, &donated);
  }

 private:
  // Dot-kernel chains (an MLP's layers): steps k .. e-1, each a fused dot kernel whose GEMM
  // operand A is the previous step's only output, whose outputs take no temporary slot that a
  // value read or written by an earlier step of the chain occupies (so allocating all of the
  // chain's outputs up front, before any of it runs, never re-types a buffer still in use).
  // run_fused_dot_chain then runs them as one GEMM region, or declines and they run one by one.
  void find_dot_chains() {
    chain_end_.assign(steps_.size(), 0);
    std::unordered_map<int, int> slot_of;  // node id -> temporary slot
    for (const Step& s : steps_)
      for (size_t j = 0; j < s.out.size(); ++j) slot_of[s.out[j]] = s.slot[j];
    auto slot = [&](int id) { auto it = slot_of.find(id); return it == slot_of.end() ? -1 : it->second; };
    auto is_dot = [&](const Step& s) { return s.fused && s.kernel->kind == Kernel::Dot; };
    for (size_t k = 0; k < steps_.size(); ++k) {
      if (!is_dot(steps_[k])) continue;
      std::vector<int> used;  // slots read or written by steps k .. e-1
      auto add = [&](const Step& s) {
        for (int i : s.in) if (slot(i) >= 0) used.push_back(slot(i));
        for (int o : s.out) if (slot(o) >= 0) used.push_back(slot(o));
      };
      add(steps_[k]);
      size_t e = k + 1;
      for (; e < steps_.size() && is_dot(steps_[e]); ++e) {
        const Step& p = steps_[e - 1];
        const Step& s = steps_[e];
        const int a = fused_dot_a(*s.fused);
        if (p.out.size() != 1 || a < 0 || static_cast<size_t>(a) >= s.in.size() || s.in[static_cast<size_t>(a)] != p.out[0]) break;
        bool clash = false;
        for (int o : s.out) clash = clash || (slot(o) >= 0 && std::find(used.begin(), used.end(), slot(o)) != used.end());
        if (clash) break;
        add(s);
      }
      if (e - k >= 2) chain_end_[k] = static_cast<int>(e);
    }
  }

  // Buffer donation candidates: an output of a hand-fused Adam kernel (p', m' or v') may be
  // written into the buffer of the parameter it updates (p, m or v) when (1) that parameter is
  // read directly as the stream (a kernel input), (2) this kernel is its last reader, so every
  // other kernel that reads the old value has run, (3) the output is a graph output with no
  // temporary slot, of the parameter's dtype and shape, and (4) the parameter updates only one
  // output. The loop reads each element's p, m, v, g before it writes that element (fused_adam.h),
  // chunks are disjoint, and the GEMM result never goes into a donated buffer
  // (run_fused_kernel), so the in-place run computes exactly what the out-of-place run does.
  void find_donations(const std::vector<bool>& is_out) {
    std::unordered_map<int, int> param_of;  // node id -> parameter index
    for (size_t i = 0; i < param_id_.size(); ++i) param_of[param_id_[i]] = static_cast<int>(i);
    donate_out_.assign(steps_.size(), {});
    std::vector<char> taken(param_id_.size(), 0);
    for (size_t k = 0; k < steps_.size(); ++k) {
      Step& s = steps_[k];
      donate_out_[k].assign(s.out.size(), -1);
      const AdamPlan* a = s.fused ? fused_adam_plan(*s.fused) : nullptr;
      if (!a) continue;
      const std::pair<const AdamSrc*, int> pairs[3] = {{&a->p, a->out_p}, {&a->m, a->out_m}, {&a->v, a->out_v}};
      for (const auto& pr : pairs) {
        const AdamSrc& src = *pr.first;
        int o = pr.second;
        if (src.kind != AdamSrc::Input || o < 0 || src.index < 0 || static_cast<size_t>(src.index) >= s.in.size()) continue;
        int in_id = s.in[static_cast<size_t>(src.index)];
        auto it = param_of.find(in_id);
        if (it == param_of.end() || taken[static_cast<size_t>(it->second)]) continue;
        const Node& pn = *g_.nodes[static_cast<size_t>(in_id)];
        const Node& on = *g_.nodes[static_cast<size_t>(s.out[static_cast<size_t>(o)])];
        if (last_use_[static_cast<size_t>(in_id)] != static_cast<int>(k) || !is_out[static_cast<size_t>(s.out[static_cast<size_t>(o)])] ||
            s.slot[static_cast<size_t>(o)] >= 0 || pn.dtype != on.dtype || pn.shape != on.shape)
          continue;
        taken[static_cast<size_t>(it->second)] = 1;
        donate_out_[k][static_cast<size_t>(o)] = it->second;
        donatable_.push_back(it->second);
      }
    }
  }

  std::vector<const Buffer*> bind_inputs(size_t k, std::vector<BufferRef>& vals) const {
    const Step& s = steps_[k];
    std::vector<const Buffer*> in;
    in.reserve(s.in.size());
    for (int i : s.in) {
      // constant leaves are inlined into fused kernels and have no kernel of their own:
      // a reference (single) kernel that reads one gets it evaluated here
      if (!vals[i] && g_.nodes[i]->info().kind == OpKind::Leaf && g_.nodes[i]->op != Op::Parameter)
        vals[i] = ref_eval(*g_.nodes[i], {}, dev_);
      if (!vals[i]) internal("fused executable: kernel ", k, " reads an unbound value %", i, " (", op_name(g_.nodes[i]->op), ")");
      in.push_back(vals[i].get());
    }
    return in;
  }

  std::vector<Buffer*> bind_outputs(size_t k, std::vector<BufferRef>& vals, std::vector<BufferRef>& slots,
                                    const std::vector<BufferRef>& params, const std::vector<char>* donated) const {
    const Step& s = steps_[k];
    std::vector<Buffer*> out;
    for (size_t j = 0; j < s.out.size(); ++j) {
      const Node* n = g_.nodes[s.out[j]].get();
      BufferRef b;
      int slot = s.slot[j];
      int dp = donate_out_[k][j];
      if (dp >= 0 && donated && (*donated)[static_cast<size_t>(dp)]) {
        b = params[static_cast<size_t>(dp)];  // in place: the caller proved no one else reads it
      } else if (slot >= 0 && slots[slot]) {
        b = slots[slot];
        b->dtype = n->dtype;  // same byte size by construction
        b->shape = n->shape;
      } else {
        b = alloc_buffer(n->dtype, n->shape, dev_);
        if (slot >= 0) slots[slot] = b;
      }
      vals[s.out[j]] = b;
      out.push_back(b.get());
    }
    return out;
  }

  void run_step(size_t k, std::vector<BufferRef>& vals, std::vector<BufferRef>& slots, const std::vector<BufferRef>& params,
                const std::vector<char>* donated) const {
    const Step& s = steps_[k];
    std::vector<const Buffer*> in = bind_inputs(k, vals);
    if (!s.fused) {
      // kernel inputs are deduplicated (mul(p, p) reads p once): pass the node's operands
      std::vector<const Buffer*> operands;
      for (int i : s.node_in) {
        if (!vals[i]) internal("fused executable: kernel ", k, " reads an unbound value %", i);
        operands.push_back(vals[i].get());
      }
      const Node& node = *g_.nodes[s.out[0]];
      BufferRef r;
      if (node.info().kind == OpKind::Reduce && operands.size() == 1) {
        r = alloc_buffer(node.dtype, node.shape, dev_);
        if (!fast_reduce(node, *operands[0], *r)) r.reset();
      }
      vals[s.out[0]] = r ? r : ref_eval(node, operands, dev_);
      return;
    }
    std::vector<Buffer*> out = bind_outputs(k, vals, slots, params, donated);
    run_fused_kernel(*s.fused, in, out);
  }

 public:
  std::vector<BufferRef> run_impl(const std::vector<BufferRef>& params, const std::vector<char>* donated) {
    if (params.size() != param_id_.size()) internal("fused executable: ", params.size(), " buffers for ", param_id_.size(), " parameters");
    ScopedFtz ftz;  // the process's subnormal mode for this run, on this thread and the pool (denormal.h)
    std::vector<BufferRef> vals(g_.nodes.size());
    for (size_t i = 0; i < params.size(); ++i) vals[param_id_[i]] = params[i];
    std::vector<BufferRef> slots(ctx_.buffers.slot_bytes.size());
    if (prof_) prof_[steps_.size()].fetch_add(1, std::memory_order_relaxed);
    for (size_t k = 0; k < steps_.size();) {
      const auto t0 = prof_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
      const size_t e = chain_end_[k] > 0 ? static_cast<size_t>(chain_end_[k]) : k + 1;
      if (e > k + 1) {
        // a dot chain: every step's outputs are bound first (find_dot_chains says why that is
        // safe), then the GEMMs run as one region, or one by one if the chain declines
        std::vector<std::vector<const Buffer*>> ins(e - k);
        std::vector<std::vector<Buffer*>> outs(e - k);
        std::vector<FusedCall> calls;
        for (size_t j = k; j < e; ++j) {
          ins[j - k] = bind_inputs(j, vals);
          outs[j - k] = bind_outputs(j, vals, slots, params, donated);
        }
        for (size_t j = k; j < e; ++j) calls.push_back(FusedCall{steps_[j].fused.get(), &ins[j - k], &outs[j - k]});
        if (!run_fused_dot_chain(calls))
          for (size_t j = k; j < e; ++j) run_fused_kernel(*steps_[j].fused, ins[j - k], outs[j - k]);
      } else {
        run_step(k, vals, slots, params, donated);
      }
      for (size_t j = k; j < e; ++j)
        for (int i : steps_[j].in) if (last_use_[i] == static_cast<int>(j)) vals[i].reset();
      // JXLA_PROFILE: a chain's kernels run interleaved in one GEMM region and cannot be timed
      // apart, so the whole chain's time is attributed to its first kernel (the others get 0)
      if (prof_)
        prof_[k].fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count(),
                           std::memory_order_relaxed);
      k = e;
    }
    std::vector<BufferRef> outs;
    for (int o : out_id_) outs.push_back(vals[o]);
    return outs;
  }

  int64_t kernel_count() const override { return static_cast<int64_t>(steps_.size()); }
  std::string describe() const override {
    return print_graph(g_) + "# kernels\n" + print_plan(g_, ctx_.plan) + "# peak temporary bytes " +
           std::to_string(ctx_.buffers.peak_temp_bytes) + " (without reuse " + std::to_string(ctx_.buffers.naive_temp_bytes) + ")\n";
  }

  // one line per kernel: mean wall time per run, share, kind and its ops (a dot's operand shapes)
  std::string profile() const override {
    const int64_t runs = prof_ ? prof_[steps_.size()].load() : 0;
    if (runs == 0) return "";
    int64_t total = 0;
    for (size_t k = 0; k < steps_.size(); ++k) total += prof_[k].load();
    static const char* kinds[] = {"loop", "row", "dot", "single"};
    std::string out = "jxla profile: " + std::to_string(steps_.size()) + " kernels, " + std::to_string(runs) + " runs, " +
                      std::to_string(total / runs / 1000) + " us per run\n";
    size_t chain_to = 0;  // end of the dot chain being listed
    for (size_t k = 0; k < steps_.size(); ++k) {
      const Kernel& K = *steps_[k].kernel;
      char head[96];
      const int64_t ns = prof_[k].load();
      std::snprintf(head, sizeof head, "  k%-3zu %8.1f us %5.1f%%  %-6s ", k, ns / 1000.0 / runs, total ? 100.0 * ns / total : 0.0, kinds[K.kind]);
      std::string ops;
      for (const Node* n : K.nodes) {
        ops += (ops.empty() ? "" : ",") + std::string(op_name(n->op));
        if (n->op == Op::DotGeneral) ops += shape_str(n->inputs[0]->shape) + "x" + shape_str(n->inputs[1]->shape);
        if (ops.size() > 90) { ops += ",..."; break; }
      }
      if (k >= chain_to && chain_end_[k] > 0) {  // a chain head as run_impl walks the steps
        chain_to = static_cast<size_t>(chain_end_[k]);
        ops += "  [dot chain k" + std::to_string(k) + "-k" + std::to_string(chain_to - 1) + ": the whole chain's time]";
      }
      out += head + ops + "\n";
    }
    return out;
  }

 private:
  struct Step {
    const Kernel* kernel = nullptr;
    std::shared_ptr<FusedKernel> fused;
    std::vector<int> in, out, slot;
    std::vector<int> node_in;  // single kernels: the node's operands in order (may repeat)
  };
  Graph g_;
  CompileContext ctx_;
  Device* dev_;
  std::vector<Step> steps_;
  std::vector<int> last_use_, param_id_, out_id_;
  std::vector<int> donatable_;                 // parameter indices that may be donated
  std::vector<std::vector<int>> donate_out_;   // per step, per output: the parameter it may overwrite, or -1
  std::unique_ptr<std::atomic<int64_t>[]> prof_;  // JXLA_PROFILE: ns per kernel, then the run count
  std::vector<int> chain_end_;                 // per step: end of the dot chain starting there, or 0
};
}  // namespace

std::shared_ptr<Executable> compile_host_fused(Graph g, Device* dev) {
  // GEMM threading: gemm.h (own AVX2 GEMM or OpenBLAS per tile, tiled over the JXLA_NUM_THREADS pool)
  CompileContext ctx;
  ctx.fusion_enabled = fusion_enabled();
  run_pipeline(g, ctx);
  return std::make_shared<FusedExecutable>(std::move(g), std::move(ctx), dev);
}

}  // namespace jxla
