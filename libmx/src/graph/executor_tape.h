// Recording a whole executor run on the autograd tape: hybridized Gluon blocks called under
// autograd.record() run their cached graph through the executor's plan, and the tape holds one
// node whose backward is the executor's backward.
#pragma once
#include <memory>
#include <vector>

#include "graph/executor.h"

namespace mx {

// Copies inputs[i] into argument arg_index[i] (unless bound to the same memory), runs forward
// and returns copies of the outputs. While recording, and when some input is tracked by
// autograd, the outputs are taped; the executor stays busy until that node's backward has run
// or the node is dropped. Fails if the executor is busy.
std::vector<NDArray> forward_taped(const std::shared_ptr<Executor> &ex, bool is_train,
                                   const std::vector<NDArray> &inputs, const std::vector<int> &arg_index);

}  // namespace mx
