// c_api_internal.h - helpers shared by the files that implement jxla.h (handle checks, the
// thread-local error message, string copies). Other c_api/*.cpp files (TPU devices, compiled
// functions) use these so every entry point reports errors the same way.
#pragma once
#include <string>
#include "jxla/jxla.h"
#include "runtime/lazy.h"

namespace jxla {
struct Device;
jxla_status set_error(int code, const std::string& msg);
TensorImpl* T(jxla_tensor_t t, const char* arg);
Device* D(jxla_device_t d);
jxla_status copy_string(const std::string& s, char* buf, int64_t cap, int64_t* len);
}  // namespace jxla
