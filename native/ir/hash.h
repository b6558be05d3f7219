// hash.h - 64-bit hashing used for hash-consing and graph fingerprints.
#pragma once
#include <cstddef>
#include <cstdint>

namespace jxla {

inline uint64_t hash_mix(uint64_t x) {  // splitmix64 finalizer
  x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27; x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
inline uint64_t hash_combine(uint64_t h, uint64_t v) { return hash_mix(h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2))); }
inline uint64_t hash_bytes(const void* p, size_t n) {  // FNV-1a then mixed
  const unsigned char* b = static_cast<const unsigned char*>(p);
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < n; ++i) { h ^= b[i]; h *= 0x100000001b3ULL; }
  return hash_mix(h);
}

}  // namespace jxla
