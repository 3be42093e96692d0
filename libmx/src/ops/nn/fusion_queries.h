// What the executor's fusion pass (graph/executor_fuse.cc) asks of a step's parameters; each is
// defined next to its op.
#pragma once
#include "ops/params.h"

namespace mx {

// p: an Activation's parameters. True when it computes relu.
bool activation_is_relu(const Params &p);
// p: a Pooling's parameters. True for max pooling.
bool pooling_is_max(const Params &p);

}  // namespace mx
