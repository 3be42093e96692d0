// Initializers (see initializer.h). Sampling: uniform element i uses Philox block base + i/4,
// word i%4; normal element i uses block base + i/2 and words 2*(i%2), 2*(i%2)+1 (Box-Muller),
// so values depend only on the seed and the order of calls, never on threads.
#include "init/initializer.h"

#include <algorithm>
#include <cmath>
#include <climits>
#include <regex>
#include <set>
#include <vector>

#include "backends/cpu/parallel.h"
#include "base/error.h"
#include "random/philox.h"

// LAPACKE from the same OpenBLAS as the BLAS calls (the scipy-openblas32 wheel prefixes symbols).
extern "C" {
#ifdef MX_BLAS_PREFIX_SCIPY
#define MX_LAPACKE_DGESVD scipy_LAPACKE_dgesvd
#else
#define MX_LAPACKE_DGESVD LAPACKE_dgesvd
#endif
int MX_LAPACKE_DGESVD(int layout, char jobu, char jobvt, int m, int n, double *a, int lda, double *s,
                      double *u, int ldu, double *vt, int ldvt, double *superb);
}

namespace mx {

namespace {

constexpr double kPi = 3.14159265358979323846;

bool ends_with(const std::string &s, const char *suf) {
  size_t n = std::char_traits<char>::length(suf);
  return s.size() >= n && s.compare(s.size() - n, n, suf) == 0;
}
bool starts_with(const std::string &s, const char *pre) {
  return s.rfind(pre, 0) == 0;
}

// Write host doubles into arr (any dtype, any device the copy supports).
void write_values(const NDArray &arr, const std::vector<double> &v) {
  NDArray tmp(arr.shape(), DType::f64, Device());
  std::copy(v.begin(), v.end(), tmp.data<double>());
  arr.assign(tmp);
}

void fill_value(const NDArray &arr, double value) {
  if (arr.device().is_cpu()) {
    arr.fill(value);
  } else {
    NDArray tmp(arr.shape(), arr.dtype(), Device());
    tmp.fill(value);
    arr.assign(tmp);
  }
}

std::vector<double> sample_uniform(int64_t n, double lo, double hi) {
  std::vector<double> out(static_cast<size_t>(n));
  if (n == 0) return out;
  uint64_t seed = 0;
  const uint64_t base = random_state(MX_CPU, 0).reserve(static_cast<uint64_t>((n + 3) / 4), &seed);
  double *o = out.data();
  parallel_for((n + 3) / 4, 1 << 12, [&](int64_t b, int64_t e) {
    uint32_t w[4];
    for (int64_t blk = b; blk < e; ++blk) {
      Philox4x32::block(seed, base + static_cast<uint64_t>(blk), w);
      for (int64_t j = 0; j < 4 && blk * 4 + j < n; ++j)
        o[blk * 4 + j] = lo + (hi - lo) * static_cast<double>(u32_to_unit_float(w[j]));
    }
  });
  return out;
}

std::vector<double> sample_normal(int64_t n, double mu, double sigma) {
  std::vector<double> out(static_cast<size_t>(n));
  if (n == 0) return out;
  uint64_t seed = 0;
  const uint64_t base = random_state(MX_CPU, 0).reserve(static_cast<uint64_t>((n + 1) / 2), &seed);
  double *o = out.data();
  parallel_for((n + 1) / 2, 1 << 12, [&](int64_t b, int64_t e) {
    uint32_t w[4];
    for (int64_t blk = b; blk < e; ++blk) {
      Philox4x32::block(seed, base + static_cast<uint64_t>(blk), w);
      for (int64_t j = 0; j < 2 && blk * 2 + j < n; ++j) {
        const double u1 = (static_cast<double>(w[2 * j]) + 1.0) * (1.0 / 4294967296.0);  // (0, 1]
        const double u2 = static_cast<double>(w[2 * j + 1]) * (1.0 / 4294967296.0);        // [0, 1)
        o[blk * 2 + j] = mu + sigma * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2);
      }
    }
  });
  return out;
}

// Keyword arguments of one initializer: typed getters with defaults; unknown keys are errors.
class Args {
 public:
  Args(std::string init, const Json &kw) : init_(std::move(init)), kw_(kw) {
    if (!kw_.is_null() && !kw_.is_object())
      fail(MX_ERR_INVALID_ARGUMENT, "initializer '", init_, "': arguments must be a JSON object, got ",
           kw_.dump());
  }
  const Json *get(const std::string &key) {
    used_.insert(key);
    if (kw_.is_null() || !kw_.has(key) || kw_[key].is_null()) return nullptr;
    return &kw_[key];
  }
  double num(const std::string &key, double def) {
    const Json *v = get(key);
    if (!v) return def;
    if (v->is_number() || v->is_bool()) return v->as_number();
    if (v->is_string()) {
      try {
        return v->as_number();
      } catch (const Error &) {
      }
    }
    fail(MX_ERR_INVALID_ARGUMENT, "initializer '", init_, "': parameter '", key,
         "' must be a number, got ", v->dump());
  }
  std::string str(const std::string &key, const std::string &def, std::initializer_list<const char *> choices) {
    const Json *v = get(key);
    if (!v) return def;
    MX_CHECK(v->is_string(), MX_ERR_INVALID_ARGUMENT, "initializer '", init_, "': parameter '", key,
             "' must be a string, got ", v->dump());
    std::string s = v->as_string();
    for (const char *c : choices)
      if (s == c) return s;
    std::string allowed;
    for (const char *c : choices) allowed += std::string(allowed.empty() ? "" : ", ") + "'" + c + "'";
    fail(MX_ERR_INVALID_ARGUMENT, "initializer '", init_, "': parameter '", key, "' has value '", s,
         "'; expected one of ", allowed);
  }
  void finish() const {
    if (kw_.is_null()) return;
    for (const auto &m : kw_.members())
      if (!used_.count(m.first))
        fail(MX_ERR_INVALID_ARGUMENT, "initializer '", init_, "': unknown parameter '", m.first, "'");
  }

