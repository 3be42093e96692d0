// Fast GPU paths of softmax / log_softmax / softmin (forward and backward) for the common layout:
// softmax over the last, contiguous axis (inner == 1), no length input, output in the data's
// dtype. A warp per row (rows up to kWarpRowMax elements) or a block per row (longer rows),
// the row's maximum and sums reduced with shuffles in a fixed order: the same input gives the
// same bits every run (no atomics). Everything else takes the one-thread-per-row drivers of
// ops/nn/softmax_kernels.h. Defined in softmax_rows.cu.
#pragma once
#include "ops/nn/softmax_kernels.h"

namespace mx {
namespace cuda {

constexpr int64_t kWarpRowMax = 1024;

// Returns false (and does nothing) when the call is not of the fast layout.
bool softmax_rows_forward(smk::Kind kind, const OpCall &c, const char *op);
bool softmax_rows_backward(smk::Kind kind, const OpCall &c, const char *op);

}  // namespace cuda
}  // namespace mx
