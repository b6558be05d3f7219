// shape.cpp - shape helpers.
#include "ir/shape.h"
#include "ir/error.h"
#include "jxla/jxla.h"

namespace jxla {

int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

std::string shape_str(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) { if (i) r += ","; r += std::to_string(s[i]); }
  return r + "]";
}

std::vector<int64_t> strides_of(const Shape& s) {
  std::vector<int64_t> st(s.size());
  int64_t acc = 1;
  for (size_t i = s.size(); i-- > 0;) { st[i] = acc; acc *= s[i]; }
  return st;
}

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  size_t r = std::max(a.size(), b.size());
  Shape out(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da == db || db == 1) out[i] = da;
    else if (da == 1) out[i] = db;
    else invalid(op, ": shapes ", shape_str(a), " and ", shape_str(b), " cannot be broadcast (dimension ", i,
                 " of the result: ", da, " vs ", db, ")");
  }
  return out;
}

int64_t norm_axis(const char* op, int64_t axis, int64_t rank, const char* arg) {
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) invalid(op, ": ", arg, " ", axis, " is out of range for rank ", rank);
  return a;
}

void check_shape(const char* op, const Shape& s, const char* arg) {
  if (s.size() > JXLA_MAX_RANK) invalid(op, ": ", arg, " ", shape_str(s), " has rank ", s.size(), " > ", JXLA_MAX_RANK);
  int64_t n = 1;
  for (int64_t d : s) {
    if (d < 0) invalid(op, ": ", arg, " ", shape_str(s), " has a negative dimension");
    if (d > 0 && n > (int64_t(1) << 40) / d) invalid(op, ": ", arg, " ", shape_str(s), " is too large");
    n *= d;
  }
}

}  // namespace jxla
