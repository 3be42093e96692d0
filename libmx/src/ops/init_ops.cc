// Creation ops without inputs: _zeros, _ones, _full, _arange, _eye, _linspace. The device comes
// from the output (the "ctx" parameter is parsed generically); the dtype from `dtype`.
#include <cmath>
#include <vector>

#include "ops/elemwise_common.h"
#include "ops/shape_common.h"

namespace mx {

namespace {

const std::vector<std::string> kDtypeChoices = {"bfloat16", "bool",  "float16", "float32", "float64",
                                                "int32",    "int64", "int8",    "uint8"};

void check_shape(const std::vector<int64_t> &shape, const std::string &op) {
  for (int64_t d : shape)
    MX_CHECK(d >= 0, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'shape' has value ", print_value(shape),
             " with a negative dimension ", d);
}

struct InitParam {
  std::vector<int64_t> shape;
  std::string dtype;
  static void describe(ParamDecl<InitParam> &d) {
    d.field("shape", &InitParam::shape).def({}).doc("Output shape.");
    d.field("dtype", &InitParam::dtype).def(std::string("float32")).choices(kDtypeChoices).doc("Output dtype.");
    d.check([](const InitParam &p, const std::string &op) { check_shape(p.shape, op); });
  }
};
struct FullParam {
  std::vector<int64_t> shape;
  std::string dtype;
  double value = 0;
  static void describe(ParamDecl<FullParam> &d) {
    d.field("shape", &FullParam::shape).def({}).doc("Output shape.");
    d.field("dtype", &FullParam::dtype).def(std::string("float32")).choices(kDtypeChoices).doc("Output dtype.");
    d.field("value", &FullParam::value).required().doc("Value to fill with.");
    d.check([](const FullParam &p, const std::string &op) { check_shape(p.shape, op); });
  }
};
struct ArangeParam {
  double start = 0;
  std::optional<double> stop;
  double step = 1;
  int64_t repeat = 1;
  bool infer_range = false;
  std::string dtype;
  static void describe(ParamDecl<ArangeParam> &d) {
    d.field("start", &ArangeParam::start).required().doc("Start of the interval (the end when stop is None).");
    d.field("stop", &ArangeParam::stop).def(std::optional<double>()).doc("End of the interval (exclusive).");
    d.field("step", &ArangeParam::step).def(1.0).doc("Spacing between values.");
    d.field("repeat", &ArangeParam::repeat).def(1).doc("Times each value is repeated.");
    d.field("infer_range", &ArangeParam::infer_range).def(false).doc("Infer stop from the output (unsupported; ignored).");
    d.field("dtype", &ArangeParam::dtype).def(std::string("float32")).choices(kDtypeChoices).doc("Output dtype.");
    d.check([](const ArangeParam &p, const std::string &op) {
      MX_CHECK(p.step != 0, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'step' has value 0; it must be non-zero");
      MX_CHECK(p.repeat >= 1, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'repeat' has value ", p.repeat,
               "; it must be at least 1");
    });
  }
};
struct EyeParam {
  int64_t N = 0, M = 0, k = 0;
  std::string dtype;
  static void describe(ParamDecl<EyeParam> &d) {
    d.field("N", &EyeParam::N).required().doc("Number of rows.");
    d.field("M", &EyeParam::M).def(0).doc("Number of columns (0: N).");
    d.field("k", &EyeParam::k).def(0).doc("Diagonal index: 0 main, > 0 upper, < 0 lower.");
    d.field("dtype", &EyeParam::dtype).def(std::string("float32")).choices(kDtypeChoices).doc("Output dtype.");
    d.check([](const EyeParam &p, const std::string &op) {
      MX_CHECK(p.N >= 0, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'N' has value ", p.N, "; it must be >= 0");
      MX_CHECK(p.M >= 0, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'M' has value ", p.M, "; it must be >= 0");
    });
  }
};
struct LinspaceParam {
  double start = 0, stop = 0;
  int64_t num = 0;
  bool endpoint = true;
  std::string dtype;
  static void describe(ParamDecl<LinspaceParam> &d) {
    d.field("start", &LinspaceParam::start).required().doc("First value.");
    d.field("stop", &LinspaceParam::stop).required().doc("Last value (included when endpoint).");
    d.field("num", &LinspaceParam::num).required().doc("Number of values.");
    d.field("endpoint", &LinspaceParam::endpoint).def(true).doc("Include stop.");
    d.field("dtype", &LinspaceParam::dtype).def(std::string("float32")).choices(kDtypeChoices).doc("Output dtype.");
    d.check([](const LinspaceParam &p, const std::string &op) {
      MX_CHECK(p.num >= 0, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'num' has value ", p.num, "; it must be >= 0");
    });
  }
};

template <typename P> InferTypeFn type_from_param() {
  return [](const Params &p, TypeVec &, TypeVec &, TypeVec &out) {
    out[0] = static_cast<int>(dtype_from_name(p.get<P>().dtype));
    return true;
  };
}

int64_t arange_len(const ArangeParam &p) {
  double start = p.stop ? p.start : 0.0, stop = p.stop ? *p.stop : p.start;
  double n = std::ceil((stop - start) / p.step);
  // Checked in double before the cast (a cast of 1e30 to int64 is undefined): an element count
  // no array can hold, or a NaN from inf/nan bounds, is the caller's error.
  MX_CHECK(!std::isnan(n) && n * static_cast<double>(p.repeat) < 4.6e18, MX_ERR_INVALID_ARGUMENT,
           "arange: start=", start, ", stop=", stop, ", step=", p.step, ", repeat=", p.repeat,
           " gives ", n, " elements, more than an array can hold");
  return n > 0 ? static_cast<int64_t>(n) : 0;
}

// Writes values computed in double into out (any dtype).
// On a GPU the values are computed on the host and uploaded (creation ops run once per array).
template <typename F> void fill_with(const NDArray &out, F f) {
  if (!out.device().is_cpu()) {
    NDArray host(out.shape(), out.dtype(), Device());
    fill_with(host, f);
    out.assign(host);
    return;
  }
  int64_t n = out.size();
  if (out.dtype() == DType::f64) {
    double *d = out.data<double>();
    parallel_for(n, kElemGrain, [&](int64_t s, int64_t e) { for (int64_t i = s; i < e; ++i) d[i] = f(i); });
    return;
  }
  std::vector<double> tmp(static_cast<size_t>(n));
  parallel_for(n, kElemGrain, [&](int64_t s, int64_t e) { for (int64_t i = s; i < e; ++i) tmp[static_cast<size_t>(i)] = f(i); });
  convert_buffer(tmp.data(), DType::f64, out.raw(), out.dtype(), n);
}

const int registered = [] {
  MX_REGISTER_OP(_zeros)
      .doc("An array of zeros.")
      .params<InitParam>().inputs({}).no_grad()
      .shape([](const Params &p, ShapeVec &, ShapeVec &, ShapeVec &out) {
        assign_shape(out[0], Shape(p.get<InitParam>().shape), p.op->name.c_str(), "output");
        return true;
      })
      .type(type_from_param<InitParam>())
      .cpu([](const OpCall &c) { c.outputs[0].fill(0); });
  MX_REGISTER_OP(_ones)
      .doc("An array of ones.")
      .params<InitParam>().inputs({}).no_grad()
      .shape([](const Params &p, ShapeVec &, ShapeVec &, ShapeVec &out) {
        assign_shape(out[0], Shape(p.get<InitParam>().shape), p.op->name.c_str(), "output");
        return true;
      })
      .type(type_from_param<InitParam>())
      .cpu([](const OpCall &c) { c.outputs[0].fill(1); });
  MX_REGISTER_OP(_full)
      .doc("An array filled with `value`.")
      .params<FullParam>().inputs({}).no_grad()
      .shape([](const Params &p, ShapeVec &, ShapeVec &, ShapeVec &out) {
        assign_shape(out[0], Shape(p.get<FullParam>().shape), p.op->name.c_str(), "output");
        return true;
      })
      .type(type_from_param<FullParam>())
      .cpu([](const OpCall &c) { c.outputs[0].fill(c.p<FullParam>().value); });
  MX_REGISTER_OP(_arange)
      .doc("Evenly spaced values in [start, stop), each repeated `repeat` times.")
      .params<ArangeParam>().inputs({}).no_grad()
      .shape([](const Params &p, ShapeVec &, ShapeVec &, ShapeVec &out) {
        const auto &a = p.get<ArangeParam>();
        assign_shape(out[0], Shape{arange_len(a) * a.repeat}, "_arange", "output");
        return true;
      })
      .type(type_from_param<ArangeParam>())
      .cpu([](const OpCall &c) {
        const auto &a = c.p<ArangeParam>();
        double start = a.stop ? a.start : 0.0, step = a.step;
        if (!dtype_is_float(c.outputs[0].dtype())) {
          // as MXNet (and numpy): integer outputs step in the dtype, start and step truncated first
          start = std::trunc(start);
          step = std::trunc(step);
        }
        const int64_t rep = a.repeat;
        fill_with(c.outputs[0], [=](int64_t i) { return start + static_cast<double>(i / rep) * step; });
      });
  MX_REGISTER_OP(_eye)
      .doc("A 2-D array with ones on the k-th diagonal and zeros elsewhere.")
      .params<EyeParam>().inputs({}).no_grad()
      .shape([](const Params &p, ShapeVec &, ShapeVec &, ShapeVec &out) {
        const auto &e = p.get<EyeParam>();
        assign_shape(out[0], Shape{e.N, e.M ? e.M : e.N}, "_eye", "output");
        return true;
      })
      .type(type_from_param<EyeParam>())
      .cpu([](const OpCall &c) {
        const auto &e = c.p<EyeParam>();
        const int64_t cols = e.M ? e.M : e.N, k = e.k;
        fill_with(c.outputs[0], [=](int64_t i) { return (i % cols) - (i / cols) == k ? 1.0 : 0.0; });
      });
  MX_REGISTER_OP(_linspace)
      .doc("`num` evenly spaced values from start to stop.")
      .params<LinspaceParam>().inputs({}).no_grad()
      .shape([](const Params &p, ShapeVec &, ShapeVec &, ShapeVec &out) {
        assign_shape(out[0], Shape{p.get<LinspaceParam>().num}, "_linspace", "output");
        return true;
      })
      .type(type_from_param<LinspaceParam>())
      .cpu([](const OpCall &c) {
        const auto &l = c.p<LinspaceParam>();
        const int64_t n = l.num;
        const double div = l.endpoint ? static_cast<double>(n - 1) : static_cast<double>(n);
        const double step = div > 0 ? (l.stop - l.start) / div : 0.0;
        const double start = l.start, stop = l.stop;
        const bool ep = l.endpoint;
        fill_with(c.outputs[0], [=](int64_t i) { return (ep && i == n - 1 && n > 1) ? stop : start + step * static_cast<double>(i); });
      });
  // NDArray::fill and fill_with work on either device.
  gpu_same_as_cpu({"_zeros", "_ones", "_full", "_arange", "_eye", "_linspace"});
  return 0;
}();

}  // namespace
}  // namespace mx
