// Sparse kernels of dot:
//   dot(csr, dense)                   -> dense       (rows of the output in parallel)
//   dot(csr, dense, transpose_a=True) -> row_sparse  (rows = the csr's used columns)
//   dot(dense, csr)                   -> dense
//   dot(csr, row_sparse)              -> dense       (absent rows of the rhs are zero)
// Other combinations (transpose_b, row_sparse operands) take the storage fallback.
// forward_stype, when given, converts the result (MXNet's hint for the output storage).
#include <algorithm>
#include <cstring>

#include "backends/cpu/parallel.h"
#include "ops/sparse/attach.h"

namespace mx {
namespace {

bool flag(const Params &p, const char *name) { return param_text(p, name) == "True"; }

bool infer_dot(const Params &p, const STypeVec &in, STypeVec &out) {
  if (in.size() != 2 || flag(p, "transpose_b")) return false;
  bool ta = flag(p, "transpose_a");
  int natural;
  if (in[0] == kCsr && in[1] == kDns) natural = ta ? kRsp : kDns;
  else if (in[0] == kCsr && in[1] == kRsp && !ta) natural = kDns;  // a row_sparse weight (Module)
  else if (in[0] == kDns && in[1] == kCsr && !ta) natural = kDns;
  else return false;
  std::string fs = param_text(p, "forward_stype");
  out[0] = fs == "csr" ? kCsr : fs == "row_sparse" ? kRsp : fs == "default" ? kDns : natural;
  return true;
}

// out (M x N) = A (M x K, csr) * B (K x N)
template <typename T> void csr_dense(const NDArray &a, const NDArray &b, const NDArray &out) {
  const SparseParts &p = *a.sparse();
  const int64_t *ptr = p.indptr.data<int64_t>(), *col = p.indices.data<int64_t>();
  const T *v = p.data.data<T>(), *B = b.data<T>();
  T *o = out.data<T>();
  int64_t M = a.shape()[0], N = b.size() / std::max<int64_t>(b.shape()[0], 1);
  parallel_for(M, 64, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      T *orow = o + r * N;
      for (int64_t j = 0; j < N; ++j) orow[j] = T(0);
      for (int64_t k = ptr[r]; k < ptr[r + 1]; ++k) {
        const T x = v[k];
        const T *brow = B + col[k] * N;
        for (int64_t j = 0; j < N; ++j) orow[j] += x * brow[j];
      }
    }
  });
}

// out (K x N, row_sparse) = A^T (K x M) * B (M x N), A csr M x K.
template <typename T> NDArray csrT_dense(const NDArray &a, const NDArray &b, const Shape &oshape) {
  const SparseParts &p = *a.sparse();
  const int64_t *ptr = p.indptr.data<int64_t>(), *col = p.indices.data<int64_t>();
  const T *v = p.data.data<T>(), *B = b.data<T>();
  int64_t M = a.shape()[0], K = a.shape()[1], N = b.size() / std::max<int64_t>(b.shape()[0], 1);
  std::vector<int64_t> slot(static_cast<size_t>(K), -1);
  for (int64_t k = 0; k < p.indices.size(); ++k) slot[static_cast<size_t>(col[k])] = 0;
  std::vector<int64_t> rows;
  for (int64_t c = 0; c < K; ++c)
    if (slot[static_cast<size_t>(c)] == 0) {
      slot[static_cast<size_t>(c)] = static_cast<int64_t>(rows.size());
      rows.push_back(c);
    }
  std::vector<int64_t> vd = oshape.dims();
  vd[0] = static_cast<int64_t>(rows.size());
  NDArray vals(Shape(vd), a.dtype()), idx(Shape({vd[0]}), DType::i64);
  std::copy(rows.begin(), rows.end(), idx.data<int64_t>());
  T *o = vals.data<T>();
  std::memset(static_cast<void *>(o), 0, vals.nbytes());
  for (int64_t r = 0; r < M; ++r)
    for (int64_t k = ptr[r]; k < ptr[r + 1]; ++k) {
      T *orow = o + slot[static_cast<size_t>(col[k])] * N;
      const T x = v[k];
      const T *brow = B + r * N;
      for (int64_t j = 0; j < N; ++j) orow[j] += x * brow[j];
    }
  return make_row_sparse(oshape, vals, idx);
}

