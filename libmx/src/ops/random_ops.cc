// Random sampling ops, all driven by the device's counter-based Philox4x32 stream.
//
// Each call reserves counter blocks with c.rng->reserve. Fixed-cost samplers (uniform, normal,
// randint, exponential) map element i to a block derived from i alone. Rejection samplers
// (gamma, poisson, negative_binomial) give element i its own sub-stream keyed by
// (seed, first block + i) with an unbounded private counter. Results therefore never depend on
// the number of threads.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>

#include "ops/elemwise_common.h"
#include "ops/formulas/random.h"
#include "ops/random_gpu.h"
#include "random/philox.h"

namespace mx {
namespace {

using formula::join;
using formula::kTwoPow53Inv;
using formula::unit_open;

inline uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// A private stream for one element.
struct Stream {
  uint64_t key, ctr = 0;
  uint32_t w[4];
  int pos = 4;
  Stream(uint64_t seed, uint64_t elem) : key(splitmix64(seed ^ splitmix64(elem))) {}
  uint32_t next() {
    if (pos == 4) {
      Philox4x32::block(key, ctr++, w);
      pos = 0;
    }
    return w[pos++];
  }
  double uniform() { uint32_t a = next(); return unit_open(join(a, next())); }
  double normal() {
    double u1 = uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  }
  double gamma(double alpha) {  // shape alpha, scale 1 (Marsaglia & Tsang)
    if (alpha < 1.0) {
      double g = gamma(alpha + 1.0);
      return g * std::pow(uniform(), 1.0 / alpha);
    }
    const double d = alpha - 1.0 / 3.0, cc = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
      double x = normal(), v = 1.0 + cc * x;
      if (v <= 0) continue;
      v = v * v * v;
      double u = uniform();
      if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
      if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
    }
  }
  double poisson(double lam) {
    if (lam <= 0) return 0;
    if (lam < 10) {  // Knuth: multiply uniforms until below exp(-lam)
      const double L = std::exp(-lam);
      double p = 1;
      int64_t k = 0;
      for (;;) {
        p *= uniform();
        if (p <= L) return static_cast<double>(k);
        ++k;
      }
    }
    // Transformed rejection (Hormann's PTRS).
    const double slam = std::sqrt(lam), loglam = std::log(lam);
    const double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
    const double invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
      double U = uniform() - 0.5, V = uniform();
      double us = 0.5 - std::abs(U);
      double k = std::floor((2 * a / us + b) * U + lam + 0.43);
      if (us >= 0.07 && V <= vr) return k;
      if (k < 0 || (us < 0.013 && V > us)) continue;
      if (std::log(V) + std::log(invalpha) - std::log(a / (us * us) + b) <= -lam + k * loglam - std::lgamma(k + 1))
        return k;
    }
  }
};

const std::vector<std::string> kFloatChoices = {"None", "float16", "float32", "float64"};

void check_shape(const std::vector<int64_t> &shape, const std::string &op) {
  for (int64_t d : shape)
    MX_CHECK(d >= 0, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'shape' has value ", print_value(shape),
             " with a negative dimension ", d);
}

#define MX_RANDOM_COMMON(S)                                                                       \
  std::vector<int64_t> shape;                                                                     \
  std::string dtype;                                                                              \
  static void common(ParamDecl<S> &d, const std::vector<std::string> &choices) {                  \
    d.field("shape", &S::shape).def({}).doc("Output shape.");                                     \
    d.field("dtype", &S::dtype).def(std::string("None")).choices(choices)                         \
        .doc("Output dtype (None: float32, or int32 for integer samplers).");                     \
  }

