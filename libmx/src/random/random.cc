#include <map>
#include <memory>
#include <mutex>

#include "mx/c_api.h"
#include "random/philox.h"

namespace mx {

namespace {
std::mutex g_mu;
std::map<std::pair<int, int>, std::unique_ptr<RandomState>> &states() {
  static auto *m = new std::map<std::pair<int, int>, std::unique_ptr<RandomState>>();
  return *m;
}
// The seed a device's generator starts from when it is first used: the last seed given for all
// devices of its type (so mx.random.seed(s) also covers gpu(3) created afterwards), else 0.
std::map<int, uint64_t> &first_seeds() {
  static auto *m = new std::map<int, uint64_t>();
  return *m;
}
}  // namespace

RandomState &random_state(int dev_type, int dev_id) {
  if (dev_type == MX_CPU_PINNED) dev_type = MX_CPU;
  std::lock_guard<std::mutex> g(g_mu);
  auto &slot = states()[{dev_type, dev_id}];
  if (!slot) slot.reset(new RandomState(first_seeds()[dev_type]));
  return *slot;
}

void random_seed_all(uint64_t seed, int dev_type) {
  std::lock_guard<std::mutex> g(g_mu);
  if (dev_type == MX_CPU_PINNED) dev_type = MX_CPU;
  for (int t : {static_cast<int>(MX_CPU), static_cast<int>(MX_GPU)})
    if (dev_type < 0 || dev_type == t) first_seeds()[t] = seed;  // devices used later
  for (auto &kv : states())
    if (dev_type < 0 || kv.first.first == dev_type) kv.second->seed(seed);
}

}  // namespace mx
