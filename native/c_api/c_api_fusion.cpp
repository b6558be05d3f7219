// c_api_fusion.cpp - the C ABI of the fusion compiler (issue 3): last kernel count per thread
// the process-wide fusion switch and the host's subnormal mode. Same conventions as c_api.cpp (status + thread-local error).
#include <new>
#include "backends/host/denormal.h"
#include "c_api/c_api_internal.h"
#include "ir/error.h"
#include "passes/pass.h"
#include "runtime/executable.h"

using namespace jxla;


extern "C" {

jxla_status jxla_last_kernel_count(int64_t* count) {
  JXLA_TRY
  if (!count) invalid("last_kernel_count: null count pointer");
  *count = last_kernel_count();
  JXLA_CATCH
}

jxla_status jxla_fusion_set_enabled(int32_t on) {
  JXLA_TRY
  set_fusion_enabled(on != 0);
  JXLA_CATCH
}

jxla_status jxla_fusion_enabled(int32_t* on) {
  JXLA_TRY
  if (!on) invalid("fusion_enabled: null pointer");
  *on = fusion_enabled() ? 1 : 0;
  JXLA_CATCH
}

jxla_status jxla_host_set_flush_denormals(int32_t on) {
  JXLA_TRY
  host_ftz_set_enabled(on != 0);
  JXLA_CATCH
}

jxla_status jxla_host_flush_denormals(int32_t* on) {
  JXLA_TRY
  if (!on) invalid("host_flush_denormals: null pointer");
  *on = host_ftz_enabled() ? 1 : 0;
  JXLA_CATCH
}

}  // extern "C"
