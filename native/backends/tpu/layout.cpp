// layout.cpp - the tiled-layout footprint (see layout.h for the rules).
#include "backends/tpu/layout.h"

namespace jxla {
namespace tpu {

namespace {
int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }
}  // namespace

int64_t sublane_tile(DType dt) {
  int64_t es = dtype_size(dt);
  if (es >= 4) return 8;
  if (es == 2) return 16;
  return 32;
}

int64_t tiled_bytes(DType dt, const Shape& sh) {
  int64_t n = numel(sh);
  if (n == 0) return 0;
  int64_t es = dtype_size(dt), rows = sublane_tile(dt);
  if (sh.size() < 2) return round_up(n, rows * 128) * es;
  int64_t lead = 1;
  for (size_t i = 0; i + 2 < sh.size(); ++i) lead *= sh[i];
  return lead * round_up(sh[sh.size() - 2], rows) * round_up(sh.back(), 128) * es;
}

}  // namespace tpu
}  // namespace jxla
