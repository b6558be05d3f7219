// layout.h - bytes a buffer occupies in HBM under the TPU's default tiled layout.
// Rank >= 2: the minor dim is padded to 128 lanes and the second-minor dim to the sublane tile:
// 8 rows for 32/64-bit types, 16 for 16-bit types (two rows packed per 32-bit word), 32 for
// 8-bit types (bool): every tile is 4 KiB (8 KiB for 64-bit). Leading dims multiply.
// Rank 0 and 1: one row of tiles, XLA's T(1024)-style 1-D tiling: the element count is padded
// to a whole tile (1024 32-bit, 2048 16-bit, 4096 8-bit elements), so a scalar costs one tile.
// Examples: f32[1024,1] = 1024 x 128 x 4 B = 512 KiB; bf16[3,5] = 16 x 128 x 2 B = 4 KiB.
#pragma once
#include <cstdint>
#include "ir/dtype.h"
#include "ir/shape.h"

namespace jxla {
namespace tpu {

int64_t sublane_tile(DType dt);                 // 8, 16 or 32 rows
int64_t tiled_bytes(DType dt, const Shape& sh); // padded HBM footprint (0 for empty arrays)

}  // namespace tpu
}  // namespace jxla
