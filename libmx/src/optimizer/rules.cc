#include "optimizer/rules.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <type_traits>

#include "ops/formulas/lamb.h"

namespace mx {

namespace {

constexpr double kUnset = std::numeric_limits<double>::quiet_NaN();

using formula::upd::clipv;
// Rescale then clip (clip < 0: none), as the update kernels do.
template <typename T> inline T rg(T g, T rescale, T clip) {
  T x = rescale * g;
  return clip >= T(0) ? clipv(x, clip) : x;
}
// A "truthy" optional hyperparameter as MXNet's Python passes it (None / 0 -> kernel default -1).
inline double opt_or(const HParams &hp, const char *k, double none) {
  double v = hp.get(k);
  return (std::isnan(v) || v == 0.0) ? none : v;
}

// The step's lr, wd, rescale and clip (every element-wise rule starts from these).
inline void common(const StepArgs &a, UpdCoef<double> *k) {
  k->lr = a.lr;
  k->wd = a.wd;
  k->re = a.rescale;
  k->clip = a.clip;
}

// Element-wise rules give their formula and this step's coefficients (coef, ops/formulas/
// optimizer.h: the same code the update operators and the CUDA kernel run); the others (LAMB's
// norms, GroupAdaGrad's row means) have their own host loop (run).
struct SGD {
  static std::vector<std::string> states(const HParams &hp) {
    if (hp.get("momentum") != 0.0) return {"momentum"};
    return {};
  }
  static UpdateRule coef(const HParams &hp, GlobalState &, const StepArgs &a, UpdCoef<double> *k) {
    common(a, k);
    if (hp.get("momentum") == 0.0) return UpdateRule::Sgd;
    k->mom = hp.get("momentum") > 0 ? hp.get("momentum") : 0.0;
    return UpdateRule::SgdMom;
  }
};

struct NAG {
  static std::vector<std::string> states(const HParams &hp) {
    if (hp.get("momentum") != 0.0) return {"momentum"};
    return {};
  }
  static UpdateRule coef(const HParams &hp, GlobalState &gs, const StepArgs &a, UpdCoef<double> *k) {
    if (hp.get("momentum") == 0.0) return SGD::coef(hp, gs, a, k);
    common(a, k);
    k->mom = hp.get("momentum") > 0 ? hp.get("momentum") : 0.0;
    return UpdateRule::Nag;
  }
};

struct Adam {
  static std::vector<std::string> states(const HParams &) { return {"mean", "var"}; }
  static UpdateRule coef(const HParams &hp, GlobalState &, const StepArgs &a, UpdCoef<double> *k) {
    common(a, k);
    const double b1 = hp.get("beta1"), b2 = hp.get("beta2");
    const double t = static_cast<double>(a.t);
    const double coef1 = 1.0 - std::pow(b1, t), coef2 = 1.0 - std::pow(b2, t);
    k->lr = a.lr * std::sqrt(coef2) / coef1;  // bias correction folded into the rate
    k->beta1 = b1;
    k->beta2 = b2;
    k->eps = hp.get("epsilon");
    return UpdateRule::Adam;
  }
};

// Decoupled weight decay (Loshchilov & Hutter; MXNet 2.0's AdamW with eta = 1):
// w -= lr * (m_hat / (sqrt(v_hat) + eps) + wd * w).
struct AdamW {
  static std::vector<std::string> states(const HParams &) { return {"mean", "var"}; }
  static UpdateRule coef(const HParams &hp, GlobalState &, const StepArgs &a, UpdCoef<double> *k) {
    common(a, k);
    const double b1 = hp.get("beta1"), b2 = hp.get("beta2");
    const double t = static_cast<double>(a.t);
    const bool corr = hp.flag("correct_bias");
    k->c1 = corr ? 1.0 - std::pow(b1, t) : 1.0;
    k->c2 = corr ? 1.0 - std::pow(b2, t) : 1.0;
    k->beta1 = b1;
    k->beta2 = b2;
    k->eps = hp.get("epsilon");
    return UpdateRule::AdamW;
  }
};

struct RMSProp {
  static std::vector<std::string> states(const HParams &hp) {
    if (hp.flag("centered")) return {"n", "g", "delta"};
    return {"n"};
  }
  static UpdateRule coef(const HParams &hp, GlobalState &, const StepArgs &a, UpdCoef<double> *k) {
    common(a, k);
    k->gamma1 = hp.get("gamma1");
    k->gamma2 = hp.get("gamma2");
    k->eps = hp.get("epsilon");
    k->clip_w = opt_or(hp, "clip_weights", -1.0);
    return hp.flag("centered") ? UpdateRule::RMSPropAlex : UpdateRule::RMSProp;
  }
};

struct AdaGrad {
  static std::vector<std::string> states(const HParams &) { return {"history"}; }
  static UpdateRule coef(const HParams &hp, GlobalState &, const StepArgs &a, UpdCoef<double> *k) {
    common(a, k);
    k->eps = hp.get("eps");
    return UpdateRule::AdaGrad;
  }
};

// MXNet's contrib GroupAdaGrad: one history value per row (the mean of the row's squared
// gradients accumulates), so every element of a row shares one rate. Runs per row (row_states).
struct GroupAdaGrad {
  static std::vector<std::string> states(const HParams &) { return {"history"}; }
  template <typename T>
  static void run(const HParams &hp, GlobalState &, const StepArgs &a, T *w, const T *g,
                  T *const *s, int64_t n) {
    const T lr = T(a.lr), re = T(a.rescale), c = T(a.clip), eps = T(hp.get("eps"));
    T ssq = 0;
    for (int64_t i = 0; i < n; ++i) {
      T gi = rg(g[i], re, c);
      ssq += gi * gi;
    }
    T &h = s[0][0];
    h += ssq / T(n);
    const T root = std::sqrt(h + eps);
    for (int64_t i = 0; i < n; ++i) w[i] -= lr * rg(g[i], re, c) / root;
  }
};

struct AdaDelta {
  static std::vector<std::string> states(const HParams &) { return {"acc_g", "acc_delta"}; }
  static UpdateRule coef(const HParams &hp, GlobalState &, const StepArgs &a, UpdCoef<double> *k) {
    common(a, k);
    k->rho = hp.get("rho");
    k->eps = hp.get("epsilon");
    return UpdateRule::AdaDelta;
  }
};

struct Ftrl {
  static std::vector<std::string> states(const HParams &) { return {"z", "n"}; }
  static UpdateRule coef(const HParams &hp, GlobalState &, const StepArgs &a, UpdCoef<double> *k) {
    common(a, k);
    k->lamda1 = hp.get("lamda1");
    k->beta = hp.get("beta");
    return UpdateRule::Ftrl;
  }
};

struct Signum {
  static std::vector<std::string> states(const HParams &hp) {
    if (hp.get("momentum") != 0.0) return {"momentum"};
    return {};
  }
  static UpdateRule coef(const HParams &hp, GlobalState &, const StepArgs &a, UpdCoef<double> *k) {
    common(a, k);
    if (hp.get("momentum") == 0.0) return UpdateRule::SignSgd;
    k->mom = hp.get("momentum") > 0 ? hp.get("momentum") : 0.0;
    k->wd_lh = opt_or(hp, "wd_lh", 0.0);
    return UpdateRule::Signum;
  }
};

struct LAMB {
  static std::vector<std::string> states(const HParams &) { return {"mean", "var"}; }
  template <typename T>
  static void run(const HParams &hp, GlobalState &, const StepArgs &a, T *w, const T *g,
                  T *const *s, int64_t n) {
    const T wd = T(a.wd), re = T(a.rescale), c = T(a.clip);
    const double b1 = hp.get("beta1"), b2 = hp.get("beta2");
    const T B1 = T(b1), B2 = T(b2), eps = T(hp.get("epsilon"));
    const bool bc = hp.flag("bias_correction");
    const T c1 = T(1.0 - std::pow(b1, static_cast<double>(a.t)));
    const T c2 = T(1.0 - std::pow(b2, static_cast<double>(a.t)));
    T *m = s[0], *v = s[1];
    std::vector<T> upd(static_cast<size_t>(n));
    const LambCoef<T> k{B1, B2, eps, wd, re, c, c1, c2, bc};  // phase 1: lamb_update_phase1's step
    double r1 = 0, r2 = 0;
    for (int64_t i = 0; i < n; ++i) {
      lamb_phase1_element<T, T>(k, i, w, g, m, v, upd.data());
      const T u = upd[static_cast<size_t>(i)];
      r1 += static_cast<double>(w[i]) * static_cast<double>(w[i]);
      r2 += static_cast<double>(u) * static_cast<double>(u);
    }
    T n1 = T(std::sqrt(r1)), n2 = T(std::sqrt(r2));
    const double lb = opt_or(hp, "lower_bound", -1.0), ub = opt_or(hp, "upper_bound", -1.0);
    if (lb >= 0) n1 = std::max(n1, T(lb));
    if (ub >= 0) n1 = std::min(n1, T(ub));
    const T lr = T(a.lr);
    const T ratio = (n1 == T(0) || n2 == T(0)) ? T(1) : n1 / n2;
    for (int64_t i = 0; i < n; ++i) w[i] = w[i] - lr * ratio * upd[static_cast<size_t>(i)];
  }
};

struct Adamax {
  static std::vector<std::string> states(const HParams &) { return {"mean", "u"}; }
  static UpdateRule coef(const HParams &hp, GlobalState &, const StepArgs &a, UpdCoef<double> *k) {
    common(a, k);
    const double b1 = hp.get("beta1"), b2 = hp.get("beta2");
    k->lr = a.lr / (1.0 - std::pow(b1, static_cast<double>(a.t)));
    k->beta1 = b1;
    k->beta2 = b2;
    return UpdateRule::Adamax;
  }
};

struct Nadam {
  static std::vector<std::string> states(const HParams &) { return {"mean", "var"}; }
  // Advances the optimizer-wide momentum schedule: once per update of an index.
  static UpdateRule coef(const HParams &hp, GlobalState &gs, const StepArgs &a, UpdCoef<double> *k) {
    common(a, k);
    const double b1 = hp.get("beta1"), b2 = hp.get("beta2"), sd = hp.get("schedule_decay");
    const double t = static_cast<double>(a.t);
    const double mt = b1 * (1.0 - 0.5 * std::pow(0.96, t * sd));
    const double mt1 = b1 * (1.0 - 0.5 * std::pow(0.96, (t + 1) * sd));
    double &msched = gs["m_schedule"];
    msched = msched * mt;
    const double mnext = msched * mt1;
    k->beta1 = b1;
    k->beta2 = b2;
    k->eps = hp.get("epsilon");
    k->c1 = 1.0 - msched;
    k->c2 = 1.0 - mnext;
    k->c3 = 1.0 - std::pow(b2, t);
    k->c4 = 1.0 - mt;
    k->c5 = mt1;
    return UpdateRule::Nadam;
  }
};

struct FTML {
  static std::vector<std::string> states(const HParams &) { return {"prev_d", "prev_v", "prev_z"}; }
  static UpdateRule coef(const HParams &hp, GlobalState &, const StepArgs &a, UpdCoef<double> *k) {
    common(a, k);
    k->beta1 = hp.get("beta1");
    k->beta2 = hp.get("beta2");
    k->eps = hp.get("epsilon");
    k->c3 = static_cast<double>(a.t);
    return UpdateRule::Ftml;
  }
};

template <class K, class = void> struct HasCoef : std::false_type {};
template <class K>
struct HasCoef<K, std::void_t<decltype(&K::coef)>> : std::true_type {};

template <class K> class RuleT : public Rule {
 public:
  std::vector<std::string> states(const HParams &hp) const override { return K::states(hp); }
  bool formula(const HParams &hp, GlobalState &g, const StepArgs &a, UpdateRule *r,
               UpdCoef<double> *k) const override {
    if constexpr (HasCoef<K>::value) {
      *r = K::coef(hp, g, a, k);
      return true;
    } else {
      (void)hp; (void)g; (void)a; (void)r; (void)k;
      return false;
    }
  }
  void run(const HParams &hp, GlobalState &g, const StepArgs &a, float *w, const float *gr,
           float *const *s, int64_t n) const override {
    go<float>(hp, g, a, w, gr, s, n);
  }
  void run(const HParams &hp, GlobalState &g, const StepArgs &a, double *w, const double *gr,
           double *const *s, int64_t n) const override {
    go<double>(hp, g, a, w, gr, s, n);
  }

 private:
  template <typename T>
  void go(const HParams &hp, GlobalState &g, const StepArgs &a, T *w, const T *gr, T *const *s, int64_t n) const {
    if constexpr (HasCoef<K>::value) {
      UpdCoef<double> k;
      const UpdateRule r = K::coef(hp, g, a, &k);
      run_update_host<T>(r, k, n, w, gr, w, s);
    } else {
      K::template run<T>(hp, g, a, w, gr, s, n);
    }
  }
};

template <class K>
std::unique_ptr<Rule> mk(const char *name, std::map<std::string, double> defaults,
                         double default_lr = 0.01, bool lr_sig = false) {
  auto r = std::make_unique<RuleT<K>>();
  r->name = name;
  r->defaults = std::move(defaults);
  r->default_lr = default_lr;
  r->lr_in_signature = lr_sig;
  return r;
}

struct Registry {
  std::vector<std::unique_ptr<Rule>> rules;
  Registry() {
    auto sgd = mk<SGD>("sgd", {{"momentum", 0.0}, {"lazy_update", 1.0}});
    sgd->aggregate = 4;
    sgd->sparse_rows = Rule::kRowsIfLazy;
    sgd->layout_keys = {"momentum"};
    rules.push_back(std::move(sgd));
    auto nag = mk<NAG>("nag", {{"momentum", 0.0}});
    nag->layout_keys = {"momentum"};
    rules.push_back(std::move(nag));
    auto adam = mk<Adam>("adam", {{"beta1", 0.9}, {"beta2", 0.999}, {"epsilon", 1e-8},
                                  {"lazy_update", 1.0}}, 0.001, true);
    adam->sparse_rows = Rule::kRowsIfLazy;
    rules.push_back(std::move(adam));
    auto adamw = mk<AdamW>("adamw", {{"beta1", 0.9}, {"beta2", 0.999}, {"epsilon", 1e-6},
                                     {"correct_bias", 1.0}}, 0.001, true);
    adamw->aggregate = 4;  // as SGD (MXNet 2's AdamW): chunks of MXNET_OPTIMIZER_AGGREGATION_SIZE
    rules.push_back(std::move(adamw));
    auto rms = mk<RMSProp>("rmsprop", {{"gamma1", 0.9}, {"gamma2", 0.9}, {"epsilon", 1e-8},
                                       {"centered", 0.0}, {"clip_weights", kUnset}}, 0.001, true);
    rms->layout_keys = {"centered"};
    rules.push_back(std::move(rms));
    auto ada = mk<AdaGrad>("adagrad", {{"eps", 1e-7}});
    ada->python_clip = true;
    ada->sparse_rows = Rule::kRowsAlways;
    ada->sparse_rows_no_wd = true;
    rules.push_back(std::move(ada));
    auto gada = mk<GroupAdaGrad>("groupadagrad", {{"eps", 1e-5}});
    gada->python_clip = true;  // dense path: MXNet's Python math (clip_gradient=0 clips to 0)
    gada->sparse_rows = Rule::kRowsAlways;
    gada->sparse_rows_no_wd = true;  // its sparse kernel clips only with a truthy clip_gradient
    gada->no_wd = true;
    gada->row_states = true;
    rules.push_back(std::move(gada));
    auto add = mk<AdaDelta>("adadelta", {{"rho", 0.9}, {"epsilon", 1e-5}});
    add->python_clip = true;
    rules.push_back(std::move(add));
    auto ftrl = mk<Ftrl>("ftrl", {{"lamda1", 0.01}, {"beta", 1.0}}, 0.1, true);
    ftrl->sparse_rows = Rule::kRowsIfSparseWeight;
    rules.push_back(std::move(ftrl));
    auto sig = mk<Signum>("signum", {{"momentum", 0.9}, {"wd_lh", 0.0}}, 0.01, true);
    sig->layout_keys = {"momentum"};
    rules.push_back(std::move(sig));
    auto ssgd = mk<Signum>("signsgd", {{"momentum", 0.0}, {"wd_lh", 0.0}}, 0.01, true);
    ssgd->layout_keys = {"momentum"};
    rules.push_back(std::move(ssgd));
    auto lamb = mk<LAMB>("lamb", {{"beta1", 0.9}, {"beta2", 0.999}, {"epsilon", 1e-6},
                                  {"lower_bound", kUnset}, {"upper_bound", kUnset},
                                  {"bias_correction", 1.0}}, 0.001, true);
    lamb->aggregate = 45;  // MXNet 1.9.1's LAMB: max(1, min(45, MXNET_OPTIMIZER_AGGREGATION_SIZE or 45))
    lamb->aggregate_max = 45;
    lamb->multi_tensor_op = true;
    rules.push_back(std::move(lamb));
    auto amax = mk<Adamax>("adamax", {{"beta1", 0.9}, {"beta2", 0.999}}, 0.002, true);
    amax->python_clip = true;
    rules.push_back(std::move(amax));
    auto nadam = mk<Nadam>("nadam", {{"beta1", 0.9}, {"beta2", 0.999}, {"epsilon", 1e-8},
                                     {"schedule_decay", 0.004}}, 0.001, true);
    nadam->python_clip = true;
    rules.push_back(std::move(nadam));
    rules.push_back(mk<FTML>("ftml", {{"beta1", 0.6}, {"beta2", 0.999}, {"epsilon", 1e-8}}));
  }
};

const Registry &registry() {
  static Registry r;
  return r;
}

}  // namespace

const Rule *find_rule(const std::string &name) {
  std::string low = name;
  for (auto &ch : low) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (const auto &r : registry().rules)
    if (r->name == low) return r.get();
  return nullptr;
}

std::vector<std::string> rule_names() {
  std::vector<std::string> out;
  for (const auto &r : registry().rules) out.push_back(r->name);
  return out;
}

}  // namespace mx
