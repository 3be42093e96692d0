// bfloat16 element loops that run on the 16-bit values directly, instead of converting whole
// arrays to float32 and back (ops/via_f32.h): the residual adds, add_n's gradient sums and relu
// of a bf16 network. Each element is widened exactly (bf16 -> float), computed in float and
// rounded once with base/half_bits.h's round-to-nearest-even, so the bits equal the float32
// route's. Vectorised (simd.h: the AVX-512 build where the CPU has it) and threaded.
#pragma once
#include <cstdint>
#include <vector>

#include "base/half.h"

namespace mx {
namespace bf16 {

// o[i] = bf16(float(a[i]) + float(b[i])); o may be a or b (in place).
void add(const bf16_t *a, const bf16_t *b, bf16_t *o, int64_t n);
// o[i] = bf16(((in[0][i] + in[1][i]) + in[2][i]) + ...) summed in float, rounded once (add_n).
void sum(const std::vector<const bf16_t *> &in, bf16_t *o, int64_t n);
// y = x > 0 ? x : 0 (NaN and -0 give +0), an exact select on the bits.
void relu(const bf16_t *x, bf16_t *y, int64_t n);
// dx = y > 0 ? g : 0 (relu's gradient from its output).
void relu_backward(const bf16_t *g, const bf16_t *y, bf16_t *dx, int64_t n);

}  // namespace bf16
}  // namespace mx
