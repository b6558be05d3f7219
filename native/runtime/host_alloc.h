// host_alloc.h - host memory for Buffers with a cache of large freed blocks. Page-faulting a
// fresh multi-megabyte allocation costs more than the fused kernel that fills it (measured: a
// 64 MB output takes ~2x the 8-op chain itself), so blocks >= 256 KiB are kept after free and
// handed out again for the same size, up to JXLA_ALLOC_CACHE_MB (default 512) cached bytes.
// Invariant: cached blocks are not counted as live (jxla_memory_live_bytes); under AddressSanitizer
// the cache is off so use-after-free stays detectable.
#pragma once
#include <cstddef>

namespace jxla {

void* host_alloc(size_t bytes);            // 64-byte aligned; nullptr on failure
void host_free(void* p, size_t bytes);     // bytes as passed to host_alloc
void host_alloc_cache_clear();

}  // namespace jxla
