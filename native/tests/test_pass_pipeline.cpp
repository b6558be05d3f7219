// test_pass_pipeline.cpp - the pipeline driver: the passes run to a fixed point,
// JXLA_DISABLE_PASSES turns passes off, JXLA_DUMP_TO writes text + DOT before/after each pass,
// and the verifier between passes names a pass that breaks the graph.
#include <sys/stat.h>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include "ir/error.h"
#include "tests/fusion_util.h"
using namespace jxla_test;

static const char* kText =
    "%x = parameter() {dtype=f32, index=0, shape=[8]} : f32[8]\n"
    "%t = full() {dtype=f32, shape=[8], value=2} : f32[8]\n"
    "%z = full() {dtype=f32, shape=[8], value=0} : f32[8]\n"
    "%p = pow(%x, %t) : f32[8]\n%q = add(%p, %z) : f32[8]\n%n = neg(%q) : f32[8]\n%m = neg(%n) : f32[8]\nreturn %m\n";

static std::string read(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

namespace {
// a deliberately wrong pass: returns a node typed unlike its shape rule
class BreakTypes final : public Pass {
 public:
  const char* name() const override { return "break_types"; }
  bool run(Graph& g) override {
    NodeRef x = g.params[0];
    NodeRef bad = make_node(Op::Exp, DType::F32, {9}, {x}, Attrs(), x->device);
    g.nodes.push_back(bad);
    g.outputs[0] = bad;
    return true;
  }
};
}  // namespace

int main() {
  set_pass_verification(true);
  {
    Graph g = parse_graph(kText);
    CompileContext ctx;
    run_pipeline(g, ctx);
    CHECK_EQ(print_graph(g), std::string("%0 = parameter() {dtype=f32, index=0, shape=[8]} : f32[8]\n"
                                         "%1 = mul(%0, %0) : f32[8]\nreturn %1\n"));
    CHECK_EQ(print_plan(g, ctx.plan), std::string("k0 loop(%1) -> %1\n"));
  }
  {
    setenv("JXLA_DISABLE_PASSES", "simplify, dce", 1);
    Graph g = parse_graph(kText);
    CompileContext ctx;
    run_pipeline(g, ctx);
    CHECK(print_graph(g).find("pow") != std::string::npos);  // no simplifier
    unsetenv("JXLA_DISABLE_PASSES");
  }
  {
    std::string dir = "target/test_pass_pipeline_dump";
    mkdir("target", 0755);
    mkdir(dir.c_str(), 0755);
    setenv("JXLA_DUMP_TO", dir.c_str(), 1);
    Graph g = parse_graph(kText);
    CompileContext ctx;
    run_pipeline(g, ctx);
    unsetenv("JXLA_DUMP_TO");
    // the first dump of this process is module_0000; step 0 is simplify
    std::string before = read(dir + "/module_0000.00.simplify.before.txt");
    std::string after = read(dir + "/module_0000.00.simplify.after.txt");
    CHECK(before.find("pow") != std::string::npos);
    CHECK(after.find("pow") == std::string::npos && after.find("mul") != std::string::npos);
    CHECK(read(dir + "/module_0000.00.simplify.after.dot").rfind("digraph", 0) == 0);
    bool found_fusion = false;
    for (int step = 0; step < 20 && !found_fusion; ++step) {
      char name[96];
      std::snprintf(name, sizeof name, "/module_0000.%02d.fusion.after.txt", step);
      std::string t = read(dir + name);
      if (!t.empty()) found_fusion = t.find("# kernels\nk0 loop") != std::string::npos;
    }
    CHECK(found_fusion);
  }
  {
    Graph g = parse_graph(kText);
    CompileContext ctx;
    BreakTypes bad;
    std::string err;
    try {
      run_passes(g, ctx, {&bad}, {}, 1);
    } catch (const Error& e) {
      err = e.what();
    }
    CHECK(err.find("break_types") != std::string::npos && err.find("shape rule") == std::string::npos &&
          err.find("typed f32[9]") != std::string::npos);
  }
  return check_finish();
}
