// test_fast_reduce.cpp - the column-reduction fast path equals the reference interpreter bit for
// bit (sum/max/min over leading axes, NaN and inf included) and declines every other reduction.
#include "backends/host/fast_reduce.h"
#include "tests/fusion_util.h"
using namespace jxla_test;

static bool same_bits(const Buffer& a, const Buffer& b) {
  return a.numel() == b.numel() && std::memcmp(a.data, b.data, static_cast<size_t>(a.numel()) * 4) == 0;
}

int main() {
  struct Case { const char* op; const char* in_shape; const char* axes; const char* out_shape; bool fast; };
  const Case cases[] = {
      {"reduce_sum", "[64,256]", "[0]", "[256]", true},   {"reduce_sum", "[3,5,7]", "[0,1]", "[7]", true},
      {"reduce_max", "[9,33]", "[0]", "[33]", true},      {"reduce_min", "[2,3,4]", "[0]", "[3,4]", true},
      {"reduce_sum", "[17]", "[0]", "[]", true},          {"reduce_sum", "[4,8]", "[1]", "[4]", false},
      {"reduce_prod", "[4,8]", "[0]", "[8]", false},      {"reduce_sum", "[3,4,5]", "[0,2]", "[4]", false},
  };
  uint32_t seed = 1;
  for (const Case& c : cases) {
    std::string text = std::string("%x = parameter() {dtype=f32, index=0, shape=") + c.in_shape + "} : f32" + c.in_shape + "\n" +
                       "%r = " + c.op + "(%x) {axes=" + c.axes + ", keepdims=0} : f32" + c.out_shape + "\nreturn %r\n";
    Graph g = parse_graph(text);
    for (int trial = 0; trial < 3; ++trial) {
      auto ps = random_params(g, seed++, -1e3, 1e3);
      if (trial == 1) setf(*ps[0], 0, NAN);
      if (trial == 2) { setf(*ps[0], 0, INFINITY); setf(*ps[0], ps[0]->numel() - 1, -INFINITY); }
      const Node& n = *g.outputs[0];
      BufferRef want = ref_eval(n, {ps[0].get()}, host_device());
      BufferRef got = alloc_buffer(n.dtype, n.shape, host_device());
      bool took = fast_reduce(n, *ps[0], *got);
      CHECK_EQ(took, c.fast);
      if (took) CHECK(same_bits(*want, *got));
    }
  }
  return check_finish();
}
