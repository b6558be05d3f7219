// test_top_k.cpp - the top_k reference kernel against a naive rank-counting implementation
// (each element's output position = how many elements rank before it), over every axis, both
// directions, k = 0..n, ties (small integer values), NaN and -0.0, in f32/f64/f16/s32/s64; the
// shape rule and its errors; the op through the text IR (parse -> run -> print round trip).
#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <vector>
#include "backends/host/elem.h"
#include "backends/host/reference.h"
#include "ir/builder.h"
#include "ir/error.h"
#include "ir/graph.h"
#include "runtime/device.h"
#include "tests/check.h"

using namespace jxla;

static std::string error_of(const std::function<void()>& f) {
  try { f(); } catch (const Error& e) { return e.what(); }
  return "";
}

// i ranks before j: by (is NaN, value), descending for largest, ascending otherwise; ties by index
static bool ranks_before(double a, int64_t i, double b, int64_t j, bool largest) {
  int na = std::isnan(a) ? 1 : 0, nb = std::isnan(b) ? 1 : 0;
  double va = na ? 0.0 : a, vb = nb ? 0.0 : b;
  if (na != nb) return largest ? na > nb : na < nb;
  if (va != vb) return largest ? va > vb : va < vb;
  return i < j;
}

// Naive top_k indices of x (flat values, shape xs) along ax; -1 marks slots never written.
static std::vector<int64_t> naive(const std::vector<double>& x, const Shape& xs, int64_t ax, int64_t k, bool largest) {
  int64_t outer = 1, inner = 1, len = xs[ax];
  for (int64_t d = 0; d < ax; ++d) outer *= xs[d];
  for (size_t d = ax + 1; d < xs.size(); ++d) inner *= xs[d];
  std::vector<int64_t> out(outer * k * inner, -1);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in)
      for (int64_t j = 0; j < len; ++j) {
        double vj = x[(o * len + j) * inner + in];
        int64_t rank = 0;
        for (int64_t i = 0; i < len; ++i)
          if (i != j && ranks_before(x[(o * len + i) * inner + in], i, vj, j, largest)) ++rank;
        if (rank < k) out[(o * k + rank) * inner + in] = j;
      }
  return out;
}

static BufferRef make_buf(DType dt, const Shape& s, const std::vector<double>& v) {
  BufferRef b = alloc_buffer(dt, s, host_device());
  for (size_t i = 0; i < v.size(); ++i) {
    if (is_float(dt)) setf(*b, static_cast<int64_t>(i), v[i]);
    else seti(*b, static_cast<int64_t>(i), static_cast<int64_t>(v[i]));
  }
  return b;
}

static NodeRef top_k(const NodeRef& x, int64_t axis, int64_t k, bool largest) {
  Attrs a;
  a.set_int("axis", axis);
  a.set_int("k", k);
  a.set_int("largest", largest);
  return build(Op::TopK, {x}, a);
}

