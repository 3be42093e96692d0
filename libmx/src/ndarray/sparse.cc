// Sparse storage: construction, validation of untrusted parts, and conversion to and from
// dense. Kernels of sparse operators are in ops/sparse_*.cc.
#include "ndarray/sparse.h"

#include <cstring>
#include <vector>

namespace mx {

const char *stype_name(SType s) {
  switch (s) {
    case SType::row_sparse: return "row_sparse";
    case SType::csr: return "csr";
    default: return "default";
  }
}

SType stype_from_name(const std::string &name, const char *what) {
  if (name == "default") return SType::dflt;
  if (name == "row_sparse") return SType::row_sparse;
  if (name == "csr") return SType::csr;
  fail(MX_ERR_INVALID_ARGUMENT, what, ": unknown storage type '", name,
       "' (expected 'default', 'row_sparse' or 'csr')");
}

NDArray::NDArray(std::shared_ptr<SparseParts> parts, const Shape &shape, DType dtype)
    : shape_(shape), dtype_(dtype), sparse_(std::move(parts)) {}

Device NDArray::sparse_device() const { return sparse_->data.device(); }

void require_dense(const NDArray &a, const char *func, const char *what) {
  if (a.is_sparse())
    fail(MX_ERR_UNSUPPORTED, func, ": ", what, " is a ", stype_name(stype_of(a)),
         " array, but this needs dense storage (convert it with tostype('default'))");
}

NDArray make_row_sparse(const Shape &shape, NDArray data, NDArray indices) {
  auto p = std::make_shared<SparseParts>();
  p->stype = SType::row_sparse;
  DType t = data.dtype();
  p->data = std::move(data);
  p->indices = std::move(indices);
  return NDArray(std::move(p), shape, t);
}

NDArray make_csr(const Shape &shape, NDArray data, NDArray indptr, NDArray indices) {
  auto p = std::make_shared<SparseParts>();
  p->stype = SType::csr;
  DType t = data.dtype();
  p->data = std::move(data);
  p->indptr = std::move(indptr);
  p->indices = std::move(indices);
  return NDArray(std::move(p), shape, t);
}

int64_t sparse_nnz(const NDArray &a) {
  if (!a.is_sparse()) return a.size();
  return a.sparse()->indices.size();
}

namespace {
void check_part(const NDArray &x, const char *what, const char *part, bool index) {
  MX_CHECK(x.defined(), MX_ERR_INVALID_ARGUMENT, what, ": the ", part, " array is missing");
  MX_CHECK(!x.is_sparse(), MX_ERR_INVALID_ARGUMENT, what, ": the ", part, " array must be dense");
  MX_CHECK(x.device().is_cpu(), MX_ERR_UNSUPPORTED, what,
           ": sparse arrays live on the cpu in MX (the ", part, " array is on a gpu)");
  if (index)
    MX_CHECK(x.dtype() == DType::i64, MX_ERR_TYPE, what, ": the ", part, " array must be int64, got ",
             dtype_name(x.dtype()));
}
}  // namespace

void validate_sparse(const NDArray &a, const char *what) {
  if (!a.is_sparse()) return;
  const SparseParts &p = *a.sparse();
  const Shape &s = a.shape();
  check_part(p.data, what, "data", false);
  check_part(p.indices, what, "indices", true);
  MX_CHECK(p.data.dtype() == a.dtype(), MX_ERR_TYPE, what, ": data dtype ", dtype_name(p.data.dtype()),
           " differs from the array's ", dtype_name(a.dtype()));
  for (int64_t d : s.dims()) MX_CHECK(d >= 0, MX_ERR_SHAPE, what, ": invalid shape ", s.str());
  int64_t logical = 0;  // the dense equivalent's element count must fit, as for any array
  MX_CHECK(checked_size(s, &logical), MX_ERR_SHAPE, what, ": shape ", s.str(),
           " is too large: its number of elements does not fit in 64 bits");
  MX_CHECK(p.indices.ndim() == 1, MX_ERR_SHAPE, what, ": indices must be 1-d, got shape ",
           p.indices.shape().str());
  const int64_t *idx = p.indices.data<int64_t>();
  int64_t nnz = p.indices.shape()[0];
  if (p.stype == SType::row_sparse) {
    MX_CHECK(s.ndim() >= 1, MX_ERR_SHAPE, what, ": a row_sparse array needs at least 1 dimension");
    std::vector<int64_t> want = s.dims();
    want[0] = nnz;
    MX_CHECK(p.data.shape() == Shape(want), MX_ERR_SHAPE, what, ": row_sparse data has shape ",
             p.data.shape().str(), " but ", nnz, " indices and shape ", s.str(), " need ", Shape(want).str());
    for (int64_t i = 0; i < nnz; ++i) {
      MX_CHECK(idx[i] >= 0 && idx[i] < s[0], MX_ERR_INVALID_ARGUMENT, what, ": row index ", idx[i],
               " (position ", i, ") is out of bounds for ", s[0], " rows");
      MX_CHECK(i == 0 || idx[i] > idx[i - 1], MX_ERR_INVALID_ARGUMENT, what,
               ": row indices must be strictly increasing, but ", idx[i], " follows ", idx[i - 1]);
    }
    return;
  }
  MX_CHECK(p.stype == SType::csr, MX_ERR_INVALID_ARGUMENT, what, ": unknown storage type");
  MX_CHECK(s.ndim() == 2, MX_ERR_SHAPE, what, ": a csr array must be 2-d, got shape ", s.str());
  check_part(p.indptr, what, "indptr", true);
  MX_CHECK(p.indptr.ndim() == 1 && p.indptr.shape()[0] == s[0] + 1, MX_ERR_SHAPE, what, ": indptr has shape ",
           p.indptr.shape().str(), " but ", s[0], " rows need (", s[0] + 1, ",)");
  MX_CHECK(p.data.ndim() == 1 && p.data.shape()[0] == nnz, MX_ERR_SHAPE, what, ": data has shape ",
           p.data.shape().str(), " but there are ", nnz, " indices");
  const int64_t *ptr = p.indptr.data<int64_t>();
  MX_CHECK(ptr[0] == 0, MX_ERR_INVALID_ARGUMENT, what, ": indptr must start at 0, got ", ptr[0]);
  MX_CHECK(ptr[s[0]] == nnz, MX_ERR_INVALID_ARGUMENT, what, ": indptr ends at ", ptr[s[0]], " but there are ",
           nnz, " stored elements");
  for (int64_t r = 0; r < s[0]; ++r) {
    MX_CHECK(ptr[r + 1] >= ptr[r], MX_ERR_INVALID_ARGUMENT, what, ": indptr decreases at row ", r, " (",
             ptr[r], " then ", ptr[r + 1], ")");
    MX_CHECK(ptr[r + 1] <= nnz, MX_ERR_INVALID_ARGUMENT, what, ": indptr entry ", r + 1, " is ", ptr[r + 1],
             ", more than the ", nnz, " stored elements");
    for (int64_t k = ptr[r]; k < ptr[r + 1]; ++k) {
      MX_CHECK(idx[k] >= 0 && idx[k] < s[1], MX_ERR_INVALID_ARGUMENT, what, ": column index ", idx[k],
               " in row ", r, " is out of bounds for ", s[1], " columns");
      MX_CHECK(k == ptr[r] || idx[k] > idx[k - 1], MX_ERR_INVALID_ARGUMENT, what,
               ": column indices must be strictly increasing within a row, but row ", r, " has ", idx[k],
               " after ", idx[k - 1]);
    }
  }
}

NDArray sparse_zeros(SType s, const Shape &shape, DType dtype, Device dev) {
  MX_CHECK(dev.is_cpu(), MX_ERR_UNSUPPORTED, "sparse arrays live on the cpu in MX");
  if (s == SType::dflt) {
    NDArray z(shape, dtype, dev);
    std::memset(z.raw(), 0, z.nbytes());
    return z;
  }
  if (s == SType::row_sparse) {
    MX_CHECK(shape.ndim() >= 1, MX_ERR_SHAPE, "row_sparse arrays need at least 1 dimension, got shape ",
             shape.str());
    std::vector<int64_t> d = shape.dims();
    d[0] = 0;
    return make_row_sparse(shape, NDArray(Shape(d), dtype, dev), NDArray(Shape({0}), DType::i64, dev));
  }
  MX_CHECK(shape.ndim() == 2, MX_ERR_SHAPE, "csr arrays must be 2-d, got shape ", shape.str());
  NDArray ptr(Shape({shape[0] + 1}), DType::i64, dev);
  std::memset(ptr.raw(), 0, ptr.nbytes());
  return make_csr(shape, NDArray(Shape({0}), dtype, dev), ptr, NDArray(Shape({0}), DType::i64, dev));
}

NDArray to_dense(const NDArray &a) {
  if (!a.is_sparse()) return a;
  const SparseParts &p = *a.sparse();
  NDArray out(a.shape(), a.dtype(), a.device());
  std::memset(out.raw(), 0, out.nbytes());
  size_t es = dtype_size(a.dtype());
  const int64_t *idx = p.indices.data<int64_t>();
  const char *src = static_cast<const char *>(p.data.raw());
  char *dst = static_cast<char *>(out.raw());
  if (p.stype == SType::row_sparse) {
    size_t row = static_cast<size_t>(a.shape().prod(1, a.ndim())) * es;
    for (int64_t i = 0; i < p.indices.size(); ++i)
      std::memcpy(dst + static_cast<size_t>(idx[i]) * row, src + static_cast<size_t>(i) * row, row);
  } else {
    const int64_t *ptr = p.indptr.data<int64_t>();
    int64_t cols = a.shape()[1];
    for (int64_t r = 0; r < a.shape()[0]; ++r)
      for (int64_t k = ptr[r]; k < ptr[r + 1]; ++k)
        std::memcpy(dst + static_cast<size_t>(r * cols + idx[k]) * es, src + static_cast<size_t>(k) * es, es);
  }
  return out;
}

namespace {
// Which elements of a dense buffer are non-zero (NaN counts as non-zero, as in scipy).
std::vector<char> nonzero_mask(const NDArray &d) {
  std::vector<char> m(static_cast<size_t>(d.size()));
  int64_t n = d.size();
  MX_DTYPE_SWITCH_ALL(d.dtype(), T, {
    const T *x = d.data<T>();
    for (int64_t i = 0; i < n; ++i) m[static_cast<size_t>(i)] = static_cast<double>(x[i]) != 0.0;
  });
  return m;
}

NDArray dense_to_row_sparse(const NDArray &d) {
  MX_CHECK(d.ndim() >= 1, MX_ERR_SHAPE, "cast_storage: a row_sparse array needs at least 1 dimension, got shape ",
           d.shape().str());
  std::vector<char> m = nonzero_mask(d);
  int64_t rows = d.shape()[0], width = d.shape().prod(1, d.ndim());
  std::vector<int64_t> keep;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < width; ++j)
      if (m[static_cast<size_t>(r * width + j)]) {
        keep.push_back(r);
        break;
      }
  std::vector<int64_t> vd = d.shape().dims();
  vd[0] = static_cast<int64_t>(keep.size());
  NDArray vals(Shape(vd), d.dtype(), d.device());
  NDArray idx(Shape({vd[0]}), DType::i64, d.device());
  size_t row = static_cast<size_t>(width) * dtype_size(d.dtype());
  for (size_t i = 0; i < keep.size(); ++i) {
    idx.data<int64_t>()[i] = keep[i];
    std::memcpy(static_cast<char *>(vals.raw()) + i * row,
                static_cast<const char *>(d.raw()) + static_cast<size_t>(keep[i]) * row, row);
  }
  return make_row_sparse(d.shape(), vals, idx);
}

NDArray dense_to_csr(const NDArray &d) {
  MX_CHECK(d.ndim() == 2, MX_ERR_SHAPE, "cast_storage: csr arrays must be 2-d, got shape ", d.shape().str());
  std::vector<char> m = nonzero_mask(d);
  int64_t rows = d.shape()[0], cols = d.shape()[1];
  int64_t nnz = 0;
  for (char c : m) nnz += c;
  NDArray vals(Shape({nnz}), d.dtype(), d.device());
  NDArray idx(Shape({nnz}), DType::i64, d.device());
  NDArray ptr(Shape({rows + 1}), DType::i64, d.device());
  size_t es = dtype_size(d.dtype());
  int64_t *ip = ptr.data<int64_t>(), *ii = idx.data<int64_t>();
  const char *src = static_cast<const char *>(d.raw());
  char *dst = static_cast<char *>(vals.raw());
  int64_t k = 0;
  ip[0] = 0;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      size_t at = static_cast<size_t>(r * cols + c);
      if (!m[at]) continue;
      ii[k] = c;
      std::memcpy(dst + static_cast<size_t>(k) * es, src + at * es, es);
      ++k;
    }
    ip[r + 1] = k;
  }
  return make_csr(d.shape(), vals, ptr, idx);
}
}  // namespace

