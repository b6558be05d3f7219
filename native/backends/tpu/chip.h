// chip.h - the TPU chip table: published figures per generation (sources in docs/tpu-model.md).
// One emulated "core" is one JAX device: a whole chip (v4/v5p run their two TensorCores as one
// "megacore" device, v5e/v6e have one TensorCore). All rates below are per emulated core.
// Invariant: every field is > 0 for every generation in the table.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace jxla {
namespace tpu {

struct Chip {
  const char* name;         // "v5e"
  int tensorcores;          // TensorCores per chip (megacore: one device)
  int mxus_per_core;        // MXUs per TensorCore
  int mxu_dim;              // systolic array side (128, or 256 on v6e)
  double bf16_flops;        // peak bf16 FLOP/s per chip (published)
  double vpu_flops;         // f32 VPU ops/s per chip: cores * 8 sublanes * 128 lanes * ALUs * clock
  int64_t hbm_bytes;        // HBM capacity
  double hbm_bw;            // HBM bytes/s
  int64_t vmem_bytes;       // VMEM per TensorCore
  double ici_link_bw;       // ICI bytes/s per link, bidirectional
  int ici_links;            // ICI ports per chip
  double ici_hop_latency_s; // per-hop latency of the ring model
  double pcie_bw;           // host <-> device bytes/s, each way
  double pcie_latency_s;    // fixed cost of one host<->device transfer
  double launch_s;          // fixed cost of one kernel launch
  // The clock implied by the peak and the MXU geometry: peak / (2 * dim^2 * mxus * cores).
  double implied_clock_hz() const {
    return bf16_flops / (2.0 * mxu_dim * mxu_dim * mxus_per_core * tensorcores);
  }
};

// Returns the table entry for a generation name ("v4", "v5e", "v5p", "v6e"), or nullptr.
const Chip* find_chip(const std::string& generation);
// Names of every generation in the table (for error messages).
std::string chip_names();

}  // namespace tpu
}  // namespace jxla
