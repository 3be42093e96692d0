// Sparse kernels of element-wise ops: zero-preserving unary maps and scalar multiply/divide
// (the op's own dense kernel runs over the stored values), elemwise_add/sub/mul between sparse
// and dense arrays, and add_n. Results follow MXNet's storage rules:
//   add/sub: rsp,rsp -> rsp   csr,csr -> csr   dense with csr/rsp -> dense
//   mul:     rsp,rsp -> rsp   csr,csr -> csr   rsp with dense -> rsp   csr with dense -> csr
#include <algorithm>
#include <cstring>

#include "backends/cpu/parallel.h"
#include "ops/sparse/attach.h"

namespace mx {
namespace {

// ---------------------------------------------------------------- unary and scalar maps

bool infer_unary(const Params &, const STypeVec &in, STypeVec &out) {
  if (in.size() != 1 || in[0] == kDns) return false;
  out[0] = in[0];
  return true;
}
std::vector<NDArray> unary_kernel(const SparseCall &c) {
  const NDArray &x = c.inputs[0];
  NDArray v = run_dense(c.params.op, c.params, {x.sparse()->data});
  return {with_values(x, v)};
}

const char *kZeroPreserving[] = {
    "abs", "sign", "square", "sqrt", "negative", "relu", "floor", "ceil", "round", "rint", "trunc", "fix", "sin",
    "tan", "arcsin", "arctan", "sinh", "tanh", "arcsinh", "arctanh", "expm1", "log1p", "degrees", "radians",
    "cbrt", "_copy", "BlockGrad", "_mul_scalar", "_div_scalar", "Cast"};
struct RegisterUnary {
  RegisterUnary() {
    for (const char *n : kZeroPreserving) sparse_attachments().push_back({n, infer_unary, unary_kernel});
  }
} register_unary;

// zeros_like keeps the storage type, with nothing stored.
MX_SPARSE_KERNEL("zeros_like", infer_unary, [](const SparseCall &c) {
  const NDArray &x = c.inputs[0];
  return std::vector<NDArray>{sparse_zeros(stype_of(x), x.shape(), x.dtype(), x.device())};
});

// ---------------------------------------------------------------- binary

enum class Bin { add, sub, mul };

template <typename T> T apply(Bin b, T x, T y) {
  return b == Bin::add ? T(x + y) : b == Bin::sub ? T(x - y) : T(x * y);
}

// rsp (op) rsp -> rsp: union of rows (add/sub) or intersection (mul).
NDArray rsp_rsp(const NDArray &a, const NDArray &b, Bin op) {
  const SparseParts &pa = *a.sparse(), &pb = *b.sparse();
  int64_t na = pa.indices.size(), nb = pb.indices.size();
  const int64_t *ia = pa.indices.data<int64_t>(), *ib = pb.indices.data<int64_t>();
  int64_t width = a.shape().prod(1, a.ndim());
  std::vector<int64_t> rows;
  std::vector<std::pair<int64_t, int64_t>> src;  // positions in a and b (-1: absent)
  int64_t i = 0, j = 0;
  while (i < na || j < nb) {
    if (j >= nb || (i < na && ia[i] < ib[j])) {
      if (op != Bin::mul) rows.push_back(ia[i]), src.push_back({i, -1});
      ++i;
    } else if (i >= na || ib[j] < ia[i]) {
      if (op != Bin::mul) rows.push_back(ib[j]), src.push_back({-1, j});
      ++j;
    } else {
      rows.push_back(ia[i]), src.push_back({i, j});
      ++i, ++j;
    }
  }
  std::vector<int64_t> vd = a.shape().dims();
  vd[0] = static_cast<int64_t>(rows.size());
  NDArray vals(Shape(vd), a.dtype());
  NDArray idx(Shape({vd[0]}), DType::i64);
  std::copy(rows.begin(), rows.end(), idx.data<int64_t>());
  MX_DTYPE_SWITCH_NUMERIC(a.dtype(), T, "elemwise", {
    const T *va = pa.data.data<T>(), *vb = pb.data.data<T>();
    T *o = vals.data<T>();
    for (size_t r = 0; r < rows.size(); ++r) {
      int64_t x = src[r].first, y = src[r].second;
      for (int64_t k = 0; k < width; ++k) {
        T u = x >= 0 ? va[x * width + k] : T(0), w = y >= 0 ? vb[y * width + k] : T(0);
        o[static_cast<int64_t>(r) * width + k] = apply(op, u, w);
      }
    }
  });
  return make_row_sparse(a.shape(), vals, idx);
}

// csr (op) csr -> csr, row by row.
NDArray csr_csr(const NDArray &a, const NDArray &b, Bin op) {
  const SparseParts &pa = *a.sparse(), &pb = *b.sparse();
  int64_t rows = a.shape()[0];
  const int64_t *pta = pa.indptr.data<int64_t>(), *ptb = pb.indptr.data<int64_t>();
  const int64_t *ia = pa.indices.data<int64_t>(), *ib = pb.indices.data<int64_t>();
  std::vector<int64_t> ptr(static_cast<size_t>(rows + 1), 0), cols;
  std::vector<std::pair<int64_t, int64_t>> src;
  for (int64_t r = 0; r < rows; ++r) {
    int64_t i = pta[r], j = ptb[r];
    while (i < pta[r + 1] || j < ptb[r + 1]) {
      if (j >= ptb[r + 1] || (i < pta[r + 1] && ia[i] < ib[j])) {
        if (op != Bin::mul) cols.push_back(ia[i]), src.push_back({i, -1});
        ++i;
      } else if (i >= pta[r + 1] || ib[j] < ia[i]) {
        if (op != Bin::mul) cols.push_back(ib[j]), src.push_back({-1, j});
        ++j;
      } else {
        cols.push_back(ia[i]), src.push_back({i, j});
        ++i, ++j;
      }
    }
    ptr[static_cast<size_t>(r + 1)] = static_cast<int64_t>(cols.size());
  }
  int64_t nnz = static_cast<int64_t>(cols.size());
  NDArray vals(Shape({nnz}), a.dtype()), idx(Shape({nnz}), DType::i64), iptr(Shape({rows + 1}), DType::i64);
  std::copy(cols.begin(), cols.end(), idx.data<int64_t>());
  std::copy(ptr.begin(), ptr.end(), iptr.data<int64_t>());
  MX_DTYPE_SWITCH_NUMERIC(a.dtype(), T, "elemwise", {
    const T *va = pa.data.data<T>(), *vb = pb.data.data<T>();
    T *o = vals.data<T>();
    for (int64_t k = 0; k < nnz; ++k) {
      int64_t x = src[static_cast<size_t>(k)].first, y = src[static_cast<size_t>(k)].second;
      o[k] = apply(op, x >= 0 ? va[x] : T(0), y >= 0 ? vb[y] : T(0));
    }
  });
  return make_csr(a.shape(), vals, iptr, idx);
}

// Calls fn(stored position, dense element offset) for every stored element of a sparse array.
template <typename F> void for_each_stored(const NDArray &s, F fn) {
  const SparseParts &p = *s.sparse();
  const int64_t *idx = p.indices.data<int64_t>();
  if (p.stype == SType::row_sparse) {
    int64_t width = s.shape().prod(1, s.ndim());
    for (int64_t i = 0; i < p.indices.size(); ++i)
      for (int64_t k = 0; k < width; ++k) fn(i * width + k, idx[i] * width + k);
  } else {
    const int64_t *ptr = p.indptr.data<int64_t>();
    int64_t cols = s.shape()[1];
    for (int64_t r = 0; r < s.shape()[0]; ++r)
      for (int64_t k = ptr[r]; k < ptr[r + 1]; ++k) fn(k, r * cols + idx[k]);
  }
}

// dense (op) sparse or sparse (op) dense for add/sub -> dense.
NDArray dense_sparse_addsub(const NDArray &a, const NDArray &b, Bin op) {
  bool a_dense = !a.is_sparse();
  const NDArray &d = a_dense ? a : b, &s = a_dense ? b : a;
  NDArray out(d.shape(), d.dtype());
  MX_DTYPE_SWITCH_NUMERIC(d.dtype(), T, "elemwise", {
    const T *dv = d.data<T>();
    T *o = out.data<T>();
    bool negate_dense = op == Bin::sub && !a_dense;  // sparse - dense
    for (int64_t k = 0; k < d.size(); ++k) o[k] = negate_dense ? T(-dv[k]) : dv[k];
    const T *sv = s.sparse()->data.data<T>();
    bool subtract_sparse = op == Bin::sub && a_dense;  // dense - sparse
    for_each_stored(s, [&](int64_t i, int64_t at) { o[at] = subtract_sparse ? T(o[at] - sv[i]) : T(o[at] + sv[i]); });
  });
  return out;
}

// sparse * dense (either order) -> the sparse structure, values times the dense elements.
NDArray sparse_times_dense(const NDArray &s, const NDArray &d) {
  NDArray vals(s.sparse()->data.shape(), s.dtype());
  MX_DTYPE_SWITCH_NUMERIC(s.dtype(), T, "elemwise_mul", {
    const T *sv = s.sparse()->data.data<T>(), *dv = d.data<T>();
    T *o = vals.data<T>();
    for_each_stored(s, [&](int64_t i, int64_t at) { o[i] = sv[i] * dv[at]; });
  });
  return with_values(s, vals);
}

template <Bin OP> bool infer_binary(const Params &, const STypeVec &in, STypeVec &out) {
  if (in.size() != 2) return false;
  int a = in[0], b = in[1];
  if (a == b && a != kDns) {
    out[0] = a;
    return true;
  }
  if ((a == kDns) == (b == kDns)) return false;  // csr with rsp: fallback
  out[0] = OP == Bin::mul ? (a == kDns ? b : a) : kDns;
  return true;
}

template <Bin OP> std::vector<NDArray> binary_kernel(const SparseCall &c) {
  const NDArray &a = c.inputs[0], &b = c.inputs[1];
  MX_CHECK(a.dtype() == b.dtype(), MX_ERR_TYPE, c.params.op->name, ": dtypes ", dtype_name(a.dtype()), " and ",
           dtype_name(b.dtype()), " differ");
  if (a.is_sparse() && b.is_sparse())
    return {stype_of(a) == SType::row_sparse ? rsp_rsp(a, b, OP) : csr_csr(a, b, OP)};
  if (OP == Bin::mul) return {a.is_sparse() ? sparse_times_dense(a, b) : sparse_times_dense(b, a)};
  return {dense_sparse_addsub(a, b, OP)};
}

MX_SPARSE_KERNEL("elemwise_add", infer_binary<Bin::add>, binary_kernel<Bin::add>);
MX_SPARSE_KERNEL("elemwise_sub", infer_binary<Bin::sub>, binary_kernel<Bin::sub>);
MX_SPARSE_KERNEL("elemwise_mul", infer_binary<Bin::mul>, binary_kernel<Bin::mul>);

// ---------------------------------------------------------------- add_n

bool infer_add_n(const Params &, const STypeVec &in, STypeVec &out) {
  if (in.empty() || in[0] == kDns) return false;
  for (int s : in)
    if (s != in[0]) return false;  // mixed storage: fallback (dense)
  out[0] = in[0];
  return true;
}
std::vector<NDArray> add_n_kernel(const SparseCall &c) {
  NDArray acc = c.inputs[0];
  for (size_t i = 1; i < c.inputs.size(); ++i) {
    MX_CHECK(c.inputs[i].dtype() == acc.dtype(), MX_ERR_TYPE, "add_n: input ", i, " has dtype ",
             dtype_name(c.inputs[i].dtype()), " but input 0 has ", dtype_name(acc.dtype()));
    acc = stype_of(acc) == SType::row_sparse ? rsp_rsp(acc, c.inputs[i], Bin::add) : csr_csr(acc, c.inputs[i], Bin::add);
  }
  if (c.inputs.size() == 1) acc = sparse_copy(acc, acc.dtype());
  return {acc};
}
MX_SPARSE_KERNEL("add_n", infer_add_n, add_n_kernel);

}  // namespace
}  // namespace mx