NDArray sparse_copy(const NDArray &a, DType dtype) {
  if (!a.is_sparse()) return a.astype(dtype);
  const SparseParts &p = *a.sparse();
  NDArray data = p.data.astype(dtype);
  if (p.stype == SType::row_sparse) return make_row_sparse(a.shape(), data, p.indices.copy());
  return make_csr(a.shape(), data, p.indptr.copy(), p.indices.copy());
}

NDArray sparse_copy_to(const NDArray &a, Device dev) {
  const SparseParts &p = *a.sparse();
  // Every component moves, so the array's context (that of its values) is `dev` (cpu(1), ...).
  if (p.stype == SType::row_sparse) return make_row_sparse(a.shape(), p.data.to(dev), p.indices.to(dev));
  return make_csr(a.shape(), p.data.to(dev), p.indptr.to(dev), p.indices.to(dev));
}

NDArray cast_storage(const NDArray &a, SType s) {
  MX_CHECK(a.device().is_cpu(), MX_ERR_UNSUPPORTED, "cast_storage: sparse storage is cpu-only in MX");
  SType from = stype_of(a);
  if (from == s) return a.is_sparse() ? sparse_copy(a, a.dtype()) : a.copy();
  if (s == SType::dflt) return to_dense(a);
  NDArray d = to_dense(a);  // sparse to the other sparse type goes through dense
  return s == SType::row_sparse ? dense_to_row_sparse(d) : dense_to_csr(d);
}

void sparse_assign(const NDArray &dst, const NDArray &src) {
  MX_CHECK(src.shape() == dst.shape(), MX_ERR_SHAPE, "copy: source shape ", src.shape().str(),
           " does not match destination shape ", dst.shape().str());
  if (!dst.is_sparse()) {
    dst.assign(to_dense(src));
    return;
  }
  if (dst.sparse() == src.sparse()) return;
  NDArray c = cast_storage(src, stype_of(dst));
  if (c.dtype() != dst.dtype()) c = sparse_copy(c, dst.dtype());
  if (c.device() != dst.device()) c = sparse_copy_to(c, dst.device());  // dst keeps its context
  *dst.sparse() = *c.sparse();
}

}  // namespace mx
