// function.h - a compiled function: the native half of Jxla.compile / CompiledFunction.
// It is built once from traced IR: placeholder data leaves (the parameters, in the caller's
// order) and the output nodes. Every other data leaf reachable from the outputs (weights,
// ONNX initializers) is bound as a captured constant that the function keeps alive.
// Invariants: after construction a Function is immutable (signature, executable, constants),
// so call() may run from many threads at once; the executable itself is immutable and the
// reference interpreter is stateless. No IR node of the trace is retained: the canonical
// graph lives inside the executable and holds Parameter placeholders only.
#pragma once
#include <memory>
#include <string>
#include <vector>
#include "ir/node.h"
#include "runtime/buffer.h"

namespace jxla {

class Executable;

struct FunctionSig {
  DType dtype;
  Shape shape;
};

class Function {
 public:
  // params: data leaves (each distinct); outputs: any nodes on the params' device.
  Function(const std::vector<NodeRef>& params, const std::vector<NodeRef>& outputs);

  // Exact call: inputs must match the parameter signature (dtype and shape).
  std::vector<BufferRef> call(const std::vector<BufferRef>& inputs) const;
  // Batch-padded call: every input has rank >= 1 and the same leading dimension b <= the
  // parameter's leading dimension B (other dims/dtypes exact); inputs are zero-padded to B rows
  // and every output whose leading dimension is B is sliced back to its first b rows.
  std::vector<BufferRef> call_padded(const std::vector<BufferRef>& inputs) const;

  const std::vector<FunctionSig>& params() const { return params_; }
  const std::vector<FunctionSig>& outputs() const { return outs_; }
  int64_t num_constants() const { return static_cast<int64_t>(consts_.size()); }
  Device* device() const { return dev_; }
  std::string describe() const;  // text IR of the compiled graph

 private:
  void check_input(size_t i, const Buffer& b, bool padded, int64_t* batch) const;
  std::vector<FunctionSig> params_, outs_;
  std::vector<BufferRef> consts_;  // bound after the parameters, in graph parameter order
  std::shared_ptr<Executable> exe_;
  Device* dev_ = nullptr;
};

}  // namespace jxla
