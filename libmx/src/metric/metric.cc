// Metrics (see metric.h). Inputs are read as float64 on the host; label values are truncated to
// int32 where MXNet casts them (astype('int32')).
#include "metric/metric.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "base/error.h"

namespace mx {

namespace {

struct Host {
  Shape shape;
  std::vector<double> v;
  int ndim() const { return shape.ndim(); }
  int64_t size() const { return static_cast<int64_t>(v.size()); }
};

Host host(const NDArray &a, const std::string &metric, const char *what) {
  MX_CHECK(a.defined(), MX_ERR_INVALID_ARGUMENT, metric, ": ", what, " is an empty array");
  NDArray c = a.device().is_cpu() ? a : a.to(Device());
  Host h;
  h.shape = c.shape();
  h.v.resize(static_cast<size_t>(c.size()));
  if (c.size() > 0) convert_buffer(c.raw(), c.dtype(), h.v.data(), DType::f64, c.size());
  return h;
}

inline int32_t to_i32(double x) {
  if (!(x == x)) return INT32_MIN;  // NaN never matches a class
  if (x >= 2147483647.0) return INT32_MAX;
  if (x <= -2147483648.0) return INT32_MIN;
  return static_cast<int32_t>(x);  // truncation, like numpy's astype('int32')
}

// Argmax along `axis` (first maximum wins, as numpy).
std::vector<int32_t> argmax(const Host &p, int axis) {
  const int64_t outer = p.shape.prod(0, axis), c = p.shape[axis], inner = p.shape.prod(axis + 1, p.ndim());
  std::vector<int32_t> r(static_cast<size_t>(outer * inner));
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const double *base = p.v.data() + o * c * inner + i;
      int64_t best = 0;
      for (int64_t k = 1; k < c; ++k)
        if (base[k * inner] > base[best * inner]) best = k;
      r[static_cast<size_t>(o * inner + i)] = static_cast<int32_t>(best);
    }
  return r;
}

// Element-wise f(label, pred) over numpy's broadcast of the two shapes; returns the mean.
template <typename F>
double broadcast_mean(const Host &a, const Host &b, const std::string &metric, F f) {
  const int nd = std::max(a.ndim(), b.ndim());
  std::vector<int64_t> out(nd), sa(nd, 0), sb(nd, 0);
  int64_t stride_a = 1, stride_b = 1;
  for (int k = nd - 1; k >= 0; --k) {
    const int ia = k - (nd - a.ndim()), ib = k - (nd - b.ndim());
    const int64_t da = ia >= 0 ? a.shape[ia] : 1, db = ib >= 0 ? b.shape[ib] : 1;
    MX_CHECK(da == db || da == 1 || db == 1, MX_ERR_SHAPE, metric, ": label shape ", a.shape.str(),
             " and prediction shape ", b.shape.str(), " are not broadcastable");
    out[k] = std::max(da, db);
    if (da == 0 || db == 0) out[k] = 0;
    sa[k] = da == 1 ? 0 : stride_a;
    sb[k] = db == 1 ? 0 : stride_b;
    stride_a *= da;
    stride_b *= db;
  }
  int64_t total = 1;
  for (int64_t d : out) total *= d;
  if (total == 0) return std::nan("");
  std::vector<int64_t> idx(nd, 0);
  double acc = 0;
  int64_t ia = 0, ib = 0;
  for (int64_t n = 0; n < total; ++n) {
    acc += f(a.v[static_cast<size_t>(ia)], b.v[static_cast<size_t>(ib)]);
    for (int k = nd - 1; k >= 0; --k) {
      if (++idx[k] < out[k]) {
        ia += sa[k];
        ib += sb[k];
        break;
      }
      ia -= sa[k] * (out[k] - 1);
      ib -= sb[k] * (out[k] - 1);
      idx[k] = 0;
    }
  }
  return acc / static_cast<double>(total);
}

void check_counts(const std::string &m, const std::vector<NDArray> &labels, const std::vector<NDArray> &preds) {
  MX_CHECK(labels.size() == preds.size(), MX_ERR_SHAPE, m, ": ", labels.size(), " labels but ", preds.size(),
           " predictions");
}

// ---------------------------------------------------------------- argument parsing
class Args {
 public:
  Args(const std::string &metric, const Json &j) : metric_(metric), j_(j) {
    MX_CHECK(j_.is_null() || j_.is_object(), MX_ERR_INVALID_ARGUMENT, "metric '", metric,
             "': arguments must be a JSON object, got ", j_.dump());
  }
  const Json *get(const std::string &k) {
    used_.insert(k);
    if (j_.is_null() || !j_.has(k) || j_[k].is_null()) return nullptr;
    return &j_[k];
  }
  double num(const std::string &k, double def) {
    const Json *v = get(k);
    if (!v) return def;
    try {
      return v->as_number();
    } catch (const Error &) {
      fail(MX_ERR_INVALID_ARGUMENT, "metric '", metric_, "': parameter '", k, "' must be a number, got ",
           v->dump());
    }
  }
  int64_t integer(const std::string &k, int64_t def) {
    double d = num(k, static_cast<double>(def));
    MX_CHECK(d == std::floor(d), MX_ERR_INVALID_ARGUMENT, "metric '", metric_, "': parameter '", k,
             "' must be an integer, got ", d);
    return static_cast<int64_t>(d);
  }
  std::string str(const std::string &k, const std::string &def, std::initializer_list<const char *> choices) {
    const Json *v = get(k);
    if (!v) return def;
    MX_CHECK(v->is_string(), MX_ERR_INVALID_ARGUMENT, "metric '", metric_, "': parameter '", k,
             "' must be a string, got ", v->dump());
    for (const char *c : choices)
      if (v->as_string() == c) return v->as_string();
    std::string allowed;
    for (const char *c : choices) allowed += std::string(allowed.empty() ? "" : ", ") + "'" + c + "'";
    fail(MX_ERR_INVALID_ARGUMENT, "metric '", metric_, "': parameter '", k, "' has value '", v->as_string(),
         "'; expected one of ", allowed);
  }
  void finish() {
    // Front-end bookkeeping MXNet's constructors accept.
    for (const char *k : {"name", "output_names", "label_names", "has_global_stats"}) get(k);
    if (j_.is_null()) return;
    for (const auto &m : j_.members())
      if (!used_.count(m.first))
        fail(MX_ERR_INVALID_ARGUMENT, "metric '", metric_, "': unknown parameter '", m.first, "'");
  }

