// buffer_assign.cpp - liveness-based buffer assignment over the kernel plan. A temporary (a
// kernel output that is not a graph output) lives from the kernel that writes it to the last
// kernel that reads it. Temporaries are given slots greedily in execution order; a slot is
// reused by a later temporary of the same byte size once its previous value is dead (a value
// read by kernel k is still live while k writes: kernels never run in place across values).
// The result records the peak temporary bytes with reuse and the naive sum without it.
// Sizes must match exactly so a reused slot is also a valid buffer for the reference kernels.
#include <algorithm>
#include <unordered_map>
#include <unordered_set>
#include "ir/error.h"
#include "passes/pass.h"

namespace jxla {
namespace {
class BufferAssign final : public Pass {
 public:
  explicit BufferAssign(CompileContext* ctx) : Pass(ctx) {}
  const char* name() const override { return "buffer_assign"; }
  bool run(Graph& g) override {
    const auto& ks = ctx_->plan.kernels;
    std::unordered_set<const Node*> outs;
    for (auto& o : g.outputs) outs.insert(o.get());
    std::unordered_map<const Node*, size_t> last_use;
    for (size_t k = 0; k < ks.size(); ++k) for (const Node* in : ks[k].inputs) last_use[in] = k;
    BufferAssignment a;
    std::vector<std::pair<int64_t, int>> free_slots;  // (bytes, slot)
    std::vector<std::pair<size_t, int>> live;         // (last use, slot) of live temporaries
    std::vector<int64_t> live_bytes(ks.size() + 1, 0);
    for (size_t k = 0; k < ks.size(); ++k) {
      // values whose last reader finished before k free their slots
      for (size_t i = 0; i < live.size();) {
        if (live[i].first < k) {
          free_slots.push_back({a.slot_bytes[live[i].second], live[i].second});
          live[i] = live.back();
          live.pop_back();
        } else {
          ++i;
        }
      }
      for (const Node* o : ks[k].outputs) {
        if (outs.count(o)) { a.slot_of_kernel_output.push_back(-1); continue; }
        int64_t bytes = o->numel() * dtype_size(o->dtype);
        a.naive_temp_bytes += bytes;
        int slot = -1;
        for (size_t i = 0; i < free_slots.size(); ++i)
          if (free_slots[i].first == bytes) {
            slot = free_slots[i].second;
            free_slots.erase(free_slots.begin() + static_cast<long>(i));
            break;
          }
        if (slot < 0) {
          slot = static_cast<int>(a.slot_bytes.size());
          a.slot_bytes.push_back(bytes);
        }
        a.slot_of_kernel_output.push_back(slot);
        auto it = last_use.find(o);
        size_t lu = it == last_use.end() ? k : it->second;  // an unused temporary dies at once
        live.push_back({lu, slot});
      }
      int64_t now = 0;
      for (auto& l : live) now += a.slot_bytes[l.second];
      a.peak_temp_bytes = std::max(a.peak_temp_bytes, now);
    }
    ctx_->buffers = std::move(a);
    return false;
  }
};
}  // namespace
std::unique_ptr<Pass> make_buffer_assign_pass(CompileContext* ctx) { return std::make_unique<BufferAssign>(ctx); }

}  // namespace jxla
