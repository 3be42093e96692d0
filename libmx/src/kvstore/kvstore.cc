#include "kvstore/kvstore.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <set>

#include "backends/cpu/parallel.h"
#include "base/error.h"
#include "kvstore/overlap.h"
#include "kvstore/sparse_reduce.h"
#include "ndarray/sparse.h"
#include "optimizer/optimizer.h"

namespace mx {
namespace {

constexpr int64_t kDefaultBucketBytes = 25 << 20;

// Off unless asked for: on 2 cores with 2 workers the communication thread competes with
// backward, and steps measured 9-12 % slower with overlap (docs/distributed.md).
bool env_overlap() {
  const char *s = std::getenv("MX_KVSTORE_OVERLAP");
  return s && (std::strcmp(s, "1") == 0 || std::strcmp(s, "true") == 0 || std::strcmp(s, "on") == 0);
}

int64_t env_bucket_bytes() {
  const char *s = std::getenv("MX_KVSTORE_BUCKET_BYTES");
  if (s && *s) {
    char *end = nullptr;
    long long v = std::strtoll(s, &end, 10);
    if (end != s && v > 0) return v;
  }
  return kDefaultBucketBytes;
}

// dst = sum of values (same shape and dtype), multithreaded.
void sum_into(const NDArray &dst, const std::vector<NDArray> &values) {
  const int64_t n = dst.size();
  DType dt = dst.dtype();
  if (dt == DType::f16 || dt == DType::bf16) {  // accumulate in float32
    std::vector<float> acc(static_cast<size_t>(n), 0.f), tmp(static_cast<size_t>(n));
    for (const auto &v : values) {
      convert_buffer(v.raw(), dt, tmp.data(), DType::f32, n);
      for (int64_t i = 0; i < n; ++i) acc[i] += tmp[i];
    }
    convert_buffer(acc.data(), DType::f32, dst.raw(), dt, n);
    return;
  }
  MX_DTYPE_SWITCH_NUMERIC(dt, T, "kvstore push", {
    T *d = dst.data<T>();
    std::vector<const T *> srcs;
    for (const auto &v : values) srcs.push_back(v.data<T>());
    parallel_for(n, 1 << 15, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        T s = srcs[0][i];
        for (size_t k = 1; k < srcs.size(); ++k) s = static_cast<T>(s + srcs[k][i]);
        d[i] = s;
      }
    });
  });
}

uint64_t fnv(uint64_t h, const void *p, size_t n) {
  const unsigned char *c = static_cast<const unsigned char *>(p);
  for (size_t i = 0; i < n; ++i) h = (h ^ c[i]) * 1099511628211ULL;
  return h;
}

// Signature of (key, shape, dtype): 62 bits, so it and its negation fit an int64.
int64_t signature(const std::string &key, const NDArray &a) {
  uint64_t h = 1469598103934665603ULL;
  h = fnv(h, key.data(), key.size() + 1);
  int dt = static_cast<int>(a.dtype()), nd = a.ndim(), st = static_cast<int>(stype_of(a));
  h = fnv(h, &dt, sizeof dt);
  h = fnv(h, &st, sizeof st);  // workers must agree on sparse vs dense (different collectives)
  int gpu = a.device().is_cpu() ? 0 : 1;  // and on CPU (MPI) vs GPU (NCCL); not on which GPU
  h = fnv(h, &gpu, sizeof gpu);
  h = fnv(h, &nd, sizeof nd);
  for (int i = 0; i < nd; ++i) {
    int64_t d = a.shape()[i];
    h = fnv(h, &d, sizeof d);
  }
  return static_cast<int64_t>(h >> 2);
}

std::string device_name(Device d) {
  return (d.is_cpu() ? "cpu(" : "gpu(") + std::to_string(d.id) + ")";
}

std::string describe(const NDArray &a) {
  std::string s = a.shape().str() + " " + dtype_name(a.dtype());
  return a.is_sparse() ? s + " " + stype_name(stype_of(a)) : s;
}

// A step-time call as a span on the timeline's compute row (nothing without a timeline).
struct CallSpan {
  Timeline *t;
  const char *name;
  double t0;
  CallSpan(const std::shared_ptr<Timeline> &tl, const char *n) : t(tl.get()), name(n), t0(t ? Timeline::now_us() : 0) {}
  ~CallSpan() {
    if (!t) return;
    t->span(name, "kvstore", Timeline::kCompute, t0, Timeline::now_us());
    t->maybe_flush();
  }
};

bool parse_int_key(const std::string &k, int *out) {
  if (k.empty() || k.size() > 10) return false;
  size_t i = (k[0] == '-') ? 1 : 0;
  if (i == k.size()) return false;
  for (size_t j = i; j < k.size(); ++j)
    if (k[j] < '0' || k[j] > '9') return false;
  long long v = std::strtoll(k.c_str(), nullptr, 10);
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) return false;
  *out = static_cast<int>(v);
  return true;
}

}  // namespace

