// c_api_stats.cpp - jxla_stats_get: named engine-internal counts for leak and growth checks
// (tests and tools). Every name is a gauge read at the call; none of them allocates.
#include <cstring>
#include "c_api/c_api_internal.h"
#include "ir/error.h"
#include "ir/node.h"
#include "runtime/buffer.h"
#include "runtime/executable.h"
#include "runtime/lazy.h"

extern "C" jxla_status jxla_stats_get(const char* name, int64_t* value) {
  try {
    if (!name) jxla::invalid("stats_get: null name");
    if (!value) jxla::invalid("stats_get: null value pointer");
    int64_t v;
    if (!std::strcmp(name, "live_tensors")) v = jxla::live_tensor_count();
    else if (!std::strcmp(name, "live_bytes")) v = jxla::live_buffer_bytes();
    else if (!std::strcmp(name, "live_nodes")) v = jxla::live_node_count();
    else if (!std::strcmp(name, "compile_cache_entries")) v = jxla::compile_cache_size();
    else if (!std::strcmp(name, "pending_tensors")) v = jxla::pending_tensor_count();
    else
      jxla::invalid("stats_get: unknown stat '", name,
                    "' (live_tensors, live_bytes, live_nodes, compile_cache_entries, pending_tensors)");
    *value = v;
    return JXLA_OK;
  } catch (const jxla::Error& e) {
    return jxla::set_error(e.code, e.what());
  } catch (const std::exception& e) {
    return jxla::set_error(JXLA_ERR_INTERNAL, e.what());
  }
}
