// Indexing ops: take, pick, gather_nd, scatter_nd, one_hot, Embedding, sort, argsort, topk,
// SequenceMask, SequenceLast, SequenceReverse, with their hidden adjoints (_backward_take,
// _backward_pick, _backward_gather_nd, _scatter_along_axis, _take_along_axis,
// _backward_SequenceLast). Index inputs may have any dtype; floats truncate toward zero.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "ops/cuda_only.h"
#include "ops/each.h"
#include "ops/index_gpu.h"
#include "ops/shape_common.h"
#include "ops/sort_kernels.h"

namespace mx {
namespace {

using namespace shape_detail;

// ---------------------------------------------------------------- index normalisation
enum class Mode { clip, wrap, raise };
Mode parse_mode(const std::string &m, const char *op, bool allow_raise) {
  if (m == "clip") return Mode::clip;
  if (m == "wrap") return Mode::wrap;
  if (m == "raise" && allow_raise) return Mode::raise;
  fail(MX_ERR_INVALID_ARGUMENT, op, ": parameter 'mode' has value '", m, "' (expected clip, wrap",
       allow_raise ? " or raise" : "", ")");
}
int64_t fix_index(int64_t i, int64_t n, Mode m, const char *op) {
  if (m == Mode::clip) return i < 0 ? 0 : (i >= n ? n - 1 : i);
  if (m == Mode::wrap) {
    int64_t r = n ? i % n : 0;
    return r < 0 ? r + n : r;
  }
  MX_CHECK(i >= -n && i < n, MX_ERR_INVALID_ARGUMENT, op, ": index ", i, " is out of bounds for axis of size ", n,
           " (mode='raise')");
  return i < 0 ? i + n : i;
}
std::vector<int64_t> fixed_indices(const NDArray &idx, int64_t n, Mode m, const char *op) {
  auto v = read_indices(idx);
  MX_CHECK(n > 0 || v.empty(), MX_ERR_INVALID_ARGUMENT, op, ": cannot index an axis of size 0");
  for (auto &i : v) i = fix_index(i, n, m, op);
  return v;
}

// ---------------------------------------------------------------- take
struct TakeParam {
  int64_t axis = 0;
  std::string mode = "clip";
  static void describe(ParamDecl<TakeParam> &d) {
    d.field("axis", &TakeParam::axis).def(int64_t(0)).doc("Axis to take along.");
    d.field("mode", &TakeParam::mode).def(std::string("clip")).choices({"raise", "wrap", "clip"}).doc(
        "Out-of-range indices: clip to the range, wrap around, or raise an error.");
  }
};

Shape take_shape(const TakeParam &p, const Shape &a, const Shape &idx) {
  int ax = normalize_axis(p.axis, a.ndim(), "take: axis");
  std::vector<int64_t> o(a.dims().begin(), a.dims().begin() + ax);
  o.insert(o.end(), idx.dims().begin(), idx.dims().end());
  o.insert(o.end(), a.dims().begin() + ax + 1, a.dims().end());
  return Shape(o);
}

// out[p, j, q] (+)= a[p, idx[j], q] (forward) or grad[p, idx[j], q] += g[p, j, q] (backward).
void take_move(const NDArray &a, const std::vector<int64_t> &idx, const NDArray &o, int ax, bool backward) {
  const Shape &s = a.shape();
  int64_t pre = s.prod(0, ax), n = s[ax], post = s.prod(ax + 1, s.ndim()), k = static_cast<int64_t>(idx.size());
  if (!backward) {
    size_t es = dtype_size(a.dtype());
    const char *src = static_cast<const char *>(a.size() ? a.raw() : nullptr);
    char *dst = static_cast<char *>(o.size() ? o.raw() : nullptr);
    if (!dst) return;
    parallel_for(pre * k, std::max<int64_t>(1, kElemGrain / std::max<int64_t>(post, 1)), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        int64_t p = r / k, j = r % k;
        std::memcpy(dst + r * post * static_cast<int64_t>(es),
                    src + (p * n + idx[static_cast<size_t>(j)]) * post * static_cast<int64_t>(es),
                    static_cast<size_t>(post) * es);
      }
    });
    return;
  }
  // a: out_grad (pre, k, post); o: grad of data (pre, n, post), zeroed.
  MX_DTYPE_SWITCH_ALL(a.dtype(), T, {
    const T *g = a.data<T>();
    T *d = o.data<T>();
    int64_t on = o.shape()[ax];
    for (int64_t p = 0; p < pre; ++p)
      for (int64_t j = 0; j < k; ++j) {
        const T *gs = g + (p * k + j) * post;
        T *ds = d + (p * on + idx[static_cast<size_t>(j)]) * post;
        for (int64_t q = 0; q < post; ++q) add_to(ds[q], gs[q]);
      }
  });
  (void)n;
}

// ---------------------------------------------------------------- along-axis helpers (pick, sort, topk)
// Lines of `shape` along `axis`: pre x n x post. When axis is None the array is one flat line.
struct Lines {
  int64_t pre, n, post;
};
Lines lines_of(const Shape &s, const std::optional<int64_t> &axis, const char *op) {
  if (!axis) return {1, s.size(), 1};
  int a = normalize_axis(*axis, s.ndim(), (std::string(op) + ": axis").c_str());
  return {s.prod(0, a), s[a], s.prod(a + 1, s.ndim())};
}

// out[p, j, q] = data[p, idx[p, j, q], q] with k = idx entries per line.
void gather_along(const NDArray &data, const std::vector<int64_t> &idx, const NDArray &out, Lines L, int64_t k) {
  MX_BYTES_SWITCH(dtype_size(data.dtype()), T, {
    const T *d = data.data<T>();
    T *o = out.data<T>();
    for (int64_t p = 0; p < L.pre; ++p)
      for (int64_t j = 0; j < k; ++j)
        for (int64_t q = 0; q < L.post; ++q) {
          int64_t i = (p * k + j) * L.post + q;
          o[i] = d[(p * L.n + idx[static_cast<size_t>(i)]) * L.post + q];
        }
  });
}
// grad[p, idx[p, j, q], q] += g[p, j, q]; grad zeroed first.
void scatter_along(const NDArray &g, const std::vector<int64_t> &idx, const NDArray &grad, Lines L, int64_t k) {
  zero_fill(grad);
  MX_DTYPE_SWITCH_ALL(g.dtype(), T, {
    const T *s = g.data<T>();
    T *o = grad.data<T>();
    for (int64_t p = 0; p < L.pre; ++p)
      for (int64_t j = 0; j < k; ++j)
        for (int64_t q = 0; q < L.post; ++q) {
          int64_t i = (p * k + j) * L.post + q;
          add_to(o[(p * L.n + idx[static_cast<size_t>(i)]) * L.post + q], s[i]);
        }
  });
}

