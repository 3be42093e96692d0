// CUDA kernels of sort / argsort / topk, _take_along_axis / _scatter_along_axis and the
// Sequence* ops: the runners and functors of ops/sort_kernels.h (the CPU kernels' code) run by
// DeviceEach. Sorting is one thread per line (a stable merge sort in scratch memory), so long
// lines with few of them are slow; topk/sort over class scores (many short rows) is the use.
#include "backends/cuda/each.cuh"
#include "ops/sort_kernels.h"

namespace mx {

using cuda::DeviceEach;

NDArray gpu_sort_positions(const OpCall &c, const NDArray &data, sortk::LineGeom L, int64_t k, bool ascend) {
  return sortk::sort_positions(data, L, k, ascend, DeviceEach(c));
}
void gpu_gather_along(const OpCall &c, const NDArray &data, const NDArray &idx, const NDArray &out, sortk::LineGeom L,
                      int64_t k) {
  sortk::gather_along(data, idx, out, L, k, DeviceEach(c));
}
bool gpu_write_indices(const OpCall &c, const NDArray &idx, const NDArray &out) {
  return sortk::write_indices(idx, out, DeviceEach(c));
}
void gpu_scatter_along(const OpCall &c, const NDArray &g, const NDArray &idx, const NDArray &grad, sortk::LineGeom L,
                       int64_t k, bool add) {
  sortk::scatter_along(g, idx, grad, L, k, add, DeviceEach(c));
}
void gpu_sequence(const OpCall &c, sortk::SeqKind kind, sortk::SeqGeom G, const int64_t *len, const NDArray &in,
                  const NDArray &out, const void *value) {
  sortk::sequence(kind, G, len, in, out, value, DeviceEach(c));
}

}  // namespace mx
