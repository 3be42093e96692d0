// CTCLoss: connectionist temporal classification loss of unnormalised activations data (T, N, K)
// against padded labels (N, U), per sample (output (N,)), computed with the forward-backward
// recursions in log space. The gradient w.r.t. data is computed in the forward and kept as the
// hidden output 'grad'; _backward_CTCLoss scales it by the head gradient.
#include <cmath>
#include <limits>

#include "ops/nn/nn_common.h"

namespace mx {
namespace {

struct CTCParam {
  bool use_data_lengths = false, use_label_lengths = false;
  std::string blank_label;
  static void describe(ParamDecl<CTCParam> &d) {
    d.field("use_data_lengths", &CTCParam::use_data_lengths).def(false)
        .doc("Whether the data lengths are decided by data_lengths. If false, they equal the max sequence length.");
    d.field("use_label_lengths", &CTCParam::use_label_lengths).def(false)
        .doc("Whether the label lengths are decided by label_lengths, or derived from the padding value (0 when "
             "blank_label is 'first', -1 otherwise).");
    d.field("blank_label", &CTCParam::blank_label).def("first").choices({"first", "last"})
        .doc("The label reserved for blank: 'first' (0) or 'last' (alphabet_size-1).");
  }
};

std::vector<std::string> ctc_inputs(const Params &prm) {
  const auto &p = prm.get<CTCParam>();
  std::vector<std::string> v{"data", "label"};
  if (p.use_data_lengths) v.push_back("data_lengths");
  if (p.use_label_lengths) v.push_back("label_lengths");
  return v;
}

double num_at(const NDArray &a, int64_t i) {
  switch (a.dtype()) {
    case DType::f32: return a.data<float>()[i];
    case DType::f64: return a.data<double>()[i];
    case DType::i32: return a.data<int32_t>()[i];
    case DType::i64: return static_cast<double>(a.data<int64_t>()[i]);
    case DType::u8: return a.data<uint8_t>()[i];
    case DType::i8: return a.data<int8_t>()[i];
    default: fail(MX_ERR_TYPE, "CTCLoss: unsupported dtype for label or lengths");
  }
}

inline double lse(double a, double b) {
  if (a == -INFINITY) return b;
  if (b == -INFINITY) return a;
  return a > b ? a + std::log1p(std::exp(b - a)) : b + std::log1p(std::exp(a - b));
}

template <typename T> void ctc_forward(const OpCall &c) {
  const auto &p = c.p<CTCParam>();
  const char *op = "CTCLoss";
  const Shape &ds = c.inputs[0].shape();
  const int64_t Tm = ds[0], N = ds[1], K = ds[2], U = c.inputs[1].shape()[1];
  const bool first = p.blank_label == "first";
  const int64_t blank = first ? 0 : K - 1;
  const double pad = first ? 0.0 : -1.0;
  size_t li = 2;
  const NDArray *dlen = p.use_data_lengths ? &c.inputs[li++] : nullptr;
  const NDArray *llen = p.use_label_lengths ? &c.inputs[li++] : nullptr;
  const T *x = c.inputs[0].data<T>();
  T *loss = c.outputs[0].data<T>(), *grad = c.outputs[1].data<T>();
  // validate and gather labels first (errors before any parallel work)
  std::vector<std::vector<int64_t>> labels(static_cast<size_t>(N));
  std::vector<int64_t> lens(static_cast<size_t>(N));
  for (int64_t n = 0; n < N; ++n) {
    int64_t T_n = Tm;
    if (dlen) {
      T_n = static_cast<int64_t>(num_at(*dlen, n));
      MX_CHECK(T_n >= 0 && T_n <= Tm, MX_ERR_INVALID_ARGUMENT, op, ": 'data_lengths' value ", T_n, " of sample ", n,
               " is out of range [0, ", Tm, "]");
    }
    lens[static_cast<size_t>(n)] = T_n;
    int64_t L = U;
    if (llen) {
      L = static_cast<int64_t>(num_at(*llen, n));
      MX_CHECK(L >= 0 && L <= U, MX_ERR_INVALID_ARGUMENT, op, ": 'label_lengths' value ", L, " of sample ", n,
               " is out of range [0, ", U, "]");
    } else {
      for (int64_t u = 0; u < U; ++u)
        if (num_at(c.inputs[1], n * U + u) == pad) { L = u; break; }
    }
    for (int64_t u = 0; u < L; ++u) {
      const double v = num_at(c.inputs[1], n * U + u);
      const int64_t k = static_cast<int64_t>(v);
      // MXNet (warp-ctc) accepts the blank index inside a label and aligns it like any class
      MX_CHECK(k >= 0 && k < K, MX_ERR_INVALID_ARGUMENT, op, ": 'label' value ", v, " of sample ", n,
               " is out of range (alphabet size ", K, ", blank_label '", p.blank_label, "')");
      labels[static_cast<size_t>(n)].push_back(k);
    }
  }
  parallel_for(N, 1, [&](int64_t b, int64_t e) {
    for (int64_t n = b; n < e; ++n) {
      const int64_t T_n = lens[static_cast<size_t>(n)];
      const auto &lab = labels[static_cast<size_t>(n)];
      const int64_t S = 2 * static_cast<int64_t>(lab.size()) + 1;
      std::vector<int64_t> ext(static_cast<size_t>(S), blank);
      for (size_t u = 0; u < lab.size(); ++u) ext[2 * u + 1] = lab[u];
      // log softmax per step
      std::vector<double> lp(static_cast<size_t>(std::max<int64_t>(T_n, 1) * K));
      for (int64_t t = 0; t < T_n; ++t) {
        const T *xt = x + (t * N + n) * K;
        double m = -INFINITY;
        for (int64_t k = 0; k < K; ++k) m = std::max(m, static_cast<double>(xt[k]));
        double s = 0;
        for (int64_t k = 0; k < K; ++k) s += std::exp(static_cast<double>(xt[k]) - m);
        const double ls = m + std::log(s);
        for (int64_t k = 0; k < K; ++k) lp[static_cast<size_t>(t * K + k)] = static_cast<double>(xt[k]) - ls;
      }
      auto LP = [&](int64_t t, int64_t s) { return lp[static_cast<size_t>(t * K + ext[static_cast<size_t>(s)])]; };
      auto skip_ok = [&](int64_t s) { return s >= 2 && ext[static_cast<size_t>(s)] != blank &&
                                             ext[static_cast<size_t>(s)] != ext[static_cast<size_t>(s - 2)]; };
      std::vector<double> al(static_cast<size_t>(std::max<int64_t>(T_n, 1) * S), -INFINITY), be(al.size(), -INFINITY);
      double ll = -INFINITY;
      if (T_n > 0) {
        al[0] = LP(0, 0);
        if (S > 1) al[1] = LP(0, 1);
        for (int64_t t = 1; t < T_n; ++t)
          for (int64_t s = 0; s < S; ++s) {
            double a = al[static_cast<size_t>((t - 1) * S + s)];
            if (s >= 1) a = lse(a, al[static_cast<size_t>((t - 1) * S + s - 1)]);
            if (skip_ok(s)) a = lse(a, al[static_cast<size_t>((t - 1) * S + s - 2)]);
            al[static_cast<size_t>(t * S + s)] = a == -INFINITY ? a : a + LP(t, s);
          }
        const int64_t tl = T_n - 1;
        be[static_cast<size_t>(tl * S + S - 1)] = LP(tl, S - 1);
        if (S > 1) be[static_cast<size_t>(tl * S + S - 2)] = LP(tl, S - 2);
        for (int64_t t = tl - 1; t >= 0; --t)
          for (int64_t s = 0; s < S; ++s) {
            double v = be[static_cast<size_t>((t + 1) * S + s)];
            if (s + 1 < S) v = lse(v, be[static_cast<size_t>((t + 1) * S + s + 1)]);
            if (s + 2 < S && skip_ok(s + 2)) v = lse(v, be[static_cast<size_t>((t + 1) * S + s + 2)]);
            be[static_cast<size_t>(t * S + s)] = v == -INFINITY ? v : v + LP(t, s);
          }
        ll = al[static_cast<size_t>(tl * S + S - 1)];
        if (S > 1) ll = lse(ll, al[static_cast<size_t>(tl * S + S - 2)]);
      } else {
        ll = lab.empty() ? 0.0 : -INFINITY;
      }
      loss[n] = static_cast<T>(-ll);
      std::vector<double> acc(static_cast<size_t>(K));
      for (int64_t t = 0; t < Tm; ++t) {
        T *gt = grad + (t * N + n) * K;
        if (t >= T_n || ll == -INFINITY) {
          for (int64_t k = 0; k < K; ++k) gt[k] = T(0);
          continue;
        }
        std::fill(acc.begin(), acc.end(), -INFINITY);
        for (int64_t s = 0; s < S; ++s) {
          const size_t q = static_cast<size_t>(ext[static_cast<size_t>(s)]);
          acc[q] = lse(acc[q], al[static_cast<size_t>(t * S + s)] + be[static_cast<size_t>(t * S + s)]);
        }
        for (int64_t k = 0; k < K; ++k) {
          const double l = lp[static_cast<size_t>(t * K + k)];
          const double occ = acc[static_cast<size_t>(k)] == -INFINITY ? 0.0 : std::exp(acc[static_cast<size_t>(k)] - l - ll);
          gt[k] = static_cast<T>(std::exp(l) - occ);
        }
      }
    }
  });
}

// inputs: out_grad (N,), grad (T, N, K)
template <typename T> void ctc_backward(const OpCall &c) {
  const Shape &gs = c.inputs[1].shape();
  const int64_t Tm = gs[0], N = gs[1], K = gs[2];
  const T *og = c.inputs[0].data<T>(), *g = c.inputs[1].data<T>();
  T *dx = c.outputs[0].data<T>();
  for (int64_t t = 0; t < Tm; ++t)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t k = 0; k < K; ++k) dx[(t * N + n) * K + k] = og[n] * g[(t * N + n) * K + k];
}

const int registered = [] {
  MX_REGISTER_OP(CTCLoss)
      .alias("ctc_loss")
      .alias("_contrib_CTCLoss")
      .alias("_contrib_ctc_loss")
      .doc("Connectionist Temporal Classification loss of activations data (T, N, alphabet) (softmax applied "
           "inside) against label (N, label_length); output (N,).")
      .params<CTCParam>()
      .inputs_fn(ctc_inputs)
      .dtypes({DType::f32, DType::f64, DType::i32, DType::i64, DType::u8, DType::i8})  // labels may be integers
      .inputs({"data", "label", "data_lengths", "label_lengths"})
      .outputs({"output", "grad"})
      .num_visible_outputs([](const Params &) { return 1; })
      .shape([](const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        const char *op = "CTCLoss";
        if (!in[0].known() || !in[1].known()) return false;
        MX_CHECK(in[0].ndim() == 3, MX_ERR_SHAPE, op, ": data must be (sequence_length, batch, alphabet), got ",
                 in[0].str());
        MX_CHECK(in[1].ndim() == 2 && in[1][0] == in[0][1], MX_ERR_SHAPE, op, ": label must be (batch=", in[0][1],
                 ", label_length), got ", in[1].str());
        for (size_t i = 2; i < in.size(); ++i) assign_shape(in[i], Shape{in[0][1]}, op, "lengths");
        assign_shape(out[0], Shape{in[0][1]}, op, "output");
        assign_shape(out[1], in[0], op, "grad");
        return true;
      })
      .type([](const Params &, TypeVec &in, TypeVec &, TypeVec &out) {
        MX_CHECK(in[0] >= 0, MX_ERR_TYPE, "CTCLoss: data dtype unknown");
        MX_CHECK(in[0] == static_cast<int>(DType::f32) || in[0] == static_cast<int>(DType::f64), MX_ERR_TYPE, "CTCLoss: data must be float32 or float64, got dtype ", dtype_name(static_cast<DType>(in[0])));
        out[0] = out[1] = in[0];
        for (size_t i = 1; i < in.size(); ++i)
          if (in[i] < 0) in[i] = in[0];
        return true;
      })
      .cpu([](const OpCall &c) { MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "CTCLoss", { ctc_forward<T>(c); }); })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        std::vector<Var> r(n.inputs.size(), Var::none());
        r[0] = b.emit(&Registry::get().require("_backward_CTCLoss"), n.params, {n.out_grads[0], n.outputs[1]})[0];
        return r;
      });
  MX_REGISTER_OP(_backward_CTCLoss)
      .doc("Gradient of CTCLoss: inputs (out_grad, grad saved by the forward).")
      .params<CTCParam>()
      .inputs({"out_grad", "grad"})
      .outputs({"data_grad"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[1].known()) return false;
        assign_shape(out[0], in[1], "_backward_CTCLoss", "data_grad");
        return true;
      })
      .cpu([](const OpCall &c) {
        MX_DTYPE_SWITCH_FLOAT(c.inputs[1].dtype(), T, "_backward_CTCLoss", { ctc_backward<T>(c); });
      })
      .no_grad();
  return 0;
}();

}  // namespace
}  // namespace mx