 private:
  std::string init_;
  const Json &kw_;
  std::set<std::string> used_;
};

Json desc(const char *name, Json kw) {
  Json d = Json::array();
  d.push(name);
  d.push(std::move(kw));
  return d;
}

class Zero : public Initializer {
 public:
  Json describe() const override { return desc("zero", Json::object()); }
  void init_weight(const std::string &, const NDArray &arr) const override { fill_value(arr, 0.0); }
};

class One : public Initializer {
 public:
  Json describe() const override { return desc("one", Json::object()); }
  void init_weight(const std::string &, const NDArray &arr) const override { fill_value(arr, 1.0); }
};

class Constant : public Initializer {
 public:
  explicit Constant(Args &a) {
    const Json *v = a.get("value");
    MX_CHECK(v != nullptr, MX_ERR_INVALID_ARGUMENT, "initializer 'constant': parameter 'value' is required");
    value_json_ = *v;
    flatten(*v, 0);
  }
  Json describe() const override {
    Json kw = Json::object();
    kw.set("value", value_json_);
    return desc("constant", kw);
  }
  void init_weight(const std::string &name, const NDArray &arr) const override {
    if (values_.size() == 1) return fill_value(arr, values_[0]);
    MX_CHECK(static_cast<int64_t>(values_.size()) == arr.size(), MX_ERR_SHAPE, "Constant initializer for '",
             name, "': value has ", values_.size(), " elements but the parameter of shape ", arr.shape().str(),
             " has ", arr.size());
    write_values(arr, values_);
  }

