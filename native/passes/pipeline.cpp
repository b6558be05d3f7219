// pipeline.cpp - runs the passes in order with the verifier between them, the environment
// switches (JXLA_DISABLE_PASSES, JXLA_DUMP_TO, JXLA_VERIFY, JXLA_FUSION), and prints plans.
// Invariant: when verification is on, every pass's output graph passes verify(), and a pass
// that breaks it is named in the error.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <set>
#include <sstream>
#include <unordered_map>
#include "ir/error.h"
#include "passes/pass.h"
#include "runtime/executable.h"

namespace jxla {
namespace {
#ifdef NDEBUG
constexpr bool kDebugBuild = false;
#else
constexpr bool kDebugBuild = true;
#endif

std::atomic<int> g_verify{-1};  // -1: from the environment
std::atomic<int> g_fusion{-1};
std::atomic<int64_t> g_dump_seq{0};

bool env_flag(const char* name, bool dflt) {
  const char* v = std::getenv(name);
  if (!v || !*v) return dflt;
  return !(v[0] == '0' || v[0] == 'f' || v[0] == 'F' || v[0] == 'n' || v[0] == 'N');
}

std::set<std::string> disabled_passes() {
  std::set<std::string> out;
  const char* v = std::getenv("JXLA_DISABLE_PASSES");
  if (!v) return out;
  std::stringstream ss(v);
  std::string item;
  while (std::getline(ss, item, ',')) {
    while (!item.empty() && item.back() == ' ') item.pop_back();
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    if (!item.empty()) out.insert(item);
  }
  return out;
}

void write_file(const std::string& path, const std::string& text) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f) return;  // dumping is best effort: never fail a compile because of it
  std::fwrite(text.data(), 1, text.size(), f);
  std::fclose(f);
}

struct Dumper {
  std::string dir;
  int64_t id = 0;
  int step = 0;
  void dump(const Graph& g, const char* pass, const char* when, const CompileContext* ctx) {
    if (dir.empty()) return;
    char prefix[64];
    std::snprintf(prefix, sizeof prefix, "/module_%04lld.%02d.", static_cast<long long>(id), step);
    std::string base = dir + prefix + pass + "." + when;
    std::string text = print_graph(g);
    if (ctx && !ctx->plan.kernels.empty()) text += "\n# kernels\n" + print_plan(g, ctx->plan);
    write_file(base + ".txt", text);
    write_file(base + ".dot", graph_to_dot(g));
  }
};
}  // namespace

void set_pass_verification(bool on) { g_verify = on ? 1 : 0; }
bool pass_verification() {
  int v = g_verify.load();
  if (v < 0) return env_flag("JXLA_VERIFY", kDebugBuild);
  return v == 1;
}

bool fusion_enabled() {
  int v = g_fusion.load();
  if (v < 0) {
    v = env_flag("JXLA_FUSION", true) ? 1 : 0;
    int expected = -1;
    g_fusion.compare_exchange_strong(expected, v);
    v = g_fusion.load();
  }
  return v == 1;
}
void set_fusion_enabled(bool on) {
  int old = g_fusion.exchange(on ? 1 : 0);
  if (old != (on ? 1 : 0)) compile_cache_clear();
}

void run_passes(Graph& g, CompileContext& ctx, const std::vector<Pass*>& opt, const std::vector<Pass*>& final_passes,
                int max_rounds) {
  std::set<std::string> off = disabled_passes();
  bool verify_on = pass_verification();
  Dumper d;
  if (const char* dir = std::getenv("JXLA_DUMP_TO")) {
    d.dir = dir;
    d.id = g_dump_seq++;
  }
  auto run_one = [&](Pass& p) -> bool {
    if (off.count(p.name())) return false;
    d.dump(g, p.name(), "before", &ctx);
    bool changed = p.run(g);
    d.dump(g, p.name(), "after", &ctx);
    ++d.step;
    if (verify_on) {
      try {
        verify(g);
      } catch (const Error& e) {
        internal("pass ", p.name(), " produced an invalid graph: ", e.what());
      }
    }
    return changed;
  };
  if (verify_on) verify(g);
  for (int round = 0; round < max_rounds; ++round) {
    bool changed = false;
    for (Pass* p : opt) changed = run_one(*p) || changed;
    if (!changed) break;
  }
  for (Pass* p : final_passes) run_one(*p);
}

void run_pipeline(Graph& g, CompileContext& ctx) {
  auto simplify = make_simplify_pass(), fold = make_constant_fold_pass(), cse = make_cse_pass(), dce = make_dce_pass();
  auto fusion = make_fusion_pass(&ctx), assign = make_buffer_assign_pass(&ctx);
  run_passes(g, ctx, {simplify.get(), fold.get(), cse.get(), dce.get()}, {fusion.get(), assign.get()}, 4);
}

std::string print_plan(const Graph& g, const FusionPlan& plan) {
  std::unordered_map<const Node*, size_t> id;
  for (size_t i = 0; i < g.nodes.size(); ++i) id[g.nodes[i].get()] = i;
  auto name = [&](const Node* n) {
    auto it = id.find(n);
    return it == id.end() ? std::string("%?") : "%" + std::to_string(it->second);
  };
  static const char* kinds[] = {"loop", "row", "dot", "single"};
  std::string out;
  for (size_t k = 0; k < plan.kernels.size(); ++k) {
    const Kernel& K = plan.kernels[k];
    out += "k" + std::to_string(k) + " " + kinds[K.kind] + "(";
    for (size_t i = 0; i < K.nodes.size(); ++i) out += (i ? "," : "") + name(K.nodes[i]);
    out += ") -> ";
    for (size_t i = 0; i < K.outputs.size(); ++i) out += (i ? "," : "") + name(K.outputs[i]);
    if (K.kind == Kernel::Row) out += " rows=" + std::to_string(K.rows) + " len=" + std::to_string(K.row_len);
    out += "\n";
  }
  return out;
}

}  // namespace jxla
