// broadcast_to and its adjoint _sum_to (used by every broadcasting gradient).
#include "ops/cuda_only.h"
#include "ops/elemwise_common.h"
#include "ops/reduce_gpu.h"

namespace mx {

namespace {

struct ShapeParam {
  std::vector<int64_t> shape;
  static void describe(ParamDecl<ShapeParam> &d) {
    d.field("shape", &ShapeParam::shape).def({}).doc(
        "Target shape; 0 keeps the input's size along that axis.");
  }
};

Shape target_shape(const Params &p, const Shape &in) {
  const auto &t = p.get<ShapeParam>().shape;
  const char *op = p.op->name.c_str();
  MX_CHECK(static_cast<int>(t.size()) >= in.ndim(), MX_ERR_SHAPE, op, ": cannot broadcast shape ",
           in.str(), " to ", Shape(t).str());
  std::vector<int64_t> d(t.size());
  int off = static_cast<int>(t.size()) - in.ndim();
  for (int i = 0; i < static_cast<int>(t.size()); ++i) {
    int64_t want = t[static_cast<size_t>(i)];
    int64_t have = i >= off ? in[i - off] : 1;
    if (want == 0) want = have;
    MX_CHECK(have == want || have == 1, MX_ERR_SHAPE, op, ": cannot broadcast shape ", in.str(), " to ",
             Shape(t).str(), " (axis ", i, " has size ", have, ")");
    d[static_cast<size_t>(i)] = want;
  }
  return Shape(d);
}

template <typename T> void sum_to_kernel(const NDArray &in, const NDArray &out) {
  // out has in's ndim after left-padding with 1s; accumulate in double for floats.
  Shape padded = out.shape();
  while (padded.ndim() < in.ndim()) padded.dims().insert(padded.dims().begin(), 1);
  std::vector<int64_t> st = broadcast_strides(padded, in.shape());
  const T *src = in.data<T>();
  T *dst = out.data<T>();
  int64_t m = out.size();
  std::vector<double> acc(static_cast<size_t>(m), 0.0);
  const int nd = in.ndim();
  const int64_t inner = nd ? in.shape()[nd - 1] : 1;
  const int64_t outer = inner ? in.size() / inner : 0;
  const int64_t s_in = nd ? st[static_cast<size_t>(nd - 1)] : 0;
  for (int64_t r = 0; r < outer; ++r) {
    int64_t rem = r, o = 0;
    for (int d = nd - 2; d >= 0; --d) {
      int64_t idx = rem % in.shape()[d];
      rem /= in.shape()[d];
      o += idx * st[static_cast<size_t>(d)];
    }
    const T *row = src + r * inner;
    if (s_in == 0) {
      double s = 0;
      for (int64_t i = 0; i < inner; ++i) s += static_cast<double>(row[i]);
      acc[static_cast<size_t>(o)] += s;
    } else {
      double *a = acc.data() + o;
      for (int64_t i = 0; i < inner; ++i) a[i] += static_cast<double>(row[i]);
    }
  }
  for (int64_t i = 0; i < m; ++i) dst[i] = static_cast<T>(acc[static_cast<size_t>(i)]);
}

const int registered = [] {
  MX_REGISTER_OP(broadcast_to)
      .doc("Broadcasts the input to a new shape (numpy rules; 0 keeps an axis).")
      .params<ShapeParam>()
      .inputs({"data"})
      .dtypes({DType::f32, DType::f64, DType::i32, DType::i64, DType::u8, DType::i8})
      .shape([](const Params &p, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        assign_shape(out[0], target_shape(p, in[0]), "broadcast_to", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        MX_DTYPE_SWITCH_ALL(c.inputs[0].dtype(), T, {
          broadcast_binary<T, T, T>(c.inputs[0], c.outputs[0], c.outputs[0], [](T a, T) { return a; });
        });
      })
      .gpu(cuda_only([](const OpCall &c) { gpu_broadcast_copy(c.inputs[0], c.outputs[0], "broadcast_to"); }))
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {sum_to_shape(b, n.out_grads[0], b.shape(n.inputs[0]))};
      });
  MX_REGISTER_OP(_sum_to)
      .doc("Sums the input down to `shape` (the adjoint of broadcasting).")
      .params<ShapeParam>()
      .inputs({"data"})
      .dtypes({DType::f32, DType::f64, DType::i32, DType::i64})
      .shape([](const Params &p, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        Shape t(p.get<ShapeParam>().shape);
        broadcast_shapes(t, in[0], "_sum_to");
        assign_shape(out[0], t, "_sum_to", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        switch (c.inputs[0].dtype()) {
          case DType::f32: sum_to_kernel<float>(c.inputs[0], c.outputs[0]); break;
          case DType::f64: sum_to_kernel<double>(c.inputs[0], c.outputs[0]); break;
          case DType::i32: sum_to_kernel<int32_t>(c.inputs[0], c.outputs[0]); break;
          case DType::i64: sum_to_kernel<int64_t>(c.inputs[0], c.outputs[0]); break;
          default: fail(MX_ERR_TYPE, "_sum_to: unsupported dtype");
        }
      })
      .gpu(cuda_only([](const OpCall &c) {
        // The axes where the target is 1 (or absent) are summed (ops/formulas/reduce.h on the GPU).
        const Shape &in = c.inputs[0].shape(), &t = c.outputs[0].shape();
        const int off = in.ndim() - t.ndim();
        std::vector<bool> red(static_cast<size_t>(in.ndim()));
        for (int i = 0; i < in.ndim(); ++i) red[static_cast<size_t>(i)] = i < off || (t[i - off] == 1 && in[i] != 1);
        gpu_reduce(ReduceOp::Sum, c.inputs[0], c.outputs[0], red, "_sum_to");
      }))
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit1("broadcast_to", {{"shape", b.shape(n.inputs[0]).str()}}, {n.out_grads[0]})};
      });
  return 0;
}();

}  // namespace

Var sum_to_shape(GradBuilder &b, Var x, const Shape &shape) {
  if (b.shape(x) == shape) return x;
  return b.emit1("_sum_to", {{"shape", shape.str()}}, {x});
}

}  // namespace mx