struct PickParam {
  std::optional<int64_t> axis = -1;
  bool keepdims = false;
  std::string mode = "clip";
  static void describe(ParamDecl<PickParam> &d) {
    d.field("axis", &PickParam::axis).def(std::optional<int64_t>(-1)).doc("Axis to pick along (None: flattened input).");
    d.field("keepdims", &PickParam::keepdims).def(false).doc("Keep the picked axis with size 1.");
    d.field("mode", &PickParam::mode).def(std::string("clip")).choices({"clip", "wrap"}).doc(
        "Out-of-range indices: clip or wrap.");
  }
};
Shape pick_shape(const PickParam &p, const Shape &s) {
  if (!p.axis) return p.keepdims ? Shape(std::vector<int64_t>(static_cast<size_t>(s.ndim()), 1)) : Shape({1});
  int a = normalize_axis(*p.axis, s.ndim(), "pick: axis");
  Shape o = s;
  if (p.keepdims) o[a] = 1;
  else o.dims().erase(o.dims().begin() + a);
  return o;
}

struct AlongParam {
  std::optional<int64_t> axis = -1;
  static void describe(ParamDecl<AlongParam> &d) {
    d.field("axis", &AlongParam::axis).def(std::optional<int64_t>(-1)).doc("Axis (None: flattened input).");
  }
};

// ---------------------------------------------------------------- gather_nd / scatter_nd
struct ScatterNDParam {
  std::vector<int64_t> shape;
  static void describe(ParamDecl<ScatterNDParam> &d) {
    d.field("shape", &ScatterNDParam::shape).required().doc("Shape of the output.");
  }
};
Shape gather_nd_shape(const Shape &data, const Shape &idx, const char *op) {
  MX_CHECK(idx.ndim() >= 1, MX_ERR_SHAPE, op, ": indices must have at least 1 dim, got ", idx.str());
  int m = static_cast<int>(idx[0]);
  MX_CHECK(m >= 1 && m <= data.ndim(), MX_ERR_SHAPE, op, ": indices.shape[0] = ", idx[0],
           " must be between 1 and the data ndim ", data.ndim());
  std::vector<int64_t> o(idx.dims().begin() + 1, idx.dims().end());
  o.insert(o.end(), data.dims().begin() + m, data.dims().end());
  return Shape(o);
}
// Element offsets (in units of the trailing block) of each index tuple into `data` shape.
std::vector<int64_t> nd_offsets(const NDArray &indices, const Shape &data, const char *op) {
  auto v = read_indices(indices);
  int64_t m = indices.shape()[0], cnt = m ? indices.size() / m : 0;
  std::vector<int64_t> off(static_cast<size_t>(cnt), 0);
  for (int64_t j = 0; j < cnt; ++j) {
    int64_t o = 0;
    for (int64_t d = 0; d < m; ++d) {
      int64_t i = v[static_cast<size_t>(d * cnt + j)], n = data[static_cast<int>(d)];
      if (i < 0) i += n;
      MX_CHECK(i >= 0 && i < n, MX_ERR_INVALID_ARGUMENT, op, ": index ", v[static_cast<size_t>(d * cnt + j)],
               " is out of bounds for axis ", d, " of size ", n);
      o = o * n + i;
    }
    off[static_cast<size_t>(j)] = o;
  }
  return off;
}

// ---------------------------------------------------------------- one_hot / Embedding
struct OneHotParam {
  int64_t depth = 0;
  double on_value = 1, off_value = 0;
  std::string dtype = "float32";
  static void describe(ParamDecl<OneHotParam> &d) {
    d.field("depth", &OneHotParam::depth).required().doc("Length of the one-hot axis.");
    d.field("on_value", &OneHotParam::on_value).def(1.0).doc("Value at the index.");
    d.field("off_value", &OneHotParam::off_value).def(0.0).doc("Value elsewhere.");
    d.field("dtype", &OneHotParam::dtype).def(std::string("float32"))
        .choices({"bfloat16", "float16", "float32", "float64", "int32", "int64", "int8", "uint8"})
        .doc("Output dtype.");
  }
};
struct EmbeddingParam {
  int64_t input_dim = 0, output_dim = 0;
  std::string dtype = "float32";
  bool sparse_grad = false;
  static void describe(ParamDecl<EmbeddingParam> &d) {
    d.field("input_dim", &EmbeddingParam::input_dim).required().doc("Vocabulary size (rows of weight).");
    d.field("output_dim", &EmbeddingParam::output_dim).required().doc("Embedding size (columns of weight).");
    d.field("dtype", &EmbeddingParam::dtype).def(std::string("float32"))
        .choices({"bfloat16", "float16", "float32", "float64", "int32", "int64", "int8", "uint8"})
        .doc("Weight and output dtype.");
    d.field("sparse_grad", &EmbeddingParam::sparse_grad).def(false).doc("Compute the weight gradient as a row_sparse array (autograd and graphs).");
  }
};