KVStore::KVStore(const std::string &type) : bucket_bytes_(env_bucket_bytes()), overlap_on_(env_overlap()) {
  if (type == "local" || type == "device") {
    type_ = type;
    comm_ = make_local_collective();
  } else if (type == "dist_sync" || type == "dist_device_sync" || type == "horovod" ||
             type == "dist") {
    type_ = type == "dist" ? "dist_sync" : type;
    dist_ = true;
    comm_ = mpi_world_collective();
  } else if (type == "dist_async" || type == "dist_device_async") {
    fail(MX_ERR_UNSUPPORTED, "kvstore '", type,
         "' is not supported: MX reduces gradients by allreduce over MPI (every worker takes "
         "part in every step), there is no parameter server to apply asynchronous updates. "
         "Use 'dist_sync' (or 'dist_device_sync', 'horovod')");
  } else if (type == "nccl" || type == "dist_sync_device") {
    fail(MX_ERR_UNSUPPORTED, "kvstore '", type,
         "' (one process driving several GPUs) is not supported: MX reduces GPU arrays with NCCL in the "
         "distributed types, one process per GPU; use 'dist_sync' and start one worker per GPU "
         "(python -m mx.tools.launch -n <GPUs> ...), or 'device' for CPU arrays");
  } else {
    fail(MX_ERR_INVALID_ARGUMENT, "unknown kvstore type '", type,
         "' (local, device, dist_sync, dist_device_sync, horovod)");
  }  const char *tl = std::getenv("MX_KVSTORE_TIMELINE");
  if (tl && *tl) open_timeline(tl);
}

void KVStore::open_timeline(const std::string &path) {
  overlap_.reset();  // re-registered with the new timeline at the next step
  timeline_.reset();  // writes the old file
  if (path.empty()) return;
  timeline_ = std::make_shared<Timeline>(dist_ && comm_->size() > 1 ? timeline_path_for_rank(path, rank()) : path,
                                         rank());
}

KVStore::Entry &KVStore::entry_of(const std::string &key, const char *op) {
  auto it = store_.find(key);
  MX_CHECK(it != store_.end(), MX_ERR_INVALID_ARGUMENT, "kvstore.", op, ": key '", key,
           "' has not been initialised (call init first)");
  return it->second;
}

void KVStore::check_consistent(const char *op, const std::vector<std::string> &keys,
                               const std::vector<const NDArray *> &arrays,
                               const std::string &local_error) {
  if (!dist_) return;
  const int64_t n = static_cast<int64_t>(keys.size());
  std::vector<int64_t> sig(keys.size());
  uint64_t all = 1469598103934665603ULL;
  for (size_t i = 0; i < keys.size(); ++i) {
    sig[i] = arrays[i] ? signature(keys[i], *arrays[i]) : 0;
    all = fnv(all, &sig[i], sizeof sig[i]);
  }
  if (!local_error.empty()) all ^= 0x2545F4914F6CDD1DULL;  // a local failure poisons the check
  int64_t h = static_cast<int64_t>(all >> 2);
  std::string what = std::string("kvstore.") + op;
  int64_t v[4] = {n, -n, h, -h};
  comm_->allreduce_max_i64(v, 4, what + " (consistency check)");
  if (v[0] == n && -v[1] == n && v[2] == h && -v[3] == h) return;  // every worker agrees
  // Every worker saw the same maxima, so all take the same branches below (and make the same
  // collective calls) before any of them throws.
  std::string me = " on this worker (rank " + std::to_string(rank()) + ")";
  if (v[0] != -v[1]) {
    if (!local_error.empty()) return;  // the caller throws its own, more precise error
    fail(MX_ERR_INVALID_ARGUMENT, what, ": the workers passed different numbers of keys (",
         -v[1], " to ", v[0], "; ", n, me, "): every worker must call ", op,
         " with the same keys in the same order");
  }
  // Same count everywhere: find the first key whose signature differs.
  std::vector<int64_t> per(2 * keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    per[2 * i] = sig[i];
    per[2 * i + 1] = -sig[i];
  }
  comm_->allreduce_max_i64(per.data(), static_cast<int64_t>(per.size()), what + " (key check)");
  if (!local_error.empty()) return;  // the caller throws its own, more precise error
  for (size_t i = 0; i < keys.size(); ++i)
    if (per[2 * i] != sig[i] || -per[2 * i + 1] != sig[i])
      fail(MX_ERR_SHAPE, what, ": key '", keys[i], "' differs across workers: ",
           arrays[i] ? describe(*arrays[i]) : std::string("?"), me,
           ", another worker passed a different key, shape or dtype at this position");
  fail(MX_ERR_INVALID_ARGUMENT, what, ": another worker failed this call (see its error)");
}

