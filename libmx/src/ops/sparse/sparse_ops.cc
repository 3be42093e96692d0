// Sparse kernels of reductions and slicing, and the sparse-only operators: sum/mean of a csr
// matrix along one axis, csr row/column slices, _sparse_retain (row_sparse rows kept by index),
// and the row_sparse weight gradient of Embedding(sparse_grad=True).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "backends/cpu/parallel.h"
#include "ops/shape_common.h"
#include "ops/sparse/attach.h"

namespace mx {
namespace {

const std::vector<DType> kSparseValueTypes{DType::f32, DType::f64, DType::i32, DType::i64, DType::u8, DType::i8};
const std::vector<DType> kIndexTypes{DType::f32, DType::f64, DType::f16, DType::i32, DType::i64, DType::u8, DType::i8};

// ---------------------------------------------------------------- sum / mean of csr along one axis

// The single reduced axis (0 or 1) of a csr sum/mean, or -1 when the sparse kernel does not apply.
int csr_reduce_axis(const Params &p) {
  if (param_text(p, "exclude") == "True") return -1;
  bool ok = false;
  std::vector<int64_t> ax = parse_int_tuple(param_text(p, "axis"), &ok);
  if (!ok || ax.size() != 1) return -1;
  int64_t a = ax[0] < 0 ? ax[0] + 2 : ax[0];
  return a == 0 || a == 1 ? static_cast<int>(a) : -1;
}
bool infer_reduce(const Params &p, const STypeVec &in, STypeVec &out) {
  if (in.size() != 1 || in[0] != kCsr || csr_reduce_axis(p) < 0) return false;
  out[0] = kDns;
  return true;
}
template <bool MEAN> std::vector<NDArray> reduce_kernel(const SparseCall &c) {
  const NDArray &x = c.inputs[0];
  if (!dtype_is_float(x.dtype()))  // integer means round like the dense kernel: let it do them
    return {run_dense(c.params.op, c.params, {to_dense(x)})};
  int axis = csr_reduce_axis(c.params);
  const SparseParts &p = *x.sparse();
  int64_t rows = x.shape()[0], cols = x.shape()[1];
  NDArray out(c.out_shapes[0], x.dtype());
  const int64_t *ptr = p.indptr.data<int64_t>(), *idx = p.indices.data<int64_t>();
  MX_DTYPE_SWITCH_FLOAT(x.dtype(), T, "sum", {
    const T *v = p.data.data<T>();
    T *o = out.data<T>();
    if (axis == 0) {
      std::vector<double> acc(static_cast<size_t>(cols), 0.0);
      for (int64_t k = 0; k < p.indices.size(); ++k) acc[static_cast<size_t>(idx[k])] += static_cast<double>(v[k]);
      for (int64_t j = 0; j < cols; ++j) o[j] = T(MEAN ? acc[static_cast<size_t>(j)] / static_cast<double>(rows) : acc[static_cast<size_t>(j)]);
    } else {
      for (int64_t r = 0; r < rows; ++r) {
        double s = 0;
        for (int64_t k = ptr[r]; k < ptr[r + 1]; ++k) s += static_cast<double>(v[k]);
        o[r] = T(MEAN ? s / static_cast<double>(cols) : s);
      }
    }
  });
  return {out};
}
MX_SPARSE_KERNEL("sum", infer_reduce, reduce_kernel<false>);
MX_SPARSE_KERNEL("mean", infer_reduce, reduce_kernel<true>);

// ---------------------------------------------------------------- csr slice

struct Range {
  int64_t b, e;
};
bool csr_slice_ranges(const Params &p, const Shape &s, Range *r) {
  bool ok1 = false, ok2 = false, ok3 = false;
  auto begin = parse_opt_tuple(param_text(p, "begin"), &ok1);
  auto end = parse_opt_tuple(param_text(p, "end"), &ok2);
  auto step = parse_opt_tuple(param_text(p, "step"), &ok3);
  if (!ok1 || !ok2 || !ok3 || begin.size() > 2 || end.size() != begin.size()) return false;
  for (auto &st : step)
    if (st && *st != 1) return false;
  for (int a = 0; a < 2; ++a) {
    int64_t n = s[a];
    int64_t b = a < static_cast<int>(begin.size()) && begin[static_cast<size_t>(a)] ? *begin[static_cast<size_t>(a)] : 0;
    int64_t e = a < static_cast<int>(end.size()) && end[static_cast<size_t>(a)] ? *end[static_cast<size_t>(a)] : n;
    if (b < 0) b += n;
    if (e < 0) e += n;
    b = std::min(std::max<int64_t>(b, 0), n);
    e = std::min(std::max<int64_t>(e, 0), n);
    r[a] = {b, std::max(b, e)};
  }
  return true;
}
bool infer_slice(const Params &p, const STypeVec &in, STypeVec &out) {
  if (in.size() != 1 || in[0] != kCsr) return false;
  Range r[2];
  if (!csr_slice_ranges(p, Shape({1, 1}), r)) return false;  // parse check only
  out[0] = kCsr;
  return true;
}
std::vector<NDArray> slice_kernel(const SparseCall &c) {
  const NDArray &x = c.inputs[0];
  Range r[2];
  csr_slice_ranges(c.params, x.shape(), r);
  Shape os({r[0].e - r[0].b, r[1].e - r[1].b});
  MX_CHECK(os == c.out_shapes[0], MX_ERR_INTERNAL, "slice: csr result shape ", os.str(), " differs from ",
           c.out_shapes[0].str());
  const SparseParts &p = *x.sparse();
  const int64_t *ptr = p.indptr.data<int64_t>(), *idx = p.indices.data<int64_t>();
  std::vector<int64_t> keep, optr(1, 0);
  for (int64_t row = r[0].b; row < r[0].e; ++row) {
    for (int64_t k = ptr[row]; k < ptr[row + 1]; ++k)
      if (idx[k] >= r[1].b && idx[k] < r[1].e) keep.push_back(k);
    optr.push_back(static_cast<int64_t>(keep.size()));
  }
  int64_t nnz = static_cast<int64_t>(keep.size());
  NDArray vals(Shape({nnz}), x.dtype()), oidx(Shape({nnz}), DType::i64), iptr(Shape({os[0] + 1}), DType::i64);
  size_t es = dtype_size(x.dtype());
  for (int64_t i = 0; i < nnz; ++i) {
    int64_t k = keep[static_cast<size_t>(i)];
    oidx.data<int64_t>()[i] = idx[k] - r[1].b;
    std::memcpy(static_cast<char *>(vals.raw()) + static_cast<size_t>(i) * es,
                static_cast<const char *>(p.data.raw()) + static_cast<size_t>(k) * es, es);
  }
  std::copy(optr.begin(), optr.end(), iptr.data<int64_t>());
  return {make_csr(os, vals, iptr, oidx)};
}
MX_SPARSE_KERNEL("slice", infer_slice, slice_kernel);

// ---------------------------------------------------------------- _sparse_retain

// Requested rows as sorted unique int64, each checked against the row count.
std::vector<int64_t> retained_rows(const NDArray &indices, int64_t rows) {
  std::vector<int64_t> v = shape_detail::read_indices(indices);
  for (int64_t r : v)
    MX_CHECK(r >= 0 && r < rows, MX_ERR_INVALID_ARGUMENT, "_sparse_retain: row index ", r,
             " is out of bounds for ", rows, " rows");
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

MX_REGISTER_OP(_sparse_retain)
    .doc("Keeps the rows of a row_sparse array whose numbers are listed in `indices`; the other rows "
         "become zero (mx.nd.sparse.retain).")
    .inputs({"data", "indices"})
    .dtypes(kIndexTypes)
    .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
      if (!in[0].known()) return false;
      MX_CHECK(in[0].ndim() >= 1, MX_ERR_SHAPE, "_sparse_retain: data must have at least 1 dimension");
      assign_shape(out[0], in[0], "_sparse_retain", "output");
      return true;
    })
    .type([](const Params &, TypeVec &in, TypeVec &, TypeVec &out) {
      out[0] = in[0];
      return in[0] >= 0;
    })
    .infer_stype([](const Params &, const STypeVec &in, STypeVec &out) {
      if (in[0] == kCsr) return false;
      out[0] = kRsp;
      return true;
    })
    .sparse([](const SparseCall &c) {
      NDArray data = c.inputs[0].is_sparse() ? c.inputs[0] : cast_storage(c.inputs[0], SType::row_sparse);
      std::vector<int64_t> want = retained_rows(c.inputs[1], data.shape()[0]);
      const SparseParts &p = *data.sparse();
      const int64_t *have = p.indices.data<int64_t>();
      int64_t nh = p.indices.size(), width = data.shape().prod(1, data.ndim());
      std::vector<int64_t> pos, rows;
      size_t w = 0;
      for (int64_t i = 0; i < nh; ++i) {
        while (w < want.size() && want[w] < have[i]) ++w;
        if (w < want.size() && want[w] == have[i]) pos.push_back(i), rows.push_back(have[i]);
      }
      std::vector<int64_t> vd = data.shape().dims();
      vd[0] = static_cast<int64_t>(rows.size());
      NDArray vals(Shape(vd), data.dtype()), idx(Shape({vd[0]}), DType::i64);
      size_t row_bytes = static_cast<size_t>(width) * dtype_size(data.dtype());
      for (size_t i = 0; i < pos.size(); ++i)
        std::memcpy(static_cast<char *>(vals.raw()) + i * row_bytes,
                    static_cast<const char *>(p.data.raw()) + static_cast<size_t>(pos[i]) * row_bytes, row_bytes);
      std::copy(rows.begin(), rows.end(), idx.data<int64_t>());
      return std::vector<NDArray>{make_row_sparse(data.shape(), vals, idx)};
    })
    .cpu([](const OpCall &c) {  // dense data (graphs, fallback): the kept rows, zeros elsewhere
      const NDArray &d = c.inputs[0], &o = c.outputs[0];
      std::memset(o.raw(), 0, o.nbytes());
      size_t row_bytes = static_cast<size_t>(d.shape().prod(1, d.ndim())) * dtype_size(d.dtype());
      for (int64_t r : retained_rows(c.inputs[1], d.shape()[0]))
        std::memcpy(static_cast<char *>(o.raw()) + static_cast<size_t>(r) * row_bytes,
                    static_cast<const char *>(d.raw()) + static_cast<size_t>(r) * row_bytes, row_bytes);
    })
    .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
      return {b.emit1("_sparse_retain", {}, {n.out_grads[0], n.inputs[1]}), Var::none()};
    });

