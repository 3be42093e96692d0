#include "kvstore/overlap.h"

#include <cstring>

#include "autograd/grad_ready.h"
#include "backends/cpu/parallel.h"
#include "base/error.h"

namespace mx {

void par_copy(void *dst, const void *src, size_t n) {
  parallel_for(static_cast<int64_t>(n), 1 << 20, [&](int64_t b, int64_t e) {
    std::memcpy(static_cast<char *>(dst) + b, static_cast<const char *>(src) + b,
                static_cast<size_t>(e - b));
  });
}

std::vector<BucketRange> fusion_buckets(const std::vector<size_t> &bytes, const std::vector<DType> &dtypes,
                                        const std::vector<bool> &alone, int64_t cap) {
  std::vector<BucketRange> out;
  size_t i = 0;
  const size_t n = bytes.size();
  while (i < n) {
    if (alone[i]) {
      ++i;
      continue;
    }
    size_t j = i + 1, total = bytes[i];
    while (j < n && !alone[j] && dtypes[j] == dtypes[i] && total + bytes[j] <= static_cast<size_t>(cap)) {
      total += bytes[j];
      ++j;
    }
    out.push_back({i, j});
    i = j;
  }
  return out;
}

void reduce_bucket(Collective &comm, const std::vector<NDArray> &srcs, const std::vector<NDArray> &results,
                   BucketRange r, NDArray *staging, const std::vector<std::string> &keys, const std::string &what) {
  DType dt = srcs[r.begin].dtype();
  if (r.end == r.begin + 1) {  // one key: reduce where the result lives, no staging copy
    const NDArray &src = srcs[r.begin], &res = results[r.begin];
    if (!res.same_data(src)) par_copy(res.raw(), src.raw(), src.nbytes());
    comm.allreduce_sum(res.raw(), res.size(), dt, what + " of key '" + keys[r.begin] + "'");
    return;
  }
  size_t bytes = 0;
  for (size_t k = r.begin; k < r.end; ++k) bytes += srcs[k].nbytes();
  if (!staging->defined() || staging->nbytes() < bytes)
    *staging = NDArray(Shape({static_cast<int64_t>(bytes)}), DType::u8);
  char *buf = static_cast<char *>(staging->raw());
  size_t off = 0;
  for (size_t k = r.begin; k < r.end; ++k) {
    par_copy(buf + off, srcs[k].raw(), srcs[k].nbytes());
    off += srcs[k].nbytes();
  }
  comm.allreduce_sum(buf, static_cast<int64_t>(bytes / dtype_size(dt)), dt,
                     what + " of keys '" + keys[r.begin] + "'..'" + keys[r.end - 1] + "'");
  off = 0;
  for (size_t k = r.begin; k < r.end; ++k) {
    par_copy(results[k].raw(), buf + off, results[k].nbytes());
    off += results[k].nbytes();
  }
}

GradOverlap::GradOverlap(std::shared_ptr<Collective> comm, std::vector<std::string> keys,
                         std::vector<NDArray> grads, std::vector<NDArray> results, int64_t bucket_bytes,
                         std::string what, std::shared_ptr<Timeline> timeline)
    : comm_(std::move(comm)), keys_(std::move(keys)), grads_(std::move(grads)), results_(std::move(results)),
      what_(std::move(what)), timeline_(std::move(timeline)) {
  const size_t n = grads_.size();
  std::vector<size_t> bytes(n);
  std::vector<DType> dts(n);
  for (size_t k = 0; k < n; ++k) {
    bytes[k] = grads_[k].nbytes();
    dts[k] = grads_[k].dtype();
    key_of_data_[grads_[k].raw()] = k;
  }
  buckets_ = fusion_buckets(bytes, dts, std::vector<bool>(n, false), bucket_bytes);
  bucket_of_.assign(n, 0);
  for (size_t b = 0; b < buckets_.size(); ++b)
    for (size_t k = buckets_[b].begin; k < buckets_[b].end; ++k) bucket_of_[k] = b;
  state_.assign(n, KeyState::waiting);
  ready_count_.assign(buckets_.size(), 0);
  ready_us_.assign(buckets_.size(), 0.0);
  sent_in_backward_.assign(buckets_.size(), false);
  redo_.assign(n, false);
  thread_ = std::thread([this] { worker(); });
  GradListener l;
  l.on_ready = [this](const NDArray &g) { on_ready(g); };
  l.on_backward_begin = [this] { drain(); };
  listener_ = add_grad_listener(std::move(l));
}

GradOverlap::~GradOverlap() {
  remove_grad_listener(listener_);
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return busy_ == 0; });
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

bool GradOverlap::matches(const std::vector<std::string> &keys, const std::vector<NDArray> &grads,
                          const std::vector<NDArray> &results) const {
  if (keys != keys_ || grads.size() != grads_.size() || results.size() != results_.size()) return false;
  for (size_t k = 0; k < grads.size(); ++k)
    if (!grads[k].same_data(grads_[k]) || grads[k].nbytes() != grads_[k].nbytes() ||
        grads[k].dtype() != grads_[k].dtype() || !results[k].same_data(results_[k]))
      return false;
  return true;
}

bool GradOverlap::started() const {
  std::lock_guard<std::mutex> lock(mu_);
  return started_;
}

