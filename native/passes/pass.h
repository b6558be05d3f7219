// pass.h - the host compiler's pass pipeline: one pass per file, each a Pass whose
// run(Graph&) rewrites the graph in place and returns whether it changed anything.
// Passes never change the graph's parameters (same nodes, same order) nor the number, order,
// dtypes and shapes of its outputs: an executable compiled from the optimized graph binds the
// caller's buffers exactly like the original graph.
// The fusion and buffer-assignment passes leave the graph alone and fill the shared
// CompileContext (the kernel plan and the buffer slots) that the fused executable runs.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>
#include "ir/graph.h"

namespace jxla {

// One kernel of the fused executable. Node pointers refer to nodes of the optimized graph.
struct Kernel {
  enum Kind { Loop, Row, Dot, Single } kind = Single;
  std::vector<const Node*> nodes;    // computed inside the kernel, topological order
  std::vector<const Node*> outputs;  // the nodes this kernel writes to memory
  std::vector<const Node*> inputs;   // materialized values it reads (params or other kernels' outputs)
  int64_t rows = 1, row_len = 1;     // Row kernels: the (M, L) iteration space
  const Node* dot = nullptr;         // Dot kernels: the GEMM; nodes after it are its epilogue
};

struct FusionPlan {
  std::vector<Kernel> kernels;  // in execution order
};

// Buffer assignment: every temporary (a kernel output that is not a graph output) gets a slot;
// two temporaries share a slot when their lifetimes do not overlap and their sizes are equal.
struct BufferAssignment {
  std::vector<int> slot_of_kernel_output;  // parallel to the flattened (kernel, output) list; -1 = graph output
  std::vector<int64_t> slot_bytes;
  int64_t peak_temp_bytes = 0;   // the most temporary bytes alive at once (with reuse)
  int64_t naive_temp_bytes = 0;  // the sum of all temporaries (without reuse)
};

struct CompileContext {
  bool fusion_enabled = true;
  FusionPlan plan;
  BufferAssignment buffers;
};

class Pass {
 public:
  explicit Pass(CompileContext* ctx = nullptr) : ctx_(ctx) {}
  virtual ~Pass() = default;
  virtual const char* name() const = 0;
  virtual bool run(Graph& g) = 0;
 protected:
  CompileContext* ctx_;
};

std::unique_ptr<Pass> make_dce_pass();
std::unique_ptr<Pass> make_cse_pass();
std::unique_ptr<Pass> make_simplify_pass();
std::unique_ptr<Pass> make_constant_fold_pass();
std::unique_ptr<Pass> make_fusion_pass(CompileContext* ctx);
std::unique_ptr<Pass> make_buffer_assign_pass(CompileContext* ctx);

// The whole pipeline: simplify, constant_fold, cse, dce (to a fixed point, at most 4 rounds),
// then fusion and buffer_assign. Honors JXLA_DISABLE_PASSES (comma-separated pass names),
// JXLA_DUMP_TO (a folder: <seq>-<pass>-{before,after}.{txt,dot}) and runs verify() between
// passes when verification is on (JXLA_VERIFY=1, debug builds, or set_pass_verification).
void run_pipeline(Graph& g, CompileContext& ctx);
// The driver behind run_pipeline: `opt` passes repeated until none changes the graph (at most
// max_rounds), then `final_passes` once; environment switches, dumps and verification apply.
void run_passes(Graph& g, CompileContext& ctx, const std::vector<Pass*>& opt, const std::vector<Pass*>& final_passes,
                int max_rounds);
void set_pass_verification(bool on);
bool pass_verification();

// Process-wide fusion switch: initially JXLA_FUSION (default on). Changing it clears the
// compile cache so the next step compiles with the new setting.
bool fusion_enabled();
void set_fusion_enabled(bool on);

// Text form of a plan, for tests and dumps: "k0 loop(%3,%4) -> %4" (ids = print_graph ids).
std::string print_plan(const Graph& g, const FusionPlan& plan);

// Helpers shared by the rewriting passes (passes/rewrite.cpp).
// Rebuilds g bottom-up: f(old node, its rewritten inputs) returns the replacement (or nullptr
// to keep the node with the new inputs). Keeps dead nodes (DCE removes them). Returns changed.
using RewriteFn = std::function<NodeRef(const NodeRef& old, const std::vector<NodeRef>& new_inputs)>;
bool rewrite_graph(Graph& g, const RewriteFn& f);
// The same node with other inputs (same op, dtype, shape, attrs, device).
NodeRef with_inputs(const NodeRef& n, std::vector<NodeRef> in);
bool is_full(const Node* n);
double full_value(const Node* n);

}  // namespace jxla