 private:
  std::string metric_;
  const Json &j_;
  std::set<std::string> used_;
};

// ---------------------------------------------------------------- metrics
class Accuracy : public Metric {
 public:
  std::unique_ptr<Metric> clone() const override { return std::make_unique<Accuracy>(*this); }
  explicit Accuracy(Args &a) : axis_(a.integer("axis", 1)) { args.set("axis", axis_); }
  void update(const std::vector<NDArray> &labels, const std::vector<NDArray> &preds) override {
    check_counts(name, labels, preds);
    for (size_t i = 0; i < labels.size(); ++i) {
      Host l = host(labels[i], name, "label"), p = host(preds[i], name, "prediction");
      std::vector<int32_t> pl;
      if (p.shape != l.shape) {
        MX_CHECK(p.ndim() >= 1, MX_ERR_SHAPE, name, ": prediction of shape ", p.shape.str(),
                 " does not match label shape ", l.shape.str());
        pl = argmax(p, normalize_axis(axis_, p.ndim(), "Accuracy: axis"));
      } else {
        pl.resize(p.v.size());
        for (size_t k = 0; k < p.v.size(); ++k) pl[k] = to_i32(p.v[k]);
      }
      MX_CHECK(pl.size() == l.v.size(), MX_ERR_SHAPE, name, ": label of shape ", l.shape.str(), " has ",
               l.v.size(), " elements but the predictions of shape ", p.shape.str(), " give ", pl.size());
      int64_t correct = 0;
      for (size_t k = 0; k < pl.size(); ++k) correct += pl[k] == to_i32(l.v[k]);
      add(static_cast<double>(correct), static_cast<int64_t>(pl.size()));
    }
  }

