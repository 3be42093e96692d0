#include "autograd/grad_ready.h"

#include <atomic>
#include <map>
#include <mutex>

namespace mx {
namespace {

std::mutex mu;
std::map<int, GradListener> listeners;
std::atomic<int> count{0};
int next_id = 1;

// A copy of the listeners, so a callback may add or remove listeners.
std::map<int, GradListener> snapshot() {
  std::lock_guard<std::mutex> lock(mu);
  return listeners;
}

}  // namespace

int add_grad_listener(GradListener l) {
  std::lock_guard<std::mutex> lock(mu);
  int id = next_id++;
  listeners[id] = std::move(l);
  count.store(static_cast<int>(listeners.size()));
  return id;
}

void remove_grad_listener(int id) {
  std::lock_guard<std::mutex> lock(mu);
  listeners.erase(id);
  count.store(static_cast<int>(listeners.size()));
}

void notify_grad_ready(const NDArray &grad) {
  if (count.load() == 0 || !grad.defined()) return;
  for (auto &kv : snapshot())
    if (kv.second.on_ready) kv.second.on_ready(grad);
}

void notify_backward_begin() {
  if (count.load() == 0) return;
  for (auto &kv : snapshot())
    if (kv.second.on_backward_begin) kv.second.on_backward_begin();
}

void notify_backward_end() {
  if (count.load() == 0) return;
  for (auto &kv : snapshot())
    if (kv.second.on_backward_end) kv.second.on_backward_end();
}

}  // namespace mx
