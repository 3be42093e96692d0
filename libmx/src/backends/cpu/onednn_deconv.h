// Deconvolution (transposed convolution: 1-D/2-D/3-D, channels first, groups, stride, dilation,
// pad / adj) through oneDNN's deconvolution primitives, for bfloat16 arrays (bf16_t; oneDNN
// accumulates in float32). MX's weight layout (C, F/G, k...) is described to oneDNN as it is and
// reordered to oneDNN's blocked layout once per weight version (onednn.h, Scratch::weight). Each
// entry returns false when oneDNN does not take the case; ops/nn/deconvolution.cc then runs the
// float32 kernel on converted copies (ops/via_f32.h).
#pragma once
#include <cstdint>
#include <vector>

namespace mx {
class NDArray;
namespace onednn {

struct DeconvShape {
  int64_t N = 0, C = 0, F = 0, G = 1;  // batch, input channels, output channels (num_filter), groups
  std::vector<int64_t> in, out;        // input / output spatial sizes
  std::vector<int64_t> k, s, d, pad, adj;  // per spatial axis; d is MX's dilate (1 = dense)
};

// y = deconv(x, w) + b (b may be null): x (N, C, in...), w (C, F/G, k...), y (N, F, out...), bf16_t.
bool deconv_forward_bf16(const DeconvShape &sh, const void *x, const NDArray &w, const void *b, void *y);
// dx (null: not wanted) and dw from dy; the bias gradient is the caller's (a plain sum of dy).
bool deconv_backward_bf16(const DeconvShape &sh, const void *x, const NDArray &w, const void *dy, void *dx,
                          void *dw);

}  // namespace onednn
}  // namespace mx
