// KVStore with MXNet 1.x semantics. Values pushed under one key are summed (over the arrays of
// one call, and over workers for the dist types, which reduce by allreduce over MPI, Horovod
// style: every worker holds the whole store, there is no parameter server). With an optimizer
// set, a push updates the stored weight with the reduced gradient (update_on_kvstore); without
// one, the stored value becomes the reduced sum. pull copies stored values out. row_sparse
// values (sparse gradients) are summed as row_sparse, so an optimizer updates only their rows.
// GPU arrays ('device' and the dist types, one array per key per worker) are kept on their GPU
// and reduced with NCCL (backends/cuda/nccl_collective.cc), even by a single worker; the
// metadata checks still go over MPI.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/json.h"
#include "kvstore/collective.h"
#include "kvstore/compression.h"
#include "kvstore/overlap.h"
#include "kvstore/timeline.h"
#include "ndarray/ndarray.h"

namespace mx {

class Optimizer;

class KVStore {
 public:
  // Types: local, device, dist_sync, dist_device_sync, horovod (= dist_sync). dist_async is
  // MX_ERR_UNSUPPORTED (no parameter server), unknown names MX_ERR_INVALID_ARGUMENT.
  explicit KVStore(const std::string &type);

  const std::string &type() const { return type_; }
  int rank() const { return comm_->rank(); }
  int num_workers() const { return comm_->size(); }
  bool is_dist() const { return dist_; }

  void init(const std::vector<std::string> &keys, const std::vector<NDArray> &values);
  void push(const std::vector<std::string> &keys, const std::vector<NDArray> &values);
  void pull(const std::vector<std::string> &keys, const std::vector<NDArray> &outs);
  void pushpull(const std::vector<std::string> &keys, const std::vector<NDArray> &values,
                const std::vector<std::string> &out_keys, const std::vector<NDArray> &outs);
  void broadcast(const std::vector<std::string> &keys, const std::vector<NDArray> &values,
                 const std::vector<std::string> &out_keys, const std::vector<NDArray> &outs);
  // Horovod's allreduce: every array of a key receives the sum over that key's arrays and over
  // workers, in place; the stored values are left as they are (no copy into the store), which
  // is what a trainer that updates its own weights needs.
  void allreduce(const std::vector<std::string> &keys, const std::vector<NDArray> &values);
  // A trainer's step-time reduction of the gradient arrays backward writes: allreduce /
  // pushpull, except that once a call has registered the arrays, the next backward's gradients
  // are reduced while backward still runs, bucket by bucket as they become final
  // (kvstore/overlap.h); the call then sends what is left and waits. Results are bit-identical
  // to allreduce / pushpull. Applies to dist types with more than one worker, dense arrays, one
  // array per key, no compression (otherwise these are allreduce / pushpull).
  // Off by default; set_config("overlap", true) or MX_KVSTORE_OVERLAP=1, on every worker alike.
  void allreduce_grads(const std::vector<std::string> &keys, const std::vector<NDArray> &values);
  void pushpull_grads(const std::vector<std::string> &keys, const std::vector<NDArray> &values,
                      const std::vector<std::string> &out_keys, const std::vector<NDArray> &outs);
  // Completes a round that a backward started (every registered gradient reduced), so code
  // reading gradients between backward and the step sees finished values, never half-reduced.
  void overlap_sync();
  void barrier();

  void set_optimizer(std::shared_ptr<Optimizer> opt);
  const std::shared_ptr<Optimizer> &optimizer() const { return opt_; }
  void set_gradient_compression(const Json &params);
  // "bucket_bytes" (fusion bucket size, default 25 MiB; env MX_KVSTORE_BUCKET_BYTES), "overlap"
  // (reduce gradients while backward runs, see allreduce_grads; env MX_KVSTORE_OVERLAP),
  // "timeout" (seconds a collective waits for the others; env MX_KVSTORE_TIMEOUT) and
  // "timeline" (a Chrome trace file path, "" or null to close it; env MX_KVSTORE_TIMELINE;
  // kvstore/timeline.h).
  void set_config(const std::string &key, const Json &value);
  Json config() const;

