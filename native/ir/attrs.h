// attrs.h - op attributes: a small sorted map name -> (int | float | int list | string).
// The text form "a=1, b=[0,1], dtype=f32, value=0.5" is shared by the text IR and the C API.
// Invariant: items are sorted by name and unique, so equal attribute sets hash and compare equal.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace jxla {

struct AttrValue {
  enum Kind : uint8_t { Int, Float, Ints, Str } kind = Int;
  int64_t i = 0;
  double f = 0;
  std::vector<int64_t> ints;
  std::string s;
  bool operator==(const AttrValue& o) const;
};

class Attrs {
 public:
  bool has(const std::string& k) const { return find(k) != nullptr; }
  int64_t get_int(const char* op, const std::string& k) const;
  int64_t get_int_or(const std::string& k, int64_t dflt) const;
  double get_float(const char* op, const std::string& k) const;       // accepts ints too
  double get_float_or(const std::string& k, double dflt) const;
  const std::vector<int64_t>& get_ints(const char* op, const std::string& k) const;
  std::vector<int64_t> get_ints_or(const std::string& k, std::vector<int64_t> dflt) const;
  std::string get_str(const char* op, const std::string& k) const;
  std::string get_str_or(const std::string& k, const std::string& dflt) const;

  void set_int(const std::string& k, int64_t v);
  void set_float(const std::string& k, double v);
  void set_ints(const std::string& k, std::vector<int64_t> v);
  void set_str(const std::string& k, std::string v);
  void erase(const std::string& k);

  bool empty() const { return items_.empty(); }
  uint64_t hash() const;
  bool operator==(const Attrs& o) const { return items_ == o.items_; }
  std::string str() const;  // text form, "" when empty
  // Parses the text form; throws invalid naming op on a syntax error.
  static Attrs parse(const char* op, const std::string& text);
  const std::vector<std::pair<std::string, AttrValue>>& items() const { return items_; }

 private:
  const AttrValue* find(const std::string& k) const;
  AttrValue& slot(const std::string& k);
  std::vector<std::pair<std::string, AttrValue>> items_;
};

std::string format_double(double v);  // round-trippable: %.17g, "inf", "-inf", "nan"

}  // namespace jxla