 private:
  int64_t axis_;
};

class TopKAccuracy : public Metric {
 public:
  std::unique_ptr<Metric> clone() const override { return std::make_unique<TopKAccuracy>(*this); }
  explicit TopKAccuracy(Args &a) : k_(a.integer("top_k", 1)) {
    MX_CHECK(k_ > 1, MX_ERR_INVALID_ARGUMENT, "top_k_accuracy: top_k must be greater than 1, got ", k_,
             " (use Accuracy for top_k 1)");
    args.set("top_k", k_);
  }
  void update(const std::vector<NDArray> &labels, const std::vector<NDArray> &preds) override {
    check_counts(name, labels, preds);
    for (size_t i = 0; i < labels.size(); ++i) {
      Host l = host(labels[i], name, "label"), p = host(preds[i], name, "prediction");
      MX_CHECK(p.ndim() >= 1 && p.ndim() <= 2, MX_ERR_SHAPE, name,
               ": predictions should have 1 or 2 dimensions, got shape ", p.shape.str());
      const int64_t n = p.shape[0];
      MX_CHECK(l.size() == n, MX_ERR_SHAPE, name, ": label of shape ", l.shape.str(),
               " does not match predictions of shape ", p.shape.str());
      int64_t correct = 0;
      if (p.ndim() == 1) {  // predicted class indices
        for (int64_t s = 0; s < n; ++s) correct += to_i32(p.v[s]) == to_i32(l.v[s]);
      } else {
        const int64_t c = p.shape[1], k = std::min<int64_t>(c, k_);
        std::vector<int64_t> order(static_cast<size_t>(c));
        for (int64_t s = 0; s < n; ++s) {
          const double *row = p.v.data() + s * c;
          std::iota(order.begin(), order.end(), 0);
          std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int64_t x, int64_t y) {
            return row[x] > row[y] || (row[x] == row[y] && x > y);
          });
          const int32_t lab = to_i32(l.v[s]);
          for (int64_t j = 0; j < k; ++j) correct += order[j] == lab;
        }
      }
      add(static_cast<double>(correct), n);
    }
  }

 private:
  int64_t k_;
};

struct BinaryStats {
  double tp = 0, fn = 0, fp = 0, tn = 0;
  double total() const { return tp + fn + fp + tn; }
  double precision() const { return tp + fp > 0 ? tp / (tp + fp) : 0.0; }
  double recall() const { return tp + fn > 0 ? tp / (tp + fn) : 0.0; }
  double fscore() const {
    const double p = precision(), r = recall();
    return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
  }
  double mcc() const {
    double denom = 1;
    for (double t : {tp + fp, tp + fn, tn + fp, tn + fn})
      if (t != 0) denom *= t;
    return (tp * tn - fp * fn) / std::sqrt(denom);
  }
};

class Binary : public Metric {
 public:
  std::unique_ptr<Metric> clone() const override { return std::make_unique<Binary>(*this); }
  Binary(Args &a, bool mcc) : mcc_(mcc) {
    average_ = a.str("average", "macro", {"macro", "micro"});
    args.set("average", average_);
  }
  void update(const std::vector<NDArray> &labels, const std::vector<NDArray> &preds) override {
    check_counts(name, labels, preds);
    for (size_t i = 0; i < labels.size(); ++i) {
      Host l = host(labels[i], name, "label"), p = host(preds[i], name, "prediction");
      MX_CHECK(p.ndim() == 2, MX_ERR_SHAPE, name, ": predictions must be 2-D (batch, classes), got shape ",
               p.shape.str());
      std::vector<int32_t> pl = argmax(p, 1);
      MX_CHECK(l.size() == static_cast<int64_t>(pl.size()), MX_ERR_SHAPE, name, ": label of shape ",
               l.shape.str(), " does not match predictions of shape ", p.shape.str());
      std::set<int32_t> uniq;
      for (double x : l.v) uniq.insert(to_i32(x));
      MX_CHECK(uniq.size() <= 2, MX_ERR_INVALID_ARGUMENT, name,
               " currently only supports binary classification; labels hold ", uniq.size(), " classes");
      BinaryStats b;
      for (size_t k = 0; k < pl.size(); ++k) {
        const bool pt = pl[k] == 1, lt = to_i32(l.v[k]) == 1;
        b.tp += pt && lt;
        b.fp += pt && !lt;
        b.fn += !pt && lt;
        b.tn += !pt && !lt;
      }
      for (BinaryStats *s : {&local_, &global_}) {
        s->tp += b.tp;
        s->fp += b.fp;
        s->fn += b.fn;
        s->tn += b.tn;
      }
    }
    if (average_ == "macro") {
      add(score(local_), 1);
      local_ = BinaryStats();
      global_ = BinaryStats();
    } else {
      sum_ = score(local_) * local_.total();
      num_ = static_cast<int64_t>(local_.total());
      gsum_ = score(global_) * global_.total();
      gnum_ = static_cast<int64_t>(global_.total());
    }
  }
  void reset() override {
    Metric::reset();
    local_ = global_ = BinaryStats();
  }
  void reset_local() override {
    Metric::reset_local();
    local_ = BinaryStats();
  }

