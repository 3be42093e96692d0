// oneDNN glue shared by the CPU kernels that use it (docs/ONEDNN.md): the runtime switch, one CPU
// engine, a stream per thread, a cache of primitives keyed by shape, layout reorders into
// scratch buffers from MX's caching pool. Kernels call the onednn_* entry points and run their
// own code whenever those return false (no oneDNN in this build, switched off, or a case oneDNN
// does not implement), so a build without oneDNN behaves the same, only slower.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mx {
namespace onednn {

bool built();    // compiled with oneDNN (MX_ONEDNN=AUTO found it, or ON)
bool enabled();  // built and switched on (default; MX_ONEDNN=0 in the environment or set_enabled(false) bypasses it)
void set_enabled(bool on);  // MX_ERR_UNSUPPORTED for on=true in a build without oneDNN
int64_t calls();            // oneDNN primitives (not reorders) run since load
// Weights taken from the blocked-layout cache (hits) and reordered afresh (misses) since load.
void weight_cache_stats(int64_t *hits, int64_t *misses);

// ---- Blocked activations between the oneDNN steps of an executor (docs/ONEDNN.md) ----
// The executor (graph/executor_blocked.cc) may keep a value it planned in the blocked layout the
// producing primitive chose, in a side buffer of its own, instead of the plain array everyone
// else sees. Kernels keep taking and returning plain pointers; around one step the executor
// installs a StepLayouts on the calling thread that says which of those pointers really hold a
// blocked value (inputs) and which outputs may be written blocked. Scratch::input/output below
// then use the side buffers directly instead of reordering. A kernel that cannot take a blocked
// input calls materialize_inputs() first, which writes the plain arrays.
struct Layout;  // a oneDNN memory desc with its reorder to plain (opaque outside the oneDNN code)
using LayoutRef = std::shared_ptr<const Layout>;
size_t layout_bytes(const Layout &l);
bool same_layout(const Layout &a, const Layout &b);
// Writes the value held at `blocked` (layout l) as plain row-major at `plain`.
void blocked_to_plain(const Layout &l, const void *blocked, void *plain);

class StepLayouts {
 public:
  StepLayouts();   // becomes the calling thread's context
  ~StepLayouts();  // restores the previous one
  StepLayouts(const StepLayouts &) = delete;
  StepLayouts &operator=(const StepLayouts &) = delete;
  void add_input(const void *plain, LayoutRef l, const void *blocked);
  void add_output(void *plain, void *blocked, size_t capacity);
  // After the step: the layout output i was written in (null: plain, at its plain pointer), and
  // whether input i was used blocked or written out to its plain pointer.
  const LayoutRef &output_layout(size_t i) const { return outs_[i].layout; }
  bool input_handled(size_t i) const { return ins_[i].handled; }

  struct In {
    const void *plain;
    LayoutRef layout;
    const void *blocked;
    bool handled = false;
  };
  struct Out {
    void *plain, *blocked;
    size_t capacity;
    LayoutRef layout;
  };
  In *find_input(const void *plain);
  Out *find_output(void *plain);
  static StepLayouts *current();
  void materialize();

 private:
  std::vector<In> ins_;
  std::vector<Out> outs_;
  StepLayouts *prev_;
};
// The blocked value behind plain input pointer p in the current step (null: plain).
const StepLayouts::In *blocked_input(const void *p);
// Writes every blocked input of the current step to its plain pointer (a kernel falling back to
// code that reads plain arrays calls this first).
void materialize_inputs();

}  // namespace onednn
}  // namespace mx

#ifdef MX_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>

#include <sstream>
#include <unordered_map>
#include <vector>

#include "ndarray/ndarray.h"

namespace mx {
namespace onednn {

dnnl::engine &engine();
dnnl::stream &stream();  // the calling thread's (executions are synchronous with OpenMP)

// Makes oneDNN's OpenMP team follow MX's thread count (mx_set_num_threads / MX_NUM_THREADS) and
// returns it; called before building and before running primitives, and part of every cache key
// since oneDNN partitions work by the thread count at creation.
int sync_threads();

// The object cached under key, built by make() on first use (shared by all threads; make() may
// return nullptr to remember "oneDNN does not take this case").
std::shared_ptr<void> cache_lookup(const std::string &key, const std::function<std::shared_ptr<void>()> &make);
template <class T> std::shared_ptr<T> cached(const std::string &key, const std::function<std::shared_ptr<T>()> &make) {
  return std::static_pointer_cast<T>(cache_lookup(key, [&]() -> std::shared_ptr<void> { return make(); }));
}

// Builds cache keys: op name, then every shape value and flag.
class Key {
 public:
  explicit Key(const char *op) { s_ << op; }
  Key &add(int64_t v) {
    s_ << ',' << v;
    return *this;
  }
  Key &add(const std::vector<int64_t> &v) {
    s_ << '[';
    for (int64_t x : v) s_ << x << ' ';
    s_ << ']';
    return *this;
  }
  std::string str() const { return s_.str(); }

 private:
  std::ostringstream s_;
};

dnnl::memory::dims dims(const std::vector<int64_t> &v);
// Plain (row-major) layout of an activation N, C, spatial... / of weights (g)oi + spatial.
dnnl::memory::desc plain_md(const dnnl::memory::dims &d);
dnnl::memory::desc plain_md(const dnnl::memory::dims &d, dnnl::memory::data_type t);

// A layout change from one memory desc to another, planned once (cached with its primitive).
struct Reorder {
  dnnl::memory::desc from, to;
  bool needed = false;
  dnnl::reorder prim;
  Reorder() = default;
  Reorder(const dnnl::memory::desc &from_md, const dnnl::memory::desc &to_md);
};

// A blocked value's layout: `to_plain.from` is its memory desc, `to_plain.to` the plain one.
struct Layout {
  Reorder to_plain;
};
// The cached reorder between two descs (blocked -> another blocked layout a consumer wants).
std::shared_ptr<Reorder> cached_reorder(const dnnl::memory::desc &from, const dnnl::memory::desc &to);
// Cache-key bytes of a memory desc.
std::string md_key(const dnnl::memory::desc &md);

// Scratch memory owned by a call: buffers from MX's pool live until the call ends.
class Scratch {
 public:
  // Memory in layout r.to holding the data at user pointer p (layout r.from): p itself when no
  // reorder is needed, else a pool buffer filled by the reorder.
  dnnl::memory input(const Reorder &r, const void *p);
  // A weight in layout r.to. The blocked copy is cached with w's storage (Storage::derived) and
  // reused while the storage's version is the one it was made from: a weight is reordered once
  // per parameter version, not on every call. Escaped storage (pointer handed out) is never cached.
  dnnl::memory weight(const Reorder &r, const NDArray &w);
  // Memory in layout r.from to compute into; finish_output() moves it to user pointer p (layout
  // r.to). Without a reorder it is p itself.
  dnnl::memory output(const Reorder &r, void *p);
  void finish_outputs();
  dnnl::memory buffer(const dnnl::memory::desc &md);

 private:
  std::vector<NDArray> bufs_;
  std::vector<std::shared_ptr<const void>> keep_;  // cached weights in use by this call
  struct Pending {
    const Reorder *r;
    dnnl::memory src, dst;
  };
  std::vector<Pending> pending_;
};

// Runs a primitive on the calling thread's stream and waits; oneDNN errors become MX errors.
void execute(dnnl::primitive &p, const std::unordered_map<int, dnnl::memory> &args, const char *what,
             bool counted = true);

}  // namespace onednn
}  // namespace mx
#endif
