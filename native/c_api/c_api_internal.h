// c_api_internal.h - helpers shared by the files that implement jxla.h (handle checks, the
// thread-local error message, string copies). Other c_api/*.cpp files (TPU devices, compiled
// functions) use these so every entry point reports errors the same way.
#pragma once
#include <new>
#include <stdexcept>
#include <string>
#include "ir/error.h"
#include "jxla/jxla.h"
#include "runtime/lazy.h"

namespace jxla {
struct Device;
jxla_status set_error(int code, const std::string& msg);
TensorImpl* T(jxla_tensor_t t, const char* arg);
Device* D(jxla_device_t d);
jxla_status copy_string(const std::string& s, char* buf, int64_t cap, int64_t* len);
// Copies b's elements converted to dd into dst (want = numel * sizeof(dd) bytes), with the
// transfer metrics of a device-to-host read (jxla_tensor_read, jxla_function_call_host).
void read_buffer(const BufferRef& b, DType dd, void* dst, int64_t want);
}  // namespace jxla

// Every entry point body sits between JXLA_TRY and JXLA_CATCH: no C++ exception crosses the ABI;
// each becomes a status plus the thread-local message.
#define JXLA_TRY try {
#define JXLA_CATCH                                                                                   \
  }                                                                                                  \
  catch (const jxla::Error& e) { return jxla::set_error(e.code, e.what()); }                        \
  catch (const std::bad_alloc&) { return jxla::set_error(JXLA_ERR_RESOURCE_EXHAUSTED, "out of host memory"); } \
  catch (const std::exception& e) { return jxla::set_error(JXLA_ERR_INTERNAL, e.what()); }          \
  catch (...) { return jxla::set_error(JXLA_ERR_INTERNAL, "unknown engine error"); }               \
  return JXLA_OK;
