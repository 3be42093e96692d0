// softmax and log_softmax forward and backward through oneDNN, float32 or bfloat16, on MX's row-major layout
// viewed as (outer, len, inner) around the softmax axis. Returns false when oneDNN does not take
// the case; the caller then runs its own kernel.
#pragma once
#include <cstdint>

namespace mx {
namespace onednn {

struct SoftmaxShape {
  int64_t outer = 0, len = 0, inner = 0;
  bool log = false;   // log_softmax
  bool bf16 = false;  // bf16_t arrays instead of float
};

bool softmax_forward(const SoftmaxShape &sh, const void *x, void *y);
// dx from the forward's output y and dy: y * (dy - sum(dy * y)), or for log_softmax
// dy - exp(y) * sum(dy), along the axis.
bool softmax_backward(const SoftmaxShape &sh, const void *y, const void *dy, void *dx);

}  // namespace onednn
}  // namespace mx
