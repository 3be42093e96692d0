// Autograd tape. Each recorded call becomes an AGNode holding what its gradient needs; arrays
// point at the node (and output index) that produced them through AGInfo.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ops/registry.h"

namespace mx {

struct AGNode;

struct AGInfo {
  std::shared_ptr<AGNode> node;  // producer (null for leaves)
  int index = 0;                 // which output of the producer
  // Leaf variables (mark_variables / attach_grad):
  bool is_variable = false;
  int grad_req = MX_GRAD_NULL;
  NDArray grad;
  // Set when backward writes `grad`, cleared by the optimizer front end after a step: an update
  // without a backward in between uses a stale gradient (MXNet's _fresh_grad).
  bool fresh_grad = false;
};

// A recorded computation whose gradient is not an op's gradient definition: a whole graph run
// by an executor (hybridized Gluon blocks), which back-propagates through its own plan.
class TapedBackward {
 public:
  virtual ~TapedBackward() = default;
  virtual std::string name() const = 0;
  virtual int num_outputs() const = 0;
  // Called when the tape is freed after backward (the saved state is no longer needed).
  virtual void release() {}
  // Called with (input index, its gradient) as soon as an input's gradient is final, before
  // backward returns (so autograd can hand it on while the rest of the graph runs); the array
  // is only valid during the call.
  using InputReady = std::function<void(size_t input, const NDArray &grad)>;
  // One gradient per recorded input (undefined: none); out_grads one per output.
  virtual std::vector<NDArray> backward(const std::vector<NDArray> &out_grads, bool is_train,
                                        const InputReady &on_input_ready) = 0;
};

struct AGNode {
  const OpDef *op = nullptr;  // null for a taped computation (`taped` set)
  std::shared_ptr<TapedBackward> taped;
  std::shared_ptr<const Params> params;
  std::vector<NDArray> inputs;                    // values (without autograd links)
  std::vector<std::shared_ptr<AGInfo>> in_entries;  // autograd links of the inputs (may be null)
  std::vector<NDArray> aux;
  std::vector<NDArray> outputs;                   // all outputs, values
  bool is_train = false;
  bool freed = false;  // values released by a backward without retain_graph
};

// Called by invoke() while recording.
void record_op(const OpDef *op, const std::shared_ptr<const Params> &params,
               const std::vector<NDArray> &inputs, const std::vector<NDArray> &aux,
               std::vector<NDArray> &outputs, bool is_train);

// Tapes `outputs` as produced from `inputs` by `taped` (only while recording and when some
// input is recorded or a variable).
void record_taped(std::shared_ptr<TapedBackward> taped, const std::vector<NDArray> &inputs,
                  std::vector<NDArray> &outputs);
// Whether the array is a variable or was computed from one while recording.
bool is_tracked(const NDArray &a);

void mark_variables(const std::vector<NDArray> &vars, const std::vector<int> &reqs,
                    const std::vector<NDArray> &grads);

// Backward into variables' grad buffers (out_grads == nullptr) or, when `wrt` is given, returning
// gradients with respect to `wrt` without touching grad buffers.
std::vector<NDArray> backward(const std::vector<NDArray> &heads, const std::vector<NDArray> &head_grads,
                              const std::vector<NDArray> *wrt, bool retain_graph, bool create_graph,
                              bool is_train);

}  // namespace mx