 private:
  double score(const BinaryStats &s) const { return mcc_ ? s.mcc() : s.fscore(); }
  bool mcc_;
  std::string average_;
  BinaryStats local_, global_;
};

class Regression : public Metric {
 public:
  std::unique_ptr<Metric> clone() const override { return std::make_unique<Regression>(*this); }
  enum Kind { MAE, MSE, RMSE };
  explicit Regression(Kind k) : k_(k) {}
  void update(const std::vector<NDArray> &labels, const std::vector<NDArray> &preds) override {
    check_counts(name, labels, preds);
    for (size_t i = 0; i < labels.size(); ++i) {
      Host l = host(labels[i], name, "label"), p = host(preds[i], name, "prediction");
      if (l.ndim() == 1) l.shape = Shape({l.shape[0], 1});
      if (p.ndim() == 1) p.shape = Shape({p.shape[0], 1});
      double v;
      if (k_ == MAE) v = broadcast_mean(l, p, name, [](double a, double b) { return std::fabs(a - b); });
      else v = broadcast_mean(l, p, name, [](double a, double b) { return (a - b) * (a - b); });
      if (k_ == RMSE) v = std::sqrt(v);
      add(v, 1);
    }
  }

 private:
  Kind k_;
};

// Cross-entropy and negative log-likelihood: -log(pred[i, label[i]] + eps), summed.
class CrossEntropy : public Metric {
 public:
  std::unique_ptr<Metric> clone() const override { return std::make_unique<CrossEntropy>(*this); }
  explicit CrossEntropy(Args &a) : eps_(a.num("eps", 1e-12)) { args.set("eps", eps_); }
  void update(const std::vector<NDArray> &labels, const std::vector<NDArray> &preds) override {
    check_counts(name, labels, preds);
    for (size_t i = 0; i < labels.size(); ++i) {
      Host l = host(labels[i], name, "label"), p = host(preds[i], name, "prediction");
      MX_CHECK(p.ndim() == 2, MX_ERR_SHAPE, name, ": predictions must be 2-D (batch, classes), got shape ",
               p.shape.str());
      const int64_t n = p.shape[0], c = p.shape[1];
      MX_CHECK(l.size() == n, MX_ERR_SHAPE, name, ": label of shape ", l.shape.str(),
               " does not match predictions of shape ", p.shape.str());
      double s = 0;
      for (int64_t k = 0; k < n; ++k) {
        const double lv = l.v[static_cast<size_t>(k)];
        int64_t cls = static_cast<int64_t>(lv);
        if (cls < 0 && cls >= -c) cls += c;  // numpy's negative indexing
        MX_CHECK(lv == lv && cls >= 0 && cls < c, MX_ERR_INVALID_ARGUMENT, name, ": label ", lv,
                 " out of range for ", c, " classes");
        s -= std::log(p.v[static_cast<size_t>(k * c + cls)] + eps_);
      }
      add(s, n);
    }
  }

 private:
  double eps_;
};

