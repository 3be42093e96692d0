// MXNet's small contrib element-wise ops: quadratic, div_sqrt_dim, gradientmultiplier,
// straight-through round/sign, isnan/isinf/isfinite, allclose, arange_like and index_copy.
#include <cmath>

#include "ops/elemwise_common.h"

namespace mx {
namespace {

Kwargs scalar(double v) { return {{"scalar", print_value(v)}}; }

template <typename F> void map_float(const OpCall &c, const char *op, F f) {
  MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, op, {
    const T *x = c.inputs[0].data<T>();
    T *y = c.outputs[0].data<T>();
    parallel_for(c.inputs[0].size(), kElemGrain, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) y[i] = static_cast<T>(f(static_cast<double>(x[i])));
    });
  });
}

bool same_shape(ShapeVec &in, ShapeVec &out, const char *op) {
  if (!in[0].known()) return false;
  assign_shape(out[0], in[0], op, "output");
  return true;
}

struct QuadraticParam {
  double a = 0, b = 0, c = 0;
  static void describe(ParamDecl<QuadraticParam> &d) {
    d.field("a", &QuadraticParam::a).def(0.0).doc("Coefficient of the quadratic term.");
    d.field("b", &QuadraticParam::b).def(0.0).doc("Coefficient of the linear term.");
    d.field("c", &QuadraticParam::c).def(0.0).doc("Constant term.");
  }
};

struct MultiplierParam {
  double scalar = 1;
  bool is_int = true;
  static void describe(ParamDecl<MultiplierParam> &d) {
    d.field("scalar", &MultiplierParam::scalar).def(1.0).doc("Factor applied to the gradient.");
    d.field("is_int", &MultiplierParam::is_int).def(true).doc("Whether the scalar is an integer (kept for MXNet).");
  }
};

struct AllcloseParam {
  double rtol = 1e-5, atol = 1e-8;
  bool equal_nan = true;
  static void describe(ParamDecl<AllcloseParam> &d) {
    d.field("rtol", &AllcloseParam::rtol).def(1e-5).doc("Relative tolerance.");
    d.field("atol", &AllcloseParam::atol).def(1e-8).doc("Absolute tolerance.");
    d.field("equal_nan", &AllcloseParam::equal_nan).def(true).doc("Whether NaNs at the same position compare equal.");
  }
};

struct ArangeLikeParam {
  double start = 0, step = 1;
  int64_t repeat = 1;
  std::optional<int64_t> axis;
  static void describe(ParamDecl<ArangeLikeParam> &d) {
    d.field("start", &ArangeLikeParam::start).def(0.0).doc("First value.");
    d.field("step", &ArangeLikeParam::step).def(1.0).doc("Spacing between values.");
    d.field("repeat", &ArangeLikeParam::repeat).def(1).doc("How many times each value is repeated.");
    d.field("axis", &ArangeLikeParam::axis).def(std::optional<int64_t>())
        .doc("Count along this axis of the input (None: as many values as the input has, in its shape).");
  }
};

