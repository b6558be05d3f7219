// lazy.h - lazy tensors and the per-thread registry of pending tensors.
// A TensorImpl always holds a node: a data leaf once materialized, otherwise the pending IR.
// Each thread traces into its own Registry; sync() materializes the calling thread's pending
// tensors as one graph per device. Lock order: Registry::mu before TensorImpl::mu.
#pragma once
#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_set>
#include <vector>
#include "ir/node.h"
#include "runtime/buffer.h"

namespace jxla {

struct TensorImpl;

// The pending tensors of one registry: a vector plus each tensor's index in it (intrusive), so
// registering and dropping a traced tensor costs no allocation or hashing. Order is arbitrary
// (erase swaps in the last element); sync sorts by TensorImpl::seq. All calls under Registry::mu.
class PendingSet {
 public:
  void insert(TensorImpl* t);
  void erase(TensorImpl* t);  // no-op when t is not in this set
  size_t size() const { return v_.size(); }
  std::vector<TensorImpl*>::const_iterator begin() const { return v_.begin(); }
  std::vector<TensorImpl*>::const_iterator end() const { return v_.end(); }
 private:
  std::vector<TensorImpl*> v_;
};

struct Registry {
  std::mutex mu;
  PendingSet pending;
};

struct TensorImpl {
  mutable std::mutex mu;
  NodeRef node;
  std::shared_ptr<Registry> reg;  // set while registered as pending (read/reset under mu)
  uint64_t seq = 0;               // creation order: sync orders roots by it, so a repeated
                                  // trace gives the same graph fingerprint (a cache hit)
  // index in its registry's PendingSet, -1 when none; atomic because a tensor moving between
  // threads' registries is read and written under two different registry mutexes
  std::atomic<int64_t> reg_slot{-1};
  uint32_t magic = kMagic;        // detects stale handles in debug checks
  static constexpr uint32_t kMagic = 0x7e45012a;

  NodeRef get() const { std::lock_guard<std::mutex> g(mu); return node; }
};

// Creates a handle for node (registered as pending in the calling thread when not data).
TensorImpl* tensor_new(NodeRef node);
void tensor_free(TensorImpl* t);
int64_t live_tensor_count();
// Tensors registered as pending in the calling thread's registry (leak checks).
int64_t pending_tensor_count();

// Materializes the calling thread's pending tensors.
void sync_thread();
// Materializes the given tensors (and only what they need).
void sync_tensors(const std::vector<TensorImpl*>& ts);
// Returns the data buffer of t, materializing it first if needed.
BufferRef tensor_data(TensorImpl* t);
// Makes t hold node (in-place update of a handle, e.g. an optimizer step on a parameter):
// registers t as pending in the calling thread when node is not data.
void tensor_assign(TensorImpl* t, NodeRef node);
// Buffer donation (see lazy.cpp donation_mask): on unless JXLA_DONATE=0; tests switch it to
// compare the in-place and out-of-place runs.
void set_donation_enabled(bool on);
bool donation_enabled();
// Trace guard (TrainStep, runtime/step notes in docs/training.md "Session 5"): while a thread
// traces a step that will be compiled, nothing it traces may run; a sync or a data read that
// would materialize a pending tensor on that thread throws JXLA_ERR_STATE naming `what` instead
// of running the half-traced step eagerly. Nests (a depth counter); per thread.
void trace_guard_begin(const char* what);
void trace_guard_end();
// Under a guard, moving a tensor made before the guard to another device would capture a copy
// of its trace-time value as a constant: throws JXLA_ERR_STATE (c_api to_device calls it).
void trace_guard_check_transfer(const TensorImpl* t);
bool trace_guard_active();
// Copies a buffer to another device (a transfer: counted and timed).
BufferRef transfer(const BufferRef& b, Device* to);

}  // namespace jxla
