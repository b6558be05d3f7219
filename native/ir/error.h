// error.h - the engine's exception type. Every C++ error carries a jxla status code; the
// C API (c_api/) catches it and turns it into a status plus the thread-local message.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>
#include "jxla/jxla.h"

namespace jxla {

struct Error : std::runtime_error {
  int code;
  Error(int c, const std::string& m) : std::runtime_error(m), code(c) {}
};

namespace detail {
inline void cat(std::ostringstream&) {}
template <class T, class... R> void cat(std::ostringstream& os, const T& t, const R&... r) { os << t; cat(os, r...); }
}  // namespace detail

template <class... A> [[noreturn]] void fail(int code, const A&... a) {
  std::ostringstream os; detail::cat(os, a...); throw Error(code, os.str());
}
template <class... A> [[noreturn]] void invalid(const A&... a) { fail(JXLA_ERR_INVALID_ARGUMENT, a...); }
template <class... A> [[noreturn]] void internal(const A&... a) { fail(JXLA_ERR_INTERNAL, a...); }

}  // namespace jxla
