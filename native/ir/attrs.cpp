// attrs.cpp - attribute storage, hashing, printing and parsing.
#include "ir/attrs.h"
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include "ir/error.h"
#include "ir/hash.h"

namespace jxla {

bool AttrValue::operator==(const AttrValue& o) const {
  if (kind != o.kind) return false;
  switch (kind) {
    case Int: return i == o.i;
    case Float: return std::memcmp(&f, &o.f, sizeof f) == 0;
    case Ints: return ints == o.ints;
    case Str: return s == o.s;
  }
  return false;
}

const AttrValue* Attrs::find(const std::string& k) const {
  for (auto& kv : items_) if (kv.first == k) return &kv.second;
  return nullptr;
}

AttrValue& Attrs::slot(const std::string& k) {
  // most ops carry 1-3 attributes: one allocation instead of regrowing 1 -> 2 -> 4 while
  // building (tracing cost, docs/training.md "Session 4: tracing cost"); before the search,
  // which the reallocation would invalidate
  if (items_.empty()) items_.reserve(3);
  auto it = std::lower_bound(items_.begin(), items_.end(), k,
                             [](const std::pair<std::string, AttrValue>& a, const std::string& b) { return a.first < b; });
  if (it != items_.end() && it->first == k) { it->second = AttrValue(); return it->second; }
  return items_.insert(it, {k, AttrValue()})->second;
}

int64_t Attrs::get_int(const char* op, const std::string& k) const {
  const AttrValue* v = find(k);
  if (!v) invalid(op, ": missing attribute '", k, "'");
  if (v->kind != AttrValue::Int) invalid(op, ": attribute '", k, "' must be an integer");
  return v->i;
}
int64_t Attrs::get_int_or(const std::string& k, int64_t d) const {
  const AttrValue* v = find(k);
  return v && v->kind == AttrValue::Int ? v->i : d;
}
double Attrs::get_float(const char* op, const std::string& k) const {
  const AttrValue* v = find(k);
  if (!v) invalid(op, ": missing attribute '", k, "'");
  if (v->kind == AttrValue::Int) return static_cast<double>(v->i);
  if (v->kind != AttrValue::Float) invalid(op, ": attribute '", k, "' must be a number");
  return v->f;
}
double Attrs::get_float_or(const std::string& k, double d) const {
  const AttrValue* v = find(k);
  if (!v) return d;
  if (v->kind == AttrValue::Int) return static_cast<double>(v->i);
  return v->kind == AttrValue::Float ? v->f : d;
}
const std::vector<int64_t>& Attrs::get_ints(const char* op, const std::string& k) const {
  const AttrValue* v = find(k);
  if (!v) invalid(op, ": missing attribute '", k, "'");
  if (v->kind != AttrValue::Ints) invalid(op, ": attribute '", k, "' must be a list of integers");
  return v->ints;
}
std::vector<int64_t> Attrs::get_ints_or(const std::string& k, std::vector<int64_t> d) const {
  const AttrValue* v = find(k);
  return v && v->kind == AttrValue::Ints ? v->ints : d;
}
std::string Attrs::get_str(const char* op, const std::string& k) const {
  const AttrValue* v = find(k);
  if (!v) invalid(op, ": missing attribute '", k, "'");
  if (v->kind != AttrValue::Str) invalid(op, ": attribute '", k, "' must be a name");
  return v->s;
}
std::string Attrs::get_str_or(const std::string& k, const std::string& d) const {
  const AttrValue* v = find(k);
  return v && v->kind == AttrValue::Str ? v->s : d;
}

void Attrs::set_int(const std::string& k, int64_t v) { AttrValue& a = slot(k); a.kind = AttrValue::Int; a.i = v; }
void Attrs::set_float(const std::string& k, double v) { AttrValue& a = slot(k); a.kind = AttrValue::Float; a.f = v; }
void Attrs::set_ints(const std::string& k, std::vector<int64_t> v) { AttrValue& a = slot(k); a.kind = AttrValue::Ints; a.ints = std::move(v); }
void Attrs::set_str(const std::string& k, std::string v) { AttrValue& a = slot(k); a.kind = AttrValue::Str; a.s = std::move(v); }
void Attrs::erase(const std::string& k) {
  items_.erase(std::remove_if(items_.begin(), items_.end(), [&](auto& kv) { return kv.first == k; }), items_.end());
}

uint64_t Attrs::hash() const {
  uint64_t h = 0x9ae16a3b2f90404fULL;
  for (auto& kv : items_) {
    h = hash_combine(h, hash_bytes(kv.first.data(), kv.first.size()));
    const AttrValue& v = kv.second;
    h = hash_combine(h, v.kind);
    switch (v.kind) {
      case AttrValue::Int: h = hash_combine(h, static_cast<uint64_t>(v.i)); break;
      case AttrValue::Float: h = hash_combine(h, hash_bytes(&v.f, sizeof v.f)); break;
      case AttrValue::Ints: h = hash_combine(h, hash_bytes(v.ints.data(), v.ints.size() * 8)); h = hash_combine(h, v.ints.size()); break;
      case AttrValue::Str: h = hash_combine(h, hash_bytes(v.s.data(), v.s.size())); break;
    }
  }
  return h;
}

std::string format_double(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  std::string s = buf;
  if (s.find_first_of(".eE") == std::string::npos) s += ".0";  // keep it a float on re-parse
  return s;
}

std::string Attrs::str() const {
  std::string r;
  for (auto& kv : items_) {
    if (!r.empty()) r += ", ";
    r += kv.first + "=";
    const AttrValue& v = kv.second;
    switch (v.kind) {
      case AttrValue::Int: r += std::to_string(v.i); break;
      case AttrValue::Float: r += format_double(v.f); break;
      case AttrValue::Ints:
        r += "[";
        for (size_t i = 0; i < v.ints.size(); ++i) { if (i) r += ","; r += std::to_string(v.ints[i]); }
        r += "]";
        break;
      case AttrValue::Str: r += v.s; break;
    }
  }
  return r;
}

namespace {
struct P {
  const char* op; const std::string& t; size_t i = 0;
  void ws() { while (i < t.size() && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n')) ++i; }
  [[noreturn]] void err(const char* what) { invalid(op, ": bad attributes '", t, "' at offset ", i, ": ", what); }
  std::string ident() {
    size_t s = i;
    while (i < t.size() && (std::isalnum(static_cast<unsigned char>(t[i])) || t[i] == '_')) ++i;
    if (s == i) err("expected a name");
    return t.substr(s, i - s);
  }
  int64_t integer() {
    const char* b = t.c_str() + i; char* e = nullptr;
    errno = 0;
    long long v = std::strtoll(b, &e, 10);
    if (e == b || errno) err("expected an integer");
    i += static_cast<size_t>(e - b);
    return v;
  }
};
}  // namespace

Attrs Attrs::parse(const char* op, const std::string& text) {
  Attrs a;
  P p{op, text};
  p.ws();
  while (p.i < text.size()) {
    std::string k = p.ident();
    p.ws();
    if (p.i >= text.size() || text[p.i] != '=') p.err("expected '='");
    ++p.i; p.ws();
    if (p.i >= text.size()) p.err("expected a value");
    char c = text[p.i];
    if (c == '[') {
      ++p.i; p.ws();
      std::vector<int64_t> v;
      while (p.i < text.size() && text[p.i] != ']') {
        v.push_back(p.integer()); p.ws();
        if (p.i < text.size() && text[p.i] == ',') { ++p.i; p.ws(); }
      }
      if (p.i >= text.size()) p.err("unterminated list");
      ++p.i;
      a.set_ints(k, std::move(v));
    } else if (c == '-' || c == '+' || c == '.' || std::isdigit(static_cast<unsigned char>(c))) {
      size_t s = p.i;
      if (c == '-' || c == '+') ++p.i;
      while (p.i < text.size() && (std::isalnum(static_cast<unsigned char>(text[p.i])) || text[p.i] == '.' ||
                                   ((text[p.i] == '-' || text[p.i] == '+') && (text[p.i - 1] == 'e' || text[p.i - 1] == 'E'))))
        ++p.i;
      std::string tok = text.substr(s, p.i - s);
      bool is_float = tok.find_first_of(".eEin") != std::string::npos;  // inf, nan
      if (is_float) {
        std::string low = tok;
        for (auto& ch : low) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        double v;
        if (low == "inf" || low == "+inf") v = HUGE_VAL;
        else if (low == "-inf") v = -HUGE_VAL;
        else if (low == "nan" || low == "-nan" || low == "+nan") v = std::nan("");
        else {
          char* e = nullptr; v = std::strtod(tok.c_str(), &e);
          if (!e || *e) { p.i = s; p.err("bad number"); }
        }
        a.set_float(k, v);
      } else {
        p.i = s;
        a.set_int(k, p.integer());
      }
    } else {
      std::string id = p.ident();
      if (id == "inf") a.set_float(k, HUGE_VAL);
      else if (id == "nan") a.set_float(k, std::nan(""));
      else a.set_str(k, id);
    }
    p.ws();
    if (p.i < text.size()) {
      if (text[p.i] != ',') p.err("expected ','");
      ++p.i; p.ws();
    }
  }
  return a;
}

}  // namespace jxla