int main() {
  const Shape xs = {3, 7, 5};
  int64_t N = 3 * 7 * 5;
  uint64_t seed = 12345;
  auto rnd = [&] { seed = seed * 6364136223846793005ull + 1442695040888963407ull; return seed >> 33; };
  for (DType dt : {DType::F32, DType::F64, DType::F16, DType::S32, DType::S64}) {
    std::vector<double> v(N);
    for (auto& e : v) {
      e = static_cast<double>(rnd() % 5) - 2.0;                       // values -2..2: many ties
      if (is_float(dt) && rnd() % 9 == 0) e = NAN;
      if (is_float(dt) && e == 0.0 && rnd() % 2) e = -0.0;            // -0.0 ties with 0.0
    }
    if (!is_float(dt)) v[3] = dt == DType::S64 ? 9.0e15 : 2.0e9;      // beyond f32's exact range
    BufferRef b = make_buf(dt, xs, v);
    for (double& e : v) e = is_float(dt) ? getf(*b, &e - v.data()) : static_cast<double>(geti(*b, &e - v.data()));
    NodeRef xn = make_data(b);
    for (int64_t ax = 0; ax < 3; ++ax)
      for (int64_t k = 0; k <= xs[ax]; ++k)
        for (bool largest : {true, false}) {
          NodeRef n = top_k(xn, ax - 3 * (k % 2), k, largest);  // negative axes too
          Shape want = xs;
          want[ax] = k;
          CHECK(n->shape == want);
          CHECK(n->dtype == DType::S64);
          BufferRef out = ref_eval(*n, {b.get()}, host_device());
          std::vector<int64_t> ref = naive(v, xs, ax, k, largest);
          int bad = 0;
          for (size_t i = 0; i < ref.size(); ++i) bad += out->as<int64_t>()[i] != ref[i];
          if (!CHECK_EQ(bad, 0)) std::fprintf(stderr, "  dtype %s axis %ld k %ld largest %d\n", dtype_name(dt),
                                              static_cast<long>(ax), static_cast<long>(k), largest ? 1 : 0);
        }
  }

  // a hand-checked row: NaN first for largest, last for smallest; ties keep the lower index
  {
    BufferRef b = make_buf(DType::F32, {6}, {1.0, NAN, 3.0, 1.0, -INFINITY, 3.0});
    NodeRef xn = make_data(b);
    BufferRef hi = ref_eval(*top_k(xn, 0, 4, true), {b.get()}, host_device());
    const int64_t want_hi[4] = {1, 2, 5, 0};
    for (int i = 0; i < 4; ++i) CHECK_EQ(hi->as<int64_t>()[i], want_hi[i]);
    BufferRef lo = ref_eval(*top_k(xn, 0, 6, false), {b.get()}, host_device());
    const int64_t want_lo[6] = {4, 0, 3, 2, 5, 1};
    for (int i = 0; i < 6; ++i) CHECK_EQ(lo->as<int64_t>()[i], want_lo[i]);
  }

  // shape rule errors name the op, the shape, the axis and k
  {
    NodeRef xn = make_data(make_buf(DType::F32, {3, 7}, std::vector<double>(21, 0.0)));
    std::string e = error_of([&] { top_k(xn, 1, 8, true); });
    CHECK(e.find("top_k") != std::string::npos && e.find("k = 8") != std::string::npos &&
          e.find("axis 1") != std::string::npos && e.find("f32[3,7]") != std::string::npos);
    e = error_of([&] { top_k(xn, -1, -1, true); });
    CHECK(e.find("top_k") != std::string::npos && e.find("k = -1") != std::string::npos);
    e = error_of([&] { top_k(xn, 2, 1, true); });
    CHECK(e.find("top_k") != std::string::npos && e.find("axis") != std::string::npos);
    NodeRef sc = make_data(make_buf(DType::F32, {}, {1.0}));
    e = error_of([&] { top_k(sc, 0, 1, true); });
    CHECK(e.find("rank >= 1") != std::string::npos);
    NodeRef bl = make_data(make_buf(DType::Bool, {4}, {1, 0, 1, 0}));
    e = error_of([&] { top_k(bl, 0, 1, true); });
    CHECK(e.find("bool") != std::string::npos);
  }

  // the text IR: top_k then take_along_axis gives the values; print -> parse -> print is stable
  {
    const char* text =
        "%x = parameter() {dtype=f32, index=0, shape=[2,4]} : f32[2,4]\n"
        "%i = top_k(%x) {axis=1, k=2, largest=0} : s64[2,2]\n"
        "%v = take_along_axis(%x, %i) {axis=1} : f32[2,2]\n"
        "return %v, %i\n";
    Graph g = parse_graph(text);
    verify(g);
    CHECK_EQ(print_graph(parse_graph(print_graph(g))), print_graph(g));
    CHECK(print_graph(g).find("top_k(%0) {axis=1, k=2, largest=0} : s64[2,2]") != std::string::npos);
    BufferRef x = make_buf(DType::F32, {2, 4}, {4, 1, 3, 1, -1, -5, 7, -5});
    auto out = ref_run(g, {x}, host_device());
    const float wv[4] = {1, 1, -5, -5};
    const int64_t wi[4] = {1, 3, 1, 3};
    for (int i = 0; i < 4; ++i) {
      CHECK_EQ(out[0]->as<float>()[i], wv[i]);
      CHECK_EQ(out[1]->as<int64_t>()[i], wi[i]);
    }
    std::string e = error_of([&] {
      parse_graph("%x = parameter() {dtype=f32, index=0, shape=[2,4]} : f32[2,4]\n"
                  "%i = top_k(%x) {axis=1, k=2, largest=1} : s64[2,3]\nreturn %i\n");
    });
    CHECK(e.find("annotated") != std::string::npos);
  }
  return check_finish();
}
