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

namespace mx {
namespace onednn {

bool built();    // compiled with oneDNN (MX_ONEDNN=AUTO found it, or ON)
bool enabled();  // built and switched on (default; MX_ONEDNN=0 in the environment or set_enabled(false) bypasses it)
void set_enabled(bool on);  // MX_ERR_UNSUPPORTED for on=true in a build without oneDNN
int64_t calls();            // oneDNN primitives (not reorders) run since load
// Weights taken from the blocked-layout cache (hits) and reordered afresh (misses) since load.
void weight_cache_stats(int64_t *hits, int64_t *misses);

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

// A layout change from one memory desc to another, planned once (cached with its primitive).
struct Reorder {
  dnnl::memory::desc from, to;
  bool needed = false;
  dnnl::reorder prim;
  Reorder() = default;
  Reorder(const dnnl::memory::desc &from_md, const dnnl::memory::desc &to_md);
};

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
