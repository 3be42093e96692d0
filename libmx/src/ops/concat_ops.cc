// Joining and splitting: Concat, stack, SliceChannel (split), add_n (ElementWiseSum), where and
// the hidden _where_mask used by where's gradient.
#include "backends/cpu/bf16_loops.h"
#include "ops/cuda_only.h"
#include "ops/shape_common.h"

namespace mx {
namespace {

using namespace shape_detail;

struct ConcatParam {
  int64_t num_args = 1;
  int64_t dim = 1;
  static void describe(ParamDecl<ConcatParam> &d) {
    d.field("num_args", &ConcatParam::num_args).required().doc("Number of inputs.");
    d.field("dim", &ConcatParam::dim).def(int64_t(1)).doc("Axis to concatenate along.");
  }
};
struct StackParam {
  int64_t axis = 0;
  int64_t num_args = 1;
  static void describe(ParamDecl<StackParam> &d) {
    d.field("axis", &StackParam::axis).def(int64_t(0)).doc("Position of the new axis in the output.");
    d.field("num_args", &StackParam::num_args).required().doc("Number of inputs.");
  }
};
struct SplitParam {
  int64_t num_outputs = 1;
  int64_t axis = 1;
  bool squeeze_axis = false;
  static void describe(ParamDecl<SplitParam> &d) {
    d.field("num_outputs", &SplitParam::num_outputs).required().doc("Number of equal parts.");
    d.field("axis", &SplitParam::axis).def(int64_t(1)).doc("Axis to split along.");
    d.field("squeeze_axis", &SplitParam::squeeze_axis).def(false).doc(
        "Remove the split axis from the outputs (its size must equal num_outputs).");
  }
};
struct AddNParam {
  int64_t num_args = 1;
  static void describe(ParamDecl<AddNParam> &d) {
    d.field("num_args", &AddNParam::num_args).required().doc("Number of inputs.");
  }
};
struct WhereMaskParam {
  bool keep_true = true;
  static void describe(ParamDecl<WhereMaskParam> &d) {
    d.field("keep_true", &WhereMaskParam::keep_true).def(true).doc(
        "Keep elements where the condition is non-zero (else where it is zero); others become 0.");
  }
};

void check_num_args(int64_t want, size_t got, const char *op) {
  MX_CHECK(want == static_cast<int64_t>(got), MX_ERR_INVALID_ARGUMENT, op, ": parameter 'num_args' has value ",
           want, " but ", got, " inputs were given");
  MX_CHECK(got >= 1, MX_ERR_INVALID_ARGUMENT, op, ": needs at least one input");
}

bool infer_type_all_same(const Params &p, TypeVec &in, TypeVec &aux, TypeVec &out) {
  return infer_type_same(p, in, aux, out);
}

// Copy `parts` (each outer x inner_i elements) into / out of `whole` (outer x sum inner_i).
void join_parts(const std::vector<NDArray> &parts, const NDArray &whole, int64_t outer, bool split) {
  size_t es = dtype_size(whole.dtype());
  int64_t total = 0;
  for (auto &p : parts) total += outer ? p.size() / outer : 0;
  char *w = static_cast<char *>(whole.size() ? whole.raw() : nullptr);
  int64_t off = 0;
  const bool gpu = !whole.device().is_cpu();
  for (auto &p : parts) {
    int64_t inner = outer ? p.size() / outer : 0;
    if (inner && gpu) {  // one pitched copy per part on the device
      const int64_t e = static_cast<int64_t>(es), wp = total * e, pp = inner * e;
      char *wo = w + off * e, *q = static_cast<char *>(p.raw());
      if (split) gpu_copy_rows(whole.device().id, q, pp, wo, wp, pp, outer);
      else gpu_copy_rows(whole.device().id, wo, wp, q, pp, pp, outer);
    } else if (inner) {
      char *q = static_cast<char *>(p.raw());
      parallel_for(outer, std::max<int64_t>(1, kElemGrain / inner), [&](int64_t s, int64_t e) {
        for (int64_t o = s; o < e; ++o) {
          char *wp = w + (o * total + off) * static_cast<int64_t>(es);
          char *pp = q + o * inner * static_cast<int64_t>(es);
          if (split) std::memcpy(pp, wp, static_cast<size_t>(inner) * es);
          else std::memcpy(wp, pp, static_cast<size_t>(inner) * es);
        }
      });
    }
    off += inner;
  }
}

Shape split_part_shape(const SplitParam &p, const Shape &in, int *axis_out) {
  int a = normalize_axis(p.axis, in.ndim(), "SliceChannel: axis");
  MX_CHECK(p.num_outputs >= 1, MX_ERR_INVALID_ARGUMENT, "SliceChannel: parameter 'num_outputs' has value ",
           p.num_outputs, " (must be at least 1)");
  MX_CHECK(in[a] % p.num_outputs == 0, MX_ERR_SHAPE, "SliceChannel: axis ", a, " of shape ", in.str(),
           " cannot be split evenly into num_outputs=", p.num_outputs, " parts");
  Shape o = in;
  o[a] = in[a] / p.num_outputs;
  if (p.squeeze_axis) {
    MX_CHECK(o[a] == 1, MX_ERR_SHAPE, "SliceChannel: squeeze_axis needs axis ", a, " of size num_outputs (",
             p.num_outputs, ") but it has size ", in[a]);
    o.dims().erase(o.dims().begin() + a);
  }
  if (axis_out) *axis_out = a;
  return o;
}

template <typename T> void sum_inputs(const std::vector<NDArray> &in, const NDArray &out) {
  T *o = out.data<T>();
  parallel_for(out.size(), kElemGrain, [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i) {
      if constexpr (std::is_arithmetic<T>::value && !std::is_same<T, bool_t>::value) {
        T acc = in[0].data<T>()[i];
        for (size_t k = 1; k < in.size(); ++k) acc = static_cast<T>(acc + in[k].data<T>()[i]);
        o[i] = acc;
      } else {
        float acc = static_cast<float>(in[0].data<T>()[i]);
        for (size_t k = 1; k < in.size(); ++k) acc += static_cast<float>(in[k].data<T>()[i]);
        o[i] = T(acc);
      }
    }
  });
}

// Condition: same shape as data, or 1-D with data.shape[0] entries (selects whole rows).
void check_condition(const Shape &cond, const Shape &x, const char *op) {
  bool ok = cond == x || (cond.ndim() == 1 && x.ndim() >= 1 && cond[0] == x[0]);
  MX_CHECK(ok, MX_ERR_SHAPE, op, ": condition has shape ", cond.str(), " but must have the shape of x ", x.str(),
           " or be 1-D with ", x.ndim() ? x[0] : 0, " entries");
}
// Non-zero flags of the condition per element of x.
std::vector<uint8_t> condition_flags(const NDArray &cond, const Shape &x) {
  std::vector<uint8_t> f(static_cast<size_t>(x.size()));
  int64_t row = cond.shape() == x ? 1 : (x[0] ? x.size() / x[0] : 0);
  MX_DTYPE_SWITCH_ALL(cond.dtype(), T, {
    const T *c = cond.data<T>();
    for (int64_t i = 0; i < x.size(); ++i) f[static_cast<size_t>(i)] = to_f64<T>(c[i / row]) != 0;
  });
  return f;
}

int register_ops() {
  MX_REGISTER_OP(Concat)
      .alias("concat")
      .doc("Joins arrays along an existing axis `dim`.")
      .params<ConcatParam>()
      .variadic("num_args")
      .inputs({})
      .dtypes(all_dtypes())
      .type(infer_type_all_same)
      .shape([](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        const auto &p = pp.get<ConcatParam>();
        check_num_args(p.num_args, in.size(), "Concat");
        for (auto &s : in) if (!s.known()) return false;
        int a = normalize_axis(p.dim, in[0].ndim(), "Concat: dim");
        Shape o = in[0];
        for (size_t i = 1; i < in.size(); ++i) {
          MX_CHECK(in[i].ndim() == o.ndim(), MX_ERR_SHAPE, "Concat: input ", i, " has shape ", in[i].str(),
                   " but input 0 has shape ", in[0].str());
          for (int d = 0; d < o.ndim(); ++d)
            MX_CHECK(d == a || in[i][d] == o[d], MX_ERR_SHAPE, "Concat: input ", i, " has shape ", in[i].str(),
                     " incompatible with input 0 of shape ", in[0].str(), " (only dim ", a, " may differ)");
          o[a] += in[i][a];
        }
        assign_shape(out[0], o, "Concat", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        int a = normalize_axis(c.p<ConcatParam>().dim, c.inputs[0].ndim(), "Concat: dim");
        join_parts(c.inputs, c.outputs[0], c.outputs[0].shape().prod(0, a), false);
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        Shape s0 = b.shape(n.inputs[0]);
        int a = normalize_axis(n.p<ConcatParam>().dim, s0.ndim(), "Concat: dim");
        std::vector<Var> r;
        int64_t off = 0;
        for (auto &x : n.inputs) {
          int64_t len = b.shape(x)[a];
          std::vector<std::optional<int64_t>> beg(static_cast<size_t>(a + 1)), end(static_cast<size_t>(a + 1));
          beg[static_cast<size_t>(a)] = off;
          end[static_cast<size_t>(a)] = off + len;
          r.push_back(b.emit1("slice", {{"begin", print_value(beg)}, {"end", print_value(end)}}, {n.out_grads[0]}));
          off += len;
        }
        return r;
      });

  MX_REGISTER_OP(stack)
      .doc("Joins arrays of one shape along a new axis.")
      .params<StackParam>()
      .variadic("num_args")
      .inputs({})
      .dtypes(all_dtypes())
      .type(infer_type_all_same)
      .shape([](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        const auto &p = pp.get<StackParam>();
        check_num_args(p.num_args, in.size(), "stack");
        for (auto &s : in) if (!s.known()) return false;
        for (size_t i = 1; i < in.size(); ++i)
          MX_CHECK(in[i] == in[0], MX_ERR_SHAPE, "stack: input ", i, " has shape ", in[i].str(),
                   " but input 0 has shape ", in[0].str());
        int nd = in[0].ndim();
        MX_CHECK(p.axis >= -nd - 1 && p.axis <= nd, MX_ERR_INVALID_ARGUMENT, "stack: parameter 'axis' has value ",
                 p.axis, " out of range for ", nd + 1, " output dims");
        int64_t a = p.axis < 0 ? p.axis + nd + 1 : p.axis;
        std::vector<int64_t> o = in[0].dims();
        o.insert(o.begin() + a, static_cast<int64_t>(in.size()));
        assign_shape(out[0], Shape(o), "stack", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<StackParam>();
        int nd = c.inputs[0].ndim();
        int64_t a = p.axis < 0 ? p.axis + nd + 1 : p.axis;
        join_parts(c.inputs, c.outputs[0], c.inputs[0].shape().prod(0, static_cast<int>(a)), false);
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        const auto &p = n.p<StackParam>();
        int nd = b.shape(n.inputs[0]).ndim();
        int64_t a = p.axis < 0 ? p.axis + nd + 1 : p.axis;
        Kwargs kw{{"num_outputs", print_value(static_cast<int64_t>(n.inputs.size()))},
                  {"axis", print_value(a)}, {"squeeze_axis", "True"}};
        return b.emit("SliceChannel", kw, {n.out_grads[0]});
      });

  MX_REGISTER_OP(SliceChannel)
      .alias("split")
      .doc("Splits an array into num_outputs equal parts along `axis`.")
      .params<SplitParam>()
      .inputs({"data"})
      .num_outputs([](const Params &p) { return static_cast<int>(p.get<SplitParam>().num_outputs); })
      .dtypes(all_dtypes())
      .shape([](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        Shape o = split_part_shape(pp.get<SplitParam>(), in[0], nullptr);
        for (size_t i = 0; i < out.size(); ++i) assign_shape(out[i], o, "SliceChannel", "output " + std::to_string(i));
        return true;
      })
      .cpu([](const OpCall &c) {
        int a;
        split_part_shape(c.p<SplitParam>(), c.inputs[0].shape(), &a);
        join_parts(c.outputs, c.inputs[0], c.inputs[0].shape().prod(0, a), true);
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        const auto &p = n.p<SplitParam>();
        int a;
        split_part_shape(p, b.shape(n.inputs[0]), &a);
        std::vector<Var> parts;
        for (auto g : n.out_grads)
          parts.push_back(p.squeeze_axis ? b.emit1("expand_dims", {{"axis", print_value(static_cast<int64_t>(a))}}, {g}) : g);
        Kwargs kw{{"num_args", print_value(static_cast<int64_t>(parts.size()))}, {"dim", print_value(static_cast<int64_t>(a))}};
        return {b.emit1("Concat", kw, parts)};
      });

  MX_REGISTER_OP(add_n)
      .alias("ElementWiseSum")
      .doc("Adds all inputs element-wise.")
      .params<AddNParam>()
      .variadic("num_args")
      .inputs({})
      .dtypes(all_dtypes())
      .type(infer_type_all_same)
      .shape([](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        check_num_args(pp.get<AddNParam>().num_args, in.size(), "add_n");
        Shape k;
        for (auto &s : in) if (s.known()) k = s;
        if (!k.known()) return false;
        for (size_t i = 0; i < in.size(); ++i) assign_shape(in[i], k, "add_n", "input " + std::to_string(i));
        assign_shape(out[0], k, "add_n", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        if (c.outputs[0].dtype() == DType::bf16) {  // vectorised, the same float sums (bf16_loops.h)
          std::vector<const bf16_t *> in;
          for (const auto &a : c.inputs) in.push_back(a.cdata<bf16_t>());
          return bf16::sum(in, c.outputs[0].data<bf16_t>(), c.outputs[0].size());
        }
        MX_DTYPE_SWITCH_ALL(c.outputs[0].dtype(), T, sum_inputs<T>(c.inputs, c.outputs[0]));
      })
      .gpu(cuda_only([](const OpCall &c) { gpu_add_n(c.inputs, c.outputs[0]); }))
      .grad([](GradBuilder &, const GradNode &n) -> std::vector<Var> {
        return std::vector<Var>(n.inputs.size(), n.out_grads[0]);
      });

  MX_REGISTER_OP(where)
      .doc("Takes elements of x where condition is non-zero, else of y (a 1-D condition selects rows).")
      .inputs({"condition", "x", "y"})
      .dtypes(all_dtypes())
      .type([](const Params &, TypeVec &in, TypeVec &, TypeVec &out) {
        int t = in[1] >= 0 ? in[1] : in[2];
        if (t < 0) return false;
        MX_CHECK(in[1] < 0 || in[2] < 0 || in[1] == in[2], MX_ERR_TYPE, "where: x has dtype ",
                 dtype_name(static_cast<DType>(in[1])), " but y has dtype ", dtype_name(static_cast<DType>(in[2])));
        in[1] = in[2] = out[0] = t;
        return true;
      })
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        Shape x = in[1].known() ? in[1] : in[2];
        if (!x.known() || !in[0].known()) return false;
        assign_shape(in[1], x, "where", "x");
        assign_shape(in[2], x, "where", "y");
        check_condition(in[0], x, "where");
        assign_shape(out[0], x, "where", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const Shape &s = c.inputs[1].shape();
        auto f = condition_flags(c.inputs[0], s);
        MX_BYTES_SWITCH(dtype_size(c.inputs[1].dtype()), T, {
          const T *x = c.inputs[1].data<T>(), *y = c.inputs[2].data<T>();
          T *o = c.outputs[0].data<T>();
          for (int64_t i = 0; i < s.size(); ++i) o[i] = f[static_cast<size_t>(i)] ? x[i] : y[i];
        });
      })
      .gpu(cuda_only([](const OpCall &c) { gpu_where(c.inputs[0], c.inputs[1], &c.inputs[2], c.outputs[0], true); }))
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        Var gx = b.emit1("_where_mask", {{"keep_true", "True"}}, {n.out_grads[0], n.inputs[0]});
        Var gy = b.emit1("_where_mask", {{"keep_true", "False"}}, {n.out_grads[0], n.inputs[0]});
        return {Var::none(), gx, gy};
      });

  MX_REGISTER_OP(_where_mask)
      .doc("data where the condition is non-zero (keep_true) or zero (otherwise), 0 elsewhere.")
      .params<WhereMaskParam>()
      .inputs({"data", "condition"})
      .dtypes(all_dtypes())
      .type(type_from_first)
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known() || !in[1].known()) return false;
        check_condition(in[1], in[0], "_where_mask");
        assign_shape(out[0], in[0], "_where_mask", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const Shape &s = c.inputs[0].shape();
        auto f = condition_flags(c.inputs[1], s);
        bool keep = c.p<WhereMaskParam>().keep_true;
        MX_BYTES_SWITCH(dtype_size(c.inputs[0].dtype()), T, {
          const T *x = c.inputs[0].data<T>();
          T *o = c.outputs[0].data<T>();
          for (int64_t i = 0; i < s.size(); ++i) o[i] = (f[static_cast<size_t>(i)] != 0) == keep ? x[i] : T(0);
        });
      })
      .gpu(cuda_only([](const OpCall &c) {
        gpu_where(c.inputs[1], c.inputs[0], nullptr, c.outputs[0], c.p<WhereMaskParam>().keep_true);
      }))
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit(n.op, n.params, {n.out_grads[0], n.inputs[1]})[0], Var::none()};
      });
  // join_parts copies on the array's device: the same kernels run on the GPU.
  gpu_same_as_cpu({"Concat", "stack", "SliceChannel"});
  return 0;
}

const int registered = register_ops();

}  // namespace
}  // namespace mx
