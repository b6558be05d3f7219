// chip.cpp - the chip table. Each number is cited in docs/tpu-model.md; where sources disagree
// the table keeps the Cloud TPU documentation's figure and the doc lists the others.
#include "backends/tpu/chip.h"

namespace jxla {
namespace tpu {

namespace {
constexpr int64_t kGiB = 1024LL * 1024 * 1024;
constexpr int64_t kMiB = 1024LL * 1024;
// VPU: 8 sublanes x 128 lanes, 2 ALUs per slot on v4 and 4 from v5 on (scaling book, App. C);
// clocks: 1050 MHz (v4), 1.5 GHz (v5e), 1.75 GHz (v5p, v6e) as implied by peak / MXU geometry.
constexpr double vpu(int cores, int alus, double clock) { return cores * 8.0 * 128.0 * alus * clock; }

const Chip kChips[] = {
    // name  TCs MXU dim   bf16 peak   VPU ops/s              HBM          HBM B/s   VMEM/TC     ICI link  links hop   PCIe     PCIe lat launch
    {"v4",   2,  4,  128, 275e12, vpu(2, 2, 1.05e9),  32 * kGiB, 1200e9, 16 * kMiB, 90e9,  6, 1e-6, 16e9, 5e-6, 1e-6},
    {"v5e",  1,  4,  128, 197e12, vpu(1, 4, 1.5e9),   16 * kGiB, 819e9,  128 * kMiB, 100e9, 4, 1e-6, 15e9, 5e-6, 1e-6},
    {"v5p",  2,  4,  128, 459e12, vpu(2, 4, 1.75e9),  95 * kGiB, 2765e9, 64 * kMiB, 200e9, 6, 1e-6, 15e9, 5e-6, 1e-6},
    {"v6e",  1,  2,  256, 918e12, vpu(1, 4, 1.75e9),  32 * kGiB, 1640e9, 128 * kMiB, 200e9, 4, 1e-6, 32e9, 5e-6, 1e-6},
};
}  // namespace

const Chip* find_chip(const std::string& generation) {
  for (const Chip& c : kChips)
    if (generation == c.name) return &c;
  return nullptr;
}

std::string chip_names() {
  std::string s;
  for (const Chip& c : kChips) s += (s.empty() ? "" : ", ") + std::string(c.name);
  return s;
}

}  // namespace tpu
}  // namespace jxla
