// Gradient reduction overlapped with backward (the issue's "reduced while backward is still
// running, as soon as a bucket's gradients are ready"). A trainer's step-time call registers its
// gradient arrays once (after one ordinary, synchronous reduction); from then on backward's
// grad-ready notifications (autograd/grad_ready.h) mark keys ready, and each fusion bucket whose
// keys are all ready is reduced on a communication thread while backward goes on. The next
// step-time call sends what is left and waits.
//
// Same collectives, same sums: the buckets are exactly the synchronous path's (fusion_buckets),
// and they are sent in one fixed order on every worker (last bucket first, as backward produces
// the last layers' gradients first) whatever the order the notifications came in; MPI requires
// every worker to issue collectives in the same order.
#pragma once
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "kvstore/collective.h"
#include "kvstore/timeline.h"
#include "ndarray/ndarray.h"

namespace mx {

struct BucketRange {
  size_t begin, end;  // [begin, end) of the arrays given to fusion_buckets
};
// Runs of consecutive arrays of one dtype up to `cap` bytes (an array larger than `cap` is a
// bucket of its own); `alone[i]` arrays are never bucketed (compressed or sparse ones) and get
// no range.
std::vector<BucketRange> fusion_buckets(const std::vector<size_t> &bytes, const std::vector<DType> &dtypes,
                                        const std::vector<bool> &alone, int64_t cap);

// Sums srcs[k] over the workers into results[k] for k in the range: a single array in place in
// its result (after copying src there), several packed into `staging` (grown as needed).
void reduce_bucket(Collective &comm, const std::vector<NDArray> &srcs, const std::vector<NDArray> &results,
                   BucketRange r, NDArray *staging, const std::vector<std::string> &keys, const std::string &what);

// Multithreaded memcpy (packing buckets is memory-bound).
void par_copy(void *dst, const void *src, size_t n);

class GradOverlap {
 public:
  // grads[k]: the array backward writes (notifications are matched to it); results[k]: where
  // its sum over the workers goes (grads[k] itself for an in-place allreduce).
  // `timeline` (may be null) gets each bucket's ready time and its send..done span.
  GradOverlap(std::shared_ptr<Collective> comm, std::vector<std::string> keys, std::vector<NDArray> grads,
              std::vector<NDArray> results, int64_t bucket_bytes, std::string what,
              std::shared_ptr<Timeline> timeline = nullptr);
  ~GradOverlap();  // waits for the buckets sent, stops listening
  GradOverlap(const GradOverlap &) = delete;
  GradOverlap &operator=(const GradOverlap &) = delete;

  // Whether a step-time call passes the registered keys and arrays.
  bool matches(const std::vector<std::string> &keys, const std::vector<NDArray> &grads,
               const std::vector<NDArray> &results) const;
  // Some gradient was announced since the last finish().
  bool started() const;
  // Sends every bucket not sent yet (gradients never announced included: the synchronous path
  // reduces them too) and waits for all; rethrows a failed reduction.
  void sync();
  // sync(), then starts the next round. Returns the keys (indices) written again by a later
  // backward after their bucket was reduced: their results are stale, the caller reduces
  // them again.
  std::vector<size_t> finish();
  // Waits for the buckets already sent (a backward is about to overwrite gradients).
  void drain();
  // Counts since registration: buckets sent while backward ran (on a notification), buckets
  // sent in all, and rounds finished.
  struct Stats {
    int64_t during_backward = 0, sent = 0, rounds = 0;
  };
  Stats stats() const;

 private:
  void on_ready(const NDArray &g);
  void send_ready_locked();  // queue the buckets, in the fixed order, whose keys are all ready
  void worker();
  void record_bucket(size_t b, double send_us, double done_us, bool failed);  // on the timeline

  std::shared_ptr<Collective> comm_;
  std::vector<std::string> keys_;
  std::vector<NDArray> grads_, results_;
  std::string what_;
  std::vector<BucketRange> buckets_;
  std::vector<size_t> bucket_of_;
  std::unordered_map<const void *, size_t> key_of_data_;
  NDArray staging_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  enum class KeyState : char { waiting, ready, sent };
  std::vector<KeyState> state_;
  std::vector<size_t> ready_count_;  // per bucket
  std::shared_ptr<Timeline> timeline_;
  std::vector<double> ready_us_;     // per bucket: when its last gradient was announced (timeline)
  std::vector<bool> sent_in_backward_;
  std::vector<bool> redo_;
  size_t next_ = 0;                  // buckets_ sent so far, in sending order (last first)
  bool started_ = false;
  bool in_sync_ = false;             // sends from sync() are not "during backward"
  Stats stats_;
  std::deque<size_t> queue_;
  size_t busy_ = 0;                  // buckets queued or being reduced
  std::exception_ptr error_;
  bool stop_ = false;
  int listener_ = 0;
  std::thread thread_;
};

}  // namespace mx