std::vector<KVStore::Group> KVStore::group(const char *op, const std::vector<std::string> &keys,
                                           const std::vector<NDArray> &values) {
  MX_CHECK(keys.size() == values.size(), MX_ERR_INVALID_ARGUMENT, "kvstore.", op, ": ",
           keys.size(), " keys but ", values.size(), " values");
  std::vector<Group> groups;
  std::map<std::string, size_t> pos;
  for (size_t i = 0; i < keys.size(); ++i) {
    Entry &e = entry_of(keys[i], op);
    const NDArray &v = values[i];
    MX_CHECK(v.defined(), MX_ERR_INVALID_ARGUMENT, "kvstore.", op, ": key '", keys[i],
             "': NULL array");
    MX_CHECK((v.device().is_cpu() && e.stored.device().is_cpu()) || v.device() == e.stored.device(), MX_ERR_UNSUPPORTED, "kvstore.", op, ": key '", keys[i],
             "' is stored on ", device_name(e.stored.device()), " (where init put it) but got an array on ",
             device_name(v.device()), ": push from the device the key was initialised on");
    MX_CHECK(v.shape() == e.stored.shape() && v.dtype() == e.stored.dtype(), MX_ERR_SHAPE,
             "kvstore.", op, ": key '", keys[i], "' was initialised as ", describe(e.stored),
             " but got ", describe(v));
    MX_CHECK(stype_of(v) != SType::csr, MX_ERR_UNSUPPORTED, "kvstore.", op, ": key '", keys[i],
             "': csr arrays cannot be pushed (MXNet neither); push row_sparse or dense values");
    MX_CHECK(!(v.is_sparse() && compression_), MX_ERR_UNSUPPORTED, "kvstore.", op, ": key '", keys[i],
             "': gradient compression does not apply to row_sparse values (MXNet neither)");
    auto it = pos.find(keys[i]);
    if (it == pos.end()) {
      pos[keys[i]] = groups.size();
      Group g;
      g.key = keys[i];
      g.entry = &e;
      g.values.push_back(v);
      groups.push_back(std::move(g));
    } else {
      groups[it->second].values.push_back(v);
    }
  }
  // GPU arrays are reduced by NCCL as they are: one dense array per key, all on one GPU.
  const Device first = groups.empty() ? Device() : groups[0].values[0].device();
  for (auto &g : groups) {
    Device d = g.values[0].device();
    if (first.is_cpu() && d.is_cpu()) continue;
    MX_CHECK(d == first, MX_ERR_UNSUPPORTED, "kvstore.", op, ": key '", g.key, "' is on ", device_name(d),
             " but key '", groups[0].key, "' on ", device_name(first), ": one call reduces arrays of one device");
    MX_CHECK(g.values.size() == 1, MX_ERR_UNSUPPORTED, "kvstore.", op, ": key '", g.key, "': ",
             g.values.size(), " GPU arrays in one call; GPU keys take one array per worker (one process per GPU)");
    MX_CHECK(!g.values[0].is_sparse(), MX_ERR_UNSUPPORTED, "kvstore.", op, ": key '", g.key,
             "': row_sparse GPU arrays cannot be reduced (dense ones can)");
    MX_CHECK(!compression_, MX_ERR_UNSUPPORTED, "kvstore.", op, ": key '", g.key,
             "': gradient compression applies to CPU arrays only");
  }
  // A key whose arrays are all row_sparse is summed as row_sparse; a mix is summed densely.
  for (auto &g : groups) {
    bool all = true;
    for (const auto &v : g.values) all = all && v.is_sparse();
    g.sparse = all;
    if (!all)
      for (auto &v : g.values) v = to_dense(v);
  }
  return groups;
}