// ---------------------------------------------------------------- sort / argsort / topk
struct SortParam {
  std::optional<int64_t> axis = -1;
  bool is_ascend = true;
  static void describe(ParamDecl<SortParam> &d) {
    d.field("axis", &SortParam::axis).def(std::optional<int64_t>(-1)).doc("Axis to sort (None: flattened input).");
    d.field("is_ascend", &SortParam::is_ascend).def(true).doc("Ascending order.");
  }
};
struct ArgsortParam {
  std::optional<int64_t> axis = -1;
  bool is_ascend = true;
  std::string dtype = "float32";
  static void describe(ParamDecl<ArgsortParam> &d) {
    d.field("axis", &ArgsortParam::axis).def(std::optional<int64_t>(-1)).doc("Axis to sort (None: flattened input).");
    d.field("is_ascend", &ArgsortParam::is_ascend).def(true).doc("Ascending order.");
    d.field("dtype", &ArgsortParam::dtype).def(std::string("float32"))
        .choices({"float16", "float32", "float64", "int32", "int64", "uint8"}).doc("Dtype of the indices.");
  }
};
struct TopkParam {
  std::optional<int64_t> axis = -1;
  int64_t k = 1;
  std::string ret_typ = "indices";
  bool is_ascend = false;
  std::string dtype = "float32";
  static void describe(ParamDecl<TopkParam> &d) {
    d.field("axis", &TopkParam::axis).def(std::optional<int64_t>(-1)).doc("Axis (None: flattened input).");
    d.field("k", &TopkParam::k).def(int64_t(1)).doc("Number of elements to select; k < 1 selects all.");
    d.field("ret_typ", &TopkParam::ret_typ).def(std::string("indices"))
        .choices({"both", "indices", "mask", "value"}).doc("What to return.");
    d.field("is_ascend", &TopkParam::is_ascend).def(false).doc("Select the smallest (True) or largest elements.");
    d.field("dtype", &TopkParam::dtype).def(std::string("float32"))
        .choices({"float16", "float32", "float64", "int32", "int64", "uint8"}).doc("Dtype of the indices.");
  }
};

void write_indices(const std::vector<int64_t> &idx, const NDArray &out) {
  MX_DTYPE_SWITCH_ALL(out.dtype(), T, {
    T *o = out.data<T>();
    for (size_t i = 0; i < idx.size(); ++i) o[i] = from_f64<T>(static_cast<double>(idx[i]));
  });
}
Shape with_axis(const Shape &s, const std::optional<int64_t> &axis, int64_t k, const char *op) {
  if (!axis) return Shape({k});
  int a = normalize_axis(*axis, s.ndim(), (std::string(op) + ": axis").c_str());
  Shape o = s;
  o[a] = k;
  return o;
}
int64_t topk_k(const TopkParam &p, const Shape &s) {
  int64_t n = lines_of(s, p.axis, "topk").n;
  if (p.k < 1) return n;
  MX_CHECK(p.k <= n, MX_ERR_INVALID_ARGUMENT, "topk: parameter 'k' has value ", p.k,
           " larger than the axis size ", n);
  return p.k;
}
Kwargs axis_kw(const std::optional<int64_t> &axis) { return {{"axis", print_value(axis)}}; }

// ---------------------------------------------------------------- Sequence*
struct SeqParam {
  bool use_sequence_length = false;
  double value = 0;
  int64_t axis = 0;
  static void describe(ParamDecl<SeqParam> &d) {
    d.field("use_sequence_length", &SeqParam::use_sequence_length).def(false).doc(
        "Use the sequence_length input (else every sequence has the full length).");
    d.field("value", &SeqParam::value).def(0.0).doc("Fill value (SequenceMask).");
    d.field("axis", &SeqParam::axis).def(int64_t(0)).doc("Time axis: 0 for (T, B, ...), 1 for (B, T, ...).");
  }
};
std::vector<std::string> seq_inputs(const Params &p) {
  if (p.get<SeqParam>().use_sequence_length) return {"data", "sequence_length"};
  return {"data"};
}
std::vector<std::string> seq_bw_inputs(const Params &p) {
  if (p.get<SeqParam>().use_sequence_length) return {"out_grad", "data", "sequence_length"};
  return {"out_grad", "data"};
}
void check_seq(const SeqParam &p, const ShapeVec &in, size_t data_pos, const char *op) {
  MX_CHECK(p.axis == 0 || p.axis == 1, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'axis' has value ", p.axis,
           " (only 0 and 1 are supported)");
  const Shape &d = in[data_pos];
  MX_CHECK(d.ndim() >= 2, MX_ERR_SHAPE, op, ": data must have at least 2 dims (time and batch), got ", d.str());
  if (p.use_sequence_length && in.size() > data_pos + 1 && in[data_pos + 1].known()) {
    int64_t batch = d[p.axis == 0 ? 1 : 0];
    MX_CHECK(in[data_pos + 1] == Shape({batch}), MX_ERR_SHAPE, op, ": sequence_length has shape ",
             in[data_pos + 1].str(), " but must be (", batch, ",)");
  }
}
// Length of each batch entry (clipped to [0, T]).
std::vector<int64_t> seq_lengths(const SeqParam &p, const std::vector<NDArray> &in, size_t data_pos) {
  const Shape &s = in[data_pos].shape();
  int64_t T = s[static_cast<int>(p.axis)], B = s[p.axis == 0 ? 1 : 0];
  std::vector<int64_t> len(static_cast<size_t>(B), T);
  if (p.use_sequence_length) {
    auto v = read_indices(host_copy(in[data_pos + 1]));
    for (int64_t b = 0; b < B; ++b) len[static_cast<size_t>(b)] = std::min(std::max<int64_t>(v[static_cast<size_t>(b)], 0), T);
  }
  return len;
}
// Offset (in elements) of (t, b) and the size of the trailing block.
struct SeqLayout {
  int64_t T, B, inner;
  int axis;
  int64_t at(int64_t t, int64_t b) const { return (axis == 0 ? (t * B + b) : (b * T + t)) * inner; }
};
SeqLayout seq_layout(const SeqParam &p, const Shape &s) {
  return {s[static_cast<int>(p.axis)], s[p.axis == 0 ? 1 : 0], s.prod(2, s.ndim()), static_cast<int>(p.axis)};
}
Kwargs seq_kw(const SeqParam &p, double value) {
  return {{"use_sequence_length", print_value(p.use_sequence_length)}, {"axis", print_value(p.axis)},
          {"value", print_value(value)}};
}
std::vector<Var> seq_inputs_of(const GradNode &n, Var first) {
  std::vector<Var> v{first};
  if (n.inputs.size() > 1) v.push_back(n.inputs[1]);
  return v;
}

DType dtype_param(const std::string &s) { return dtype_from_name(s); }

// ---------------------------------------------------------------- device-aware kernels of sort /
// argsort / topk, the along-axis adjoints and Sequence* (ops/sort_kernels.h: HostEach on the
// CPU, backends/cuda/sort_sequence.cu on a GPU)
sortk::LineGeom geom(Lines L) { return {L.pre, L.n, L.post}; }
bool on_cpu(const NDArray &a) { return a.device().is_cpu(); }