// out (M x N) = A (M x K, csr) * B (K x N, row_sparse): a row_sparse weight holding only the
// rows a batch uses (Module.prepare's pull) is read in place, never densified.
template <typename T> void csr_rsp(const NDArray &a, const NDArray &b, const NDArray &out) {
  const SparseParts &p = *a.sparse(), &q = *b.sparse();
  const int64_t *ptr = p.indptr.data<int64_t>(), *col = p.indices.data<int64_t>();
  const int64_t *rid = q.indices.data<int64_t>(), nb = q.indices.size();
  const T *v = p.data.data<T>(), *B = q.data.data<T>();
  T *o = out.data<T>();
  int64_t M = a.shape()[0], N = b.size() / std::max<int64_t>(b.shape()[0], 1);
  parallel_for(M, 64, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      T *orow = o + r * N;
      for (int64_t j = 0; j < N; ++j) orow[j] = T(0);
      for (int64_t k = ptr[r]; k < ptr[r + 1]; ++k) {
        const int64_t *at = std::lower_bound(rid, rid + nb, col[k]);  // rows are sorted
        if (at == rid + nb || *at != col[k]) continue;
        const T x = v[k];
        const T *brow = B + (at - rid) * N;
        for (int64_t j = 0; j < N; ++j) orow[j] += x * brow[j];
      }
    }
  });
}

// out (M x N) = A (M x K, dense) * B (K x N, csr)
template <typename T> void dense_csr(const NDArray &a, const NDArray &b, const NDArray &out) {
  const SparseParts &p = *b.sparse();
  const int64_t *ptr = p.indptr.data<int64_t>(), *col = p.indices.data<int64_t>();
  const T *v = p.data.data<T>(), *A = a.data<T>();
  T *o = out.data<T>();
  int64_t K = b.shape()[0], N = b.shape()[1], M = a.size() / std::max<int64_t>(K, 1);
  parallel_for(M, 16, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      T *orow = o + i * N;
      for (int64_t j = 0; j < N; ++j) orow[j] = T(0);
      for (int64_t r = 0; r < K; ++r) {
        const T x = A[i * K + r];
        if (x == T(0)) continue;
        for (int64_t k = ptr[r]; k < ptr[r + 1]; ++k) orow[col[k]] += x * v[k];
      }
    }
  });
}

std::vector<NDArray> dot_kernel(const SparseCall &c) {
  const NDArray &a = c.inputs[0], &b = c.inputs[1];
  MX_CHECK(a.dtype() == b.dtype(), MX_ERR_TYPE, "dot: dtypes ", dtype_name(a.dtype()), " and ", dtype_name(b.dtype()),
           " differ");
  const Shape &os = c.out_shapes[0];
  NDArray res;
  bool ta = flag(c.params, "transpose_a");
  MX_DTYPE_SWITCH_NUMERIC(a.dtype(), T, "dot", {
    if (a.is_sparse() && ta) {
      res = csrT_dense<T>(a, b, os);
    } else {
      res = NDArray(os, a.dtype());
      if (a.is_sparse() && b.is_sparse()) csr_rsp<T>(a, b, res);
      else if (a.is_sparse()) csr_dense<T>(a, b, res);
      else dense_csr<T>(a, b, res);
    }
  });
  SType want = static_cast<SType>(c.out_stypes[0]);
  if (stype_of(res) != want) res = cast_storage(res, want);
  return {res};
}

MX_SPARSE_KERNEL("dot", infer_dot, dot_kernel);

}  // namespace
}  // namespace mx
