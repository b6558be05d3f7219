// text.cpp - the text IR printer and parser (round-trip: parse(print(g)) prints identically),
// and the Graphviz DOT printer. Grammar, one statement per line:
//   %N = op(%a, %b, ...) {attrs} : dtype[d0,d1,...]
//   return %a, %b
// Names are any %identifier; lines starting with '#' or '//' are comments.
#include <cctype>
#include <unordered_map>
#include "ir/builder.h"
#include "ir/error.h"
#include "ir/graph.h"
#include "runtime/device.h"

namespace jxla {

std::string print_graph(const Graph& g) {
  std::unordered_map<const Node*, size_t> id;
  std::string out;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node* n = g.nodes[i].get();
    id[n] = i;
    out += "%" + std::to_string(i) + " = " + op_name(n->op) + "(";
    for (size_t j = 0; j < n->inputs.size(); ++j) {
      if (j) out += ", ";
      out += "%" + std::to_string(id.at(n->inputs[j].get()));
    }
    out += ")";
    if (!n->attrs.empty()) out += " {" + n->attrs.str() + "}";
    out += std::string(" : ") + dtype_name(n->dtype) + shape_str(n->shape) + "\n";
  }
  out += "return ";
  for (size_t i = 0; i < g.outputs.size(); ++i) {
    if (i) out += ", ";
    out += "%" + std::to_string(id.at(g.outputs[i].get()));
  }
  return out + "\n";
}

std::string graph_to_dot(const Graph& g) {
  std::unordered_map<const Node*, size_t> id;
  std::string out = "digraph jxla {\n  node [shape=box, fontname=monospace];\n";
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node* n = g.nodes[i].get();
    id[n] = i;
    out += "  n" + std::to_string(i) + " [label=\"%" + std::to_string(i) + " " + op_name(n->op) + "\\n" +
           dtype_name(n->dtype) + shape_str(n->shape) + "\"];\n";
    for (auto& in : n->inputs) out += "  n" + std::to_string(id.at(in.get())) + " -> n" + std::to_string(i) + ";\n";
  }
  for (size_t i = 0; i < g.outputs.size(); ++i)
    out += "  out" + std::to_string(i) + " [shape=oval, label=\"out" + std::to_string(i) + "\"];\n  n" +
           std::to_string(id.at(g.outputs[i].get())) + " -> out" + std::to_string(i) + ";\n";
  return out + "}\n";
}

namespace {
struct Lexer {
  const std::string& s; size_t i = 0; int line = 1;
  void ws() { while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r')) ++i; }
  [[noreturn]] void err(const std::string& what) { invalid("parse_graph: line ", line, ": ", what); }
  bool eat(char c) { ws(); if (i < s.size() && s[i] == c) { ++i; return true; } return false; }
  void expect(char c) { if (!eat(c)) err(std::string("expected '") + c + "'"); }
  std::string word() {
    ws(); size_t b = i;
    while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_' || s[i] == '.')) ++i;
    if (b == i) err("expected a name");
    return s.substr(b, i - b);
  }
  std::string value_name() { expect('%'); return word(); }
};
}  // namespace

Graph parse_graph(const std::string& text) {
  Graph g;
  Lexer lx{text};
  std::unordered_map<std::string, NodeRef> env;
  bool returned = false;
  while (lx.i < text.size()) {
    lx.ws();
    if (lx.i >= text.size()) break;
    if (text[lx.i] == '\n') { ++lx.i; ++lx.line; continue; }
    if (text[lx.i] == '#' || text.compare(lx.i, 2, "//") == 0) {
      while (lx.i < text.size() && text[lx.i] != '\n') ++lx.i;
      continue;
    }
    if (returned) lx.err("statements after return");
    if (text.compare(lx.i, 6, "return") == 0) {
      lx.i += 6;
      do {
        std::string v = lx.value_name();
        auto it = env.find(v);
        if (it == env.end()) lx.err("undefined value %" + v);
        g.outputs.push_back(it->second);
      } while (lx.eat(','));
      returned = true;
      continue;
    }
    std::string name = lx.value_name();
    if (env.count(name)) lx.err("value %" + name + " defined twice");
    lx.expect('=');
    std::string opname = lx.word();
    Op op;
    if (!op_from_name(opname.c_str(), &op)) lx.err("unknown op '" + opname + "'");
    lx.expect('(');
    std::vector<NodeRef> in;
    if (!lx.eat(')')) {
      do {
        std::string v = lx.value_name();
        auto it = env.find(v);
        if (it == env.end()) lx.err("undefined value %" + v);
        in.push_back(it->second);
      } while (lx.eat(','));
      lx.expect(')');
    }
    Attrs at;
    if (lx.eat('{')) {
      size_t b = lx.i;
      while (lx.i < text.size() && text[lx.i] != '}' && text[lx.i] != '\n') ++lx.i;
      if (lx.i >= text.size() || text[lx.i] != '}') lx.err("unterminated attributes");
      try {
        at = Attrs::parse(opname.c_str(), text.substr(b, lx.i - b));
      } catch (const Error& e) {
        lx.err(e.what());  // report it with the line number, like every other parse error
      }
      ++lx.i;
    }
    lx.expect(':');
    std::string dtn = lx.word();
    DType dt;
    if (!dtype_from_name(dtn, &dt)) lx.err("unknown dtype '" + dtn + "'");
    lx.expect('[');
    Shape sh;
    if (!lx.eat(']')) {
      do {
        lx.ws();
        size_t b = lx.i;
        while (lx.i < text.size() && std::isdigit(static_cast<unsigned char>(text[lx.i]))) ++lx.i;
        if (b == lx.i) lx.err("expected a dimension");
        // more digits than any valid dimension: stoll would throw out_of_range (an internal error)
        if (lx.i - b > 15) lx.err("dimension " + text.substr(b, lx.i - b) + " is too large");
        sh.push_back(std::stoll(text.substr(b, lx.i - b)));
      } while (lx.eat(','));
      lx.expect(']');
    }
    if (op_info(op).kind == OpKind::Composite || op_info(op).kind == OpKind::Dynamic)
      lx.err(std::string("op '") + opname + "' cannot appear in a graph");
    NodeRef n;
    try {
      TypeShape t = infer(op, in, at);
      if (t.dtype != dt || t.shape != sh)
        lx.err("%" + name + " is annotated " + dtn + shape_str(sh) + " but " + opname + " gives " + dtype_name(t.dtype) +
               shape_str(t.shape));
      n = make_node(op, dt, sh, in, at, host_device());
    } catch (const Error& e) {
      if (std::string(e.what()).rfind("parse_graph", 0) == 0) throw;
      lx.err(e.what());
    }
    if (op == Op::Parameter) {
      size_t idx = static_cast<size_t>(n->attrs.get_int("parameter", "index"));
      if (idx != g.params.size()) lx.err("parameters must be numbered 0, 1, ... in order");
      g.params.push_back(n);
    }
    env[name] = n;
    g.nodes.push_back(n);
  }
  if (!returned) lx.err("missing return");
  // hash-consing may have merged identical statements: keep each node once
  std::vector<NodeRef> uniq;
  std::unordered_map<const Node*, bool> seen;
  for (auto& n : g.nodes) if (!seen[n.get()]) { seen[n.get()] = true; uniq.push_back(n); }
  g.nodes = std::move(uniq);
  return g;
}

}  // namespace jxla