 private:
  struct Entry {
    NDArray stored;                 // the value pull returns (the weight under an optimizer)
    NDArray merge;                  // reduction buffer owned by the store
    std::vector<NDArray> residual;  // gradient-compression error feedback, per pushed array
    int opt_index = -1;             // index handed to the optimizer
    // The last optimizer-less push's row_sparse sum (MXNet's store then holds that row_sparse
    // value): pulls into row_sparse arrays get exactly its rows; `stored` holds it densely.
    NDArray rsp;
    bool sparse_weight = false;  // initialised with a row_sparse value (a row_sparse Parameter)
  };
  struct Group {                    // one key of a push: its arrays and where the sum ends up
    std::string key;
    Entry *entry = nullptr;
    std::vector<NDArray> values;
    NDArray src;     // the local sum (a user array when only one was pushed)
    NDArray result;  // where the reduced sum is written
    bool reduced = false;  // already summed over workers (compressed groups)
    bool sparse = false;   // row_sparse values: summed as row_sparse (kvstore/sparse_reduce.h)
  };

  Entry &entry_of(const std::string &key, const char *op);
  std::vector<Group> group(const char *op, const std::vector<std::string> &keys,
                           const std::vector<NDArray> &values);
  // group() plus the cross-worker check: a local error (bad key, shape, or what `check_more`
  // throws) is raised on every worker, naming the key.
  std::vector<Group> checked_groups(const char *op, const std::vector<std::string> &keys,
                                    const std::vector<NDArray> &values,
                                    const std::function<void()> &check_more);
  // Dist only: every worker must call with the same keys, shapes and dtypes; names the key.
  void check_consistent(const char *op, const std::vector<std::string> &keys,
                        const std::vector<const NDArray *> &arrays, const std::string &local_error);
  // Sum each group over its arrays and over workers into g.result; `inplace` lets a group
  // whose single array is also its output be reduced in that array.
  void reduce(const char *op, std::vector<Group> &groups, bool inplace);
  void apply(std::vector<Group> &groups);
  int opt_index_for(const std::string &key);
  // out = the key's value (its row_sparse sum when `out` is row_sparse and one is kept).
  void read_into(const Entry &e, const NDArray &out);
  // pushpull reduces in place when, without an optimizer, each key's single array is its output.
  bool pushpull_inplace(const std::vector<Group> &groups, const std::vector<std::string> &out_keys,
                        const std::vector<NDArray> &outs) const;
  // pushpull after the reduction: the optimizer (or the store copy), then the outputs.
  void finish_pushpull(std::vector<Group> &groups, const std::vector<std::string> &out_keys,
                       const std::vector<NDArray> &outs);
  // Whether a *_grads call can be overlapped; fills its groups and each key's result array.
  bool overlap_plan(bool pushpull, const std::vector<std::string> &keys, const std::vector<NDArray> &values,
                    const std::vector<std::string> &out_keys, const std::vector<NDArray> &outs,
                    std::vector<Group> *groups, std::vector<NDArray> *results);
  // After a synchronous *_grads call: register its arrays for the next backward.
  void overlap_arm(bool pushpull, const std::vector<std::string> &keys, const std::vector<NDArray> &values,
                   const std::vector<std::string> &out_keys, const std::vector<NDArray> &outs);
  // Any other collective waits for overlapped reductions in flight (one order on all workers).
  void quiesce();
  // GPU arrays (dist types): the NCCL collective of their device, made on first use.
  Collective &device_comm(Device dev);
  // reduce() for groups on one GPU: each key's array (or the store's merge buffer on that GPU)
  // summed over workers in place, all keys in one NCCL group.
  void reduce_on_gpu(const std::string &what, std::vector<Group> &groups, bool inplace);

  std::string type_;
  bool dist_ = false;
  std::shared_ptr<Collective> comm_;
  std::map<std::string, Entry> store_;
  std::shared_ptr<Optimizer> opt_;
  std::unique_ptr<GradientCompression> compression_;
  int64_t bucket_bytes_;
  int next_named_index_ = 1 << 24;  // optimizer indices for string keys the optimizer lacks
  NDArray staging_;                  // fusion buffer, reused across calls
  bool overlap_on_;                  // MX_KVSTORE_OVERLAP (default off) / set_config("overlap")
  int overlap_agreed_ = -1;          // the setting all workers were found to share (-1: unchecked)
  bool overlap_pushpull_ = false;    // overlap_ was registered by pushpull_grads
  std::map<int, std::shared_ptr<Collective>> device_comms_;  // NCCL per GPU id (process-wide ones)
  double timeout_ = -1;              // set_config("timeout"), also given to device_comms_
  std::shared_ptr<Timeline> timeline_;  // MX_KVSTORE_TIMELINE / set_config("timeline"); may be null
  void open_timeline(const std::string &path);
  std::unique_ptr<GradOverlap> overlap_;  // last member: stopped before the rest is destroyed
};

}  // namespace mx
