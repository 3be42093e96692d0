// Internal error type. Core code throws mx::Error; the C API layer catches every exception and
// turns it into a status code plus the thread-local message, so nothing ever crosses the ABI.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

#include "mx/c_api.h"

namespace mx {

class Error : public std::runtime_error {
 public:
  Error(mx_status status, const std::string &msg) : std::runtime_error(msg), status_(status) {}
  mx_status status() const { return status_; }

 private:
  mx_status status_;
};

namespace detail {
inline void append(std::ostringstream &) {}
template <typename T, typename... R>
void append(std::ostringstream &os, const T &v, const R &...rest) {
  os << v;
  append(os, rest...);
}
}  // namespace detail

// Builds a message from pieces: fail(MX_ERR_SHAPE, "FullyConnected: data has ", n, " dims").
template <typename... A>
[[noreturn]] void fail(mx_status status, const A &...pieces) {
  std::ostringstream os;
  detail::append(os, pieces...);
  throw Error(status, os.str());
}

#define MX_CHECK(cond, status, ...) \
  do {                              \
    if (!(cond)) ::mx::fail(status, __VA_ARGS__); \
  } while (0)

// Host logging through the callback set by mx_set_log_callback (silent without one).
void log_message(mx_log_level level, const std::string &msg);

}  // namespace mx
