// test_gemm_grid.cpp - the 2-D tiled GEMM over prepacked weights (gemm.h host_sgemm_packed,
// host_sgemm_grid, sgemm_avx2.h sgemm_avx2_tile / sgemm_avx2_pack_a_rows) and its per-tile hooks.
// Claim: bit-identical to host_sgemm (the per-call packing path, itself checked against a double
// reference in test_sgemm_avx2 / test_gemm) for every shape, transpose, beta, grid, with A packed
// once and shared, packed privately per tile, or read in place (narrow N); and with the 1-D
// tiles (JXLA_GEMM_GRID=0 path). Hooks: before/after cover C exactly once, disjointly, and a
// bias prefill + relu epilogue run in the tiles equal the same work done serially, bit for bit.
// Batch 1 (M = 1): the row kernel equals the batched rows bit for bit.
// Also checks the result against a double reference within the f32 bound of docs/gemm.md, so
// the bit-equality cannot hold between two equally wrong paths.
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>
#include <unistd.h>
#include "backends/host/gemm.h"
#include "backends/host/sgemm_avx2.h"
#include "backends/host/thread_pool.h"
#include "tests/check.h"
#include "tests/float_util.h"

using namespace jxla;

namespace {
std::mt19937 rng(11);
std::vector<float> randn(size_t n) { return jxla_test::randn(rng, n); }
using jxla_test::same_bits;
using jxla_test::within_gemm_bound;

void grid_case(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float beta, bool check_ref) {
  const int64_t lda = ta ? M : K, ldb = tb ? K : N;
  auto A = randn(static_cast<size_t>(M * K)), B = randn(static_cast<size_t>(K * N)), C0 = randn(static_cast<size_t>(M * N));
  std::vector<float> ref = C0;
  host_sgemm(ta, tb, M, N, K, A.data(), lda, B.data(), ldb, ref.data(), N, beta);
  auto pb = sgemm_avx2_pack_b(tb, K, N, B.data(), ldb);
  // shared A (column-block order, last block in halves), private A per tile, 1-D tiles, shared A
  // in row-block order
  for (int mode = 0; mode < 4; ++mode) {
    host_sgemm_grid_force_private_a(mode == 1);
    host_sgemm_grid_set_enabled(mode != 2);
    host_sgemm_grid_set_column_order(mode != 3);
    std::vector<float> got = C0;
    host_sgemm_packed(ta, M, N, K, A.data(), lda, *pb, got.data(), N, beta);
    if (!CHECK(same_bits(ref, got))) std::printf("  ta=%d tb=%d M=%ld N=%ld K=%ld beta=%g mode=%d\n", ta, tb, (long)M, (long)N, (long)K, beta, mode);
  }
  host_sgemm_grid_force_private_a(false);
  host_sgemm_grid_set_enabled(true);
  host_sgemm_grid_set_column_order(true);
  if (check_ref) CHECK(within_gemm_bound(ta, tb, M, N, K, A, B, C0, beta, ref));
}

// The grid covers C with tiles of mb x nb (mb % 6 == 0, nb % 16 == 0) and the hooks see each
// element exactly once; a bias prefill before and relu after equal the serial version bit for bit.
void hooks_case(int64_t M, int64_t N, int64_t K) {
  int64_t mb = 0, nb = 0;
  const int64_t tiles = host_sgemm_grid(M, N, K, &mb, &nb);
  CHECK(tiles >= 1);
  if (tiles > 1) {
    CHECK_EQ(mb % 6, 0);
    CHECK_EQ(nb % 16, 0);
    CHECK_EQ(tiles, ((M + mb - 1) / mb) * ((N + nb - 1) / nb));
  }
  auto A = randn(static_cast<size_t>(M * K)), B = randn(static_cast<size_t>(K * N)), bias = randn(static_cast<size_t>(N));
  auto pb = sgemm_avx2_pack_b(false, K, N, B.data(), N);
  std::vector<float> ref(static_cast<size_t>(M * N));
  for (int64_t i = 0; i < M; ++i) std::memcpy(&ref[i * N], bias.data(), N * 4);
  host_sgemm(false, false, M, N, K, A.data(), K, B.data(), N, ref.data(), N, 1.0f);
  for (auto& x : ref) x = x > 0 ? x : 0;
  std::vector<float> got(ref.size(), NAN);
  std::vector<std::atomic<int>> seen_before(ref.size()), seen_after(ref.size());
  const GemmTileFn before = [&](int64_t i0, int64_t m, int64_t j0, int64_t n) {
    for (int64_t i = i0; i < i0 + m; ++i) {
      std::memcpy(&got[i * N + j0], bias.data() + j0, n * 4);
      for (int64_t j = j0; j < j0 + n; ++j) seen_before[i * N + j]++;
    }
  };
  const GemmTileFn after = [&](int64_t i0, int64_t m, int64_t j0, int64_t n) {
    for (int64_t i = i0; i < i0 + m; ++i)
      for (int64_t j = j0; j < j0 + n; ++j) {
        float& x = got[i * N + j];
        x = x > 0 ? x : 0;
        seen_after[i * N + j]++;
      }
  };
  GemmTileHooks h{&before, &after};
  host_sgemm_packed(false, M, N, K, A.data(), K, *pb, got.data(), N, 1.0f, &h);
  CHECK(same_bits(ref, got));
  bool once = true;
  for (size_t i = 0; i < ref.size(); ++i) once = once && seen_before[i] == 1 && seen_after[i] == 1;
  CHECK(once);
}
// Batch 1: a one-row product over the packed panels (sgemm_avx2_row_packed, column tiles over
// the pool) equals that row of the batched product bit for bit, for A stored either way, beta 0/1.
void row_case(bool ta, int64_t N, int64_t K, float beta) {
  const int64_t M = 7, lda = ta ? M : K;
  auto A = randn(static_cast<size_t>(M * K)), B = randn(static_cast<size_t>(K * N)), C0 = randn(static_cast<size_t>(M * N));
  std::vector<float> batched = C0;
  host_sgemm(ta, false, M, N, K, A.data(), lda, B.data(), N, batched.data(), N, beta);
  auto pb = sgemm_avx2_pack_b(false, K, N, B.data(), N);
  CHECK(host_sgemm_packable(1, N));
  bool same = true;
  for (int64_t i = 0; i < M; ++i) {
    std::vector<float> row(C0.begin() + i * N, C0.begin() + (i + 1) * N);
    host_sgemm_packed(ta, 1, N, K, ta ? A.data() + i : A.data() + i * K, lda, *pb, row.data(), N, beta);
    same = same && std::memcmp(row.data(), &batched[i * N], N * 4) == 0;
  }
  if (!CHECK(same)) std::printf("  row ta=%d N=%ld K=%ld beta=%g\n", ta, (long)N, (long)K, beta);
}
}  // namespace

