// function.h - a compiled function: the native half of Jxla.compile / CompiledFunction.
// It is built once from traced IR: placeholder data leaves (the parameters, in the caller's
// order) and the output nodes. Every other data leaf reachable from the outputs (weights,
// ONNX initializers) is bound as a captured constant that the function keeps alive.
// Invariants: after construction a Function is immutable (signature, executable, constants),
// so call() may run from many threads at once; the executable itself is immutable and the
// reference interpreter is stateless. No IR node of the trace is retained: the canonical
// graph lives inside the executable and holds Parameter placeholders only.
// Target device: tracing is device-independent, so a function traced on the host may be
// compiled for another device (the emulated TPU): the canonical graph is re-homed to the target,
// captured host constants are uploaded once (shared by every function on that device while the
// host buffer lives), and host inputs are transferred at each call.
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
  // params: data leaves (each distinct); outputs: any nodes on the params' device (the trace
  // device). target: the device the function runs on (nullptr: the trace device).
  Function(const std::vector<NodeRef>& params, const std::vector<NodeRef>& outputs, Device* target = nullptr);

  // Exact call: inputs must match the parameter signature (dtype and shape) and live on the
  // function's device or on the host (then they are transferred, counted and charged).
  std::vector<BufferRef> call(const std::vector<BufferRef>& inputs) const;
  // Batch-padded call: every input has rank >= 1 and the same leading dimension b <= the
  // parameter's leading dimension B (other dims/dtypes exact); inputs are zero-padded to B rows
  // and every output whose leading dimension is B is sliced back to its first b rows.
  std::vector<BufferRef> call_padded(const std::vector<BufferRef>& inputs) const;
  // Buffer donation (JAX's donate_argnums; TrainStep): the parameters whose buffer the
  // executable can overwrite with an output computed in place (Executable::donatable_params,
  // e.g. Adam's p, m, v); never a captured constant.
  const std::vector<int>& donatable() const { return donatable_; }
  // call() where donated[i] != 0 says input i's buffer has no reader but this call (the caller
  // proved it, c_api/c_api_step.cpp): the executable may write an output into it. Flags of
  // parameters not in donatable() are ignored.
  std::vector<BufferRef> call_donated(const std::vector<BufferRef>& inputs, const std::vector<char>& donated) const;

  const std::vector<FunctionSig>& params() const { return params_; }
  const std::vector<FunctionSig>& outputs() const { return outs_; }
  int64_t num_constants() const { return static_cast<int64_t>(consts_.size()); }
  Device* device() const { return dev_; }
  std::string describe() const;  // text IR of the compiled graph

 private:
  void check_input(size_t i, const Buffer& b, bool padded, int64_t* batch) const;
  std::vector<BufferRef> to_device(const std::vector<BufferRef>& inputs) const;
  std::vector<FunctionSig> params_, outs_;
  std::vector<int> donatable_;
  std::vector<BufferRef> consts_;  // bound after the parameters, in graph parameter order
  std::shared_ptr<Executable> exe_;
  Device* dev_ = nullptr;
};

}  // namespace jxla