void GradOverlap::on_ready(const NDArray &g) {
  auto it = key_of_data_.find(g.raw());
  if (it == key_of_data_.end()) return;
  const size_t k = it->second;
  if (g.nbytes() != grads_[k].nbytes() || g.dtype() != grads_[k].dtype()) return;  // another view
  std::lock_guard<std::mutex> lock(mu_);
  started_ = true;
  if (state_[k] == KeyState::sent) {  // written again after its bucket was reduced
    redo_[k] = true;
    return;
  }
  if (state_[k] == KeyState::ready) return;
  state_[k] = KeyState::ready;
  size_t b = bucket_of_[k];
  if (++ready_count_[b] == buckets_[b].end - buckets_[b].begin && timeline_) ready_us_[b] = Timeline::now_us();
  send_ready_locked();
}

void GradOverlap::send_ready_locked() {
  bool sent = false;
  while (next_ < buckets_.size()) {
    size_t b = buckets_.size() - 1 - next_;  // last bucket first, on every worker
    if (ready_count_[b] != buckets_[b].end - buckets_[b].begin) break;
    for (size_t k = buckets_[b].begin; k < buckets_[b].end; ++k) state_[k] = KeyState::sent;
    queue_.push_back(b);
    ++stats_.sent;
    if (!in_sync_) ++stats_.during_backward;
    sent_in_backward_[b] = !in_sync_;
    ++busy_;
    ++next_;
    sent = true;
  }
  if (sent) cv_.notify_all();
}

void GradOverlap::worker() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stop_
    size_t b = queue_.front();
    queue_.pop_front();
    bool skip = static_cast<bool>(error_);  // after a failure the job is broken: send nothing more
    lock.unlock();
    std::exception_ptr err;
    double t0 = timeline_ ? Timeline::now_us() : 0;
    if (!skip) {
      try {
        reduce_bucket(*comm_, grads_, results_, buckets_[b], &staging_, keys_, what_);
      } catch (...) {
        err = std::current_exception();
      }
    }
    if (timeline_) record_bucket(b, t0, Timeline::now_us(), static_cast<bool>(err));
    lock.lock();
    if (err && !error_) error_ = err;
    --busy_;
    cv_.notify_all();
  }
}

void GradOverlap::record_bucket(size_t b, double send_us, double done_us, bool failed) {
  double ready;
  bool in_backward;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ready = ready_us_[b] > 0 ? ready_us_[b] : send_us;
    in_backward = sent_in_backward_[b];
  }
  size_t bytes = 0;
  for (size_t k = buckets_[b].begin; k < buckets_[b].end; ++k) bytes += grads_[k].nbytes();
  Json a = Json::object();
  a.set("keys", Json(keys_[buckets_[b].begin] + (buckets_[b].end - buckets_[b].begin > 1 ? " .. " + keys_[buckets_[b].end - 1] : "")));
  a.set("num_keys", Json(static_cast<double>(buckets_[b].end - buckets_[b].begin)));
  a.set("bytes", Json(static_cast<double>(bytes)));
  a.set("ready_us", Json(ready));
  a.set("send_us", Json(send_us));
  a.set("done_us", Json(done_us));
  a.set("sent_during_backward", Json(in_backward));
  if (failed) a.set("failed", Json(true));
  std::string name = "bucket " + std::to_string(b);
  timeline_->instant(name + " ready", "overlap", Timeline::kComm, ready);
  timeline_->span(name, "overlap", Timeline::kComm, send_us, done_us, std::move(a));
}

void GradOverlap::drain() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return busy_ == 0; });
}

void GradOverlap::sync() {
  std::unique_lock<std::mutex> lock(mu_);
  for (size_t b = 0; b < buckets_.size(); ++b) ready_count_[b] = buckets_[b].end - buckets_[b].begin;
  for (auto &s : state_)
    if (s == KeyState::waiting) s = KeyState::ready;
  in_sync_ = true;
  send_ready_locked();
  in_sync_ = false;
  cv_.wait(lock, [this] { return busy_ == 0; });
  if (error_) {
    std::exception_ptr e = error_;
    lock.unlock();
    std::rethrow_exception(e);
  }
}

std::vector<size_t> GradOverlap::finish() {
  std::vector<size_t> redo;
  try {
    sync();
    std::lock_guard<std::mutex> lock(mu_);
    ready_us_.assign(ready_us_.size(), 0.0);
  } catch (...) {
    std::lock_guard<std::mutex> lock(mu_);
    error_ = nullptr;  // reported once; the round restarts
    state_.assign(state_.size(), KeyState::waiting);
    ready_count_.assign(ready_count_.size(), 0);
    redo_.assign(redo_.size(), false);
    next_ = 0;
    started_ = false;
    throw;
  }
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.rounds;
  for (size_t k = 0; k < redo_.size(); ++k)
    if (redo_[k]) redo.push_back(k);
  state_.assign(state_.size(), KeyState::waiting);
  ready_count_.assign(ready_count_.size(), 0);
  redo_.assign(redo_.size(), false);
  next_ = 0;
  started_ = false;
  return redo;
}

}  // namespace mx

namespace mx {
GradOverlap::Stats GradOverlap::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}
}  // namespace mx