void KVStore::reduce(const char *op, std::vector<Group> &groups, bool inplace) {
  const std::string what = std::string("kvstore.") + op;
  if (!groups.empty() && !groups[0].values[0].device().is_cpu()) {  // group(): then all are on it
    reduce_on_gpu(what, groups, inplace);
    return;
  }
  const bool workers = dist_ && comm_->size() > 1;
  // 1. Local sum of each key's arrays (and gradient compression, as MXNet: per pushed array).
  for (auto &g : groups) {
    Entry &e = *g.entry;
    if (g.sparse) {  // row_sparse: summed as row_sparse, over workers by its own collective
      g.src = rsp_local_sum(g.values);
      if (!g.src.is_sparse()) g.src = cast_storage(g.src, SType::row_sparse);  // f16: dense add_n
      if (workers) g.src = rsp_allreduce(*comm_, g.src, what + " of key '" + g.key + "'");
      g.result = g.src;
      g.reduced = true;
      continue;
    }
    if (!e.merge.defined()) e.merge = NDArray(e.stored.shape(), e.stored.dtype());
    if (compression_) {
      while (e.residual.size() < g.values.size()) {
        NDArray r(e.stored.shape(), e.stored.dtype());
        r.fill(0.0);
        e.residual.push_back(r);
      }
      if (workers && g.values.size() == 1) {
        // One array per worker: its 2-bit codes travel (1/16 of the bytes), every worker sums
        // all workers' values in rank order.
        const int64_t n = g.values[0].size();
        const size_t nb = GradientCompression::packed_bytes(n);
        std::vector<uint8_t> mine(nb), all(nb * static_cast<size_t>(comm_->size()));
        compression_->quantize_packed(g.values[0], e.residual[0], mine.data());
        comm_->allgather_bytes(mine.data(), nb, all.data(), what + " of key '" + g.key + "' (2bit codes)");
        e.merge.fill(0.0);
        for (int w = 0; w < comm_->size(); ++w)
          compression_->add_packed(all.data() + nb * static_cast<size_t>(w), e.merge.data<float>(), n);
        g.src = g.result = e.merge;
        g.reduced = true;
        continue;
      }
      compression_->quantize(g.values[0], e.residual[0], e.merge);
      if (g.values.size() > 1) {
        std::vector<NDArray> parts{e.merge};
        for (size_t k = 1; k < g.values.size(); ++k) {
          NDArray q(e.stored.shape(), e.stored.dtype());
          compression_->quantize(g.values[k], e.residual[k], q);
          parts.push_back(q);
        }
        NDArray total(e.stored.shape(), e.stored.dtype());
        sum_into(total, parts);
        std::swap(e.merge, total);
      }
      g.src = e.merge;
    } else if (g.values.size() == 1) {
      g.src = g.values[0];
    } else {
      sum_into(e.merge, g.values);
      g.src = e.merge;
    }
    bool own = g.src.same_data(e.merge);
    // Without workers to reduce with, the local sum is the result (no copy).
    g.result = (own || inplace || !dist_) ? g.src : e.merge;
  }
  if (!dist_ || comm_->size() == 1) {
    for (auto &g : groups)
      if (!g.sparse && !g.result.same_data(g.src)) g.result.assign(g.src);
    return;
  }
  // 2. Fusion buckets: consecutive keys of one dtype up to bucket_bytes_, one allreduce each
  // (the overlapped path, kvstore/overlap.h, makes the same buckets).
  std::vector<size_t> bytes;
  std::vector<DType> dts;
  std::vector<bool> alone;
  std::vector<NDArray> srcs, results;
  std::vector<std::string> keys;
  for (auto &g : groups) {
    bytes.push_back(g.src.nbytes());
    dts.push_back(g.src.dtype());
    alone.push_back(g.reduced);
    srcs.push_back(g.src);
    results.push_back(g.result);
    keys.push_back(g.key);
  }
  size_t nb = 0;
  for (BucketRange r : fusion_buckets(bytes, dts, alone, bucket_bytes_)) {
    double t0 = timeline_ ? Timeline::now_us() : 0;
    reduce_bucket(*comm_, srcs, results, r, &staging_, keys, what);
    if (timeline_) {
      size_t nbytes = 0;
      for (size_t k = r.begin; k < r.end; ++k) nbytes += bytes[k];
      Json a = Json::object();
      a.set("keys", Json(keys[r.begin] + (r.end - r.begin > 1 ? " .. " + keys[r.end - 1] : "")));
      a.set("num_keys", Json(static_cast<double>(r.end - r.begin)));
      a.set("bytes", Json(static_cast<double>(nbytes)));
      a.set("ready_us", Json(t0));  // synchronous: ready when the call came
      a.set("send_us", Json(t0));
      double t1 = Timeline::now_us();
      a.set("done_us", Json(t1));
      a.set("sent_during_backward", Json(false));
      timeline_->span("bucket " + std::to_string(nb), "sync", Timeline::kComm, t0, t1, std::move(a));
    }
    ++nb;
  }
}

Collective &KVStore::device_comm(Device dev) {
  auto it = device_comms_.find(dev.id);
  if (it != device_comms_.end()) return *it->second;
  std::shared_ptr<Collective> c = nccl_device_collective(dev.id, comm_);
  if (timeout_ > 0) c->set_timeout(timeout_);
  device_comms_[dev.id] = c;
  return *c;
}

void KVStore::reduce_on_gpu(const std::string &what, std::vector<Group> &groups, bool inplace) {
  // Through NCCL even with one worker, so a one-GPU job runs the same path as a larger one.
  Device dev = groups[0].values[0].device();
  std::vector<Collective::Buffer> bufs;
  std::vector<std::string> names;
  for (auto &g : groups) {
    Entry &e = *g.entry;
    g.src = g.values[0];
    if (inplace) {
      g.result = g.src;
    } else {
      if (!e.merge.defined()) e.merge = NDArray(e.stored.shape(), e.stored.dtype(), dev);
      g.result = e.merge;
      g.result.assign(g.src);  // on the device's compute stream, before the reduction
    }
    bufs.push_back(Collective::Buffer{g.result.raw(), g.result.size(), g.result.dtype()});
    names.push_back(what + " of key '" + g.key + "'");
  }
  double t0 = timeline_ ? Timeline::now_us() : 0;
  device_comm(dev).allreduce_sum_many(bufs, names);
  if (timeline_) {
    Json a = Json::object();
    a.set("num_keys", Json(static_cast<double>(bufs.size())));
    timeline_->span("nccl allreduce", "sync", Timeline::kComm, t0, Timeline::now_us(), std::move(a));
  }
}