NDArray positions(const OpCall &c, const NDArray &x, Lines L, int64_t k, bool ascend) {
  if (on_cpu(x)) return sortk::sort_positions(x, geom(L), k, ascend, HostEach());
  return gpu_sort_positions(c, x, geom(L), k, ascend);
}
void gather_positions(const OpCall &c, const NDArray &x, const NDArray &idx, const NDArray &out, Lines L, int64_t k) {
  if (!out.size()) return;
  if (on_cpu(out)) sortk::gather_along(x, idx, out, geom(L), k, HostEach());
  else gpu_gather_along(c, x, idx, out, geom(L), k);
}
void write_positions(const OpCall &c, const NDArray &idx, const NDArray &out) {
  if (!out.size()) return;
  if (on_cpu(out) ? sortk::write_indices(idx, out, HostEach()) : gpu_write_indices(c, idx, out)) return;
  // float16 / bfloat16 index outputs: converted on the host
  NDArray hi = host_copy(idx), ho(out.shape(), out.dtype(), Device());
  write_indices(std::vector<int64_t>(hi.data<int64_t>(), hi.data<int64_t>() + hi.size()), ho);
  copy_bytes(ho, out);
}
// grad = 0, then g added at the positions (add), or a one-element host array's value set there.
void scatter_positions(const OpCall &c, const NDArray &g, const NDArray &idx, const NDArray &grad, Lines L, int64_t k,
                       bool add) {
  zero_fill(grad);
  if (!grad.size() || !idx.size()) return;
  const DType t = grad.dtype();
  if (on_cpu(grad) && add && (t == DType::f16 || t == DType::bf16 || t == DType::boolean)) {
    scatter_along(g, std::vector<int64_t>(idx.data<int64_t>(), idx.data<int64_t>() + idx.size()), grad, L, k);
    return;
  }
  if (on_cpu(grad)) sortk::scatter_along(g, idx, grad, geom(L), k, add, HostEach());
  else gpu_scatter_along(c, g, idx, grad, geom(L), k, add);
}
// The Sequence* kernel `kind` from `in` (lengths: input data_pos + 1) into output 0.
void run_sequence(const OpCall &c, sortk::SeqKind kind, size_t data_pos, const NDArray &in, const void *value) {
  const auto &p = c.p<SeqParam>();
  const NDArray &out = c.outputs[0];
  if (!out.size()) return;
  if (!in.size()) {  // no time steps: nothing to read
    zero_fill(out);
    return;
  }
  const SeqLayout L = seq_layout(p, c.inputs[data_pos].shape());
  const sortk::SeqGeom G{L.T, L.B, L.inner, L.axis};
  NDArray lens;
  const int64_t *lp = nullptr;
  if (p.use_sequence_length) {
    lens = indices_on(seq_lengths(p, c.inputs, data_pos), out.device());
    lp = lens.data<int64_t>();
  }
  if (on_cpu(out)) sortk::sequence(kind, G, lp, in, out, value, HostEach());
  else gpu_sequence(c, kind, G, lp, in, out, value);
}

