// CTCLoss written once for both devices (ops/each.h): labels and lengths are read and checked on
// the host (a copy comes back from a GPU), the extended label sequences go to the data's device,
// then one functor call per sample runs the forward-backward recursions in log space (double)
// in scratch memory and writes its loss and its gradient w.r.t. the activations. ctc_loss.cc runs
// it with HostEach, backends/cuda/ctc.cu with DeviceEach (one thread per sample).
#pragma once
#include <cmath>
#include <string>
#include <vector>

#include "base/hd.h"
#include "ops/index_gpu.h"
#include "ops/registry.h"

namespace mx {
namespace ctck {

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

inline double num_at(const NDArray &a, int64_t i) {
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

MX_HD inline double lse(double a, double b) {
  if (a == -INFINITY) return b;
  if (b == -INFINITY) return a;
  return a > b ? a + log1p(exp(b - a)) : b + log1p(exp(a - b));
}

// One sample n: ext (Smax per sample: blank, l1, blank, l2, ..., blank; S[n] used), T[n] steps.
// Scratch per sample: lp (Tm x K), al and be (Tm x Smax), acc (K).
template <typename T> struct CTCSample {
  int64_t Tm, N, K, Smax, blank;
  const T *x;
  const int64_t *ext, *S, *Tn;
  double *lp, *al, *be, *acc;
  T *loss, *grad;
  MX_HD void operator()(int64_t n) const {
    const int64_t T_n = Tn[n], Sn = S[n];
    const int64_t *e = ext + n * Smax;
    double *LPn = lp + n * Tm * K, *A = al + n * Tm * Smax, *B = be + n * Tm * Smax, *ac = acc + n * K;
    for (int64_t t = 0; t < T_n; ++t) {  // log softmax per step
      const T *xt = x + (t * N + n) * K;
      double m = -INFINITY;
      for (int64_t k = 0; k < K; ++k) m = m < static_cast<double>(xt[k]) ? static_cast<double>(xt[k]) : m;
      double s = 0;
      for (int64_t k = 0; k < K; ++k) s += exp(static_cast<double>(xt[k]) - m);
      const double ls = m + log(s);
      for (int64_t k = 0; k < K; ++k) LPn[t * K + k] = static_cast<double>(xt[k]) - ls;
    }
    for (int64_t i = 0; i < T_n * Smax; ++i) A[i] = B[i] = -INFINITY;
    double ll = -INFINITY;
    if (T_n > 0) {
      A[0] = LPn[e[0]];
      if (Sn > 1) A[1] = LPn[e[1]];
      for (int64_t t = 1; t < T_n; ++t)
        for (int64_t s = 0; s < Sn; ++s) {
          double a = A[(t - 1) * Smax + s];
          if (s >= 1) a = lse(a, A[(t - 1) * Smax + s - 1]);
          if (s >= 2 && e[s] != blank && e[s] != e[s - 2]) a = lse(a, A[(t - 1) * Smax + s - 2]);
          A[t * Smax + s] = a == -INFINITY ? a : a + LPn[t * K + e[s]];
        }
      const int64_t tl = T_n - 1;
      B[tl * Smax + Sn - 1] = LPn[tl * K + e[Sn - 1]];
      if (Sn > 1) B[tl * Smax + Sn - 2] = LPn[tl * K + e[Sn - 2]];
      for (int64_t t = tl - 1; t >= 0; --t)
        for (int64_t s = 0; s < Sn; ++s) {
          double v = B[(t + 1) * Smax + s];
          if (s + 1 < Sn) v = lse(v, B[(t + 1) * Smax + s + 1]);
          if (s + 2 < Sn && e[s + 2] != blank && e[s + 2] != e[s]) v = lse(v, B[(t + 1) * Smax + s + 2]);
          B[t * Smax + s] = v == -INFINITY ? v : v + LPn[t * K + e[s]];
        }
      ll = A[tl * Smax + Sn - 1];
      if (Sn > 1) ll = lse(ll, A[tl * Smax + Sn - 2]);
    } else {
      ll = Sn == 1 ? 0.0 : -INFINITY;  // no steps: only the empty label has probability 1
    }
    loss[n] = static_cast<T>(-ll);
    for (int64_t t = 0; t < Tm; ++t) {
      T *gt = grad + (t * N + n) * K;
      if (t >= T_n || ll == -INFINITY) {
        for (int64_t k = 0; k < K; ++k) gt[k] = T(0);
        continue;
      }
      for (int64_t k = 0; k < K; ++k) ac[k] = -INFINITY;
      for (int64_t s = 0; s < Sn; ++s) ac[e[s]] = lse(ac[e[s]], A[t * Smax + s] + B[t * Smax + s]);
      for (int64_t k = 0; k < K; ++k) {
        const double l = LPn[t * K + k];
        const double occ = ac[k] == -INFINITY ? 0.0 : exp(ac[k] - l - ll);
        gt[k] = static_cast<T>(exp(l) - occ);
      }
    }
  }
};

// dx = out_grad[n] * grad (T, N, K)
template <typename T> struct CTCBackward {
  int64_t N, K;
  const T *og, *g;
  T *dx;
  MX_HD void operator()(int64_t i) const { dx[i] = og[(i / K) % N] * g[i]; }
};

// inputs data (T, N, K), label (N, U), [data_lengths], [label_lengths]; outputs loss (N,), grad
template <class Each> void ctc_forward(const OpCall &c, const Each &each) {
  const auto &p = c.p<CTCParam>();
  const char *op = "CTCLoss";
  const Shape &ds = c.inputs[0].shape();
  const int64_t Tm = ds[0], N = ds[1], K = ds[2], U = c.inputs[1].shape()[1], Smax = 2 * U + 1;
  const bool first = p.blank_label == "first";
  const int64_t blank = first ? 0 : K - 1;
  const double pad = first ? 0.0 : -1.0;
  size_t li = 2;
  const NDArray label = host_copy(c.inputs[1]);
  const NDArray dlen = p.use_data_lengths ? host_copy(c.inputs[li++]) : NDArray();
  const NDArray llen = p.use_label_lengths ? host_copy(c.inputs[li++]) : NDArray();
  // validate and extend the labels on the host (errors before any device work)
  std::vector<int64_t> ext(static_cast<size_t>(N * Smax), blank), S(static_cast<size_t>(N)), Tn(static_cast<size_t>(N));
  for (int64_t n = 0; n < N; ++n) {
    int64_t T_n = Tm;
    if (p.use_data_lengths) {
      T_n = static_cast<int64_t>(num_at(dlen, n));
      MX_CHECK(T_n >= 0 && T_n <= Tm, MX_ERR_INVALID_ARGUMENT, op, ": 'data_lengths' value ", T_n, " of sample ", n,
               " is out of range [0, ", Tm, "]");
    }
    Tn[static_cast<size_t>(n)] = T_n;
    int64_t L = U;
    if (p.use_label_lengths) {
      L = static_cast<int64_t>(num_at(llen, n));
      MX_CHECK(L >= 0 && L <= U, MX_ERR_INVALID_ARGUMENT, op, ": 'label_lengths' value ", L, " of sample ", n,
               " is out of range [0, ", U, "]");
    } else {
      for (int64_t u = 0; u < U; ++u)
        if (num_at(label, n * U + u) == pad) {
          L = u;
          break;
        }
    }
    for (int64_t u = 0; u < L; ++u) {
      const double v = num_at(label, n * U + u);
      const int64_t k = static_cast<int64_t>(v);
      // MXNet (warp-ctc) accepts the blank index inside a label and aligns it like any class
      MX_CHECK(k >= 0 && k < K, MX_ERR_INVALID_ARGUMENT, op, ": 'label' value ", v, " of sample ", n,
               " is out of range (alphabet size ", K, ", blank_label '", p.blank_label, "')");
      ext[static_cast<size_t>(n * Smax + 2 * u + 1)] = k;
    }
    S[static_cast<size_t>(n)] = 2 * L + 1;
  }
  if (N == 0) return;
  const Device dev = c.outputs[0].device();
  const NDArray ext_d = indices_on(ext, dev), S_d = indices_on(S, dev), T_d = indices_on(Tn, dev);
  NDArray lp(Shape{std::max<int64_t>(N * Tm * K, 1)}, DType::f64, dev);
  NDArray al(Shape{std::max<int64_t>(N * Tm * Smax, 1)}, DType::f64, dev), be(al.shape(), DType::f64, dev);
  NDArray acc(Shape{std::max<int64_t>(N * K, 1)}, DType::f64, dev);
  MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, op, {
    each(N,
         CTCSample<T>{Tm, N, K, Smax, blank, c.inputs[0].data<T>(), ext_d.data<int64_t>(), S_d.data<int64_t>(),
                      T_d.data<int64_t>(), lp.data<double>(), al.data<double>(), be.data<double>(),
                      acc.data<double>(), c.outputs[0].data<T>(), c.outputs[1].data<T>()},
         1);
  });
}

// inputs out_grad (N,), grad (T, N, K)
template <class Each> void ctc_backward(const OpCall &c, const Each &each) {
  const Shape &gs = c.inputs[1].shape();
  MX_DTYPE_SWITCH_FLOAT(c.inputs[1].dtype(), T, "_backward_CTCLoss", {
    each(c.outputs[0].size(),
         CTCBackward<T>{gs[1], gs[2], c.inputs[0].data<T>(), c.inputs[1].data<T>(), c.outputs[0].data<T>()});
  });
}

}  // namespace ctck
}  // namespace mx