int main() {
  setenv("JXLA_NUM_THREADS", "3", 1);  // before the pool starts: 3 threads even on a 2-core machine
  CHECK_EQ(host_num_threads(), 3);
  // the grid rule: the MLP's layers at batch 256 (3 row blocks of <= 90 rows x 8 column tiles),
  // the 10-wide last layer (one 16-column tile per row block), batch 32, and too little work
  int64_t mb = 0, nb = 0;
  // the default row target follows the L2 size (132 rows from 1 MB of L2, else 96)
  const bool big_l2 = sysconf(_SC_LEVEL2_CACHE_SIZE) >= (1 << 20);
  CHECK_EQ(host_sgemm_grid(256, 1024, 784, &mb, &nb), big_l2 ? 16 : 24);
  CHECK_EQ(mb, big_l2 ? 132 : 90);
  host_sgemm_grid_set_tile(96, 0);  // the ~96-row rule, whatever this machine's L2
  CHECK_EQ(host_sgemm_grid(256, 1024, 784, &mb, &nb), 24);
  CHECK_EQ(mb, 90);
  CHECK_EQ(nb, 128);
  CHECK_EQ(host_sgemm_grid(256, 10, 1024, &mb, &nb), 3);
  CHECK_EQ(nb, 16);
  CHECK_EQ(host_sgemm_grid(32, 1024, 1024, &mb, &nb), 8);
  CHECK_EQ(mb, 36);
  CHECK_EQ(host_sgemm_grid(8, 8, 8, &mb, &nb), 1);
  host_sgemm_grid_set_tile(132, 64);
  CHECK_EQ(host_sgemm_grid(256, 1024, 784, &mb, &nb), 32);
  CHECK_EQ(mb, 132);
  CHECK_EQ(nb, 64);
  host_sgemm_grid_set_tile(0, 0);  // the default for the cases below

  // edges: M around multiples of 6 and of the row block, N around 16 / 128 / the narrow limit,
  // K across the K blocks (256, 257: two blocks), both transposes, beta 0 and 1
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (float beta : {0.0f, 1.0f}) {
        grid_case(ta, tb, 97, 300, 257, beta, true);    // 2 row blocks, 3 column tiles, packed A
        grid_case(ta, tb, 190, 129, 64, beta, false);   // 2 row blocks of 96, A packed (N > 128)
        grid_case(ta, tb, 256, 10, 1024, beta, false);  // narrow: A in place unless ta
        grid_case(ta, tb, 31, 1000, 300, beta, false);  // one row block, 8 column tiles
      }
  for (int64_t M : {2, 5, 6, 7, 95, 96, 97, 200})
    for (int64_t N : {2, 15, 16, 17, 127, 128, 129, 260}) grid_case(false, false, M, N, 70, 0.0f, M * N <= 2000);
  grid_case(false, false, 256, 1024, 784, 1.0f, false);  // the MLP's first layer with its bias (beta 1)
  for (bool ta : {false, true})
    for (float beta : {0.0f, 1.0f})
      for (int64_t N : {2, 17, 64, 100, 1024}) row_case(ta, N, N == 1024 ? 784 : 300, beta);
  CHECK_EQ(host_sgemv_tile_cols(1024, 784), 384);  // 3 threads: 3 tiles of 384 / 384 / 256 columns
  CHECK_EQ(host_sgemv_tile_cols(10, 1024), 16);    // one tile
  CHECK_EQ(host_sgemv_tile_cols(1024, 100000), 384);
  CHECK_EQ(host_sgemv_tile_cols(4096, 16), 4096);  // shallow K: at least 4096 columns (256 KB) per tile
  for (bool col : {true, false}) {  // tile orders; column order splits the last column block
    host_sgemm_grid_set_column_order(col);
    hooks_case(256, 1024, 784);
    hooks_case(97, 300, 257);
    hooks_case(40, 260, 30);  // last column block 4 wide: not split
    hooks_case(7, 33, 5);     // one tile: the hooks run once on the whole C
  }
  host_sgemm_grid_set_column_order(true);
  // packed-panel storage: 64-byte aligned; from 1 MB on 2 MB aligned (huge pages advised) unless
  // switched off; the 3.2 MB packed B of the MLP case above took that path
  for (bool huge : {true, false}) {
    sgemm_avx2_hugepages_flag() = huge;
    float* small = sgemm_avx2_alloc(1000);
    float* big = sgemm_avx2_alloc(size_t(1) << 18);  // 1 MB
    CHECK_EQ(reinterpret_cast<uintptr_t>(small) % 64, 0u);
    CHECK_EQ(reinterpret_cast<uintptr_t>(big) % (huge ? (size_t(2) << 20) : 64), 0u);
    big[(size_t(1) << 18) - 1] = 1.0f;  // the whole range is usable
    std::free(small);
    std::free(big);
  }
  sgemm_avx2_hugepages_flag() = true;
  return check_finish();
}
