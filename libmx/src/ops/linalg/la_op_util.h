// Shared plumbing of the linalg_* operator files: per-matrix loops and registry shortcuts.
#pragma once
#include <string>
#include <vector>

#include "backends/cpu/parallel.h"
#include "ops/linalg/dense_la.h"
#include "ops/registry.h"

namespace mx {
namespace la {

// f(index) for every matrix of a batch; matrices are independent, so they run in parallel.
template <typename F> void for_each_matrix(int64_t count, F f) {
  parallel_for(count, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) f(i);
  });
}

inline Batch batch_of(const NDArray &a, const char *op, const char *what) { return batch_of(a.shape(), op, what); }

// Shape with the last two axes replaced by (rows, cols).
inline Shape with_matrix(const Shape &s, int64_t rows, int64_t cols) {
  std::vector<int64_t> d(s.dims().begin(), s.dims().end() - 2);
  d.push_back(rows);
  d.push_back(cols);
  return Shape(d);
}

// Shape with the last two axes replaced by one axis of length n.
inline Shape with_vector(const Shape &s, int64_t n) {
  std::vector<int64_t> d(s.dims().begin(), s.dims().end() - 2);
  d.push_back(n);
  return Shape(d);
}

// Emit the hidden backward op `name` with no params.
inline Var emit_backward(GradBuilder &b, const std::string &name, const std::vector<Var> &inputs) {
  return b.emit1(name, {}, inputs);
}

}  // namespace la
}  // namespace mx
