// FullyConnected as oneDNN's inner product, float32 or bfloat16: y (rows, M) = x (rows, K) .
// w (M, K)^T [+ b]. Data and results stay in MX's row-major layout (2-D plain is what oneDNN's
// inner product wants for them); the weight's blocked copy is cached per storage version
// (onednn.h). Each entry returns false when oneDNN does not take the case; the caller then runs
// its own kernel.
#pragma once
#include <cstdint>

namespace mx {
class NDArray;
namespace onednn {

struct IPShape {
  int64_t rows = 0, K = 0, M = 0;
  bool bf16 = false;  // bf16_t arrays (f32 accumulation inside oneDNN) instead of float
};

bool ip_forward(const IPShape &sh, const void *x, const NDArray &w, const void *b, void *y, bool relu = false);
// dx (null: not wanted) and dw from dy; the bias gradient is summed by the caller.
bool ip_backward(const IPShape &sh, const void *x, const NDArray &w, const void *dy, void *dx, void *dw);

}  // namespace onednn
}  // namespace mx