// ---------------------------------------------------------------- Embedding's row_sparse gradient

// Row of the weight each index selects: truncated and clipped, as Embedding's forward does.
std::vector<int64_t> embedding_rows(const NDArray &data, int64_t rows) {
  std::vector<int64_t> r = shape_detail::read_indices(data);
  for (auto &k : r) k = k < 0 ? 0 : k >= rows ? rows - 1 : k;
  return r;
}

MX_REGISTER_OP(_backward_sparse_embedding)
    .doc("Gradient of Embedding(sparse_grad=True) for its weight: a row_sparse array holding the rows "
         "the indices selected, each the sum of its output gradients.")
    .inputs({"ograd", "data", "weight"})
    .dtypes(kSparseValueTypes)
    .hidden()
    .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
      if (!in[1].known() || !in[2].known()) return false;
      MX_CHECK(in[2].ndim() == 2, MX_ERR_SHAPE, "_backward_sparse_embedding: weight must be 2-d, got ",
               in[2].str());
      std::vector<int64_t> og = in[1].dims();
      og.push_back(in[2][1]);
      assign_shape(in[0], Shape(og), "_backward_sparse_embedding", "ograd");  // data shape + (output_dim,)
      assign_shape(out[0], in[2], "_backward_sparse_embedding", "output");
      return true;
    })
    .type([](const Params &, TypeVec &in, TypeVec &, TypeVec &out) {
      out[0] = in[0];
      return in[0] >= 0;
    })
    .infer_stype(
        [](const Params &, const STypeVec &in, STypeVec &out) {
          out[0] = kRsp;
          return in[0] == kDns && in[1] == kDns;
        },
        /*from_dense=*/true)
    .sparse([](const SparseCall &c) {
      const NDArray &og = c.inputs[0];
      const Shape &ws = c.out_shapes[0];
      int64_t width = ws[1];
      std::vector<int64_t> sel = embedding_rows(c.inputs[1], ws[0]);
      std::vector<int64_t> rows(sel);
      std::sort(rows.begin(), rows.end());
      rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
      std::vector<int64_t> slot(static_cast<size_t>(ws[0]), -1);
      for (size_t i = 0; i < rows.size(); ++i) slot[static_cast<size_t>(rows[i])] = static_cast<int64_t>(i);
      NDArray vals(Shape({static_cast<int64_t>(rows.size()), width}), og.dtype());
      NDArray idx(Shape({static_cast<int64_t>(rows.size())}), DType::i64);
      std::copy(rows.begin(), rows.end(), idx.data<int64_t>());
      MX_DTYPE_SWITCH_FLOAT(og.dtype(), T, "Embedding gradient", {
        T *o = vals.data<T>();
        const T *g = og.data<T>();
        std::fill(o, o + vals.size(), T(0));
        for (size_t i = 0; i < sel.size(); ++i) {
          T *dst = o + slot[static_cast<size_t>(sel[i])] * width;
          const T *src = g + static_cast<int64_t>(i) * width;
          for (int64_t j = 0; j < width; ++j) dst[j] += src[j];
        }
      });
      return std::vector<NDArray>{make_row_sparse(ws, vals, idx)};
    })
    .cpu([](const OpCall &c) {  // graphs: the same gradient, dense
      const NDArray &og = c.inputs[0], &o = c.outputs[0];
      int64_t width = o.shape()[1];
      std::vector<int64_t> sel = embedding_rows(c.inputs[1], o.shape()[0]);
      MX_DTYPE_SWITCH_FLOAT(og.dtype(), T, "Embedding gradient", {
        T *out = o.data<T>();
        const T *g = og.data<T>();
        std::fill(out, out + o.size(), T(0));
        for (size_t i = 0; i < sel.size(); ++i)
          for (int64_t j = 0; j < width; ++j) out[sel[i] * width + j] += g[static_cast<int64_t>(i) * width + j];
      });
    })
    .no_grad();

}  // namespace
}  // namespace mx
