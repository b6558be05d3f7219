// graph.h - a Graph is a topologically ordered list of nodes with designated parameters
// (placeholders bound to buffers at execution) and outputs. Graphs handed to passes and
// executables are canonical: their leaves are Parameter placeholders (attr index), never data,
// so a cached executable keeps no tensor data alive.
#pragma once
#include <string>
#include <unordered_map>
#include <vector>
#include "ir/node.h"

namespace jxla {

struct Graph {
  std::vector<NodeRef> nodes;    // topological order, each node once
  std::vector<NodeRef> params;   // params[i] is the Parameter node with index i
  std::vector<NodeRef> outputs;  // may repeat nodes and may be parameters
};

// Topological order of everything reachable from roots (iterative DFS; inputs before users).
std::vector<const Node*> topo_order(const std::vector<const Node*>& roots);

// A live subgraph: the canonical graph plus the data buffers bound to its parameters.
struct Capture {
  uint64_t fingerprint = 0;   // structure, shapes, dtypes, attrs, devices; never data
  uint64_t fingerprint2 = 0;  // a second independent hash (128 bits in all)
  std::vector<const Node*> data_leaves;  // in parameter order
  std::vector<const Node*> order;        // live topo order
  std::vector<const Node*> roots;
  // Who points at what inside the capture (buffer donation's proof that nothing outside the
  // graph reaches a leaf, runtime/lazy.cpp): refs[i] = input slots of captured nodes naming
  // order[i]; in_pos = the inputs' positions, node after node; root_pos[r] = position of roots[r].
  std::vector<uint32_t> refs;
  std::vector<uint32_t> in_pos;
  std::vector<uint32_t> root_pos;
};
// Walks the live IR from roots and fingerprints it (cheap: no allocation of new nodes).
Capture capture(const std::vector<const Node*>& roots);
// Builds the canonical Graph of a capture (data leaves -> Parameter placeholders).
Graph canonicalize(const Capture& c);

// Re-runs every shape rule, checks topological order, parameter indices and outputs.
// Throws internal(...) naming the node on violation.
void verify(const Graph& g);

// Text IR. Example:
//   %0 = parameter() {dtype=f32, index=0, shape=[2,3]} : f32[2,3]
//   %1 = exp(%0) : f32[2,3]
//   return %1
std::string print_graph(const Graph& g);
Graph parse_graph(const std::string& text);
// Graphviz DOT.
std::string graph_to_dot(const Graph& g);

}  // namespace jxla
