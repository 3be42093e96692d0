#include "base/error.h"

#include <mutex>

namespace mx {

namespace {
std::mutex g_log_mu;
mx_log_fn g_log_fn = nullptr;
void *g_log_user = nullptr;
}  // namespace

void set_log_callback(mx_log_fn fn, void *user) {
  std::lock_guard<std::mutex> g(g_log_mu);
  g_log_fn = fn;
  g_log_user = user;
}

void log_message(mx_log_level level, const std::string &msg) {
  std::lock_guard<std::mutex> g(g_log_mu);
  if (g_log_fn) g_log_fn(level, msg.c_str(), g_log_user);
}

}  // namespace mx
