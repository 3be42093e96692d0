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
std::atomic<int64_t> g_weight_hits{0}, g_weight_misses{0};
}  // namespace

void weight_cache_stats(int64_t *hits, int64_t *misses) {
  if (hits) *hits = g_weight_hits.load(std::memory_order_relaxed);
  if (misses) *misses = g_weight_misses.load(std::memory_order_relaxed);
}

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

namespace {
thread_local StepLayouts *g_step = nullptr;
}

StepLayouts::StepLayouts() : prev_(g_step) { g_step = this; }
StepLayouts::~StepLayouts() { g_step = prev_; }
StepLayouts *StepLayouts::current() { return g_step; }
void StepLayouts::add_input(const void *plain, LayoutRef l, const void *blocked) {
  ins_.push_back(In{plain, std::move(l), blocked, false});
}
void StepLayouts::add_output(void *plain, void *blocked, size_t capacity) {
  outs_.push_back(Out{plain, blocked, capacity, nullptr});
}
StepLayouts::In *StepLayouts::find_input(const void *plain) {
  for (auto &i : ins_)
    if (i.plain == plain) return &i;
  return nullptr;
}
StepLayouts::Out *StepLayouts::find_output(void *plain) {
  for (auto &o : outs_)
    if (o.plain == plain) return &o;
  return nullptr;
}

const StepLayouts::In *blocked_input(const void *p) {
  StepLayouts *c = StepLayouts::current();
  return c ? c->find_input(p) : nullptr;
}

void materialize_inputs() {
  StepLayouts *c = StepLayouts::current();
  if (!c) return;
  c->materialize();
}

#ifdef MX_HAVE_ONEDNN

size_t layout_bytes(const Layout &l) { return l.to_plain.from.get_size(); }
bool same_layout(const Layout &a, const Layout &b) { return a.to_plain.from == b.to_plain.from; }
void blocked_to_plain(const Layout &l, const void *blocked, void *plain) {
  dnnl::memory src(l.to_plain.from, engine(), const_cast<void *>(blocked));
  dnnl::memory dst(l.to_plain.to, engine(), plain);
  execute(const_cast<dnnl::reorder &>(l.to_plain.prim), {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}}, "reorder",
          false);
}

std::string md_key(const dnnl::memory::desc &md) {
  return std::string(reinterpret_cast<const char *>(&md.data), sizeof(md.data));
}

std::shared_ptr<Reorder> cached_reorder(const dnnl::memory::desc &from, const dnnl::memory::desc &to) {
  return cached<Reorder>("reorder" + md_key(from) + md_key(to), [&] { return std::make_shared<Reorder>(from, to); });
}

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

dnnl::memory::desc plain_md(const dnnl::memory::dims &d) { return plain_md(d, dnnl::memory::data_type::f32); }

dnnl::memory::desc plain_md(const dnnl::memory::dims &d, dnnl::memory::data_type t) {
  dnnl::memory::dims strides(d.size());
  dnnl::memory::dim s = 1;
  for (size_t i = d.size(); i-- > 0;) {
    strides[i] = s;
    s *= d[i];
  }
  return dnnl::memory::desc(d, t, strides);
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
  if (StepLayouts *c = StepLayouts::current())
    if (StepLayouts::In *bi = c->find_input(p)) {  // a blocked value: no plain round trip
      bi->handled = true;
      const dnnl::memory::desc &md = bi->layout->to_plain.from;
      if (md == r.to) return dnnl::memory(md, engine(), const_cast<void *>(bi->blocked));
      std::shared_ptr<Reorder> ro = cached_reorder(md, r.to);
      keep_.push_back(ro);
      dnnl::memory m = buffer(r.to);
      execute(ro->prim, {{DNNL_ARG_FROM, dnnl::memory(md, engine(), const_cast<void *>(bi->blocked))}, {DNNL_ARG_TO, m}},
              "reorder", false);
      return m;
    }
  dnnl::memory user(r.from, engine(), const_cast<void *>(p));
  if (!r.needed) return user;
  dnnl::memory m = buffer(r.to);
  execute(const_cast<dnnl::reorder &>(r.prim), {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, m}}, "reorder", false);
  return m;
}

