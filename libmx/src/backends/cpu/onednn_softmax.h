// softmax and log_softmax forward through oneDNN, float32 or bfloat16, on MX's row-major layout
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

}  // namespace onednn
}  // namespace mx
