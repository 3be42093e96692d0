// Max and average pooling (1-D, 2-D, 3-D, channels first) through oneDNN, f32, on MX's plain
// layout (oneDNN has plain-layout pooling kernels, so no reorders). Each entry returns false when
// oneDNN does not take the case; the caller then runs its own kernel.
#pragma once
#include <cstdint>
#include <vector>

namespace mx {
namespace onednn {

enum class PoolKind { kMax, kAvgIncludePad, kAvgExcludePad };

struct PoolShape {
  int64_t N = 0, C = 0;
  std::vector<int64_t> in, out, k, s, pad_l;
  std::vector<int64_t> pad_hi;  // how far windows may reach past the input's end (MX clips there)
  PoolKind kind = PoolKind::kMax;
  bool bf16 = false;  // bfloat16 arrays (bf16_t) instead of float32
};

// Pooling's hidden saved output (ops/nn/pooling.cc): where the forward ran MX's 2x2 max-pool
// kernel on a blocked value, one byte per (padded) output element, the window's first maximum
// (bits 0-1) and whether the maximum is positive (bit 2), and a stamp naming the layout in the
// last 4 bytes (0: no codes). The backward then reads these bytes and dy instead of x and y:
// a third of the memory traffic. bytes: the array's size; data null: none.
struct PoolWorkspace {
  void *data = nullptr;
  int64_t bytes = 0;
};
// Its length in 4-byte elements for n samples, c channels and `out` output positions a plane
// (channels rounded up to the 16-lane blocks, plus the stamp).
inline int64_t pool_workspace_words(int64_t n, int64_t c, int64_t out) {
  return (n * ((c + 15) / 16 * 16) * out + 3) / 4 + 1;
}
// The pointers are float arrays, or bf16_t arrays when sh.bf16. ws: see PoolWorkspace (float32
// blocked values only; its stamp is cleared by every other path).
bool pool_forward(const PoolShape &sh, const void *x, void *y, PoolWorkspace ws = {});
// dx from dy; max pooling re-runs the forward to find each window's first maximum.
bool pool_backward(const PoolShape &sh, const void *x, const void *dy, void *dx);
// The same where x is a blocked value the executor kept (onednn.h, blocked_input(x)): oneDNN's
// backward in x's layout, dy taken blocked or plain, dx left blocked where the executor allows.
// relu_mask: dy passes only where the pooling's output is positive (_fused_backward_Pooling_relu);
// the output is recomputed with the forward this backward runs for its argmax workspace, so y
// itself is not read. float32 only.
bool pool_backward_blocked(const PoolShape &sh, const float *x, const float *dy, const float *y, float *dx,
                           bool relu_mask, PoolWorkspace ws = {});

}  // namespace onednn
}  // namespace mx