int KVStore::opt_index_for(const std::string &key) {
  int idx;
  if (parse_int_key(key, &idx)) return idx;
  idx = opt_->index_of_name(key);
  if (idx >= 0) return idx;
  idx = next_named_index_++;
  opt_->set_index(idx, key.c_str(), std::nan(""), std::nan(""), /*name_rule=*/false);  // as MXNet: wd_mult 1
  return idx;
}

void KVStore::apply(std::vector<Group> &groups) {
  if (opt_) {
    std::vector<int> idx;
    std::vector<NDArray> ws, gs;
    for (auto &g : groups) {
      g.entry->rsp = NDArray();
      if (g.entry->opt_index < 0) g.entry->opt_index = opt_index_for(g.key);
      if (g.entry->sparse_weight) opt_->mark_sparse_weight(g.entry->opt_index);
      idx.push_back(g.entry->opt_index);
      ws.push_back(g.entry->stored);
      gs.push_back(g.result);
    }
    opt_->update(idx, ws, gs);
    return;
  }
  for (auto &g : groups) {
    Entry &e = *g.entry;
    e.rsp = g.sparse ? g.result : NDArray();
    if (g.sparse)
      e.stored.assign(g.result);
    else if (g.result.same_data(e.merge))
      std::swap(e.stored, e.merge);  // the store's own buffer becomes the value: no copy
    else if (!e.stored.device().is_cpu())
      e.stored.assign(g.result);
    else
      par_copy(e.stored.raw(), g.result.raw(), g.result.nbytes());
  }
}

void KVStore::init(const std::vector<std::string> &keys, const std::vector<NDArray> &values) {
  quiesce();
  std::string err;
  mx_status st = MX_OK;
  std::vector<const NDArray *> arrs;
  try {
    MX_CHECK(keys.size() == values.size(), MX_ERR_INVALID_ARGUMENT, "kvstore.init: ", keys.size(),
             " keys but ", values.size(), " values");
    std::set<std::string> seen;
    for (size_t i = 0; i < keys.size(); ++i) {
      MX_CHECK(values[i].defined(), MX_ERR_INVALID_ARGUMENT, "kvstore.init: key '", keys[i],
               "': NULL array");
      MX_CHECK(values[i].device().is_cpu() || dist_ || type_ == "device", MX_ERR_UNSUPPORTED,
               "kvstore.init: key '", keys[i], "': an array on ", device_name(values[i].device()),
               ": kvstore 'local' keeps CPU arrays; GPU arrays are reduced with NCCL by 'device' (one "
               "process) and the distributed types (dist_sync, dist_device_sync, horovod)");
      MX_CHECK(values[i].device().is_cpu() || !values[i].is_sparse(), MX_ERR_UNSUPPORTED, "kvstore.init: key '",
               keys[i], "': row_sparse GPU arrays cannot be stored (dense ones can)");
      MX_CHECK(!store_.count(keys[i]) && seen.insert(keys[i]).second, MX_ERR_INVALID_ARGUMENT,
               "kvstore.init: duplicate init of key '", keys[i], "'");
    }
  } catch (const Error &e) {
    err = e.what();
    st = e.status();
  }
  for (size_t i = 0; i < keys.size(); ++i) arrs.push_back(i < values.size() ? &values[i] : nullptr);
  check_consistent("init", keys, arrs, err);
  if (st != MX_OK) throw Error(st, err);
  // Copies, then rank 0's values to everyone (MXNet: the first worker's init wins).
  std::vector<Entry *> added;
  for (size_t i = 0; i < keys.size(); ++i) {
    Entry &e = store_[keys[i]];
    const Device dev = values[i].device().is_cpu() ? Device() : values[i].device();  // GPU keys stay there
    e.stored = NDArray(values[i].shape(), values[i].dtype(), dev);
    e.sparse_weight = values[i].is_sparse();
    if (e.sparse_weight || !values[i].device().is_cpu())  // a sparse weight: kept dense (row_sparse_pull reads its rows)
      e.stored.assign(values[i]);
    else
      par_copy(e.stored.raw(), values[i].raw(), values[i].nbytes());
    added.push_back(&e);
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    const NDArray &v = added[i]->stored;
    if (!v.device().is_cpu())  // GPU keys always through NCCL (one worker too: the same path)
      device_comm(v.device()).broadcast(v.raw(), v.nbytes(), 0, "kvstore.init of key '" + keys[i] + "'");
    else if (dist_)
      comm_->broadcast(v.raw(), v.nbytes(), 0, "kvstore.init of key '" + keys[i] + "'");
  }
}

void KVStore::push(const std::vector<std::string> &keys, const std::vector<NDArray> &values) {
  pushpull(keys, values, {}, {});
}