 private:
  void flatten(const Json &v, int depth) {
    MX_CHECK(depth < 32, MX_ERR_INVALID_ARGUMENT, "initializer 'constant': value nested too deeply");
    if (v.is_array()) {
      for (const auto &x : v.items()) flatten(x, depth + 1);
    } else if (v.is_number() || v.is_bool() || v.is_string()) {
      try {
        values_.push_back(v.as_number());
      } catch (const Error &) {
        fail(MX_ERR_INVALID_ARGUMENT, "initializer 'constant': value ", v.dump(), " is not a number");
      }
    } else {
      fail(MX_ERR_INVALID_ARGUMENT, "initializer 'constant': value ", v.dump(), " is not a number or list");
    }
  }
  Json value_json_;
  std::vector<double> values_;
};

class Uniform : public Initializer {
 public:
  explicit Uniform(Args &a) : scale_(a.num("scale", 0.07)) {}
  Json describe() const override {
    Json kw = Json::object();
    kw.set("scale", scale_);
    return desc("uniform", kw);
  }
  void init_weight(const std::string &, const NDArray &arr) const override {
    write_values(arr, sample_uniform(arr.size(), -scale_, scale_));
  }

 private:
  double scale_;
};

class Normal : public Initializer {
 public:
  explicit Normal(Args &a) : sigma_(a.num("sigma", 0.01)) {
    MX_CHECK(sigma_ >= 0, MX_ERR_INVALID_ARGUMENT, "initializer 'normal': sigma must be >= 0, got ", sigma_);
  }
  Json describe() const override {
    Json kw = Json::object();
    kw.set("sigma", sigma_);
    return desc("normal", kw);
  }
  void init_weight(const std::string &, const NDArray &arr) const override {
    write_values(arr, sample_normal(arr.size(), 0.0, sigma_));
  }

 private:
  double sigma_;
};

class Xavier : public Initializer {
 public:
  Xavier(std::string rnd, std::string factor, double magnitude)
      : rnd_(std::move(rnd)), factor_(std::move(factor)), magnitude_(magnitude) {}
  explicit Xavier(Args &a)
      : Xavier(a.str("rnd_type", "uniform", {"uniform", "gaussian"}),
               a.str("factor_type", "avg", {"avg", "in", "out"}), a.num("magnitude", 3.0)) {
    MX_CHECK(magnitude_ >= 0, MX_ERR_INVALID_ARGUMENT, "initializer 'xavier': magnitude must be >= 0, got ",
             magnitude_);
  }
  Json describe() const override {
    Json kw = Json::object();
    kw.set("rnd_type", rnd_);
    kw.set("factor_type", factor_);
    kw.set("magnitude", magnitude_);
    return desc("xavier", kw);
  }
  void init_weight(const std::string &name, const NDArray &arr) const override {
    const Shape &s = arr.shape();
    MX_CHECK(s.ndim() >= 2, MX_ERR_INVALID_ARGUMENT, "Xavier initializer cannot be applied to vector '", name,
             "' of shape ", s.str(), ". It requires at least 2D.");
    const double hw = static_cast<double>(s.prod(2, s.ndim()));
    const double fan_in = static_cast<double>(s[1]) * hw, fan_out = static_cast<double>(s[0]) * hw;
    double factor = factor_ == "avg" ? (fan_in + fan_out) / 2.0 : factor_ == "in" ? fan_in : fan_out;
    MX_CHECK(factor > 0, MX_ERR_SHAPE, "Xavier initializer for '", name, "': shape ", s.str(),
             " has zero fan");
    const double scale = std::sqrt(magnitude_ / factor);
    if (rnd_ == "uniform") write_values(arr, sample_uniform(arr.size(), -scale, scale));
    else write_values(arr, sample_normal(arr.size(), 0.0, scale));
  }

 protected:
  std::string rnd_, factor_;
  double magnitude_;
};

class MSRAPrelu : public Xavier {
 public:
  MSRAPrelu(std::string factor, double slope)
      : Xavier("gaussian", std::move(factor), 2.0 / (1.0 + slope * slope)), slope_(slope) {}
  explicit MSRAPrelu(Args &a)
      : MSRAPrelu(a.str("factor_type", "avg", {"avg", "in", "out"}), a.num("slope", 0.25)) {}
  Json describe() const override {
    Json kw = Json::object();
    kw.set("factor_type", factor_);
    kw.set("slope", slope_);
    return desc("msraprelu", kw);
  }