class Perplexity : public Metric {
 public:
  std::unique_ptr<Metric> clone() const override { return std::make_unique<Perplexity>(*this); }
  explicit Perplexity(Args &a) : axis_(a.integer("axis", -1)) {
    const Json *ig = a.get("ignore_label");
    if (ig) {
      has_ignore_ = true;
      ignore_ = ig->as_number();
      args.set("ignore_label", ignore_);
    } else {
      args.set("ignore_label", Json());
    }
    args.set("axis", axis_);
  }
  void update(const std::vector<NDArray> &labels, const std::vector<NDArray> &preds) override {
    check_counts(name, labels, preds);
    double loss = 0;
    int64_t num = 0;
    for (size_t i = 0; i < labels.size(); ++i) {
      Host l = host(labels[i], name, "label"), p = host(preds[i], name, "prediction");
      MX_CHECK(p.ndim() >= 1, MX_ERR_SHAPE, name, ": predictions must have at least 1 dimension");
      const int ax = normalize_axis(axis_, p.ndim(), "Perplexity: axis");
      const int64_t outer = p.shape.prod(0, ax), c = p.shape[ax], inner = p.shape.prod(ax + 1, p.ndim());
      MX_CHECK(l.size() == outer * inner, MX_ERR_SHAPE, name, ": shape mismatch: label ", l.shape.str(),
               " vs. predictions ", p.shape.str());
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t in = 0; in < inner; ++in) {
          const double lv = l.v[static_cast<size_t>(o * inner + in)];
          if (has_ignore_ && lv == ignore_) continue;  // contributes log(1) and no count
          int64_t cls = to_i32(lv);
          cls = std::min<int64_t>(std::max<int64_t>(cls, 0), c - 1);  // pick's clip mode
          const double pv = p.v[static_cast<size_t>((o * c + cls) * inner + in)];
          loss -= std::log(std::max(1e-10, pv));
          ++num;
        }
    }
    add(loss, num);
  }
  double value(bool global) const override {
    const int64_t n = num_inst(global);
    if (n == 0) return std::nan("");
    return std::exp(sum_metric(global) / static_cast<double>(n));
  }

 private:
  int64_t axis_;
  bool has_ignore_ = false;
  double ignore_ = 0;
};

class Loss : public Metric {
 public:
  std::unique_ptr<Metric> clone() const override { return std::make_unique<Loss>(*this); }
  void update(const std::vector<NDArray> &, const std::vector<NDArray> &preds) override {
    for (const NDArray &a : preds) {
      Host p = host(a, name, "prediction");
      double s = 0;
      for (double x : p.v) s += x;
      add(s, p.size());
    }
  }
};

struct Moments {  // running co-moments (Chan et al. merge)
  double n = 0, mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0;
  void merge(const Moments &b) {
    if (b.n == 0) return;
    const double nt = n + b.n, dx = b.mx - mx, dy = b.my - my;
    sxx += b.sxx + dx * dx * n * b.n / nt;
    syy += b.syy + dy * dy * n * b.n / nt;
    sxy += b.sxy + dx * dy * n * b.n / nt;
    mx += dx * b.n / nt;
    my += dy * b.n / nt;
    n = nt;
  }
  double corr() const { return sxy / std::sqrt(sxx * syy); }
  static Moments of(const std::vector<double> &x, const std::vector<double> &y) {
    Moments m;
    m.n = static_cast<double>(x.size());
    if (x.empty()) return m;
    for (size_t k = 0; k < x.size(); ++k) {
      m.mx += x[k];
      m.my += y[k];
    }
    m.mx /= m.n;
    m.my /= m.n;
    for (size_t k = 0; k < x.size(); ++k) {
      const double dx = x[k] - m.mx, dy = y[k] - m.my;
      m.sxx += dx * dx;
      m.syy += dy * dy;
      m.sxy += dx * dy;
    }
    return m;
  }
};

