// check.h - minimal header-only checks for the native ctest executables (no framework).
//
//   #include "tests/check.h"
//   int main() { CHECK(x > 0); CHECK_EQ(a, b); CHECK_NEAR(f, 1.0, 1e-6); return check_finish(); }
//
// A failed check prints file:line and the values, counts the failure and carries on.
#ifndef JXLA_TESTS_CHECK_H
#define JXLA_TESTS_CHECK_H

#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>
#include <type_traits>

namespace jxla_check {

inline int& passed() { static int n = 0; return n; }
inline int& failed() { static int n = 0; return n; }

template <typename T>
std::string show(const T& v) {
  std::ostringstream os;
  if constexpr (std::is_same_v<T, bool>) {
    os << (v ? "true" : "false");
  } else if constexpr (std::is_same_v<T, signed char> || std::is_same_v<T, unsigned char> ||
                       std::is_same_v<T, char>) {
    os << static_cast<int>(v);
  } else {
    os.precision(9);
    os << v;
  }
  return os.str();
}

inline bool record(bool ok, const char* file, int line, const std::string& what) {
  if (ok) {
    ++passed();
  } else {
    ++failed();
    std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", file, line, what.c_str());
    std::fflush(stderr);
  }
  return ok;
}

template <typename A, typename B>
bool check_eq(const A& a, const B& b, const char* ea, const char* eb, const char* file, int line) {
  bool ok = (a == b);
  return record(ok, file, line,
                ok ? std::string() : std::string(ea) + " == " + eb + " (" + show(a) + " vs " + show(b) + ")");
}

inline bool check_near(double a, double b, double tol, const char* ea, const char* eb,
                       const char* file, int line) {
  bool ok = std::fabs(a - b) <= tol;  // NaN never passes
  return record(ok, file, line,
                ok ? std::string()
                   : std::string(ea) + " ~= " + eb + " (" + show(a) + " vs " + show(b) +
                         ", |diff| " + show(std::fabs(a - b)) + " > tol " + show(tol) + ")");
}

}  // namespace jxla_check

#define CHECK(cond) \
  ::jxla_check::record(static_cast<bool>(cond), __FILE__, __LINE__, "CHECK(" #cond ")")
#define CHECK_EQ(a, b) ::jxla_check::check_eq((a), (b), #a, #b, __FILE__, __LINE__)
#define CHECK_NEAR(a, b, tol) \
  ::jxla_check::check_near((a), (b), (tol), #a, #b, __FILE__, __LINE__)

// Prints "N passed, N failed"; returns nonzero if any check failed (use as main's result).
inline int check_finish() {
  std::printf("%d passed, %d failed\n", ::jxla_check::passed(), ::jxla_check::failed());
  std::fflush(stdout);
  return ::jxla_check::failed() == 0 ? 0 : 1;
}

#endif  // JXLA_TESTS_CHECK_H
