// CUDA kernels behind the device-aware data-movement primitives of ops/shape_common.h
// (gather_any, scatter_any, scatter_add_any, zero_fill, copy_bytes, fill_value) and of the
// shape-family ops built on them, plus clip / where / add_n. Defined in backends/cuda/shape.cu;
// backends/gpu_none.cc's versions fail (a build without CUDA never reaches them).
#pragma once
#include <cstdint>
#include <vector>

#include "ndarray/ndarray.h"

namespace mx {

// dst (contiguous, shape dst.shape()) [i] = src[sum_d maps[d][i_d]].
void gpu_gather_maps(const NDArray &src, const NDArray &dst, const std::vector<std::vector<int64_t>> &maps);
// dst[sum_d maps[d][i_d]] = (or +=, with add) src (contiguous) [i]; add: atomics (float32,
// float64, int32, int64).
void gpu_scatter_maps(const NDArray &src, const NDArray &dst, const std::vector<std::vector<int64_t>> &maps,
                      bool add);
void gpu_zero(const NDArray &a);
// `rows` rows of `width` bytes from src (row pitch spitch bytes) to dst (pitch dpitch), on dev.
void gpu_copy_rows(int dev, void *dst, int64_t dpitch, const void *src, int64_t spitch, int64_t width, int64_t rows);
// Parameterised element ops (formulas/select.h): clip (p0, p1 = a_min, a_max), hard_sigmoid
// (alpha, beta), smooth_l1 (sigma^2, unused); backward: inputs out_grad and data.
enum class ParamUnary { Clip, HardSigmoid, SmoothL1 };
void gpu_param_unary(ParamUnary f, const NDArray &in, const NDArray &out, double p0, double p1);
void gpu_param_unary_backward(ParamUnary f, const NDArray &g, const NDArray &x, const NDArray &out, double p0,
                              double p1);
// where: out = cond ? x : y; with y == nullptr (_where_mask): out = (cond != 0) == keep_true ? x : 0.
// cond has x's shape or is 1-D over x's first axis.
void gpu_where(const NDArray &cond, const NDArray &x, const NDArray *y, const NDArray &out, bool keep_true);
void gpu_add_n(const std::vector<NDArray> &in, const NDArray &out);

}  // namespace mx