class Pearson : public Metric {
 public:
  std::unique_ptr<Metric> clone() const override { return std::make_unique<Pearson>(*this); }
  explicit Pearson(Args &a) {
    average_ = a.str("average", "macro", {"macro", "micro"});
    args.set("average", average_);
  }
  void update(const std::vector<NDArray> &labels, const std::vector<NDArray> &preds) override {
    check_counts(name, labels, preds);
    for (size_t i = 0; i < labels.size(); ++i) {
      Host l = host(labels[i], name, "label"), p = host(preds[i], name, "prediction");
      MX_CHECK(l.shape == p.shape, MX_ERR_SHAPE, name, ": shape of labels ", l.shape.str(),
               " does not match shape of predictions ", p.shape.str());
      Moments m = Moments::of(p.v, l.v);
      if (average_ == "macro") {
        add(m.corr(), 1);
      } else {
        local_.merge(m);
        global_.merge(m);
        sum_ = local_.corr() * local_.n;
        num_ = static_cast<int64_t>(local_.n);
        gsum_ = global_.corr() * global_.n;
        gnum_ = static_cast<int64_t>(global_.n);
      }
    }
  }
  double value(bool global) const override {
    if (average_ == "micro") {
      const Moments &m = global ? global_ : local_;
      return m.n == 0 ? std::nan("") : m.corr();
    }
    return Metric::value(global);
  }
  void reset() override {
    Metric::reset();
    local_ = global_ = Moments();
  }
  void reset_local() override {
    Metric::reset_local();
    local_ = Moments();
  }

 private:
  std::string average_;
  Moments local_, global_;
};


// Multiclass Matthews correlation over a K x K confusion matrix (MXNet's PCC). Predictions of
// the label's shape are class indices, otherwise (batch, classes) scores reduced by argmax. The
// matrix grows with the largest class seen; num_inst counts update calls, as MXNet's.
class PCC : public Metric {
 public:
  std::unique_ptr<Metric> clone() const override { return std::make_unique<PCC>(*this); }
  static constexpr int64_t kMaxClasses = 4096;  // the matrix is K*K doubles
  void update(const std::vector<NDArray> &labels, const std::vector<NDArray> &preds) override {
    check_counts(name, labels, preds);
    for (size_t i = 0; i < labels.size(); ++i) {
      Host l = host(labels[i], name, "label"), p = host(preds[i], name, "prediction");
      std::vector<int32_t> pl;
      if (p.shape == l.shape) {
        for (double x : p.v) pl.push_back(to_i32(x));
      } else {
        MX_CHECK(p.ndim() == 2, MX_ERR_SHAPE, name, ": predictions of shape ", p.shape.str(),
                 " are neither class indices of the label's shape ", l.shape.str(),
                 " nor (batch, classes) scores");
        pl = argmax(p, 1);
      }
      MX_CHECK(l.size() == static_cast<int64_t>(pl.size()), MX_ERR_SHAPE, name, ": label of shape ",
               l.shape.str(), " does not match predictions of shape ", p.shape.str());
      for (size_t k = 0; k < pl.size(); ++k) {
        const int32_t a = pl[k], b = to_i32(l.v[k]);
        MX_CHECK(a >= 0 && b >= 0 && a < kMaxClasses && b < kMaxClasses, MX_ERR_INVALID_ARGUMENT, name,
                 ": class indices must lie in [0, ", kMaxClasses, "); got prediction ", a, " and label ", b);
        grow(std::max(a, b) + 1);
        local_[static_cast<size_t>(a * k_ + b)] += 1;
        global_[static_cast<size_t>(a * k_ + b)] += 1;
      }
    }
    num_ += 1;
    gnum_ += 1;
    sum_ = mcc(local_) * static_cast<double>(num_);
    gsum_ = mcc(global_) * static_cast<double>(gnum_);
  }
  void reset() override {
    Metric::reset();
    std::fill(local_.begin(), local_.end(), 0.0);
    std::fill(global_.begin(), global_.end(), 0.0);
  }
  void reset_local() override {
    Metric::reset_local();
    std::fill(local_.begin(), local_.end(), 0.0);
  }