const int registered = [] {
  MX_REGISTER_OP(_contrib_quadratic)
      .doc("Quadratic function a * x^2 + b * x + c, element-wise.")
      .params<QuadraticParam>()
      .inputs({"data"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) { return same_shape(in, out, "quadratic"); })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<QuadraticParam>();
        map_float(c, "quadratic", [&](double x) { return (p.a * x + p.b) * x + p.c; });
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        const auto &p = n.p<QuadraticParam>();
        Var slope = b.emit1("_plus_scalar", scalar(p.b), {b.emit1("_mul_scalar", scalar(2 * p.a), {n.inputs[0]})});
        return {b.emit1("elemwise_mul", {}, {n.out_grads[0], slope})};
      });

  MX_REGISTER_OP(_contrib_div_sqrt_dim)
      .doc("Divides the input by the square root of its last dimension (attention scaling).")
      .inputs({"data"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        MX_CHECK(in[0].ndim() >= 1, MX_ERR_SHAPE, "div_sqrt_dim: input must have at least 1 dimension");
        return same_shape(in, out, "div_sqrt_dim");
      })
      .cpu([](const OpCall &c) {
        const double k = 1.0 / std::sqrt(static_cast<double>(c.inputs[0].shape()[c.inputs[0].ndim() - 1]));
        map_float(c, "div_sqrt_dim", [k](double x) { return x * k; });
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        const Shape s = b.shape(n.inputs[0]);
        return {b.emit1("_mul_scalar", scalar(1.0 / std::sqrt(static_cast<double>(s[s.ndim() - 1]))), {n.out_grads[0]})};
      });

  MX_REGISTER_OP(_contrib_gradientmultiplier)
      .doc("Identity in the forward pass; multiplies the gradient by 'scalar' (e.g. -1 for gradient reversal).")
      .params<MultiplierParam>()
      .inputs({"data"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) { return same_shape(in, out, "gradientmultiplier"); })
      .cpu([](const OpCall &c) { map_float(c, "gradientmultiplier", [](double x) { return x; }); })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit1("_mul_scalar", scalar(n.p<MultiplierParam>().scalar), {n.out_grads[0]})};
      });

  auto straight_through = [](const char *name, const char *doc, double (*f)(double)) {
    OpBuilder::create(name)
        .doc(doc)
        .inputs({"data"})
        .shape([name](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) { return same_shape(in, out, name); })
        .cpu([name, f](const OpCall &c) { map_float(c, name, f); })
        .grad([](GradBuilder &, const GradNode &n) -> std::vector<Var> { return {n.out_grads[0]}; });
  };
  straight_through("_contrib_round_ste", "round() (halves away from zero) with the identity as its gradient "
                   "(straight-through estimator).", [](double x) { return std::round(x); });
  straight_through("_contrib_sign_ste", "sign() with the identity as its gradient (straight-through estimator).",
                   [](double x) { return static_cast<double>((x > 0) - (x < 0)); });

  auto predicate = [](const char *name, const char *doc, bool (*f)(double)) {
    OpBuilder::create(name)
        .doc(doc)
        .inputs({"data"})
        .shape([name](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) { return same_shape(in, out, name); })
        .cpu([name, f](const OpCall &c) { map_float(c, name, [f](double x) { return f(x) ? 1.0 : 0.0; }); })
        .no_grad();
  };
  predicate("_contrib_isnan", "1 where the element is NaN, 0 elsewhere (in the input's dtype).",
            [](double x) { return std::isnan(x); });
  predicate("_contrib_isinf", "1 where the element is +-inf, 0 elsewhere (in the input's dtype).",
            [](double x) { return std::isinf(x); });
  predicate("_contrib_isfinite", "1 where the element is finite, 0 elsewhere (in the input's dtype).",
            [](double x) { return std::isfinite(x); });

  MX_REGISTER_OP(_contrib_allclose)
      .doc("numpy.allclose: 1 (uint8, shape ()) when |a - b| <= atol + rtol * |b| everywhere, else 0.")
      .params<AllcloseParam>()
      .inputs({"a", "b"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known() || !in[1].known()) return false;
        MX_CHECK(in[0] == in[1], MX_ERR_SHAPE, "allclose: a ", in[0].str(), " and b ", in[1].str(),
                 " must have the same shape");
        assign_shape(out[0], Shape(std::vector<int64_t>{}), "allclose", "output");
        return true;
      })
      .type([](const Params &, TypeVec &in, TypeVec &, TypeVec &out) {
        out[0] = static_cast<int>(DType::u8);
        return in[0] >= 0;
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<AllcloseParam>();
        bool close = true;
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "allclose", {
          const T *a = c.inputs[0].data<T>(), *b = c.inputs[1].data<T>();
          for (int64_t i = 0; i < c.inputs[0].size() && close; ++i) {
            const double x = a[i], y = b[i];
            if (std::isnan(x) || std::isnan(y))
              close = p.equal_nan && std::isnan(x) && std::isnan(y);
            else if (x != y)
              close = std::fabs(x - y) <= p.atol + p.rtol * std::fabs(y);
          }
        });
        c.outputs[0].data<uint8_t>()[0] = close ? 1 : 0;
      })
      .no_grad();

  MX_REGISTER_OP(_contrib_arange_like)
      .doc("Evenly spaced values start + (i // repeat) * step shaped like the input (or along one of its axes).")
      .params<ArangeLikeParam>()
      .inputs({"data"})
      .shape([](const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        const auto &p = prm.get<ArangeLikeParam>();
        MX_CHECK(p.repeat > 0, MX_ERR_INVALID_ARGUMENT, "arange_like: repeat must be positive, got ", p.repeat);
        if (p.axis) {
          const int ax = normalize_axis(*p.axis, in[0].ndim(), "arange_like: axis");
          assign_shape(out[0], Shape({in[0][ax]}), "arange_like", "output");
        } else {
          assign_shape(out[0], in[0], "arange_like", "output");
        }
        return true;
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<ArangeLikeParam>();
        MX_DTYPE_SWITCH_NUMERIC(c.outputs[0].dtype(), T, "arange_like", {
          T *y = c.outputs[0].data<T>();
          for (int64_t i = 0; i < c.outputs[0].size(); ++i)
            y[i] = static_cast<T>(p.start + static_cast<double>(i / p.repeat) * p.step);
        });
      })
      .no_grad();
  return 0;
}();

}  // namespace
}  // namespace mx