 private:
  double slope_;
};

class Orthogonal : public Initializer {
 public:
  explicit Orthogonal(Args &a)
      : scale_(a.num("scale", 1.414)), rand_(a.str("rand_type", "uniform", {"uniform", "normal"})) {}
  Json describe() const override {
    Json kw = Json::object();
    kw.set("scale", scale_);
    kw.set("rand_type", rand_);
    return desc("orthogonal", kw);
  }
  void init_weight(const std::string &name, const NDArray &arr) const override {
    const Shape &s = arr.shape();
    MX_CHECK(s.ndim() >= 1, MX_ERR_INVALID_ARGUMENT, "Orthogonal initializer cannot be applied to scalar '",
             name, "'");
    const int64_t nout = s[0], nin = s.prod(1, s.ndim());
    if (nout == 0 || nin == 0) return;
    MX_CHECK(nout <= INT_MAX && nin <= INT_MAX, MX_ERR_UNSUPPORTED, "Orthogonal initializer for '", name,
             "': shape ", s.str(), " too large for 32-bit LAPACK");
    std::vector<double> a = rand_ == "uniform" ? sample_uniform(nout * nin, -1.0, 1.0)
                                               : sample_normal(nout * nin, 0.0, 1.0);
    const int m = static_cast<int>(nout), n = static_cast<int>(nin), k = std::min(m, n);
    std::vector<double> sv(static_cast<size_t>(k)), u(static_cast<size_t>(m) * k),
        vt(static_cast<size_t>(k) * n), superb(static_cast<size_t>(std::max(1, k - 1)));
    int info = MX_LAPACKE_DGESVD(101 /* row major */, 'S', 'S', m, n, a.data(), n, sv.data(), u.data(), k,
                                 vt.data(), n, superb.data());
    MX_CHECK(info == 0, MX_ERR_INTERNAL, "Orthogonal initializer for '", name, "': SVD failed (info ", info,
             ")");
    // u is (m, k), vt is (k, n): take whichever has the parameter's (m, n) shape, as MXNet does.
    std::vector<double> &res = (k == n) ? u : vt;
    for (double &x : res) x *= scale_;
    write_values(arr, res);
  }

 private:
  double scale_;
  std::string rand_;
};

class Bilinear : public Initializer {
 public:
  Json describe() const override { return desc("bilinear", Json::object()); }
  void init_weight(const std::string &name, const NDArray &arr) const override {
    const Shape &s = arr.shape();
    MX_CHECK(s.ndim() == 4, MX_ERR_SHAPE, "Bilinear initializer for '", name, "' needs a 4-D weight, got ",
             s.str());
    std::vector<double> w(static_cast<size_t>(arr.size()));
    const double f = std::ceil(static_cast<double>(s[3]) / 2.0);
    const double c = (2.0 * f - 1.0 - std::fmod(f, 2.0)) / (2.0 * f);
    for (int64_t i = 0; i < arr.size(); ++i) {
      const double x = static_cast<double>(i % s[3]), y = static_cast<double>((i / s[3]) % s[2]);
      w[static_cast<size_t>(i)] = (1.0 - std::fabs(x / f - c)) * (1.0 - std::fabs(y / f - c));
    }
    write_values(arr, w);
  }
};

class LSTMBias : public Initializer {
 public:
  explicit LSTMBias(Args &a) : forget_bias_(a.num("forget_bias", 1.0)) {}
  Json describe() const override {
    Json kw = Json::object();
    kw.set("forget_bias", forget_bias_);
    return desc("lstmbias", kw);
  }
  void init_weight(const std::string &name, const NDArray &arr) const override {
    MX_CHECK(arr.ndim() >= 1, MX_ERR_SHAPE, "LSTMBias initializer for '", name, "' needs at least 1-D");
    std::vector<double> w(static_cast<size_t>(arr.size()), 0.0);
    const int64_t rows = arr.shape()[0], row = rows ? arr.size() / rows : 0, h = rows / 4;
    for (int64_t i = h * row; i < 2 * h * row; ++i) w[static_cast<size_t>(i)] = forget_bias_;
    write_values(arr, w);
  }