void KVStore::pull(const std::vector<std::string> &keys, const std::vector<NDArray> &outs) {
  MX_CHECK(keys.size() == outs.size(), MX_ERR_INVALID_ARGUMENT, "kvstore.pull: ", keys.size(),
           " keys but ", outs.size(), " output arrays");
  for (size_t i = 0; i < keys.size(); ++i) {
    Entry &e = entry_of(keys[i], "pull");
    MX_CHECK(outs[i].defined(), MX_ERR_INVALID_ARGUMENT, "kvstore.pull: key '", keys[i],
             "': NULL output array");
    MX_CHECK(outs[i].shape() == e.stored.shape(), MX_ERR_SHAPE, "kvstore.pull: key '", keys[i],
             "' holds ", describe(e.stored), " but the output array is ", describe(outs[i]));
    read_into(e, outs[i]);
  }
}

void KVStore::read_into(const Entry &e, const NDArray &out) {
  if (e.rsp.defined() && stype_of(out) == SType::row_sparse)
    out.assign(e.rsp);
  else
    out.assign(e.stored);
}

std::vector<KVStore::Group> KVStore::checked_groups(const char *op,
                                                    const std::vector<std::string> &keys,
                                                    const std::vector<NDArray> &values,
                                                    const std::function<void()> &check_more) {
  std::string err;
  mx_status st = MX_OK;
  std::vector<Group> groups;
  try {
    groups = group(op, keys, values);
    if (check_more) check_more();
  } catch (const Error &e) {
    err = e.what();
    st = e.status();
  }
  std::vector<const NDArray *> arrs;
  for (const auto &v : values) arrs.push_back(&v);
  if (arrs.size() != keys.size()) arrs.resize(keys.size(), nullptr);
  check_consistent(op, keys, arrs, err);
  if (st != MX_OK) throw Error(st, err);
  return groups;
}

void KVStore::allreduce(const std::vector<std::string> &keys, const std::vector<NDArray> &values) {
  CallSpan span(timeline_, "allreduce");
  quiesce();
  std::vector<Group> groups = checked_groups("allreduce", keys, values, nullptr);
  reduce("allreduce", groups, /*inplace=*/true);
  // Into the caller's arrays (a key mixing storage types was reduced from dense copies).
  std::map<std::string, const Group *> by_key;
  for (const auto &g : groups) by_key[g.key] = &g;
  for (size_t i = 0; i < keys.size(); ++i) {
    const NDArray &r = by_key.at(keys[i])->result;
    if (!values[i].same_data(r)) values[i].assign(r);
  }
}

void KVStore::pushpull(const std::vector<std::string> &keys, const std::vector<NDArray> &values,
                       const std::vector<std::string> &out_keys, const std::vector<NDArray> &outs) {
  CallSpan span(timeline_, "pushpull");
  quiesce();
  std::vector<Group> groups = checked_groups("pushpull", keys, values, [&] {
    MX_CHECK(out_keys.size() == outs.size(), MX_ERR_INVALID_ARGUMENT, "kvstore.pushpull: ",
             out_keys.size(), " output keys but ", outs.size(), " output arrays");
    for (size_t i = 0; i < out_keys.size(); ++i) {
      Entry &e = entry_of(out_keys[i], "pull");
      MX_CHECK(outs[i].defined() && outs[i].shape() == e.stored.shape(), MX_ERR_SHAPE,
               "kvstore.pull: key '", out_keys[i], "' holds ", describe(e.stored),
               " but the output array is ",
               outs[i].defined() ? describe(outs[i]) : std::string("NULL"));
    }
  });
  reduce("push", groups, pushpull_inplace(groups, out_keys, outs));
  finish_pushpull(groups, out_keys, outs);
}

bool KVStore::pushpull_inplace(const std::vector<Group> &groups, const std::vector<std::string> &out_keys,
                               const std::vector<NDArray> &outs) const {
  // In place (Horovod's allreduce): without an optimizer, a key pushed from one array and
  // pulled into that same array is reduced right there.
  bool inplace = !opt_ && !outs.empty();
  for (const auto &g : groups) inplace = inplace && !g.sparse;
  if (inplace) {
    for (auto &g : groups) {
      bool found = false;
      for (size_t i = 0; i < outs.size(); ++i)
        if (out_keys[i] == g.key && g.values.size() == 1 && outs[i].same_data(g.values[0]) &&
            outs[i].dtype() == g.values[0].dtype())
          found = true;
      inplace = inplace && found;
    }
  }
  return inplace;
}

void KVStore::finish_pushpull(std::vector<Group> &groups, const std::vector<std::string> &out_keys,
                              const std::vector<NDArray> &outs) {
  apply(groups);
  for (size_t i = 0; i < outs.size(); ++i) {
    Entry &e = entry_of(out_keys[i], "pull");
    bool done = false;
    if (!opt_)
      for (auto &g : groups)
        if (g.key == out_keys[i] && !g.sparse && g.result.same_data(outs[i])) done = true;
    if (!done) read_into(e, outs[i]);
  }
}

