// test_pass_buffer_assign.cpp - liveness-based buffer assignment on unfused plans: a chain of
// equal-sized temporaries needs two slots (ping-pong), peak bytes are reported, graph outputs
// get no slot, and a temporary read later keeps its slot alive.
#include "tests/fusion_util.h"
using namespace jxla_test;

static BufferAssignment assign(Graph& g) {
  CompileContext ctx;
  ctx.fusion_enabled = false;
  make_fusion_pass(&ctx)->run(g);
  make_buffer_assign_pass(&ctx)->run(g);
  return ctx.buffers;
}

int main() {
  // x[1000] f32: a=exp x, b=neg a, c=sqrt b, d=abs c: temporaries a, b, c (4000 B each)
  Graph g = parse_graph("%x = parameter() {dtype=f32, index=0, shape=[1000]} : f32[1000]\n"
                        "%a = exp(%x) : f32[1000]\n%b = neg(%a) : f32[1000]\n%c = sqrt(%b) : f32[1000]\n%d = abs(%c) : f32[1000]\nreturn %d\n");
  BufferAssignment a = assign(g);
  CHECK_EQ(a.slot_of_kernel_output.size(), 4u);
  CHECK_EQ(a.slot_of_kernel_output[0], 0);
  CHECK_EQ(a.slot_of_kernel_output[1], 1);
  CHECK_EQ(a.slot_of_kernel_output[2], 0);   // a is dead once b is written
  CHECK_EQ(a.slot_of_kernel_output[3], -1);  // the output
  CHECK_EQ(a.slot_bytes.size(), 2u);
  CHECK_EQ(a.peak_temp_bytes, 8000);
  CHECK_EQ(a.naive_temp_bytes, 12000);
  // a is read by the last kernel: it keeps its slot, so b and c cannot share it
  Graph g2 = parse_graph("%x = parameter() {dtype=f32, index=0, shape=[1000]} : f32[1000]\n"
                         "%a = exp(%x) : f32[1000]\n%b = neg(%a) : f32[1000]\n%c = sqrt(%b) : f32[1000]\n%d = add(%c, %a) : f32[1000]\nreturn %d\n");
  BufferAssignment a2 = assign(g2);
  CHECK_EQ(a2.slot_of_kernel_output[0], 0);
  CHECK_EQ(a2.slot_of_kernel_output[1], 1);
  CHECK_EQ(a2.slot_of_kernel_output[2], 2);
  CHECK_EQ(a2.peak_temp_bytes, 12000);
  // different sizes never share a slot
  Graph g3 = parse_graph("%x = parameter() {dtype=f32, index=0, shape=[10,100]} : f32[10,100]\n"
                         "%a = exp(%x) : f32[10,100]\n%s = reduce_sum(%a) {axes=[1], keepdims=0} : f32[10]\n%n = neg(%s) : f32[10]\n"
                         "%m = neg(%n) : f32[10]\nreturn %m\n");
  BufferAssignment a3 = assign(g3);
  CHECK_EQ(a3.slot_of_kernel_output[0], 0);
  CHECK_EQ(a3.slot_of_kernel_output[1], 1);
  CHECK_EQ(a3.slot_of_kernel_output[2], 2);  // a (4000 B) is free but of another size
  CHECK_EQ(a3.peak_temp_bytes, 4040);
  // the executable computes the same with reused slots
  auto ps = random_params(g, 5, 0.5, 2);
  CHECK(compare(compile(g)->run(ps), ref_run(g, ps, host_device()), 1e-7, 1e-5) <= 1.0);
  return check_finish();
}