 private:
  void grow(int64_t k) {
    if (k <= k_) return;
    for (std::vector<double> *m : {&local_, &global_}) {
      std::vector<double> n(static_cast<size_t>(k * k), 0.0);
      for (int64_t r = 0; r < k_; ++r)
        for (int64_t c = 0; c < k_; ++c) n[static_cast<size_t>(r * k + c)] = (*m)[static_cast<size_t>(r * k_ + c)];
      m->swap(n);
    }
    k_ = k;
  }
  // cov_xy / sqrt(cov_xx cov_yy) with x the row sums (predictions), y the column sums (labels).
  double mcc(const std::vector<double> &c) const {
    double n = 0, cov_xx = 0, cov_yy = 0, diag = 0, xy = 0;
    std::vector<double> x(static_cast<size_t>(k_), 0.0), y(static_cast<size_t>(k_), 0.0);
    for (int64_t r = 0; r < k_; ++r)
      for (int64_t q = 0; q < k_; ++q) {
        const double v = c[static_cast<size_t>(r * k_ + q)];
        x[static_cast<size_t>(r)] += v;
        y[static_cast<size_t>(q)] += v;
        n += v;
      }
    for (int64_t r = 0; r < k_; ++r) {
      const double xr = x[static_cast<size_t>(r)], yr = y[static_cast<size_t>(r)];
      cov_xx += xr * (n - xr);
      cov_yy += yr * (n - yr);
      diag += c[static_cast<size_t>(r * k_ + r)];
      xy += xr * yr;
    }
    if (cov_xx == 0 || cov_yy == 0) return std::nan("");
    return (diag * n - xy) / std::sqrt(cov_xx * cov_yy);
  }
  int64_t k_ = 2;
  std::vector<double> local_ = std::vector<double>(4, 0.0), global_ = std::vector<double>(4, 0.0);
};

std::string lower(std::string s) {
  for (char &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::unique_ptr<Metric> make_metric(const std::string &name_in, const Json &j) {
  const std::string n = lower(name_in);
  Args a(n, j);
  std::unique_ptr<Metric> m;
  std::string kind, display;
  if (n == "acc" || n == "accuracy") {
    m.reset(new Accuracy(a));
    kind = display = "accuracy";
  } else if (n == "top_k_accuracy" || n == "top_k_acc" || n == "topkaccuracy") {
    m.reset(new TopKAccuracy(a));
    kind = display = "top_k_accuracy";
  } else if (n == "f1") {
    m.reset(new Binary(a, false));
    kind = display = "f1";
  } else if (n == "mcc") {
    m.reset(new Binary(a, true));
    kind = display = "mcc";
  } else if (n == "mae") {
    m.reset(new Regression(Regression::MAE));
    kind = display = "mae";
  } else if (n == "mse") {
    m.reset(new Regression(Regression::MSE));
    kind = display = "mse";
  } else if (n == "rmse") {
    m.reset(new Regression(Regression::RMSE));
    kind = display = "rmse";
  } else if (n == "ce" || n == "cross-entropy" || n == "crossentropy" || n == "cross_entropy") {
    m.reset(new CrossEntropy(a));
    kind = "ce";
    display = "cross-entropy";
  } else if (n == "nll_loss" || n == "nll-loss" || n == "negativeloglikelihood") {
    m.reset(new CrossEntropy(a));
    kind = "nll_loss";
    display = "nll-loss";
  } else if (n == "perplexity") {
    m.reset(new Perplexity(a));
    kind = display = "perplexity";
  } else if (n == "loss") {
    m.reset(new Loss());
    kind = display = "loss";
  } else if (n == "pcc") {
    m.reset(new PCC());
    kind = display = "pcc";
  } else if (n == "pearsonr" || n == "pearsoncorrelation") {
    m.reset(new Pearson(a));
    kind = display = "pearsonr";
  } else {
    fail(MX_ERR_INVALID_ARGUMENT, "unknown metric '", name_in,
         "'; known: acc (accuracy), top_k_accuracy (top_k_acc), f1, mcc, mae, mse, rmse, ce "
         "(cross-entropy), nll_loss, perplexity, loss, pearsonr, pcc");
  }
  if (const Json *dn = a.get("name")) {
    MX_CHECK(dn->is_string(), MX_ERR_INVALID_ARGUMENT, "metric '", n, "': name must be a string");
    display = dn->as_string();
  }
  a.finish();
  if (kind == "top_k_accuracy") display += "_" + std::to_string(m->args["top_k"].as_int());
  m->kind = kind;
  m->name = display;
  return m;
}

}  // namespace mx
