// Convolution (1-D, 2-D, 3-D, channels first, groups, stride, dilation, zero padding) through
// oneDNN primitives, f32 or bf16. Arrays are MX's plain row-major ones; blocked layouts live only inside
// a call. Each entry returns false when oneDNN does not take the case (not built, switched off,
// unimplemented): the caller then runs its own kernel.
#pragma once
#include <cstdint>
#include <vector>

namespace mx {
class NDArray;
namespace onednn {

struct ConvShape {
  int64_t N = 0, C = 0, F = 0, G = 1;  // batch, input channels, filters, groups
  std::vector<int64_t> in, out, k, s, d, p;  // per spatial axis; d is MX's dilate (1 = dense)
  // bfloat16 data, weights, bias and gradients (bf16_t arrays; oneDNN accumulates in f32) instead
  // of float32.
  bool bf16 = false;
  // The forward of a training step (is_train): its primitive is built for forward_training, whose
  // layouts (nChw16c here) the backward primitives take too; inference keeps forward_inference's
  // (nhwc brgconv for most shapes). forward_training measured faster for training (docs/ONEDNN.md).
  bool training = false;
};

// y = conv(x, w) + b (b may be null). x: (N, C, in...), w: (F, C/G, k...), y: (N, F, out...).
// relu: y = max(y, 0) as a oneDNN post-op (the executor's Convolution+ReLU fusion).
// The weight comes as its array: its blocked copy is cached per storage version (onednn.h).
// The pointers are float arrays, or bf16_t arrays when sh.bf16.
bool conv_forward(const ConvShape &sh, const void *x, const NDArray &w, const void *b, void *y, bool relu = false);
// Gradients from dy: dx (null: not wanted), dw, db (null: no bias).
bool conv_backward(const ConvShape &sh, const void *x, const NDArray &w, const void *dy, void *dx, void *dw,
                   void *db);

}  // namespace onednn
}  // namespace mx