 private:
  double forget_bias_;
};

class Mixed : public Initializer {
 public:
  explicit Mixed(Args &a) {
    const Json *p = a.get("patterns");
    const Json *i = a.get("initializers");
    MX_CHECK(p && i && p->is_array() && i->is_array(), MX_ERR_INVALID_ARGUMENT,
             "initializer 'mixed': needs lists 'patterns' and 'initializers'");
    MX_CHECK(p->size() == i->size(), MX_ERR_INVALID_ARGUMENT, "initializer 'mixed': ", p->size(),
             " patterns but ", i->size(), " initializers");
    for (size_t k = 0; k < p->size(); ++k) {
      const Json &pat = p->items()[k];
      MX_CHECK(pat.is_string(), MX_ERR_INVALID_ARGUMENT, "initializer 'mixed': pattern ", pat.dump(),
               " is not a string");
      try {
        regex_.emplace_back(pat.as_string(), std::regex::ECMAScript);
      } catch (const std::regex_error &e) {
        fail(MX_ERR_INVALID_ARGUMENT, "initializer 'mixed': invalid pattern '", pat.as_string(), "': ", e.what());
      }
      patterns_.push_back(pat.as_string());
      inits_.push_back(make_initializer(i->items()[k]));
    }
  }
  Json describe() const override {
    Json kw = Json::object(), p = Json::array(), i = Json::array();
    for (size_t k = 0; k < patterns_.size(); ++k) {
      p.push(patterns_[k]);
      i.push(inits_[k]->describe());
    }
    kw.set("patterns", p);
    kw.set("initializers", i);
    return desc("mixed", kw);
  }
  void apply(const std::string &name, const Json &attrs, const NDArray &arr) const override {
    match(name).apply(name, attrs, arr);
  }
  void init_weight(const std::string &name, const NDArray &arr) const override {
    match(name).init_weight(name, arr);
  }

