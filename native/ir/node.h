// node.h - immutable, hash-consed IR nodes (tinygrad's UOp model).
// A node is (op, dtype, shape, inputs, attrs, device). make_node returns the existing node
// when an identical one is alive, so equal sub-expressions share one object. Parameter leaves
// that hold data (make_data) are never shared: each wraps its own buffer.
// Invariant: nodes never change after construction; local_hash covers op/dtype/shape/attrs/device
// (never data), so graph fingerprints built from it never depend on tensor contents.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>
#include "ir/attrs.h"
#include "ir/dtype.h"
#include "ir/op.h"
#include "ir/shape.h"

namespace jxla {

struct Buffer;
struct Device;
struct Node;
using NodeRef = std::shared_ptr<const Node>;

struct Node : std::enable_shared_from_this<Node> {
  Op op;
  DType dtype;
  Shape shape;
  std::vector<NodeRef> inputs;
  Attrs attrs;
  Device* device;
  std::shared_ptr<Buffer> data;  // only for data leaves (op == Parameter)
  uint64_t local_hash;           // op, dtype, shape, attrs, device
  uint64_t cons_hash;            // local_hash + input identities
  bool consed = false;           // registered in the hash-cons table (make_node, not make_data)
  Node* cons_next = nullptr;     // next node of its table bucket (intrusive chain; under the shard lock)

  Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  // Leaves the hash-cons table (if registered) and releases the inputs without recursion.
  ~Node();

  bool is_data() const { return data != nullptr; }
  int64_t numel() const { return jxla::numel(shape); }
  const OpInfo& info() const { return op_info(op); }
};

// Hash-consed constructor. Does NOT run shape inference: callers (ir/builder.cpp, the parser)
// pass the inferred dtype and shape.
NodeRef make_node(Op op, DType dtype, Shape shape, std::vector<NodeRef> inputs, Attrs attrs, Device* dev);
// A leaf that holds a device buffer.
NodeRef make_data(std::shared_ptr<Buffer> buf);
// Nodes alive in the hash-cons table (tests and leak checks).
int64_t live_node_count();

}  // namespace jxla