void KVStore::quiesce() {
  if (overlap_) overlap_->drain();
}

bool KVStore::overlap_plan(bool pushpull, const std::vector<std::string> &keys, const std::vector<NDArray> &values,
                           const std::vector<std::string> &out_keys, const std::vector<NDArray> &outs,
                           std::vector<Group> *groups, std::vector<NDArray> *results) {
  if (!dist_ || comm_->size() < 2 || compression_ || keys.empty()) return false;
  try {
    *groups = group(pushpull ? "push" : "allreduce", keys, values);
  } catch (const Error &) {
    return false;  // the synchronous path reports it on every worker
  }
  if (groups->size() != keys.size()) return false;  // a key given twice
  for (const auto &g : *groups)  // GPU gradients: reduced at the step (NCCL), not overlapped yet
    if (g.sparse || g.values.size() != 1 || g.values[0].is_sparse() || !g.values[0].device().is_cpu()) return false;
  bool inplace = true;
  if (pushpull) {
    if (out_keys.size() != outs.size()) return false;
    inplace = pushpull_inplace(*groups, out_keys, outs);
    // Without an optimizer and not in place the store swaps its buffers each step: not kept.
    if (!opt_ && !inplace) return false;
  }
  results->clear();
  for (auto &g : *groups) {
    Entry &e = *g.entry;
    if (!inplace && !e.merge.defined()) e.merge = NDArray(e.stored.shape(), e.stored.dtype());
    g.src = g.values[0];
    g.result = inplace ? g.src : e.merge;  // as reduce() decides
    results->push_back(g.result);
  }
  return true;
}

void KVStore::overlap_arm(bool pushpull, const std::vector<std::string> &keys, const std::vector<NDArray> &values,
                          const std::vector<std::string> &out_keys, const std::vector<NDArray> &outs) {
  std::vector<Group> groups;
  std::vector<NDArray> results;
  if (!overlap_plan(pushpull, keys, values, out_keys, outs, &groups, &results)) return;
  if (overlap_agreed_ != static_cast<int>(overlap_on_)) {
    // Workers that disagree would send buckets in different orders: check once, loudly.
    int64_t v[2] = {overlap_on_ ? 1 : 0, overlap_on_ ? -1 : 0};
    comm_->allreduce_max_i64(v, 2, "kvstore overlap setting check");
    MX_CHECK(v[0] == -v[1], MX_ERR_INVALID_ARGUMENT,
             "kvstore: the workers disagree on overlapping gradient reduction with backward (",
             "MX_KVSTORE_OVERLAP / set_config('overlap'); rank ", rank(), " has it ",
             overlap_on_ ? "on" : "off", "): set it alike on every worker");
    overlap_agreed_ = static_cast<int>(overlap_on_);
  }
  if (!overlap_on_) return;
  std::vector<NDArray> grads;
  for (auto &g : groups) grads.push_back(g.src);
  overlap_ = std::make_unique<GradOverlap>(comm_, keys, grads, results, bucket_bytes_,
                                           pushpull ? "kvstore.push" : "kvstore.allreduce", timeline_);
  overlap_pushpull_ = pushpull;
}

void KVStore::allreduce_grads(const std::vector<std::string> &keys, const std::vector<NDArray> &values) {
  CallSpan span(timeline_, "allreduce_grads");
  std::vector<Group> groups;
  std::vector<NDArray> results;
  if (overlap_ && !overlap_pushpull_ && overlap_plan(false, keys, values, {}, {}, &groups, &results)) {
    std::vector<NDArray> grads;
    for (auto &g : groups) grads.push_back(g.src);
    if (overlap_->matches(keys, grads, results)) {
      std::vector<size_t> redo = overlap_->finish();
      if (!redo.empty()) {  // gradients written again by a later backward: reduce them now
        std::vector<std::string> ks;
        std::vector<NDArray> vs;
        for (size_t k : redo) {
          ks.push_back(keys[k]);
          vs.push_back(values[k]);
        }
        allreduce(ks, vs);
      }
      return;
    }
  }
  overlap_.reset();  // other arrays: forget the registration (waits for what is in flight)
  allreduce(keys, values);
  overlap_arm(false, keys, values, {}, {});
}

void KVStore::pushpull_grads(const std::vector<std::string> &keys, const std::vector<NDArray> &values,
                             const std::vector<std::string> &out_keys, const std::vector<NDArray> &outs) {
  CallSpan span(timeline_, "pushpull_grads");
  std::vector<Group> groups;
  std::vector<NDArray> results;
  if (overlap_ && overlap_pushpull_ && overlap_plan(true, keys, values, out_keys, outs, &groups, &results)) {
    std::vector<NDArray> grads;
    for (auto &g : groups) grads.push_back(g.src);
    if (overlap_->matches(keys, grads, results)) {
      std::vector<size_t> redo = overlap_->finish();
      if (!redo.empty()) {  // gradients written again by a later backward: reduce them now
        std::vector<Group> again;
        for (size_t k : redo) again.push_back(groups[k]);
        reduce("push", again, pushpull_inplace(groups, out_keys, outs));
      }
      finish_pushpull(groups, out_keys, outs);
      return;
    }
  }
  overlap_.reset();
  pushpull(keys, values, out_keys, outs);
  overlap_arm(true, keys, values, out_keys, outs);
}