 private:
  const Initializer &match(const std::string &name) const {
    for (size_t k = 0; k < regex_.size(); ++k)
      if (std::regex_search(name, regex_[k], std::regex_constants::match_continuous)) return *inits_[k];
    fail(MX_ERR_INVALID_ARGUMENT, "Mixed initializer: parameter name '", name,
         "' did not match any pattern. Consider adding a \".*\" pattern at the end with a default "
         "initializer.");
  }
  std::vector<std::string> patterns_;
  std::vector<std::regex> regex_;
  std::vector<std::shared_ptr<Initializer>> inits_;
};

std::string lower(std::string s) {
  for (char &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

void Initializer::apply(const std::string &name, const Json &attrs, const NDArray &arr) const {
  if (attrs.is_object() && attrs.has("__init__")) {
    const Json &init = attrs["__init__"];
    if (!init.is_null() && !(init.is_string() && init.as_string().empty())) {
      auto other = init.is_string() ? make_initializer(init.as_string()) : make_initializer(init);
      other->init_weight(name, arr);
      return;
    }
  }
  const std::string &n = name;
  if (starts_with(n, "upsampling")) return Bilinear().init_weight(n, arr);
  if (starts_with(n, "stn_loc") && ends_with(n, "weight")) return fill_value(arr, 0.0);
  if (starts_with(n, "stn_loc") && ends_with(n, "bias")) {
    MX_CHECK(arr.size() == 6, MX_ERR_SHAPE, "initializer: '", n, "' must have 6 elements, has shape ",
             arr.shape().str());
    return write_values(arr, {1.0, 0.0, 0.0, 0.0, 1.0, 0.0});
  }
  if (ends_with(n, "weight")) return init_weight(n, arr);
  if (ends_with(n, "bias") || ends_with(n, "beta")) return fill_value(arr, 0.0);
  if (ends_with(n, "gamma")) return fill_value(arr, 1.0);
  if (ends_with(n, "moving_mean") || ends_with(n, "moving_inv_var") || ends_with(n, "moving_avg") ||
      ends_with(n, "running_mean"))
    return fill_value(arr, 0.0);
  if (ends_with(n, "moving_var") || ends_with(n, "running_var")) return fill_value(arr, 1.0);
  if (ends_with(n, "min")) return fill_value(arr, 0.0);
  if (ends_with(n, "max")) return fill_value(arr, 1.0);
  fail(MX_ERR_INVALID_ARGUMENT, "Unknown initialization pattern for '", n,
       "'. Default initialization is limited to names ending in \"weight\", \"bias\", \"gamma\" (1.0), "
       "\"beta\" (0.0), moving statistics and min/max; set the variable's init attribute "
       "(mx.sym.Variable(init=mx.init.*)) for other names.");
}

std::shared_ptr<Initializer> make_initializer(const Json &d) {
  std::string name;
  Json kw = Json::object();
  if (d.is_string()) {
    name = d.as_string();
  } else if (d.is_array()) {
    MX_CHECK(d.size() >= 1 && d.size() <= 2 && d.items()[0].is_string(), MX_ERR_INVALID_ARGUMENT,
             "initializer description must be [\"name\", {arguments}], got ", d.dump());
    name = d.items()[0].as_string();
    if (d.size() == 2) kw = d.items()[1];
  } else if (d.is_object()) {
    MX_CHECK(d.has("name") && d["name"].is_string(), MX_ERR_INVALID_ARGUMENT,
             "initializer description object needs a string \"name\", got ", d.dump());
    name = d["name"].as_string();
    for (const auto &m : d.members())
      if (m.first != "name") kw.set(m.first, m.second);
  } else {
    fail(MX_ERR_INVALID_ARGUMENT, "initializer description must be a name, [\"name\", {...}] or "
         "{\"name\": ...}, got ", d.dump());
  }
  name = lower(name);
  Args a(name, kw);
  std::shared_ptr<Initializer> r;
  if (name == "zero" || name == "zeros") r = std::make_shared<Zero>();
  else if (name == "one" || name == "ones") r = std::make_shared<One>();
  else if (name == "constant") r = std::make_shared<Constant>(a);
  else if (name == "uniform") r = std::make_shared<Uniform>(a);
  else if (name == "normal") r = std::make_shared<Normal>(a);
  else if (name == "xavier") r = std::make_shared<Xavier>(a);
  else if (name == "msraprelu") r = std::make_shared<MSRAPrelu>(a);
  else if (name == "orthogonal") r = std::make_shared<Orthogonal>(a);
  else if (name == "bilinear") r = std::make_shared<Bilinear>();
  else if (name == "lstmbias") r = std::make_shared<LSTMBias>(a);
  else if (name == "mixed") r = std::make_shared<Mixed>(a);
  else
    fail(MX_ERR_INVALID_ARGUMENT, "unknown initializer '", name,
         "'; known: zero (zeros), one (ones), constant, uniform, normal, xavier, msraprelu, orthogonal, "
         "bilinear, lstmbias, mixed");
  a.finish();
  return r;
}

std::shared_ptr<Initializer> make_initializer(const std::string &text) {
  size_t i = text.find_first_not_of(" \t\r\n");
  MX_CHECK(i != std::string::npos, MX_ERR_INVALID_ARGUMENT, "empty initializer description");
  const char c = text[i];
  if (c == '[' || c == '{' || c == '"') return make_initializer(Json::parse(text));
  std::string name = text.substr(i);
  name.erase(name.find_last_not_of(" \t\r\n") + 1);
  return make_initializer(Json(name));
}

}  // namespace mx
