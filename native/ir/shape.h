// shape.h - shapes (row-major dims), element counts, NumPy broadcasting, axis normalization.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace jxla {

using Shape = std::vector<int64_t>;

int64_t numel(const Shape& s);
std::string shape_str(const Shape& s);              // "[2,3]"
std::vector<int64_t> strides_of(const Shape& s);    // row-major element strides
// NumPy broadcast of two shapes; throws invalid naming op and both shapes on mismatch.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);
// Normalizes a possibly negative axis against rank; throws naming op and the argument.
int64_t norm_axis(const char* op, int64_t axis, int64_t rank, const char* arg = "axis");
void check_shape(const char* op, const Shape& s, const char* arg = "shape");

}  // namespace jxla
