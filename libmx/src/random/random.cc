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
}  // namespace

RandomState &random_state(int dev_type, int dev_id) {
  if (dev_type == MX_CPU_PINNED) dev_type = MX_CPU;
  std::lock_guard<std::mutex> g(g_mu);
  auto &slot = states()[{dev_type, dev_id}];
  if (!slot) slot.reset(new RandomState(0));
  return *slot;
}

void random_seed_all(uint64_t seed, int dev_type) {
  std::lock_guard<std::mutex> g(g_mu);
  // Devices created later start from this seed too.
  for (int t : {static_cast<int>(MX_CPU), static_cast<int>(MX_GPU)}) {
    if (dev_type >= 0 && dev_type != t && !(dev_type == MX_CPU_PINNED && t == MX_CPU)) continue;
    auto &slot = states()[{t, 0}];
    if (!slot) slot.reset(new RandomState(seed));
    else slot->seed(seed);
  }
  for (auto &kv : states())
    if (dev_type < 0 || kv.first.first == dev_type) kv.second->seed(seed);
}

}  // namespace mx
