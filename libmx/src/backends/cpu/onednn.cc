#include "backends/cpu/onednn.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "backends/cpu/parallel.h"
#include "base/error.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace mx {
namespace onednn {

namespace {
bool env_enabled() {
  const char *e = std::getenv("MX_ONEDNN");
  return !(e && (std::strcmp(e, "0") == 0 || std::strcmp(e, "OFF") == 0 || std::strcmp(e, "off") == 0));
}
#ifdef MX_HAVE_ONEDNN
std::atomic<bool> g_enabled{env_enabled()};
#else
std::atomic<bool> g_enabled{false};
#endif
std::atomic<int64_t> g_calls{0};
}  // namespace

bool built() {
#ifdef MX_HAVE_ONEDNN
  return true;
#else
  return false;
#endif
}

int64_t calls() { return g_calls.load(std::memory_order_relaxed); }

bool enabled() { return g_enabled.load(std::memory_order_relaxed); }

void set_enabled(bool on) {
  MX_CHECK(!on || built(), MX_ERR_UNSUPPORTED,
           "oneDNN kernels cannot be enabled: this libmx was built without oneDNN (MX_ONEDNN=OFF or "
           "libdnnl-dev missing at build time)");
  g_enabled.store(on);
}

#ifdef MX_HAVE_ONEDNN

dnnl::engine &engine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

dnnl::stream &stream() {
  thread_local dnnl::stream s(engine());
  return s;
}

int sync_threads() {
  int n = cpu_num_threads();
#ifdef _OPENMP
  if (omp_get_max_threads() != n) omp_set_num_threads(n);
#endif
  return n;
}

namespace {
// Shapes seen in one process are few (one entry per layer and direction); the bound only keeps a
// program that sweeps shapes from growing without limit.
constexpr size_t kMaxCached = 4096;
std::mutex g_cache_mu;
std::unordered_map<std::string, std::shared_ptr<void>> &cache() {
  static auto *c = new std::unordered_map<std::string, std::shared_ptr<void>>();  // never destroyed: outlives exit-time calls
  return *c;
}
}  // namespace

std::shared_ptr<void> cache_lookup(const std::string &key, const std::function<std::shared_ptr<void>()> &make) {
  {
    std::lock_guard<std::mutex> lock(g_cache_mu);
    auto it = cache().find(key);
    if (it != cache().end()) return it->second;
  }
  std::shared_ptr<void> v = make();  // outside the lock: primitive creation takes milliseconds
  std::lock_guard<std::mutex> lock(g_cache_mu);
  if (cache().size() >= kMaxCached) cache().clear();
  return cache().emplace(key, v).first->second;
}

dnnl::memory::dims dims(const std::vector<int64_t> &v) { return dnnl::memory::dims(v.begin(), v.end()); }

dnnl::memory::desc plain_md(const dnnl::memory::dims &d) {
  dnnl::memory::dims strides(d.size());
  dnnl::memory::dim s = 1;
  for (size_t i = d.size(); i-- > 0;) {
    strides[i] = s;
    s *= d[i];
  }
  return dnnl::memory::desc(d, dnnl::memory::data_type::f32, strides);
}

Reorder::Reorder(const dnnl::memory::desc &from_md, const dnnl::memory::desc &to_md)
    : from(from_md), to(to_md), needed(from_md != to_md) {
  if (needed) prim = dnnl::reorder(dnnl::reorder::primitive_desc(engine(), from, engine(), to));
}

dnnl::memory Scratch::buffer(const dnnl::memory::desc &md) {
  const int64_t n = static_cast<int64_t>((md.get_size() + sizeof(float) - 1) / sizeof(float));
  bufs_.emplace_back(Shape{std::max<int64_t>(n, 1)}, DType::f32);
  return dnnl::memory(md, engine(), bufs_.back().raw());
}

dnnl::memory Scratch::input(const Reorder &r, const void *p) {
  dnnl::memory user(r.from, engine(), const_cast<void *>(p));
  if (!r.needed) return user;
  dnnl::memory m = buffer(r.to);
  execute(const_cast<dnnl::reorder &>(r.prim), {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, m}}, "reorder", false);
  return m;
}

dnnl::memory Scratch::output(const Reorder &r, void *p) {
  if (!r.needed) return dnnl::memory(r.from, engine(), p);
  dnnl::memory m = buffer(r.from);
  pending_.push_back({&r, m, dnnl::memory(r.to, engine(), p)});
  return m;
}

void Scratch::finish_outputs() {
  for (auto &o : pending_)
    execute(const_cast<dnnl::reorder &>(o.r->prim), {{DNNL_ARG_FROM, o.src}, {DNNL_ARG_TO, o.dst}}, "reorder", false);
  pending_.clear();
}

void execute(dnnl::primitive &p, const std::unordered_map<int, dnnl::memory> &args, const char *what,
             bool counted) {
  if (counted) g_calls.fetch_add(1, std::memory_order_relaxed);
  try {
    p.execute(stream(), args);
    stream().wait();
  } catch (const dnnl::error &e) {
    fail(e.status == dnnl_out_of_memory ? MX_ERR_OUT_OF_MEMORY : MX_ERR_INTERNAL, "oneDNN ", what,
         " failed: ", e.what());
  }
}

#endif  // MX_HAVE_ONEDNN

}  // namespace onednn
}  // namespace mx
