// c_api_tpu.cpp - the TPU emulator's entry points of jxla.h: device creation (interned by
// generation, cores and HBM override), the global matmul precision, the simulated profile and
// HBM statistics. Errors follow c_api.cpp: every exception becomes a status + message.
#include "backends/tpu/collectives.h"
#include "backends/tpu/mxu.h"
#include "backends/tpu/tpu_device.h"
#include "c_api/c_api_internal.h"
#include "ir/error.h"
#include "ir/attrs.h"
#include "runtime/metrics.h"

using namespace jxla;

namespace {
tpu::TpuDevice* tpu_of(jxla_device_t d, const char* what) {
  auto* t = dynamic_cast<tpu::TpuDevice*>(D(d));
  if (!t) invalid(what, ": device '", D(d)->name(), "' is not a TPU device");
  return t;
}
}  // namespace


extern "C" {

jxla_status jxla_device_tpu(const char* generation, int32_t cores, int64_t hbm_bytes, jxla_device_t* out) {
  JXLA_TRY
  if (!generation) invalid("tpu: null generation");
  if (!out) invalid("tpu: null out");
  *out = reinterpret_cast<jxla_device_t>(static_cast<Device*>(tpu::tpu_device(generation, cores, hbm_bytes)));
  JXLA_CATCH
}

jxla_status jxla_tpu_fastpath_set_enabled(int32_t on) {
  JXLA_TRY
  tpu::set_mxu_fastpath(on != 0);
  JXLA_CATCH
}

jxla_status jxla_tpu_fastpath_enabled(int32_t* on) {
  JXLA_TRY
  if (!on) invalid("tpu_fastpath_enabled: null pointer");
  *on = tpu::mxu_vectorized() ? 1 : 0;
  JXLA_CATCH
}

jxla_status jxla_set_matmul_precision(int32_t precision) {
  JXLA_TRY
  tpu::set_default_precision(precision);
  JXLA_CATCH
}

jxla_status jxla_get_matmul_precision(int32_t* precision) {
  JXLA_TRY
  if (!precision) invalid("get_matmul_precision: null out");
  *precision = tpu::default_precision();
  JXLA_CATCH
}

jxla_status jxla_device_profile(jxla_device_t dev, int32_t clear, char* buf, int64_t cap, int64_t* len) {
  JXLA_TRY
  tpu::TpuDevice* t = tpu_of(dev, "device_profile");
  std::string s = t->profile_text();
  if (clear) t->profile_clear();
  return copy_string(s, buf, cap, len);
  JXLA_CATCH
}

jxla_status jxla_device_trace(jxla_device_t dev, char* buf, int64_t cap, int64_t* len) {
  JXLA_TRY
  return copy_string(tpu_of(dev, "device_trace")->chrome_trace(), buf, cap, len);
  JXLA_CATCH
}

jxla_status jxla_device_memory(jxla_device_t dev, int64_t* in_use, int64_t* peak, int64_t* limit) {
  JXLA_TRY
  tpu::TpuDevice* t = tpu_of(dev, "device_memory");
  if (in_use) *in_use = t->hbm_in_use();
  if (peak) *peak = t->hbm_peak();
  if (limit) *limit = t->hbm_limit();
  JXLA_CATCH
}

jxla_status jxla_device_sim_time(jxla_device_t dev, double* seconds) {
  JXLA_TRY
  if (!seconds) invalid("device_sim_time: null out");
  *seconds = tpu_of(dev, "device_sim_time")->clock_s();
  JXLA_CATCH
}

jxla_status jxla_device_core(jxla_device_t dev, int32_t index, jxla_device_t* out) {
  JXLA_TRY
  if (!out) invalid("device_core: null out");
  *out = reinterpret_cast<jxla_device_t>(static_cast<Device*>(tpu_of(dev, "device_core")->core(index)));
  JXLA_CATCH
}

jxla_status jxla_collective(const char* kind, const jxla_tensor_t* inputs, int32_t n, const char* attrs, jxla_tensor_t* outs) {
  JXLA_TRY
  if (!kind) invalid("collective: null kind");
  if (n < 1 || !inputs || !outs) invalid(kind, ": bad operand list");
  Attrs at = Attrs::parse(kind, attrs ? attrs : "");
  std::vector<TensorImpl*> ts;
  for (int32_t i = 0; i < n; ++i) {
    std::string arg = std::string(kind) + " operand " + std::to_string(i);
    ts.push_back(T(inputs[i], arg.c_str()));
  }
  sync_tensors(ts);  // one graph per core, run concurrently
  std::vector<BufferRef> bufs;
  for (TensorImpl* t : ts) bufs.push_back(tensor_data(t));
  std::vector<BufferRef> res = tpu::collective(kind, at.get_str_or("op", "sum"), at.get_int_or("axis", 0), bufs);
  for (int32_t i = 0; i < n; ++i) {
    counter_add("LazyTracing");
    outs[i] = reinterpret_cast<jxla_tensor_t>(tensor_new(make_data(res[static_cast<size_t>(i)])));
  }
  JXLA_CATCH
}

}  // extern "C"
