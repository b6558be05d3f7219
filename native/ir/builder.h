// builder.h - the only way nodes are made from user-level ops: validates inputs and attributes
// (errors name the op, the shapes and the argument at fault), applies NumPy broadcasting and
// dtype promotion for element-wise ops, normalizes attributes (negative axes, defaults) and
// expands composite ops. infer() is the shape rule of every primitive (the verifier re-runs it).
#pragma once
#include <vector>
#include "ir/node.h"

namespace jxla {

struct TypeShape { DType dtype; Shape shape; };

// Shape rule of a primitive op. May normalize attrs in place. Throws invalid(...) on bad input.
TypeShape infer(Op op, const std::vector<NodeRef>& in, Attrs& attrs);

// Builds op(inputs) with broadcasting, promotion and composite expansion. dev is used for
// leaves (full, iota); otherwise inputs must share one device, except while this thread's
// trace target is a device T: then operands on the host and on T may be mixed and such a node
// is on the host (the trace device; a function compiled for T re-homes every node to T).
NodeRef build(Op op, std::vector<NodeRef> inputs, Attrs attrs, Device* dev = nullptr);

// The calling thread's trace target (nullptr: none, the default; the host: no effect). Set
// around the trace of a function compiled for a device, so weights already resident there can
// be captured; returns the previous target (for nesting).
Device* set_trace_target(Device* target);
Device* trace_target();

// Convenience builders used by composites, autodiff and passes.
NodeRef b_full(double v, DType dt, const Shape& sh, Device* dev);
NodeRef b_convert(const NodeRef& x, DType dt);
NodeRef b_broadcast_to(const NodeRef& x, const Shape& sh);  // NumPy-style trailing alignment
NodeRef b_unary(Op op, const NodeRef& x);
NodeRef b_binary(Op op, const NodeRef& a, const NodeRef& b);
NodeRef b_reshape(const NodeRef& x, const Shape& sh);
NodeRef b_reduce(Op op, const NodeRef& x, std::vector<int64_t> axes, bool keepdims);

}  // namespace jxla
