// CUDA kernels of the indexing ops (backends/cuda/indexing.cu; backends/gpu_none.cc's versions
// fail). The op files normalise and check indices on the host and pass them as an int64 array on
// the op's GPU; the element formulas are ops/formulas/index.h, the CPU kernels' code.
#pragma once
#include <cstdint>
#include <cstring>
#include <vector>

#include "ndarray/ndarray.h"

namespace mx {

// Host indices as an int64 array on `dev`.
inline NDArray indices_on(const std::vector<int64_t> &idx, Device dev) {
  NDArray h(Shape({static_cast<int64_t>(idx.size())}), DType::i64, Device());
  if (!idx.empty()) std::memcpy(h.data<int64_t>(), idx.data(), idx.size() * sizeof(int64_t));
  if (dev.is_cpu()) return h;
  NDArray d(h.shape(), DType::i64, dev);
  d.assign(h);
  return d;
}
// A host copy of a (GPU) array, to read its indices there; the array itself when on the CPU.
inline NDArray host_copy(const NDArray &a) {
  if (a.device().is_cpu()) return a;
  NDArray h(a.shape(), a.dtype(), Device());
  h.assign(a);
  return h;
}

// take / Embedding forward: out (pre, k, post) = src (pre, n, post) rows idx (k entries).
void gpu_take_rows(const NDArray &src, const NDArray &idx, const NDArray &out, int64_t pre, int64_t n, int64_t k,
                   int64_t post, const char *op);
// Their adjoint: grad (pre, n, post) = 0, then += g (pre, k, post) at rows idx (atomics: float32,
// float64, int32, int64).
void gpu_scatter_add_rows(const NDArray &g, const NDArray &idx, const NDArray &grad, int64_t pre, int64_t n,
                          int64_t k, int64_t post, const char *op);
// pick forward (backward: grad zeroed, then scattered).
void gpu_pick(const NDArray &src, const NDArray &idx, const NDArray &out, int64_t pre, int64_t n, int64_t post,
              bool backward, const char *op);
// one_hot: out (rows, depth) from idx (rows) with on/off given as the output dtype's bits.
void gpu_one_hot(const NDArray &idx, const NDArray &out, int64_t depth, uint64_t on_bits, uint64_t off_bits,
                 const char *op);
// argmax / argmin over the middle axis of (M, Rn, N).
void gpu_arg_extreme(const NDArray &in, const NDArray &out, int64_t M, int64_t Rn, int64_t N, bool is_max,
                     const char *op);

}  // namespace mx