int register_ops() {
  MX_REGISTER_OP(take)
      .doc("Takes elements of `a` at `indices` along `axis` (mode clip by default).")
      .params<TakeParam>()
      .inputs({"a", "indices"})
      .dtypes(all_dtypes())
      .type(type_from_first)
      .shape([](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known() || !in[1].known()) return false;
        parse_mode(pp.get<TakeParam>().mode, "take", true);
        assign_shape(out[0], take_shape(pp.get<TakeParam>(), in[0], in[1]), "take", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<TakeParam>();
        int ax = normalize_axis(p.axis, c.inputs[0].ndim(), "take: axis");
        auto idx = fixed_indices(c.inputs[1], c.inputs[0].shape()[ax], parse_mode(p.mode, "take", true), "take");
        take_move(c.inputs[0], idx, c.outputs[0], ax, false);
      })
      .gpu(cuda_only([](const OpCall &c) {
        const auto &p = c.p<TakeParam>();
        const Shape &s = c.inputs[0].shape();
        int ax = normalize_axis(p.axis, s.ndim(), "take: axis");
        auto idx = fixed_indices(host_copy(c.inputs[1]), s[ax], parse_mode(p.mode, "take", true), "take");
        gpu_take_rows(c.inputs[0], indices_on(idx, c.outputs[0].device()), c.outputs[0], s.prod(0, ax), s[ax],
                      static_cast<int64_t>(idx.size()), s.prod(ax + 1, s.ndim()), "take");
      }))
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {emit_with(b, "_backward_take", n, {n.out_grads[0], n.inputs[1], n.inputs[0]})[0], Var::none()};
      });

  MX_REGISTER_OP(_backward_take)
      .doc("Adjoint of take: scatter-adds out_grad into zeros shaped like data.")
      .params<TakeParam>()
      .inputs({"out_grad", "indices", "data"})
      .dtypes(all_dtypes())
      .type(type_from_first)
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[2].known()) return false;
        assign_shape(out[0], in[2], "_backward_take", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<TakeParam>();
        const NDArray &o = c.outputs[0];
        int ax = normalize_axis(p.axis, o.ndim(), "take: axis");
        auto idx = fixed_indices(c.inputs[1], o.shape()[ax], parse_mode(p.mode, "take", true), "take");
        zero_fill(o);
        // View out_grad as (pre, k, post) against o's (pre, n, post).
        Shape gs({o.shape().prod(0, ax), static_cast<int64_t>(idx.size()), o.shape().prod(ax + 1, o.ndim())});
        Shape os({gs[0], o.shape()[ax], gs[2]});
        take_move(c.inputs[0].reshape(gs), idx, o.reshape(os), 1, true);
      })
      .gpu(cuda_only([](const OpCall &c) {
        const auto &p = c.p<TakeParam>();
        const NDArray &o = c.outputs[0];
        int ax = normalize_axis(p.axis, o.ndim(), "take: axis");
        auto idx = fixed_indices(host_copy(c.inputs[1]), o.shape()[ax], parse_mode(p.mode, "take", true), "take");
        gpu_scatter_add_rows(c.inputs[0], indices_on(idx, o.device()), o, o.shape().prod(0, ax), o.shape()[ax],
                             static_cast<int64_t>(idx.size()), o.shape().prod(ax + 1, o.ndim()), "_backward_take");
      }))
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {emit_with(b, "take", n, {n.out_grads[0], n.inputs[1]})[0], Var::none(), Var::none()};
      });

  MX_REGISTER_OP(Embedding)
      .doc("Maps integer indices to rows of `weight` (indices are clipped to [0, input_dim)).")
      .params<EmbeddingParam>()
      .inputs({"data", "weight"})
      .dtypes(all_dtypes())
      .type([](const Params &pp, TypeVec &in, TypeVec &, TypeVec &out) {
        if (in[1] < 0) in[1] = static_cast<int>(dtype_param(pp.get<EmbeddingParam>().dtype));
        if (in[0] < 0) in[0] = in[1];
        out[0] = in[1];
        return true;
      })
      .shape([](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        const auto &p = pp.get<EmbeddingParam>();
        MX_CHECK(p.input_dim > 0 && p.output_dim > 0, MX_ERR_INVALID_ARGUMENT,
                 "Embedding: parameters 'input_dim' (", p.input_dim, ") and 'output_dim' (", p.output_dim,
                 ") must be positive");
        assign_shape(in[1], Shape({p.input_dim, p.output_dim}), "Embedding", "weight");
        if (!in[0].known()) return false;
        std::vector<int64_t> o = in[0].dims();
        o.push_back(p.output_dim);
        assign_shape(out[0], Shape(o), "Embedding", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        auto idx = fixed_indices(c.inputs[0], c.inputs[1].shape()[0], Mode::clip, "Embedding");
        take_move(c.inputs[1], idx, c.outputs[0], 0, false);
      })
      .gpu(cuda_only([](const OpCall &c) {
        const Shape &w = c.inputs[1].shape();
        auto idx = fixed_indices(host_copy(c.inputs[0]), w[0], Mode::clip, "Embedding");
        gpu_take_rows(c.inputs[1], indices_on(idx, c.outputs[0].device()), c.outputs[0], 1, w[0],
                      static_cast<int64_t>(idx.size()), w.prod(1, w.ndim()), "Embedding");
      }))
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        // sparse_grad: a row_sparse weight gradient (ops/sparse/sparse_ops.cc)
        Var gw = n.p<EmbeddingParam>().sparse_grad
                     ? b.emit1("_backward_sparse_embedding", {}, {n.out_grads[0], n.inputs[0], n.inputs[1]})
                     : b.emit1("_backward_take", {{"axis", "0"}, {"mode", "clip"}}, {n.out_grads[0], n.inputs[0], n.inputs[1]});
        return {Var::none(), gw};
      });

  MX_REGISTER_OP(pick)
      .doc("Picks one element per line along `axis` at the positions given by `index`.")
      .params<PickParam>()
      .inputs({"data", "index"})
      .dtypes(all_dtypes())
      .type(type_from_first)
      .shape([](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        const auto &p = pp.get<PickParam>();
        parse_mode(p.mode, "pick", false);
        Shape o = pick_shape(p, in[0]);
        if (in[1].known()) {
          PickParam q = p;
          q.keepdims = !p.keepdims;
          bool ok = in[1] == o || in[1] == pick_shape(q, in[0]);
          MX_CHECK(ok, MX_ERR_SHAPE, "pick: index has shape ", in[1].str(), " but ", o.str(), " was expected");
        }
        assign_shape(out[0], o, "pick", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<PickParam>();
        Lines L = lines_of(c.inputs[0].shape(), p.axis, "pick");
        auto idx = fixed_indices(c.inputs[1], L.n, parse_mode(p.mode, "pick", false), "pick");
        gather_along(c.inputs[0], idx, c.outputs[0], L, 1);
      })
      .gpu(cuda_only([](const OpCall &c) {
        const auto &p = c.p<PickParam>();
        Lines L = lines_of(c.inputs[0].shape(), p.axis, "pick");
        auto idx = fixed_indices(host_copy(c.inputs[1]), L.n, parse_mode(p.mode, "pick", false), "pick");
        gpu_pick(c.inputs[0], indices_on(idx, c.outputs[0].device()), c.outputs[0], L.pre, L.n, L.post, false, "pick");
      }))
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {emit_with(b, "_backward_pick", n, {n.out_grads[0], n.inputs[1], n.inputs[0]})[0], Var::none()};
      });

  MX_REGISTER_OP(_backward_pick)
      .doc("Adjoint of pick: places out_grad at the picked positions of zeros shaped like data.")
      .params<PickParam>()
      .inputs({"out_grad", "index", "data"})
      .dtypes(all_dtypes())
      .type(type_from_first)
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[2].known()) return false;
        assign_shape(out[0], in[2], "_backward_pick", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<PickParam>();
        Lines L = lines_of(c.outputs[0].shape(), p.axis, "pick");
        auto idx = fixed_indices(c.inputs[1], L.n, parse_mode(p.mode, "pick", false), "pick");
        scatter_along(c.inputs[0], idx, c.outputs[0], L, 1);
      })
      .gpu(cuda_only([](const OpCall &c) {
        const auto &p = c.p<PickParam>();
        Lines L = lines_of(c.outputs[0].shape(), p.axis, "pick");
        auto idx = fixed_indices(host_copy(c.inputs[1]), L.n, parse_mode(p.mode, "pick", false), "pick");
        gpu_pick(c.inputs[0], indices_on(idx, c.outputs[0].device()), c.outputs[0], L.pre, L.n, L.post, true,
                 "_backward_pick");
      }))
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {emit_with(b, "pick", n, {n.out_grads[0], n.inputs[1]})[0], Var::none(), Var::none()};
      });

  MX_REGISTER_OP(_take_along_axis)
      .doc("out[p, j, q] = data[p, indices[p, j, q], q] along `axis`.")
      .params<AlongParam>()
      .inputs({"data", "indices"})
      .dtypes(all_dtypes())
      .type(type_from_first)
      .shape([](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[1].known()) return false;
        assign_shape(out[0], in[1], "_take_along_axis", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<AlongParam>();
        Lines L = lines_of(c.inputs[0].shape(), p.axis, "_take_along_axis");
        Lines K = lines_of(c.inputs[1].shape(), p.axis, "_take_along_axis");
        auto idx = fixed_indices(host_copy(c.inputs[1]), L.n, Mode::clip, "_take_along_axis");
        gather_positions(c, c.inputs[0], indices_on(idx, c.outputs[0].device()), c.outputs[0], L, K.n);
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {emit_with(b, "_scatter_along_axis", n, {n.out_grads[0], n.inputs[1], n.inputs[0]})[0], Var::none()};
      });

  MX_REGISTER_OP(_scatter_along_axis)
      .doc("Adjoint of _take_along_axis: zeros shaped like data with out_grad added at the indices.")
      .params<AlongParam>()
      .inputs({"out_grad", "indices", "data"})
      .dtypes(all_dtypes())
      .type(type_from_first)
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[2].known()) return false;
        assign_shape(out[0], in[2], "_scatter_along_axis", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<AlongParam>();
        Lines L = lines_of(c.outputs[0].shape(), p.axis, "_scatter_along_axis");
        Lines K = lines_of(c.inputs[1].shape(), p.axis, "_scatter_along_axis");
        auto idx = fixed_indices(host_copy(c.inputs[1]), L.n, Mode::clip, "_scatter_along_axis");
        scatter_positions(c, c.inputs[0], indices_on(idx, c.outputs[0].device()), c.outputs[0], L, K.n, true);
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {emit_with(b, "_take_along_axis", n, {n.out_grads[0], n.inputs[1]})[0], Var::none(), Var::none()};
      });

  MX_REGISTER_OP(gather_nd)
      .doc("Gathers slices of data at index tuples: indices has shape (M, ...), M <= data.ndim.")
      .inputs({"data", "indices"})
      .dtypes(all_dtypes())
      .type(type_from_first)
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known() || !in[1].known()) return false;
        assign_shape(out[0], gather_nd_shape(in[0], in[1], "gather_nd"), "gather_nd", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const Shape &s = c.inputs[0].shape();
        auto off = nd_offsets(c.inputs[1], s, "gather_nd");
        int m = static_cast<int>(c.inputs[1].shape()[0]);
        int64_t block = s.prod(m, s.ndim());
        take_move(c.inputs[0].reshape(Shape({s.prod(0, m), block})), off,
                  c.outputs[0].reshape(Shape({static_cast<int64_t>(off.size()), block})), 0, false);
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit1("_backward_gather_nd", {{"shape", b.shape(n.inputs[0]).str()}}, {n.out_grads[0], n.inputs[1]}),
                Var::none()};
      });

  auto scatter_shape = [](const char *op) {
    return [op](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
      Shape o(pp.get<ScatterNDParam>().shape);
      assign_shape(out[0], o, op, "output");
      if (!in[0].known() || !in[1].known()) return true;
      Shape want = gather_nd_shape(o, in[1], op);
      MX_CHECK(in[0] == want, MX_ERR_SHAPE, op, ": data has shape ", in[0].str(), " but indices ", in[1].str(),
               " and shape ", o.str(), " need ", want.str());
      return true;
    };
  };
  auto scatter_kernel = [](bool add) {
    return [add](const OpCall &c) {
      const Shape &s = c.outputs[0].shape();
      const char *op = add ? "_backward_gather_nd" : "scatter_nd";
      auto off = nd_offsets(c.inputs[1], s, op);
      int m = static_cast<int>(c.inputs[1].shape()[0]);
      int64_t block = s.prod(m, s.ndim());
      zero_fill(c.outputs[0]);
      NDArray src = c.inputs[0].reshape(Shape({static_cast<int64_t>(off.size()), block}));
      NDArray dst = c.outputs[0].reshape(Shape({s.prod(0, m), block}));
      if (add) {
        take_move(src.reshape(Shape({1, static_cast<int64_t>(off.size()), block})), off,
                  dst.reshape(Shape({1, s.prod(0, m), block})), 1, true);
      } else {
        size_t es = dtype_size(src.dtype());
        for (size_t j = 0; j < off.size(); ++j)
          std::memcpy(static_cast<char *>(dst.raw()) + off[j] * block * static_cast<int64_t>(es),
                      static_cast<char *>(src.raw()) + static_cast<int64_t>(j) * block * static_cast<int64_t>(es),
                      static_cast<size_t>(block) * es);
      }
    };
  };
  MX_REGISTER_OP(scatter_nd)
      .doc("Scatters data into zeros of `shape` at index tuples (the inverse of gather_nd).")
      .params<ScatterNDParam>()
      .inputs({"data", "indices"})
      .dtypes(all_dtypes())
      .type(type_from_first)
      .shape(scatter_shape("scatter_nd"))
      .cpu(scatter_kernel(false))
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit1("gather_nd", {}, {n.out_grads[0], n.inputs[1]}), Var::none()};
      });
  MX_REGISTER_OP(_backward_gather_nd)
      .doc("Adjoint of gather_nd: scatter-adds data into zeros of `shape`.")
      .params<ScatterNDParam>()
      .inputs({"data", "indices"})
      .dtypes(all_dtypes())
      .type(type_from_first)
      .shape(scatter_shape("_backward_gather_nd"))
      .cpu(scatter_kernel(true))
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit1("gather_nd", {}, {n.out_grads[0], n.inputs[1]}), Var::none()};
      });

  // NDArray assignment with advanced indices (x[idx_arrays] = v): lhs with the blocks at the
  // index tuples replaced by rhs (where tuples repeat, the last one wins, as numpy).
  MX_REGISTER_OP(_scatter_set_nd)
      .doc("Returns lhs with the slices at index tuples (indices of shape (M, ...)) replaced by rhs.")
      .inputs({"lhs", "rhs", "indices"})
      .dtypes(all_dtypes())
      .type(type_from_first)
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        assign_shape(out[0], in[0], "_scatter_set_nd", "output");
        if (!in[2].known()) return true;
        Shape want = gather_nd_shape(in[0], in[2], "_scatter_set_nd");
        if (in[1].known())
          MX_CHECK(in[1] == want, MX_ERR_SHAPE, "_scatter_set_nd: rhs has shape ", in[1].str(), " but indices ",
                   in[2].str(), " select a region of shape ", want.str());
        assign_shape(in[1], want, "_scatter_set_nd", "rhs");
        return true;
      })
      .cpu([](const OpCall &c) {
        const Shape &s = c.outputs[0].shape();
        auto off = nd_offsets(c.inputs[2], s, "_scatter_set_nd");
        int m = static_cast<int>(c.inputs[2].shape()[0]);
        int64_t block = s.prod(m, s.ndim());
        copy_bytes(c.inputs[0], c.outputs[0]);
        size_t bytes = static_cast<size_t>(block) * dtype_size(c.outputs[0].dtype());
        char *dst = static_cast<char *>(c.outputs[0].raw());
        const char *src = static_cast<const char *>(c.inputs[1].raw());
        for (size_t j = 0; j < off.size(); ++j)
          std::memcpy(dst + static_cast<size_t>(off[j]) * bytes, src + j * bytes, bytes);
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        Var zeros = b.emit1("zeros_like", {}, {n.inputs[1]});
        return {b.emit1("_scatter_set_nd", {}, {n.out_grads[0], zeros, n.inputs[2]}),
                b.emit1("gather_nd", {}, {n.out_grads[0], n.inputs[2]}), Var::none()};
      });

  MX_REGISTER_OP(one_hot)
      .doc("One-hot encoding along a new last axis of length depth (out-of-range indices give off_value rows).")
      .params<OneHotParam>()
      .inputs({"indices"})
      .dtypes(all_dtypes())
      .type([](const Params &pp, TypeVec &, TypeVec &, TypeVec &out) {
        out[0] = static_cast<int>(dtype_param(pp.get<OneHotParam>().dtype));
        return true;
      })
      .shape([](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        int64_t depth = pp.get<OneHotParam>().depth;
        MX_CHECK(depth >= 0, MX_ERR_INVALID_ARGUMENT, "one_hot: parameter 'depth' has value ", depth,
                 " (must be non-negative)");
        std::vector<int64_t> o = in[0].dims();
        o.push_back(depth);
        assign_shape(out[0], Shape(o), "one_hot", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<OneHotParam>();
        auto idx = read_indices(c.inputs[0]);
        fill_value(c.outputs[0], p.off_value);
        MX_DTYPE_SWITCH_ALL(c.outputs[0].dtype(), T, {
          T on = from_f64<T>(p.on_value);
          T *o = c.outputs[0].data<T>();
          for (size_t i = 0; i < idx.size(); ++i)
            if (idx[i] >= 0 && idx[i] < p.depth) o[static_cast<int64_t>(i) * p.depth + idx[i]] = on;
        });
      })
      .gpu(cuda_only([](const OpCall &c) {
        const auto &p = c.p<OneHotParam>();
        auto idx = read_indices(host_copy(c.inputs[0]));
        uint64_t on = 0, off = 0;  // the values' bits in the output dtype
        MX_DTYPE_SWITCH_ALL(c.outputs[0].dtype(), T, {
          const T a = from_f64<T>(p.on_value), b = from_f64<T>(p.off_value);
          std::memcpy(&on, &a, sizeof(T));
          std::memcpy(&off, &b, sizeof(T));
        });
        gpu_one_hot(indices_on(idx, c.outputs[0].device()), c.outputs[0], p.depth, on, off, "one_hot");
      }))
      .no_grad();

  MX_REGISTER_OP(sort)
      .doc("Sorts along `axis` (None: the flattened input).")
      .params<SortParam>()
      .inputs({"data"})
      .outputs({"output", "indices"})
      .num_visible_outputs([](const Params &) { return 1; })
      .dtypes(all_dtypes())
      .type([](const Params &, TypeVec &in, TypeVec &, TypeVec &out) {
        if (in[0] < 0) return false;
        out[0] = in[0];
        out[1] = static_cast<int>(DType::i64);
        return true;
      })
      .shape([](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        const auto &p = pp.get<SortParam>();
        Shape o = with_axis(in[0], p.axis, lines_of(in[0], p.axis, "sort").n, "sort");
        assign_shape(out[0], o, "sort", "output");
        assign_shape(out[1], o, "sort", "indices");
        return true;
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<SortParam>();
        Lines L = lines_of(c.inputs[0].shape(), p.axis, "sort");
        NDArray idx = positions(c, c.inputs[0], L, L.n, p.is_ascend);
        gather_positions(c, c.inputs[0], idx, c.outputs[0], L, L.n);
        write_positions(c, idx, c.outputs[1]);
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit1("_scatter_along_axis", axis_kw(n.p<SortParam>().axis), {n.out_grads[0], n.outputs[1], n.inputs[0]})};
      });

  MX_REGISTER_OP(argsort)
      .doc("Indices that sort the input along `axis`.")
      .params<ArgsortParam>()
      .inputs({"data"})
      .dtypes(all_dtypes())
      .type([](const Params &pp, TypeVec &, TypeVec &, TypeVec &out) {
        out[0] = static_cast<int>(dtype_param(pp.get<ArgsortParam>().dtype));
        return true;
      })
      .shape([](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        const auto &p = pp.get<ArgsortParam>();
        assign_shape(out[0], with_axis(in[0], p.axis, lines_of(in[0], p.axis, "argsort").n, "argsort"), "argsort",
                     "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<ArgsortParam>();
        Lines L = lines_of(c.inputs[0].shape(), p.axis, "argsort");
        write_positions(c, positions(c, c.inputs[0], L, L.n, p.is_ascend), c.outputs[0]);
      })
      .no_grad();

  MX_REGISTER_OP(topk)
      .doc("Top k elements along `axis`: values, indices, both, or a mask.")
      .params<TopkParam>()
      .inputs({"data"})
      .outputs({"output", "indices"})
      .num_outputs([](const Params &pp) {
        const auto &t = pp.get<TopkParam>().ret_typ;
        return t == "indices" || t == "mask" ? 1 : 2;
      })
      .num_visible_outputs([](const Params &pp) { return pp.get<TopkParam>().ret_typ == "both" ? 2 : 1; })
      .dtypes(all_dtypes())
      .type([](const Params &pp, TypeVec &in, TypeVec &, TypeVec &out) {
        if (in[0] < 0) return false;
        const auto &p = pp.get<TopkParam>();
        int it = static_cast<int>(dtype_param(p.dtype));
        if (p.ret_typ == "indices") out[0] = it;
        else out[0] = in[0];
        if (out.size() > 1) out[1] = p.ret_typ == "both" ? it : static_cast<int>(DType::i64);
        return true;
      })
      .shape([](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        const auto &p = pp.get<TopkParam>();
        MX_CHECK(p.ret_typ == "both" || p.ret_typ == "indices" || p.ret_typ == "mask" || p.ret_typ == "value",
                 MX_ERR_INVALID_ARGUMENT, "topk: parameter 'ret_typ' has value '", p.ret_typ,
                 "' (expected both, indices, mask or value)");
        Shape o = with_axis(in[0], p.axis, topk_k(p, in[0]), "topk");
        if (p.ret_typ == "mask") o = in[0];
        for (auto &s : out) assign_shape(s, o, "topk", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<TopkParam>();
        const NDArray &x = c.inputs[0];
        Lines L = lines_of(x.shape(), p.axis, "topk");
        int64_t k = topk_k(p, x.shape());
        NDArray idx = positions(c, x, L, k, p.is_ascend);
        if (p.ret_typ == "indices") {
          write_positions(c, idx, c.outputs[0]);
        } else if (p.ret_typ == "mask") {
          NDArray one(Shape({1}), x.dtype(), Device());  // the value set at the top k (host side)
          fill_value(one, 1);
          scatter_positions(c, one, idx, c.outputs[0], L, k, false);
        } else {
          gather_positions(c, x, idx, c.outputs[0], L, k);
          write_positions(c, idx, c.outputs[1]);
        }
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        const auto &p = n.p<TopkParam>();
        if (p.ret_typ == "indices" || p.ret_typ == "mask") return {Var::none()};
        return {b.emit1("_scatter_along_axis", axis_kw(p.axis), {n.out_grads[0], n.outputs[1], n.inputs[0]})};
      });

  MX_REGISTER_OP(SequenceMask)
      .doc("Sets elements past each sequence's length to `value`.")
      .params<SeqParam>()
      .inputs({"data", "sequence_length"})  // the schema lists every input a call may name
      .inputs_fn(seq_inputs)
      .dtypes(all_dtypes())
      .type(type_from_first)
      .shape([](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        check_seq(pp.get<SeqParam>(), in, 0, "SequenceMask");
        assign_shape(out[0], in[0], "SequenceMask", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<SeqParam>();
        if (!p.use_sequence_length) return copy_bytes(c.inputs[0], c.outputs[0]);
        unsigned char value[8] = {0};
        MX_DTYPE_SWITCH_ALL(c.outputs[0].dtype(), T, {
          T v = from_f64<T>(p.value);
          std::memcpy(value, &v, sizeof(T));
        });
        run_sequence(c, sortk::SeqKind::kMask, 0, c.inputs[0], value);
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        const auto &p = n.p<SeqParam>();
        std::vector<Var> r{b.emit1("SequenceMask", seq_kw(p, 0), seq_inputs_of(n, n.out_grads[0]))};
        if (n.inputs.size() > 1) r.push_back(Var::none());
        return r;
      });

  MX_REGISTER_OP(SequenceReverse)
      .doc("Reverses the first sequence_length elements of each sequence along the time axis.")
      .params<SeqParam>()
      .inputs({"data", "sequence_length"})  // the schema lists every input a call may name
      .inputs_fn(seq_inputs)
      .dtypes(all_dtypes())
      .type(type_from_first)
      .shape([](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        check_seq(pp.get<SeqParam>(), in, 0, "SequenceReverse");
        assign_shape(out[0], in[0], "SequenceReverse", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        run_sequence(c, sortk::SeqKind::kReverse, 0, c.inputs[0], nullptr);
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        std::vector<Var> r{b.emit(n.op, n.params, seq_inputs_of(n, n.out_grads[0]))[0]};
        if (n.inputs.size() > 1) r.push_back(Var::none());
        return r;
      });

  MX_REGISTER_OP(SequenceLast)
      .doc("The last element of each sequence (at sequence_length - 1).")
      .params<SeqParam>()
      .inputs({"data", "sequence_length"})  // the schema lists every input a call may name
      .inputs_fn(seq_inputs)
      .dtypes(all_dtypes())
      .type(type_from_first)
      .shape([](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        const auto &p = pp.get<SeqParam>();
        check_seq(p, in, 0, "SequenceLast");
        Shape o = in[0];
        o.dims().erase(o.dims().begin() + p.axis);
        assign_shape(out[0], o, "SequenceLast", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        run_sequence(c, sortk::SeqKind::kLast, 0, c.inputs[0], nullptr);
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        std::vector<Var> in{n.out_grads[0], n.inputs[0]};
        if (n.inputs.size() > 1) in.push_back(n.inputs[1]);
        std::vector<Var> r{emit_with(b, "_backward_SequenceLast", n, in)[0]};
        if (n.inputs.size() > 1) r.push_back(Var::none());
        return r;
      });

  MX_REGISTER_OP(_backward_SequenceLast)
      .doc("Adjoint of SequenceLast: zeros shaped like data with out_grad at each last element.")
      .params<SeqParam>()
      .inputs_fn(seq_bw_inputs)
      .dtypes(all_dtypes())
      .type(type_from_first)
      .shape([](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[1].known()) return false;
        check_seq(pp.get<SeqParam>(), in, 1, "_backward_SequenceLast");
        assign_shape(out[0], in[1], "_backward_SequenceLast", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        run_sequence(c, sortk::SeqKind::kLastBackward, 1, c.inputs[0], nullptr);
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        std::vector<Var> in{n.out_grads[0]};
        if (n.inputs.size() > 2) in.push_back(n.inputs[2]);
        std::vector<Var> r{emit_with(b, "SequenceLast", n, in)[0], Var::none()};
        if (n.inputs.size() > 2) r.push_back(Var::none());
        return r;
      });
  // Their kernels above run on the array's device (sort_kernels.h runners; GPU: sort_sequence.cu).
  gpu_same_as_cpu({"sort", "argsort", "topk", "_take_along_axis", "_scatter_along_axis", "SequenceMask",
                   "SequenceReverse", "SequenceLast", "_backward_SequenceLast"});
  return 0;
}

const int registered = register_ops();

}  // namespace
}  // namespace mx
