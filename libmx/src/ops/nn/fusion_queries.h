// What the executor's fusion pass (graph/executor_fuse.cc) asks of a step's parameters; each is
// defined next to its op.
#pragma once
#include "ops/params.h"

namespace mx {

// p: an Activation's parameters. True when it computes relu.
bool activation_is_relu(const Params &p);
// p: a Pooling's parameters. True for max pooling.
bool pooling_is_max(const Params &p);

// What folding a BatchNorm into the convolution before it needs (Conv+BN folding,
// ops/nn/conv_bn_fold.cc). is_batchnorm is false for any other op's parameters.
struct BatchNormFold {
  bool is_batchnorm = false;
  double eps = 1e-3;
  bool fix_gamma = true, use_global_stats = false;
  int64_t axis = 1;
};
BatchNormFold batchnorm_fold_info(const Params &p);

// Parameters of the executor's _fused_Convolution_BatchNorm(_relu) step (fused: that op) from the
// two steps' own; they also hold the step's cache of folded weights.
std::shared_ptr<const Params> conv_bn_fused_params(const OpDef *fused, std::shared_ptr<const Params> conv,
                                                   std::shared_ptr<const Params> bn);

}  // namespace mx