void KVStore::overlap_sync() {
  if (overlap_ && overlap_->started()) overlap_->sync();
}

void KVStore::broadcast(const std::vector<std::string> &keys, const std::vector<NDArray> &values,
                        const std::vector<std::string> &out_keys,
                        const std::vector<NDArray> &outs) {
  init(keys, values);
  pull(out_keys, outs);
}

void KVStore::barrier() {
  quiesce();
  comm_->barrier("kvstore.barrier");
}

void KVStore::set_optimizer(std::shared_ptr<Optimizer> opt) {
  overlap_.reset();  // where results go depends on the optimizer
  opt_ = std::move(opt);
  for (auto &kv : store_) kv.second.opt_index = -1;
}

void KVStore::set_gradient_compression(const Json &params) {
  MX_CHECK(type_ != "local", MX_ERR_INVALID_ARGUMENT,
           "set_gradient_compression: gradient compression is not supported for kvstore 'local' "
           "(use 'device' or a dist type)");
  overlap_.reset();  // compressed pushes are not overlapped
  compression_ = std::make_unique<GradientCompression>(params);
  for (auto &kv : store_) kv.second.residual.clear();
}

void KVStore::set_config(const std::string &key, const Json &value) {
  if (key == "bucket_bytes") {
    MX_CHECK(value.is_number() && value.as_number() >= 1, MX_ERR_INVALID_ARGUMENT,
             "kvstore: bucket_bytes must be a positive number of bytes, got ", value.dump());
    bucket_bytes_ = value.as_int();
    overlap_.reset();  // buckets change
  } else if (key == "overlap") {
    MX_CHECK(value.is_bool() || value.is_number(), MX_ERR_INVALID_ARGUMENT,
             "kvstore: overlap must be true or false, got ", value.dump());
    overlap_on_ = value.is_bool() ? value.as_bool() : value.as_number() != 0;
    overlap_.reset();
  } else if (key == "timeout") {
    MX_CHECK(value.is_number() && value.as_number() > 0, MX_ERR_INVALID_ARGUMENT,
             "kvstore: timeout must be a positive number of seconds, got ", value.dump());
    timeout_ = value.as_number();
    comm_->set_timeout(timeout_);
    for (auto &kv : device_comms_) kv.second->set_timeout(timeout_);
  } else if (key == "timeline") {
    MX_CHECK(value.is_string() || value.is_null(), MX_ERR_INVALID_ARGUMENT,
             "kvstore: timeline must be a file path (or \"\" / null to close it), got ", value.dump());
    open_timeline(value.is_string() ? value.as_string() : std::string());
  } else {
    fail(MX_ERR_INVALID_ARGUMENT, "kvstore: unknown setting '", key,
         "' (bucket_bytes, overlap, timeout, timeline)");
  }
}

Json KVStore::config() const {
  Json j = Json::object();
  j.set("type", Json(type_));
  j.set("backend", Json(comm_->backend()));
  j.set("device_backend", device_comms_.empty() ? Json() : Json("nccl"));  // GPU arrays reduced so far
  double dev_payload = 0;
  for (const auto &kv : device_comms_) dev_payload += static_cast<double>(kv.second->payload_bytes());
  j.set("device_payload_bytes", Json(dev_payload));  // handed to NCCL allreduces by this process
  j.set("rank", Json(rank()));
  j.set("num_workers", Json(num_workers()));
  j.set("bucket_bytes", Json(bucket_bytes_));
  j.set("overlap", Json(overlap_on_));
  // Buckets of the registered gradients sent while backward ran / in all, rounds (steps) done.
  GradOverlap::Stats st = overlap_ ? overlap_->stats() : GradOverlap::Stats();
  Json o = Json::object();
  o.set("registered", Json(overlap_ != nullptr));
  o.set("buckets_during_backward", Json(static_cast<double>(st.during_backward)));
  o.set("buckets_sent", Json(static_cast<double>(st.sent)));
  o.set("rounds", Json(static_cast<double>(st.rounds)));
  j.set("overlap_stats", o);
  j.set("gradient_compression", compression_ ? compression_->to_json() : Json());
  j.set("optimizer", Json(opt_ != nullptr));
  j.set("timeline", timeline_ ? Json(timeline_->path()) : Json());
  j.set("payload_bytes", Json(static_cast<double>(comm_->payload_bytes())));
  return j;
}

}  // namespace mx
