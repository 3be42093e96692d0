#include "kvstore/sparse_reduce.h"

#include <algorithm>
#include <cstring>

#include "base/error.h"
#include "ndarray/sparse.h"
#include "ops/imperative.h"

namespace mx {

NDArray rsp_local_sum(const std::vector<NDArray> &values) {
  MX_CHECK(!values.empty(), MX_ERR_INTERNAL, "rsp_local_sum: no values");
  if (values.size() == 1) return sparse_copy(values[0], values[0].dtype());
  return invoke("add_n", {{"num_args", std::to_string(values.size())}}, values)[0];
}

NDArray rsp_allreduce(Collective &comm, const NDArray &mine, const std::string &what) {
  const Shape &shape = mine.shape();
  const int64_t rows = shape[0], width = shape.prod(1, shape.ndim());
  const DType dt = mine.dtype();
  const size_t dsize = dtype_size(dt);
  const int64_t nnz = mine.sparse()->indices.size();
  int64_t maxn = nnz;
  comm.allreduce_max_i64(&maxn, 1, what + " (row count)");
  const int64_t P = comm.size();
  if (P * maxn >= rows) {
    // Dense: the sum by allreduce, the rows present anywhere by a max over a row mask.
    NDArray dense = to_dense(mine);
    if (!mine.is_sparse()) dense = dense.copy();
    comm.allreduce_sum(dense.raw(), dense.size(), dt, what + " (densified rows)");
    std::vector<int64_t> mask(static_cast<size_t>(rows), 0);
    const int64_t *idx = mine.sparse()->indices.data<int64_t>();
    for (int64_t i = 0; i < nnz; ++i) mask[static_cast<size_t>(idx[i])] = 1;
    comm.allreduce_max_i64(mask.data(), rows, what + " (row mask)");
    std::vector<int64_t> keep;
    for (int64_t r = 0; r < rows; ++r)
      if (mask[static_cast<size_t>(r)]) keep.push_back(r);
    Shape ds = shape;
    ds[0] = static_cast<int64_t>(keep.size());
    NDArray data(ds, dt), ids(Shape({ds[0]}), DType::i64);
    const size_t rb = static_cast<size_t>(width) * dsize;
    const char *src = static_cast<const char *>(dense.raw());
    char *dst = static_cast<char *>(data.raw());
    for (size_t k = 0; k < keep.size(); ++k) {
      std::memcpy(dst + k * rb, src + static_cast<size_t>(keep[k]) * rb, rb);
      ids.data<int64_t>()[k] = keep[k];
    }
    return make_row_sparse(shape, data, ids);
  }
  // Allgather: each worker's record is [count, maxn row ids, maxn rows of values] (padded).
  const size_t rb = static_cast<size_t>(width) * dsize;
  const size_t rec = sizeof(int64_t) * static_cast<size_t>(1 + maxn) + rb * static_cast<size_t>(maxn);
  std::vector<char> send(rec, 0), all(rec * static_cast<size_t>(P));
  int64_t *head = reinterpret_cast<int64_t *>(send.data());
  head[0] = nnz;
  std::memcpy(head + 1, mine.sparse()->indices.raw(), sizeof(int64_t) * static_cast<size_t>(nnz));
  std::memcpy(send.data() + sizeof(int64_t) * static_cast<size_t>(1 + maxn), mine.sparse()->data.raw(),
              rb * static_cast<size_t>(nnz));
  comm.allgather_bytes(send.data(), rec, all.data(), what + " (rows)");
  std::vector<NDArray> parts;
  for (int64_t w = 0; w < P; ++w) {
    const char *r = all.data() + rec * static_cast<size_t>(w);
    int64_t n;
    std::memcpy(&n, r, sizeof n);
    MX_CHECK(n >= 0 && n <= maxn, MX_ERR_INTERNAL, what, ": worker ", w, " sent ", n, " rows");
    Shape ds = shape;
    ds[0] = n;
    NDArray data(ds, dt), ids(Shape({n}), DType::i64);
    std::memcpy(ids.raw(), r + sizeof(int64_t), sizeof(int64_t) * static_cast<size_t>(n));
    std::memcpy(data.raw(), r + sizeof(int64_t) * static_cast<size_t>(1 + maxn), rb * static_cast<size_t>(n));
    parts.push_back(make_row_sparse(shape, data, ids));
  }
  return rsp_local_sum(parts);
}

}  // namespace mx