namespace {
// One blocked copy of (part of) a storage: the byte offset of the viewed weight, the source
// layout read there (the full plain weight, or a view of some of its taps: onednn_conv.cc), its
// target layout, the storage version it was made from.
struct BlockedWeight {
  size_t offset;
  dnnl::memory::desc from, md;
  uint64_t version;
  NDArray buf;
};
// A storage's cached copies, replaced as a whole (copy on write) so readers need no lock. A
// weight usually needs one layout (forward) or two (training: forward and backward-data).
using BlockedWeights = std::vector<std::shared_ptr<const BlockedWeight>>;
constexpr size_t kMaxLayoutsPerWeight = 4;
}  // namespace

dnnl::memory Scratch::weight(const Reorder &r, const NDArray &w) {
  const Storage *st = w.storage().get();
  if (!r.needed || !st || st->escaped() || !st->device().is_cpu()) return input(r, w.craw());
  // The version is read before the reorder reads the bytes: a write racing with it leaves the
  // entry with a version that no longer matches.
  const uint64_t v = st->version();
  auto list = std::static_pointer_cast<const BlockedWeights>(st->derived());
  if (list)
    for (const auto &e : *list)
      if (e->version == v && e->offset == w.offset() && e->md == r.to && e->from == r.from) {
        g_weight_hits.fetch_add(1, std::memory_order_relaxed);
        keep_.push_back(e);
        return dnnl::memory(r.to, engine(), const_cast<void *>(e->buf.craw()));
      }
  g_weight_misses.fetch_add(1, std::memory_order_relaxed);
  auto e = std::make_shared<BlockedWeight>();
  e->offset = w.offset();
  e->from = r.from;
  e->md = r.to;
  e->version = v;
  const int64_t n = static_cast<int64_t>((r.to.get_size() + sizeof(float) - 1) / sizeof(float));
  e->buf = NDArray(Shape{std::max<int64_t>(n, 1)}, DType::f32);
  dnnl::memory user(r.from, engine(), const_cast<void *>(w.craw()));
  dnnl::memory m(r.to, engine(), e->buf.raw());
  execute(const_cast<dnnl::reorder &>(r.prim), {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, m}}, "reorder", false);
  // Keep the other layouts still current for this version; drop stale ones.
  auto next = std::make_shared<BlockedWeights>();
  next->push_back(e);
  if (list)
    for (const auto &o : *list)
      if (next->size() < kMaxLayoutsPerWeight && o->version == v &&
          !(o->offset == e->offset && o->md == e->md && o->from == e->from))
        next->push_back(o);
  st->set_derived(std::move(next));
  keep_.push_back(e);
  return m;
}

dnnl::memory Scratch::output(const Reorder &r, void *p) {
  if (!r.needed) return dnnl::memory(r.from, engine(), p);
  if (StepLayouts *c = StepLayouts::current())
    if (StepLayouts::Out *bo = c->find_output(p))
      if (r.from.get_size() <= bo->capacity) {  // left blocked for the next oneDNN step
        auto l = std::make_shared<Layout>();
        l->to_plain = r;
        bo->layout = std::move(l);
        return dnnl::memory(r.from, engine(), bo->blocked);
      }
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

#else  // no oneDNN: no value is ever blocked

size_t layout_bytes(const Layout &) { return 0; }
bool same_layout(const Layout &, const Layout &) { return false; }
void blocked_to_plain(const Layout &, const void *, void *) {
  fail(MX_ERR_INTERNAL, "blocked layout in a build without oneDNN");
}

#endif  // MX_HAVE_ONEDNN

void StepLayouts::materialize() {
  for (auto &i : ins_)
    if (!i.handled) {
      blocked_to_plain(*i.layout, i.blocked, const_cast<void *>(i.plain));
      i.handled = true;
    }
}

}  // namespace onednn
}  // namespace mx