struct UniformParam {
  double low = 0, high = 1;
  MX_RANDOM_COMMON(UniformParam)
  static void describe(ParamDecl<UniformParam> &d) {
    d.field("low", &UniformParam::low).def(0.0).doc("Lower bound (inclusive).");
    d.field("high", &UniformParam::high).def(1.0).doc("Upper bound (exclusive).");
    common(d, kFloatChoices);
    d.check([](const UniformParam &p, const std::string &op) {
      check_shape(p.shape, op);
      MX_CHECK(p.low <= p.high, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'high' has value ", p.high,
               " which is below low=", p.low);
    });
  }
};
struct NormalParam {
  double loc = 0, scale = 1;
  MX_RANDOM_COMMON(NormalParam)
  static void describe(ParamDecl<NormalParam> &d) {
    d.field("loc", &NormalParam::loc).def(0.0).doc("Mean.");
    d.field("scale", &NormalParam::scale).def(1.0).doc("Standard deviation.");
    common(d, kFloatChoices);
    d.check([](const NormalParam &p, const std::string &op) {
      check_shape(p.shape, op);
      MX_CHECK(p.scale > 0, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'scale' has value ", p.scale,
               "; it must be > 0");
    });
  }
};
struct RandintParam {
  int64_t low = 0, high = 0;
  MX_RANDOM_COMMON(RandintParam)
  static void describe(ParamDecl<RandintParam> &d) {
    d.field("low", &RandintParam::low).required().doc("Lower bound (inclusive).");
    d.field("high", &RandintParam::high).required().doc("Upper bound (exclusive).");
    common(d, {"None", "int32", "int64"});
    d.check([](const RandintParam &p, const std::string &op) {
      check_shape(p.shape, op);
      MX_CHECK(p.high > p.low, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'high' has value ", p.high,
               " which must be greater than low=", p.low);
    });
  }
};
struct ExponentialParam {
  double lam = 1;
  MX_RANDOM_COMMON(ExponentialParam)
  static void describe(ParamDecl<ExponentialParam> &d) {
    d.field("lam", &ExponentialParam::lam).def(1.0).doc("Rate (1 / mean).");
    common(d, kFloatChoices);
    d.check([](const ExponentialParam &p, const std::string &op) {
      check_shape(p.shape, op);
      MX_CHECK(p.lam > 0, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'lam' has value ", p.lam, "; it must be > 0");
    });
  }
};
struct GammaParam {
  double alpha = 1, beta = 1;
  MX_RANDOM_COMMON(GammaParam)
  static void describe(ParamDecl<GammaParam> &d) {
    d.field("alpha", &GammaParam::alpha).def(1.0).doc("Shape.");
    d.field("beta", &GammaParam::beta).def(1.0).doc("Scale.");
    common(d, kFloatChoices);
    d.check([](const GammaParam &p, const std::string &op) {
      check_shape(p.shape, op);
      MX_CHECK(p.alpha > 0, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'alpha' has value ", p.alpha, "; it must be > 0");
      MX_CHECK(p.beta > 0, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'beta' has value ", p.beta, "; it must be > 0");
    });
  }
};
struct PoissonParam {
  double lam = 1;
  MX_RANDOM_COMMON(PoissonParam)
  static void describe(ParamDecl<PoissonParam> &d) {
    d.field("lam", &PoissonParam::lam).def(1.0).doc("Mean.");
    common(d, kFloatChoices);
    d.check([](const PoissonParam &p, const std::string &op) {
      check_shape(p.shape, op);
      MX_CHECK(p.lam >= 0, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'lam' has value ", p.lam, "; it must be >= 0");
    });
  }
};
// Generalized negative binomial (MXNet's mean/dispersion form): a gamma-Poisson mixture with mean
// mu and variance mu + alpha * mu^2; alpha = 0 is the Poisson distribution with mean mu.
struct GenNegBinParam {
  double mu = 1, alpha = 1;
  MX_RANDOM_COMMON(GenNegBinParam)
  static void describe(ParamDecl<GenNegBinParam> &d) {
    d.field("mu", &GenNegBinParam::mu).def(1.0).doc("Mean of the negative binomial distribution.");
    d.field("alpha", &GenNegBinParam::alpha).def(1.0).doc("Alpha (dispersion) parameter of the negative binomial distribution.");
    common(d, kFloatChoices);
    d.check([](const GenNegBinParam &p, const std::string &op) {
      check_shape(p.shape, op);
      MX_CHECK(p.mu >= 0 && std::isfinite(p.mu), MX_ERR_INVALID_ARGUMENT, op, ": parameter 'mu' has value ", p.mu,
               "; it must be >= 0");
      MX_CHECK(p.alpha >= 0 && std::isfinite(p.alpha), MX_ERR_INVALID_ARGUMENT, op, ": parameter 'alpha' has value ",
               p.alpha, "; it must be >= 0");
    });
  }
};
struct NegBinParam {
  int64_t k = 1;
  double p = 1;
  MX_RANDOM_COMMON(NegBinParam)
  static void describe(ParamDecl<NegBinParam> &d) {
    d.field("k", &NegBinParam::k).def(1).doc("Number of successes.");
    d.field("p", &NegBinParam::p).def(1.0).doc("Success probability.");
    common(d, kFloatChoices);
    d.check([](const NegBinParam &p, const std::string &op) {
      check_shape(p.shape, op);
      MX_CHECK(p.k > 0, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'k' has value ", p.k, "; it must be > 0");
      MX_CHECK(p.p > 0 && p.p <= 1, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'p' has value ", p.p,
               "; it must be in (0, 1]");
    });
  }
};
struct MultinomialParam {
  std::vector<int64_t> shape;
  bool get_prob = false;
  std::string dtype;
  static void describe(ParamDecl<MultinomialParam> &d) {
    d.field("shape", &MultinomialParam::shape).def({}).doc("Samples drawn per distribution.");
    d.field("get_prob", &MultinomialParam::get_prob).def(false)
        .doc("Also return the log-probability of each sample.");
    d.field("dtype", &MultinomialParam::dtype).def(std::string("int32"))
        .choices({"float16", "float32", "float64", "int32", "uint8"}).doc("Dtype of the samples.");
    d.check([](const MultinomialParam &p, const std::string &op) { check_shape(p.shape, op); });
  }
};

DType out_dtype(const std::string &name, DType def) { return name == "None" ? def : dtype_from_name(name); }

template <typename P> InferShapeFn shape_from_param() {
  return [](const Params &p, ShapeVec &, ShapeVec &, ShapeVec &out) {
    assign_shape(out[0], Shape(p.get<P>().shape), p.op->name.c_str(), "output");
    return true;
  };
}
template <typename P> InferTypeFn type_from_param(DType def) {
  return [def](const Params &p, TypeVec &, TypeVec &, TypeVec &out) {
    out[0] = static_cast<int>(out_dtype(p.get<P>().dtype, def));
    return true;
  };
}

// Runs fill(double *dst, n) for a float output, via a double buffer unless it is float64.
template <typename F> void write_double(const NDArray &out, F fill) {
  int64_t n = out.size();
  if (out.dtype() == DType::f64) {
    fill(out.data<double>(), n);
    return;
  }
  std::vector<double> tmp(static_cast<size_t>(n));
  fill(tmp.data(), n);
  convert_buffer(tmp.data(), DType::f64, out.raw(), out.dtype(), n);
}

// Element i takes 64-bit word (i % 2) of block base + i / 2 (a sampler of
// ops/formulas/random.h maps the block to the pair of values).
template <typename S> void gen_pairs(const OpCall &c, const S &sampler) {
  const NDArray &out = c.outputs[0];
  const int64_t n = out.size();
  if (n == 0) return;
  uint64_t seed;
  const uint64_t base = c.rng->reserve(static_cast<uint64_t>((n + 1) / 2), &seed);
  write_double(out, [&](double *dst, int64_t nn) {
    parallel_for((nn + 1) / 2, kElemGrain / 2, [&](int64_t s, int64_t e) {
      uint32_t w[4];
      for (int64_t b = s; b < e; ++b) {
        Philox4x32::block(seed, base + static_cast<uint64_t>(b), w);
        double v0, v1;
        sampler.pair(w, &v0, &v1);
        dst[2 * b] = v0;
        if (2 * b + 1 < nn) dst[2 * b + 1] = v1;
      }
    });
  });
}

// Element i uses the private stream (seed, base + i).
template <typename F> void gen_stream(const OpCall &c, F f) {
  const NDArray &out = c.outputs[0];
  const int64_t n = out.size();
  if (n == 0) return;
  uint64_t seed;
  const uint64_t base = c.rng->reserve(static_cast<uint64_t>(n), &seed);
  write_double(out, [&](double *dst, int64_t nn) {
    parallel_for(nn, 1024, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) {
        Stream st(seed, base + static_cast<uint64_t>(i));
        dst[i] = f(st);
      }
    });
  });
}

const std::vector<DType> kAll = {DType::f32, DType::f64, DType::f16, DType::bf16, DType::u8,
                                 DType::i8,  DType::i32, DType::i64, DType::boolean};

template <typename P> OpBuilder &reg_sampler(const char *name, std::vector<const char *> aliases, const char *doc,
                                             DType def, KernelFn k) {
  OpBuilder &ob = OpBuilder::create(name);
  for (auto a : aliases) ob.alias(a);
  ob.doc(doc).params<P>().inputs({}).shape(shape_from_param<P>()).type(type_from_param<P>(def)).cpu(std::move(k))
      .rng().no_grad();
  return ob;
}

// ---- _sample_* (MXNet's per-element samplers, mx.nd.random.normal(loc=NDArray, ...)): the
// distribution parameters are arrays of one shape P; the output has shape P + `shape`, `shape`
// draws per parameter element. Element i uses parameter element i / prod(shape).
struct SampleParam {
  std::vector<int64_t> shape;
  std::string dtype;
  static void describe(ParamDecl<SampleParam> &d) {
    d.field("shape", &SampleParam::shape).def({}).doc("Shape to be sampled from each random distribution.");
    d.field("dtype", &SampleParam::dtype).def(std::string("None")).choices(kFloatChoices)
        .doc("DType of the output in case this can't be inferred (None: the parameters' float dtype, else float32).");
    d.check([](const SampleParam &p, const std::string &op) { check_shape(p.shape, op); });
  }
};

bool sample_shape(const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
  const char *op = prm.op->name.c_str();
  Shape ps;
  for (auto &s : in)
    if (s.known()) { ps = s; break; }
  if (!ps.known()) return false;
  for (size_t i = 0; i < in.size(); ++i)
    assign_shape(in[i], ps, op, prm.op->input_names[i] + " (every parameter array has one shape)");
  std::vector<int64_t> d = ps.dims();
  for (int64_t x : prm.get<SampleParam>().shape) d.push_back(x);
  assign_shape(out[0], Shape(d), op, "output");
  return true;
}

bool sample_type(const Params &prm, TypeVec &in, TypeVec &, TypeVec &out) {
  const std::string &dt = prm.get<SampleParam>().dtype;
  if (dt != "None") {
    out[0] = static_cast<int>(dtype_from_name(dt));
  } else {
    const int t = in.empty() ? -1 : in[0];
    out[0] = t >= 0 && dtype_is_float(static_cast<DType>(t)) ? t : static_cast<int>(DType::f32);
  }
  return true;
}

// f(stream, parameter values) per output element.
template <typename F> void gen_sample(const OpCall &c, F f) {
  const NDArray &out = c.outputs[0];
  const int64_t n = out.size(), np = c.inputs[0].size();
  if (n == 0) return;
  const int64_t per = np ? n / np : 0;
  std::vector<std::vector<double>> prm(c.inputs.size());
  for (size_t k = 0; k < c.inputs.size(); ++k) {
    prm[k].resize(static_cast<size_t>(np));
    convert_buffer(c.inputs[k].raw(), c.inputs[k].dtype(), prm[k].data(), DType::f64, np);
  }
  uint64_t seed;
  const uint64_t base = c.rng->reserve(static_cast<uint64_t>(n), &seed);
  write_double(out, [&](double *dst, int64_t nn) {
    parallel_for(nn, 1024, [&](int64_t s, int64_t e) {
      double a[2] = {0, 0};
      for (int64_t i = s; i < e; ++i) {
        const size_t j = static_cast<size_t>(i / per);
        for (size_t k = 0; k < prm.size() && k < 2; ++k) a[k] = prm[k][j];
        Stream st(seed, base + static_cast<uint64_t>(i));
        dst[i] = f(st, a[0], a[1]);
      }
    });
  });
}

void check_sample_params(const OpCall &c, const char *what, bool (*ok)(double, double)) {
  const int64_t np = c.inputs[0].size();
  std::vector<std::vector<double>> v(c.inputs.size(), std::vector<double>(static_cast<size_t>(np)));
  for (size_t k = 0; k < c.inputs.size(); ++k)
    convert_buffer(c.inputs[k].raw(), c.inputs[k].dtype(), v[k].data(), DType::f64, np);
  for (int64_t j = 0; j < np; ++j) {
    const double a = v[0][static_cast<size_t>(j)], b = v.size() > 1 ? v[1][static_cast<size_t>(j)] : 0.0;
    MX_CHECK(ok(a, b), MX_ERR_INVALID_ARGUMENT, c.params.op->name, ": parameter element ", j, " (", a,
             v.size() > 1 ? ", " : "", v.size() > 1 ? std::to_string(b) : std::string(), ") is invalid: ", what);
  }
}

OpBuilder &reg_sample(const char *name, const char *alias, const char *doc, std::vector<std::string> inputs,
                      KernelFn k) {
  OpBuilder &ob = OpBuilder::create(name);
  ob.alias(alias);
  ob.doc(doc).params<SampleParam>().inputs(std::move(inputs)).shape(sample_shape).type(sample_type)
      .dtypes({DType::f32, DType::f64, DType::i32, DType::i64}).cpu(std::move(k)).rng().no_grad();
  return ob;
}

int register_samplers() {
  reg_sample("_sample_uniform", "sample_uniform", "Samples from U[low, high) per element of low and high.",
             {"low", "high"}, [](const OpCall &c) {
               check_sample_params(c, "need low <= high", [](double a, double b) { return a <= b; });
               gen_sample(c, [](Stream &s, double lo, double hi) { return lo + (hi - lo) * s.uniform(); });
             });
  reg_sample("_sample_normal", "sample_normal", "Samples from N(mu, sigma^2) per element of mu and sigma.",
             {"mu", "sigma"}, [](const OpCall &c) {
               check_sample_params(c, "need sigma >= 0", [](double, double b) { return b >= 0; });
               gen_sample(c, [](Stream &s, double mu, double sd) { return mu + sd * s.normal(); });
             });
  reg_sample("_sample_gamma", "sample_gamma", "Samples from the gamma distribution (shape alpha, scale beta) per "
             "element of alpha and beta.", {"alpha", "beta"}, [](const OpCall &c) {
               check_sample_params(c, "need alpha > 0 and beta > 0", [](double a, double b) { return a > 0 && b > 0; });
               gen_sample(c, [](Stream &s, double a, double b) { return s.gamma(a) * b; });
             });
  reg_sample("_sample_exponential", "sample_exponential", "Samples from the exponential distribution with rate lam "
             "per element of lam.", {"lam"}, [](const OpCall &c) {
               check_sample_params(c, "need lam > 0", [](double a, double) { return a > 0; });
               gen_sample(c, [](Stream &s, double lam, double) { return -std::log(s.uniform()) / lam; });
             });
  reg_sample("_sample_poisson", "sample_poisson", "Samples from the Poisson distribution with mean lam per element "
             "of lam.", {"lam"}, [](const OpCall &c) {
               check_sample_params(c, "need lam >= 0", [](double a, double) { return a >= 0; });
               gen_sample(c, [](Stream &s, double lam, double) { return s.poisson(lam); });
             });
  reg_sample("_sample_negative_binomial", "sample_negative_binomial", "Samples failures before k successes with "
             "success probability p, per element of k and p.", {"k", "p"}, [](const OpCall &c) {
               check_sample_params(c, "need k > 0 and 0 < p <= 1", [](double k, double p) { return k > 0 && p > 0 && p <= 1; });
               gen_sample(c, [](Stream &s, double k, double p) {
                 return p >= 1.0 ? 0.0 : s.poisson(s.gamma(k) * (1.0 - p) / p);
               });
             });
  reg_sample("_sample_generalized_negative_binomial", "sample_generalized_negative_binomial",
             "Samples from the generalized negative binomial distribution (mean mu, dispersion alpha) per element.",
             {"mu", "alpha"}, [](const OpCall &c) {
               check_sample_params(c, "need mu >= 0 and alpha >= 0", [](double m, double a) { return m >= 0 && a >= 0; });
               gen_sample(c, [](Stream &s, double mu, double alpha) {
                 return alpha == 0.0 ? s.poisson(mu) : s.poisson(s.gamma(1.0 / alpha) * alpha * mu);
               });
             });
  return 0;
}
const int samplers_registered = register_samplers();

const int registered = [] {
  reg_sampler<UniformParam>("_random_uniform", {"uniform", "random_uniform"},
                            "Samples from the uniform distribution on [low, high).", DType::f32,
                            [](const OpCall &c) {
                              const auto &p = c.p<UniformParam>();
                              gen_pairs(c, formula::UniformSampler{p.low, p.high - p.low});
                            })
      .gpu(cuda_only([](const OpCall &c) {
        const auto &p = c.p<UniformParam>();
        gpu_random_uniform(c, p.low, p.high - p.low);
      }));
  reg_sampler<NormalParam>("_random_normal", {"normal", "random_normal"},
                           "Samples from the normal distribution N(loc, scale^2) (Box-Muller).", DType::f32,
                           [](const OpCall &c) {
                             const auto &p = c.p<NormalParam>();
                             gen_pairs(c, formula::NormalSampler{p.loc, p.scale});
                           })
      .gpu(cuda_only([](const OpCall &c) {
        const auto &p = c.p<NormalParam>();
        gpu_random_normal(c, p.loc, p.scale);
      }));
  reg_sampler<RandintParam>("_random_randint", {"random_randint"},
                            "Samples integers uniformly from [low, high).", DType::i32,
                            [](const OpCall &c) {
                              const auto &p = c.p<RandintParam>();
                              const NDArray &out = c.outputs[0];
                              const int64_t n = out.size();
                              if (n == 0) return;
                              uint64_t seed;
                              const uint64_t base = c.rng->reserve(static_cast<uint64_t>((n + 1) / 2), &seed);
                              const formula::RandintSampler smp{p.low, static_cast<uint64_t>(p.high - p.low)};
                              std::vector<int64_t> tmp;
                              int64_t *dst = out.dtype() == DType::i64 ? out.data<int64_t>()
                                                                       : (tmp.resize(static_cast<size_t>(n)), tmp.data());
                              parallel_for((n + 1) / 2, kElemGrain / 2, [&](int64_t s, int64_t e) {
                                uint32_t w[4];
                                for (int64_t b = s; b < e; ++b) {
                                  Philox4x32::block(seed, base + static_cast<uint64_t>(b), w);
                                  int64_t v0, v1;
                                  smp.pair(w, &v0, &v1);
                                  dst[2 * b] = v0;
                                  if (2 * b + 1 < n) dst[2 * b + 1] = v1;
                                }
                              });
                              if (!tmp.empty()) convert_buffer(tmp.data(), DType::i64, out.raw(), out.dtype(), n);
                            })
      .gpu(cuda_only([](const OpCall &c) {
        const auto &p = c.p<RandintParam>();
        gpu_random_randint(c, p.low, static_cast<uint64_t>(p.high - p.low));
      }));
  reg_sampler<ExponentialParam>("_random_exponential", {"random_exponential"},
                                "Samples from the exponential distribution with rate lam.", DType::f32,
                                [](const OpCall &c) {
                                  gen_pairs(c, formula::ExponentialSampler{c.p<ExponentialParam>().lam});
                                })
      .gpu(cuda_only([](const OpCall &c) { gpu_random_exponential(c, c.p<ExponentialParam>().lam); }));
  reg_sampler<GammaParam>("_random_gamma", {"random_gamma"},
                          "Samples from the gamma distribution (shape alpha, scale beta).", DType::f32,
                          [](const OpCall &c) {
                            const auto &p = c.p<GammaParam>();
                            const double a = p.alpha, b = p.beta;
                            gen_stream(c, [=](Stream &s) { return s.gamma(a) * b; });
                          });
  reg_sampler<PoissonParam>("_random_poisson", {"random_poisson"},
                            "Samples from the Poisson distribution with mean lam.", DType::f32,
                            [](const OpCall &c) {
                              const double lam = c.p<PoissonParam>().lam;
                              gen_stream(c, [=](Stream &s) { return s.poisson(lam); });
                            });
  reg_sampler<NegBinParam>("_random_negative_binomial", {"random_negative_binomial"},
                           "Samples failures before k successes with success probability p.", DType::f32,
                           [](const OpCall &c) {
                             const auto &p = c.p<NegBinParam>();
                             const double k = static_cast<double>(p.k), pr = p.p;
                             gen_stream(c, [=](Stream &s) {
                               if (pr >= 1.0) return 0.0;
                               return s.poisson(s.gamma(k) * (1.0 - pr) / pr);
                             });
                           });

  reg_sampler<GenNegBinParam>("_random_generalized_negative_binomial", {"random_generalized_negative_binomial"},
                              "Samples from the generalized negative binomial distribution (mean mu, dispersion alpha).",
                              DType::f32, [](const OpCall &c) {
                                const auto &p = c.p<GenNegBinParam>();
                                const double mu = p.mu, alpha = p.alpha;
                                gen_stream(c, [=](Stream &s) {
                                  if (alpha == 0.0) return s.poisson(mu);
                                  return s.poisson(s.gamma(1.0 / alpha) * alpha * mu);
                                });
                              });

  MX_REGISTER_OP(_sample_multinomial)
      .alias("sample_multinomial")
      .doc("Samples category indices from the probabilities along the last axis of data.")
      .params<MultinomialParam>()
      .inputs({"data"})
      .outputs({"output", "prob"})
      .num_outputs([](const Params &p) { return p.get<MultinomialParam>().get_prob ? 2 : 1; })
      .dtypes({DType::f32, DType::f64})
      .rng()
      .no_grad()
      .shape([](const Params &p, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        MX_CHECK(in[0].ndim() >= 1, MX_ERR_SHAPE, "_sample_multinomial: data must have at least 1 dimension, got ",
                 in[0].str());
        std::vector<int64_t> d(in[0].dims().begin(), in[0].dims().end() - 1);
        for (int64_t s : p.get<MultinomialParam>().shape) d.push_back(s);
        if (d.empty()) d.push_back(1);
        for (auto &o : out) assign_shape(o, Shape(d), "_sample_multinomial", "output");
        return true;
      })
      .type([](const Params &p, TypeVec &in, TypeVec &, TypeVec &out) {
        out[0] = static_cast<int>(dtype_from_name(p.get<MultinomialParam>().dtype));
        if (out.size() > 1) out[1] = in[0];
        return in[0] >= 0;
      })
      .cpu([](const OpCall &c) {
        const NDArray &data = c.inputs[0];
        const int64_t K = data.shape()[data.ndim() - 1];
        MX_CHECK(K > 0, MX_ERR_SHAPE, "_sample_multinomial: the last axis of data is empty");
        const int64_t rows = data.size() / K;
        const int64_t n = c.outputs[0].size();
        const int64_t S = rows ? n / rows : 0;
        if (n == 0) return;
        NDArray p64 = data.dtype() == DType::f64 ? data : data.astype(DType::f64);
        const double *prob = p64.data<double>();
        uint64_t seed;
        const uint64_t base = c.rng->reserve(static_cast<uint64_t>((n + 1) / 2), &seed);
        std::vector<double> idx(static_cast<size_t>(n)), lp(static_cast<size_t>(n));
        parallel_for(rows, std::max<int64_t>(1, 4096 / std::max<int64_t>(S, 1)), [&](int64_t s, int64_t e) {
          std::vector<double> cdf(static_cast<size_t>(K));
          uint32_t w[4];
          for (int64_t r = s; r < e; ++r) {
            const double *pr = prob + r * K;
            double acc = 0;
            for (int64_t k = 0; k < K; ++k) cdf[static_cast<size_t>(k)] = acc += pr[k];
            for (int64_t j = 0; j < S; ++j) {
              int64_t i = r * S + j;
              Philox4x32::block(seed, base + static_cast<uint64_t>(i / 2), w);
              uint64_t x = (i % 2) ? join(w[2], w[3]) : join(w[0], w[1]);
              double u = static_cast<double>(x >> 11) * kTwoPow53Inv * acc;
              int64_t k = std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin();
              if (k >= K) k = K - 1;
              while (k > 0 && pr[k] <= 0) --k;  // never pick a zero-probability category
              idx[static_cast<size_t>(i)] = static_cast<double>(k);
              lp[static_cast<size_t>(i)] = std::log(pr[k]);
            }
          }
        });
        convert_buffer(idx.data(), DType::f64, c.outputs[0].raw(), c.outputs[0].dtype(), n);
        if (c.outputs.size() > 1) convert_buffer(lp.data(), DType::f64, c.outputs[1].raw(), c.outputs[1].dtype(), n);
      });

  MX_REGISTER_OP(_shuffle)
      .alias("shuffle")
      .doc("Randomly permutes the input along its first axis.")
      .inputs({"data"})
      .dtypes(kAll)
      .shape(infer_shape_same)
      .rng()
      .no_grad()
      .cpu([](const OpCall &c) {
        const NDArray &in = c.inputs[0], &out = c.outputs[0];
        const int64_t n = in.ndim() ? in.shape()[0] : 1;
        if (in.size() == 0) return;
        const size_t row = in.nbytes() / static_cast<size_t>(n);
        std::vector<int64_t> perm(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) perm[static_cast<size_t>(i)] = i;
        uint64_t seed;
        const uint64_t base = c.rng->reserve(static_cast<uint64_t>((n + 1) / 2), &seed);
        uint32_t w[4];
        for (int64_t i = n - 1; i > 0; --i) {  // Fisher-Yates; draw i uses word pair (i % 2) of block i / 2
          Philox4x32::block(seed, base + static_cast<uint64_t>(i / 2), w);
          uint64_t x = (i % 2) ? join(w[2], w[3]) : join(w[0], w[1]);
          int64_t j = static_cast<int64_t>(x % static_cast<uint64_t>(i + 1));
          std::swap(perm[static_cast<size_t>(i)], perm[static_cast<size_t>(j)]);
        }
        const char *src = static_cast<const char *>(in.raw());
        char *dst = static_cast<char *>(out.raw());
        NDArray tmp;
        if (in.same_data(out)) {
          tmp = in.copy();
          src = static_cast<const char *>(tmp.raw());
        }
        parallel_for(n, std::max<int64_t>(1, (1 << 18) / static_cast<int64_t>(std::max<size_t>(row, 1))),
                     [&](int64_t s, int64_t e) {
                       for (int64_t i = s; i < e; ++i)
                         std::memcpy(dst + static_cast<size_t>(i) * row, src + static_cast<size_t>(perm[static_cast<size_t>(i)]) * row, row);
                     });
      });
  return 0;
}();

}  // namespace
}  // namespace mx
