// c_api_tpu.cpp - jxla_device_tpu: creates (or finds) an emulated TPU device.
#include "c_api/c_api_internal.h"
#include "ir/error.h"

extern "C" jxla_status jxla_device_tpu(const char* generation, int32_t cores, int64_t hbm_bytes, jxla_device_t* out) {
  (void)cores; (void)hbm_bytes; (void)out;
  return jxla::set_error(JXLA_ERR_UNIMPLEMENTED, std::string("tpu: the TPU emulator is not available yet (generation ") +
                                                     (generation ? generation : "null") + ")");
}
