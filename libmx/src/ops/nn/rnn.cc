// Fused multi-layer (bidirectional) RNN: lstm, gru, rnn_tanh, rnn_relu, data (T, N, C), with
// every weight and bias packed in one flat 'parameters' vector in MXNet's layout: first all
// weights, layer by layer and direction by direction (W_i2h (G*H, in), then W_h2h (G*H, H)), then
// all biases in the same order (b_i2h (G*H), b_h2h (G*H)). Gate order: lstm i, f, g, o; gru r, z, n
// with n = tanh(Wx x + bx + r * (Wh h + bh)). Dropout (p) only acts in training between layers and
// is not applied here (eval semantics). A recorded forward (autograd, or an executor whose
// backward reads it) also fills a hidden 'reserve' output (OpDef::num_saved_outputs) with what
// the backward needs: per layer and direction the gate activations and the states after each
// step, and the inputs of layers 1..L-1 (layout: Net::res_*). The backward (_backward_RNN) runs
// back-propagation through time from it; given an empty reserve (inference-only call sites,
// float16 run through float32) it recomputes the forward first.
// LSTM with projection_size P (LSTMP, MXNet's layout): per (layer, direction) the weights are
// W_i2h (4H, in), W_h2h (4H, P), W_h2r (P, H); the recurrent state and the output are r = W_h2r h
// (P wide), the cell state stays H wide. (MXNet 1.9.1 runs it for inference only on the CPU; the
// gradient here is exact back-propagation through the projection.)
// On the GPU both ops run on cuDNN (backends/cuda/cudnn_rnn.cc; see gpu_spec below).
#include <cmath>
#include <limits>

#include "backends/cpu/fast_math.h"
#include "backends/cpu/onednn_matmul.h"
#include "backends/cpu/simd.h"
#include "backends/cudnn_rnn.h"
#include "ops/cuda_only.h"
#include "ops/nn/nn_common.h"

namespace mx {
namespace {

struct RNNParam {
  int64_t state_size = 0, num_layers = 1;
  bool bidirectional = false, state_outputs = false, use_sequence_length = false, lstm_state_clip_nan = false;
  std::string mode;
  double p = 0;
  std::optional<int64_t> projection_size;
  std::optional<double> lstm_state_clip_min, lstm_state_clip_max;
  static void describe(ParamDecl<RNNParam> &d) {
    d.field("state_size", &RNNParam::state_size).required().doc("Size of the state for each layer.");
    d.field("num_layers", &RNNParam::num_layers).required().doc("Number of stacked layers.");
    d.field("bidirectional", &RNNParam::bidirectional).def(false).doc("Whether to use bidirectional recurrent layers.");
    d.field("mode", &RNNParam::mode).required().choices({"gru", "lstm", "rnn_relu", "rnn_tanh"})
        .doc("The type of RNN to compute.");
    d.field("p", &RNNParam::p).def(0.0).doc("Dropout probability between layers (training only; not implemented: p > 0 with several layers in training mode is refused).");
    d.field("state_outputs", &RNNParam::state_outputs).def(false).doc("Whether to have the states as symbol outputs.");
    d.field("projection_size", &RNNParam::projection_size).def(std::nullopt).doc("Size of LSTM projection.");
    d.field("lstm_state_clip_min", &RNNParam::lstm_state_clip_min).def(std::nullopt)
        .doc("Minimum clip value of LSTM states.");
    d.field("lstm_state_clip_max", &RNNParam::lstm_state_clip_max).def(std::nullopt)
        .doc("Maximum clip value of LSTM states.");
    d.field("lstm_state_clip_nan", &RNNParam::lstm_state_clip_nan).def(false).doc("Clip NaN cell states (ignored).");
    d.field("use_sequence_length", &RNNParam::use_sequence_length).def(false)
        .doc("Whether to use a sequence_length input (unsupported).");
    d.check([](const RNNParam &p, const std::string &op) {
      MX_CHECK(p.state_size > 0, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'state_size' must be positive, got ",
               p.state_size);
      MX_CHECK(p.num_layers > 0, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'num_layers' must be positive, got ",
               p.num_layers);
      MX_CHECK(p.p >= 0 && p.p < 1, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'p' must be in [0, 1), got ", p.p);
      if (p.projection_size) {
        MX_CHECK(p.mode == "lstm", MX_ERR_INVALID_ARGUMENT, op, ": projection_size is only supported for mode 'lstm', not '",
                 p.mode, "'");
        MX_CHECK(*p.projection_size > 0 && *p.projection_size <= p.state_size, MX_ERR_INVALID_ARGUMENT, op,
                 ": projection_size must lie in [1, state_size = ", p.state_size, "], got ", *p.projection_size);
      }
      MX_CHECK(!p.use_sequence_length, MX_ERR_UNSUPPORTED, op,
               ": parameter 'use_sequence_length' = True is not supported");
    });
  }
};

enum Mode { kLSTM, kGRU, kTanh, kRelu };
Mode mode_of(const RNNParam &p) {
  return p.mode == "lstm" ? kLSTM : p.mode == "gru" ? kGRU : p.mode == "rnn_tanh" ? kTanh : kRelu;
}
int gates_of(Mode m) { return m == kLSTM ? 4 : m == kGRU ? 3 : 1; }
bool is_lstm(const RNNParam &p) { return p.mode == "lstm"; }

int64_t proj_of(const RNNParam &p) { return p.projection_size ? *p.projection_size : 0; }
int64_t rec_of(const RNNParam &p) { return p.projection_size ? *p.projection_size : p.state_size; }  // recurrent width

int64_t param_size(const RNNParam &p, int64_t C) {
  const int64_t H = p.state_size, G = gates_of(mode_of(p)), D = p.bidirectional ? 2 : 1, R = rec_of(p);
  int64_t s = 0;
  for (int64_t l = 0; l < p.num_layers; ++l) {
    const int64_t in = l == 0 ? C : D * R;
    s += D * (G * H * (in + R) + proj_of(p) * H + 2 * G * H);
  }
  return s;
}

std::vector<std::string> rnn_inputs(const Params &prm) {
  if (is_lstm(prm.get<RNNParam>())) return {"data", "parameters", "state", "state_cell"};
  return {"data", "parameters", "state"};
}
int rnn_nout(const Params &prm) { return is_lstm(prm.get<RNNParam>()) ? 4 : 3; }  // + the hidden reserve
int rnn_nvis(const Params &prm) {
  const auto &p = prm.get<RNNParam>();
  return p.state_outputs ? rnn_nout(prm) - 1 : 1;
}

int64_t reserve_size(const RNNParam &p, int64_t T, int64_t N, int64_t C);  // below, from Net

bool rnn_shape(const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
  const auto &p = prm.get<RNNParam>();
  const char *op = "RNN";
  if (!in[0].known()) return false;
  MX_CHECK(in[0].ndim() == 3, MX_ERR_SHAPE, op, ": data must have 3 dimensions (T, N, C), got shape ", in[0].str());
  const int64_t T = in[0][0], N = in[0][1], C = in[0][2], H = p.state_size, D = p.bidirectional ? 2 : 1, R = rec_of(p);
  assign_shape(in[1], Shape{param_size(p, C)}, op, "parameters");
  Shape st{p.num_layers * D, N, R}, cell{p.num_layers * D, N, H};
  assign_shape(in[2], st, op, "state");
  if (is_lstm(p)) assign_shape(in[3], cell, op, "state_cell");
  assign_shape(out[0], Shape{T, N, D * R}, op, "output");
  assign_shape(out[1], st, op, "state_output");
  if (is_lstm(p)) assign_shape(out[2], cell, op, "statecell_output");
  assign_shape(out[is_lstm(p) ? 3 : 2], Shape{reserve_size(p, T, N, C)}, op, "reserve");
  return true;
}

template <typename T> struct Net {
  Mode mode;
  int64_t L, D, H, G, T_, N, C, P, R;  // P: projection size (0: none); R: recurrent/output width
  std::optional<double> cmin, cmax;
  // pointers into the parameter vector per (layer, dir)
  std::vector<int64_t> wx, wh, wr, bx, bh, in;
  // The reserve (element offsets): per (layer, dir) gates (T, N, G*H) after activation, the
  // recurrent state h (T, N, R) and, for lstm, c (T, N, H) after each step, gru's Wh h + bh of
  // the n gate (T, N, H), the projection's input o * tanh(c) (T, N, H); per layer l >= 1 its
  // input (T, N, D*R). -1: not kept for this mode.
  std::vector<int64_t> res_gates, res_h, res_c, res_ghn, res_hc, res_act;
  int64_t res_size = 0;
  Net(const RNNParam &p, int64_t T0, int64_t N0, int64_t C0)
      : mode(mode_of(p)), L(p.num_layers), D(p.bidirectional ? 2 : 1), H(p.state_size), G(gates_of(mode_of(p))),
        T_(T0), N(N0), C(C0), P(proj_of(p)), R(rec_of(p)), cmin(p.lstm_state_clip_min), cmax(p.lstm_state_clip_max) {
    int64_t off = 0;
    for (int64_t l = 0; l < L; ++l)
      for (int64_t d = 0; d < D; ++d) {
        const int64_t ins = l == 0 ? C : D * R;
        in.push_back(ins);
        wx.push_back(off);
        off += G * H * ins;
        wh.push_back(off);
        off += G * H * R;
        wr.push_back(off);
        off += P * H;
      }
    for (int64_t l = 0; l < L; ++l)
      for (int64_t d = 0; d < D; ++d) {
        bx.push_back(off);
        off += G * H;
        bh.push_back(off);
        off += G * H;
      }
    const int64_t TN = T_ * N;
    int64_t r = 0;
    auto take = [&](std::vector<int64_t> &v, bool keep, int64_t n) {
      v.push_back(keep ? r : -1);
      if (keep) r += n;
    };
    for (int64_t k = 0; k < L * D; ++k) {
      take(res_gates, true, TN * G * H);
      take(res_h, true, TN * R);
      take(res_c, mode == kLSTM, TN * H);
      take(res_ghn, mode == kGRU, TN * H);
      take(res_hc, P > 0, TN * H);
    }
    for (int64_t l = 0; l < L; ++l) take(res_act, l > 0, TN * D * R);
    res_size = r;
  }
};

template <typename T> T sigm(T x) { return fastmath::sigmoid_of(x); }

// Element loops over one row of gates. Their iterations are independent (element j reads and
// writes index j of each row only), but the vectoriser cannot prove the row pointers apart and
// gives up past 10 run-time alias checks (the LSTM and GRU loops need 60+: they ran scalar, about
// 25 ns per LSTM element); ivdep tells it. The AVX-512 build is picked at run time as in
// backends/cpu/simd.h's for_range.
#if defined(__clang__)
#define MX_RNN_IVDEP _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define MX_RNN_IVDEP _Pragma("GCC ivdep")
#else
#define MX_RNN_IVDEP
#endif
// flatten: the loop body (a lambda) and the sigmoid/tanh formulas it calls must be inlined here,
// into the AVX-512 build; left to the inliner, the LSTM body stayed a per-element call.
#if defined(__GNUC__)
#define MX_RNN_FLATTEN __attribute__((flatten))
#else
#define MX_RNN_FLATTEN
#endif
template <class Body> MX_TARGET_AVX512 MX_RNN_FLATTEN void gate_loop_avx512(int64_t n, const Body &body) {
  const Body g = body;
  MX_RNN_IVDEP
  for (int64_t j = 0; j < n; ++j) g(j);
}
template <class Body> inline void gate_loop(int64_t n, const Body &body) {
  if (cpu_has_avx512()) {
    gate_loop_avx512(n, body);
    return;
  }
  const Body g = body;
  MX_RNN_IVDEP
  for (int64_t j = 0; j < n; ++j) g(j);
}

// The recurrent product of every time step, C (M x N) += A (M x K) . op(W), with one W for all
// steps: for float32 oneDNN's matmul with W packed once per call (onednn_matmul.h), else BLAS.
template <typename T> class StepProduct {
 public:
  StepProduct(int64_t M, int64_t K, int64_t N, const T *w, bool w_trans)
      : M_(M), K_(K), N_(N), w_(w), w_trans_(w_trans) {}
  void accumulate(const T *a, T *c) const {
    gemm(false, w_trans_, M_, N_, K_, T(1), a, K_, w_, w_trans_ ? K_ : N_, T(1), c, N_);
  }

 private:
  int64_t M_, K_, N_;
  const T *w_;
  bool w_trans_;
};
template <> class StepProduct<float> {
 public:
  StepProduct(int64_t M, int64_t K, int64_t N, const float *w, bool w_trans)
      : M_(M), K_(K), N_(N), w_(w), w_trans_(w_trans), packed_ok_(packed_.prepare(M, K, N, w, w_trans)) {}
  void accumulate(const float *a, float *c) const {
    if (packed_ok_) return packed_.accumulate(a, c);
    gemm(false, w_trans_, M_, N_, K_, 1.f, a, K_, w_, w_trans_ ? K_ : N_, 1.f, c, N_);
  }

 private:
  int64_t M_, K_, N_;
  const float *w_;
  bool w_trans_;
  onednn::RepeatedProduct packed_;  // declared before packed_ok_, which its prepare() sets
  bool packed_ok_;
};

// Saved values of one (layer, direction) over time, pointers into the reserve (indexed by the
// sequence position t in 0..T-1): gates after activation (N, G*H), the recurrent state after the
// step (N, R), c after the step, gh_n (gru: Wh h + bh of the n gate), hc (projection: the cell
// output o * tanh(c) before W_h2r). Null where the mode keeps none.
template <typename T> struct Trace {
  T *gates = nullptr, *h = nullptr, *c = nullptr, *ghn = nullptr, *hc = nullptr;
};
template <typename T> Trace<T> trace_of(const Net<T> &net, T *res, int64_t k) {
  const size_t u = static_cast<size_t>(k);
  auto at = [&](const std::vector<int64_t> &v) { return v[u] >= 0 ? res + v[u] : nullptr; };
  return {at(net.res_gates), at(net.res_h), at(net.res_c), at(net.res_ghn), at(net.res_hc)};
}

// Run one layer/direction over X (T, N, in) writing Y[:, :, d*H:(d+1)*H] (row stride D*H).
template <typename T> void run_dir(const Net<T> &net, int64_t li, int64_t d, const T *W, const T *X, const T *h0,
                                    const T *c0, T *Y, T *hT, T *cT, Trace<T> *tr) {
  const int64_t k = li * net.D + d, ins = net.in[static_cast<size_t>(k)], H = net.H, G = net.G, N = net.N;
  const int64_t GH = G * H, Tn = net.T_, R = net.R, P = net.P, ys = net.D * R;
  const T *wx = W + net.wx[static_cast<size_t>(k)], *wh = W + net.wh[static_cast<size_t>(k)];
  const T *wr = W + net.wr[static_cast<size_t>(k)];
  const T *bx = W + net.bx[static_cast<size_t>(k)], *bh = W + net.bh[static_cast<size_t>(k)];
  // The input projections of all steps in one (T*N x ins) x (ins x GH) GEMM: T GEMMs of N rows
  // each spent much of their time packing (OpenBLAS). Only the recurrent part is per step. The
  // gate activations overwrite them in place: in the reserve when one is kept.
  std::vector<T> gx_local(static_cast<size_t>(tr ? 0 : Tn * N * GH)), gh(static_cast<size_t>(N * GH));
  T *gx_all = tr ? tr->gates : gx_local.data();
  for (int64_t r = 0; r < Tn * N; ++r) std::copy(bx, bx + GH, gx_all + r * GH);
  gemm(false, true, Tn * N, GH, ins, T(1), X, ins, wx, ins, T(1), gx_all, GH);
  std::vector<T> h(h0, h0 + N * R), c(c0 ? c0 : h0, (c0 ? c0 : h0) + N * H), hc(static_cast<size_t>(P ? N * H : 0));
  const StepProduct<T> recurrent(N, R, GH, wh, true);  // gh += h W_h^T
  for (int64_t step = 0; step < Tn; ++step) {
    const int64_t t = d == 0 ? step : Tn - 1 - step;
    T *gx = gx_all + t * N * GH;  // this step's rows; the gates overwrite them
    for (int64_t n = 0; n < N; ++n) std::copy(bh, bh + GH, gh.begin() + n * GH);
    recurrent.accumulate(h.data(), gh.data());
    for (int64_t n = 0; n < N; ++n) {
      T *a = gx + n * GH;
      const T *b = gh.data() + n * GH;
      T *hn = (P ? hc.data() : h.data()) + n * H, *cn = c.data() + n * H;
      T *yr = P ? nullptr : Y + (t * N + n) * ys + d * H;  // with a projection, Y is written below
      // One element loop per mode (the switch outside it), so gate_loop can run its AVX-512 build.
      switch (net.mode) {
        case kLSTM: {
          // No clip: bounds at -inf / +inf (a bool captured by the loop keeps it scalar).
          const T lo = net.cmin ? static_cast<T>(*net.cmin) : -std::numeric_limits<T>::infinity();
          const T hi = net.cmax ? static_cast<T>(*net.cmax) : std::numeric_limits<T>::infinity();
          gate_loop(H, [=](int64_t j) {
            T i = sigm(a[j] + b[j]), f = sigm(a[H + j] + b[H + j]), g = fastmath::tanh_of(a[2 * H + j] + b[2 * H + j]);
            T o = sigm(a[3 * H + j] + b[3 * H + j]);
            T cc = f * cn[j] + i * g;
            cc = cc < lo ? lo : cc;
            cc = cc > hi ? hi : cc;
            cn[j] = cc;
            hn[j] = o * fastmath::tanh_of(cc);
            a[j] = i; a[H + j] = f; a[2 * H + j] = g; a[3 * H + j] = o;
          });
          break;
        }
        case kGRU: {
          if (tr) std::copy(b + 2 * H, b + 3 * H, tr->ghn + (t * N + n) * H);
          gate_loop(H, [=](int64_t j) {
            T r = sigm(a[j] + b[j]), z = sigm(a[H + j] + b[H + j]);
            T nn_ = fastmath::tanh_of(a[2 * H + j] + r * b[2 * H + j]);
            hn[j] = (T(1) - z) * nn_ + z * hn[j];
            a[j] = r; a[H + j] = z; a[2 * H + j] = nn_;
          });
          break;
        }
        case kTanh:
          gate_loop(H, [=](int64_t j) { hn[j] = a[j] = fastmath::tanh_of(a[j] + b[j]); });
          break;
        case kRelu:
          gate_loop(H, [=](int64_t j) {
            const T v = a[j] + b[j];
            hn[j] = a[j] = v > T(0) ? v : T(0);
          });
          break;
      }
      if (yr) std::copy(hn, hn + H, yr);
    }
    if (P) {  // r = hc W_h2r^T is both the output and the next step's recurrent state
      gemm(false, true, N, P, H, T(1), hc.data(), H, wr, H, T(0), h.data(), P);
      for (int64_t n = 0; n < N; ++n)
        std::copy(h.begin() + n * P, h.begin() + (n + 1) * P, Y + (t * N + n) * ys + d * P);
      if (tr) std::copy(hc.begin(), hc.end(), tr->hc + t * N * H);
    }
    if (tr) {
      std::copy(h.begin(), h.end(), tr->h + t * N * R);
      if (tr->c) std::copy(c.begin(), c.end(), tr->c + t * N * H);
    }
  }
  std::copy(h.begin(), h.end(), hT);
  if (cT) std::copy(c.begin(), c.end(), cT);
}

// Forward through all layers into Y; with a reserve `res` (net.res_size elements) also what the
// backward reads. Layers 1..L-1 read their input from the reserve (or a scratch buffer).
template <typename T> void run_all(const Net<T> &net, const T *W, const T *X, const T *hx, const T *cx, T *Y, T *hy,
                                    T *cy, T *res) {
  const int64_t NH = net.N * net.H, NR = net.N * net.R, Tn = net.T_, ys = net.D * net.R;
  std::vector<T> scratch[2];
  const T *cur = X;
  for (int64_t l = 0; l < net.L; ++l) {
    T *nxt = Y;
    if (l + 1 < net.L) {
      if (res) {
        nxt = res + net.res_act[static_cast<size_t>(l + 1)];
      } else {
        auto &b = scratch[l % 2];
        b.resize(static_cast<size_t>(Tn * net.N * ys));
        nxt = b.data();
      }
    }
    for (int64_t d = 0; d < net.D; ++d) {
      const int64_t k = l * net.D + d;
      Trace<T> tr;
      if (res) tr = trace_of(net, res, k);
      run_dir(net, l, d, W, cur, hx + k * NR, cx ? cx + k * NH : nullptr, nxt, hy + k * NR, cy ? cy + k * NH : nullptr,
              res ? &tr : static_cast<Trace<T> *>(nullptr));
    }
    cur = nxt;
  }
}

size_t reserve_index(const RNNParam &p) { return is_lstm(p) ? 3 : 2; }

// MXNet applies dropout `p` to the outputs of every layer but the last in training. The fused
// kernels here do not, so such a call is refused rather than answered without the dropout.
void require_no_layer_dropout(const OpCall &c, const RNNParam &p) {
  MX_CHECK(!(c.is_train && p.p > 0 && p.num_layers > 1), MX_ERR_UNSUPPORTED, "RNN: dropout between layers (p=", p.p,
           ") is not implemented in the fused operator in training mode; use p=0 with a Dropout between "
           "single-layer RNN calls (gluon.rnn layers do this), or run outside training mode");
}
int64_t reserve_size(const RNNParam &p, int64_t T, int64_t N, int64_t C) { return Net<float>(p, T, N, C).res_size; }

template <typename T> void rnn_forward(const OpCall &c) {
  const auto &p = c.p<RNNParam>();
  require_no_layer_dropout(c, p);
  const Shape &s = c.inputs[0].shape();
  Net<T> net(p, s[0], s[1], s[2]);
  const bool lstm = is_lstm(p);
  const NDArray &res = c.outputs[reserve_index(p)];  // empty unless a backward will read it
  MX_CHECK(res.size() == 0 || res.size() == net.res_size, MX_ERR_INTERNAL, "RNN: reserve of ", res.size(),
           " elements, expected ", net.res_size);
  run_all(net, c.inputs[1].data<T>(), c.inputs[0].data<T>(), c.inputs[2].data<T>(),
          lstm ? c.inputs[3].data<T>() : nullptr, c.outputs[0].data<T>(), c.outputs[1].data<T>(),
          lstm ? c.outputs[2].data<T>() : nullptr, res.size() ? res.data<T>() : nullptr);
}

// inputs: data, parameters, state, [state_cell], dy, [dhy, [dcy]] (with state_outputs), the
// forward's output y (the GPU's backward reads it) and its reserve (may be empty: recompute).
// outputs: ddata, dparameters, dstate, [dstate_cell]
template <typename T> void rnn_backward(const OpCall &c) {
  const auto &p = c.p<RNNParam>();
  const bool lstm = is_lstm(p);
  const Shape &s = c.inputs[0].shape();
  Net<T> net(p, s[0], s[1], s[2]);
  const int64_t Tn = net.T_, N = net.N, H = net.H, G = net.G, GH = G * H, NH = N * H, R = net.R, P = net.P;
  const int64_t NR = N * R, ys = net.D * R;
  size_t ii = lstm ? 4 : 3;
  const T *dy = c.inputs[ii++].data<T>();
  const T *dhy = p.state_outputs ? c.inputs[ii++].data<T>() : nullptr;
  const T *dcy = p.state_outputs && lstm ? c.inputs[ii++].data<T>() : nullptr;
  const T *W = c.inputs[1].data<T>(), *hx = c.inputs[2].data<T>(), *cx = lstm ? c.inputs[3].data<T>() : nullptr;
  const NDArray &saved = c.inputs.back();
  std::vector<T> recomputed;  // the reserve, when the forward kept none
  T *res;
  if (saved.size() == net.res_size && net.res_size > 0) {
    res = const_cast<T *>(saved.data<T>());  // read only
  } else {
    MX_CHECK(saved.size() == 0, MX_ERR_INTERNAL, "_backward_RNN: reserve of ", saved.size(), " elements, expected ",
             net.res_size);
    recomputed.resize(static_cast<size_t>(net.res_size));
    res = recomputed.data();
    std::vector<T> Y(static_cast<size_t>(Tn * N * ys)), hy(static_cast<size_t>(net.L * net.D * NR)),
        cy(static_cast<size_t>(net.L * net.D * NH));
    run_all(net, W, c.inputs[0].data<T>(), hx, cx, Y.data(), hy.data(), lstm ? cy.data() : nullptr, res);
  }
  T *dW = c.outputs[1].data<T>(), *dhx = c.outputs[2].data<T>(), *dcx = lstm ? c.outputs[3].data<T>() : nullptr;
  std::fill(dW, dW + c.outputs[1].size(), T(0));
  std::vector<T> dcur(dy, dy + Tn * N * ys);
  // Gate gradients of all steps, so that the weight gradients and the input gradient are one GEMM
  // each over T*N rows (after the recurrence) instead of T small ones. The recurrent gradient
  // (dh of the previous step) still needs one small GEMM per step. dgh differs from dgx only for
  // GRU (its n gate: r * dn).
  const bool gru = net.mode == kGRU;
  std::vector<T> dgx_all(static_cast<size_t>(Tn * N * GH)), dgh_all(static_cast<size_t>(gru ? Tn * N * GH : 0));
  std::vector<T> hprev_all(static_cast<size_t>(Tn * NR));
  for (int64_t l = net.L - 1; l >= 0; --l) {
    const T *X = l == 0 ? c.inputs[0].data<T>() : res + net.res_act[static_cast<size_t>(l)];
    const int64_t ins = net.in[static_cast<size_t>(l * net.D)];
    std::vector<T> dX(static_cast<size_t>(Tn * N * ins), T(0));
    for (int64_t d = 0; d < net.D; ++d) {
      const int64_t k = l * net.D + d;
      const Trace<T> tr = trace_of(net, res, k);
      const T *wx = W + net.wx[static_cast<size_t>(k)], *wh = W + net.wh[static_cast<size_t>(k)];
      T *dwx = dW + net.wx[static_cast<size_t>(k)], *dwh = dW + net.wh[static_cast<size_t>(k)];
      const T *wr = W + net.wr[static_cast<size_t>(k)];
      T *dwr = dW + net.wr[static_cast<size_t>(k)];
      T *dbx = dW + net.bx[static_cast<size_t>(k)], *dbh = dW + net.bh[static_cast<size_t>(k)];
      std::vector<T> dh(static_cast<size_t>(NR), T(0)), dc(static_cast<size_t>(NH), T(0)),
          dhc(static_cast<size_t>(P ? NH : 0));
      if (dhy) std::copy(dhy + k * NR, dhy + (k + 1) * NR, dh.begin());
      if (dcy) std::copy(dcy + k * NH, dcy + (k + 1) * NH, dc.begin());
      const StepProduct<T> recurrent(N, GH, R, wh, false);  // dh_prev += dgates W_h
      for (int64_t step = Tn - 1; step >= 0; --step) {
        const int64_t t = d == 0 ? step : Tn - 1 - step;
        const int64_t tp = d == 0 ? t - 1 : t + 1;  // previous step's sequence position
        const bool first = step == 0;
        const T *hprev = first ? hx + k * NR : tr.h + tp * NR;
        const T *cprev = lstm ? (first ? cx + k * NH : tr.c + tp * NH) : nullptr;
        std::vector<T> dhp(static_cast<size_t>(NR), T(0));
        if (P) {  // through r = hc W_h2r^T: dW_h2r += dr^T hc, d hc = dr W_h2r
          std::vector<T> dr(dh);
          for (int64_t n = 0; n < N; ++n)
            for (int64_t j = 0; j < P; ++j)
              dr[static_cast<size_t>(n * P + j)] += dcur[static_cast<size_t>((t * N + n) * ys + d * P + j)];
          gemm(true, false, P, H, N, T(1), dr.data(), P, tr.hc + t * NH, H, T(1), dwr, H);
          gemm(false, false, N, H, P, T(1), dr.data(), P, wr, H, T(0), dhc.data(), H);
        }
        std::copy(hprev, hprev + NR, hprev_all.begin() + t * NR);
        T *dgx_t = dgx_all.data() + t * N * GH, *dgh_t = gru ? dgh_all.data() + t * N * GH : dgx_t;
        // Gate gradients, one element loop per mode and row (the switch outside it), so that
        // gate_loop runs its AVX-512 build (with the per-element switch it stayed scalar).
        for (int64_t n = 0; n < N; ++n) {
          const T *a = tr.gates + (t * N + n) * GH;
          T *gx = dgx_t + n * GH, *gh = dgh_t + n * GH;
          // dh of this step: through the projection, or the recurrent gradient plus the output's
          T *dht = P ? dhc.data() + n * H : dh.data() + n * H;
          if (!P) {
            const T *dyn = dcur.data() + (t * N + n) * ys + d * H;
            for_range(0, H, [=](int64_t j) { dht[j] += dyn[j]; });
          }
          switch (net.mode) {
            case kLSTM: {
              // No clip: bounds at -inf / +inf (only a c of +-inf, which no step reaches, would match).
              const T lo = net.cmin ? static_cast<T>(*net.cmin) : -std::numeric_limits<T>::infinity();
              const T hi = net.cmax ? static_cast<T>(*net.cmax) : std::numeric_limits<T>::infinity();
              const T *ct = tr.c + t * NH + n * H, *cp = cprev + n * H;
              T *dcn = dc.data() + n * H;
              gate_loop(H, [=](int64_t j) {
                const T i = a[j], f = a[H + j], g = a[2 * H + j], o = a[3 * H + j];
                const T c_ = ct[j], tc = fastmath::tanh_of(c_);
                T dct = dcn[j] + dht[j] * o * (T(1) - tc * tc);
                dct = (c_ <= lo || c_ >= hi) ? T(0) : dct;  // a clipped c passes no gradient
                gx[j] = dct * g * i * (T(1) - i);
                gx[H + j] = dct * cp[j] * f * (T(1) - f);
                gx[2 * H + j] = dct * i * (T(1) - g * g);
                gx[3 * H + j] = dht[j] * tc * o * (T(1) - o);
                dcn[j] = dct * f;
              });
              break;
            }
            case kGRU: {
              const T *ghn = tr.ghn + t * NH + n * H, *hp = hprev + n * R;
              T *dhpn = dhp.data() + n * R;
              gate_loop(H, [=](int64_t j) {
                const T r = a[j], z = a[H + j], nv = a[2 * H + j];
                const T dn = dht[j] * (T(1) - z) * (T(1) - nv * nv);
                const T dz = dht[j] * (hp[j] - nv) * z * (T(1) - z);
                const T dr = dn * ghn[j] * r * (T(1) - r);
                gx[j] = dr;
                gh[j] = dr;
                gx[H + j] = dz;
                gh[H + j] = dz;
                gx[2 * H + j] = dn;
                gh[2 * H + j] = dn * r;
                dhpn[j] = dht[j] * z;
              });
              break;
            }
            case kTanh:
              gate_loop(H, [=](int64_t j) { gx[j] = dht[j] * (T(1) - a[j] * a[j]); });
              break;
            case kRelu:
              gate_loop(H, [=](int64_t j) { gx[j] = a[j] > T(0) ? dht[j] : T(0); });
              break;
          }
        }
        recurrent.accumulate(dgh_t, dhp.data());
        dh = dhp;
      }
      const T *dgh_all_p = gru ? dgh_all.data() : dgx_all.data();
      gemm(true, false, GH, ins, Tn * N, T(1), dgx_all.data(), GH, X, ins, T(1), dwx, ins);
      gemm(true, false, GH, R, Tn * N, T(1), dgh_all_p, GH, hprev_all.data(), R, T(1), dwh, R);
      for (int64_t r = 0; r < Tn * N; ++r) {
        const T *gxr = dgx_all.data() + r * GH, *ghr = dgh_all_p + r * GH;
        for_range(0, GH, [=](int64_t j) {
          dbx[j] += gxr[j];
          dbh[j] += ghr[j];
        });
      }
      gemm(false, false, Tn * N, ins, GH, T(1), dgx_all.data(), GH, wx, ins, T(1), dX.data(), ins);
      std::copy(dh.begin(), dh.end(), dhx + k * NR);
      if (dcx) std::copy(dc.begin(), dc.end(), dcx + k * NH);
    }
    dcur = std::move(dX);
  }
  std::copy(dcur.begin(), dcur.end(), c.outputs[0].data<T>());
}

// The GPU (cuDNN, backends/cuda/cudnn_rnn.cc): MX's parameter layout described block by block
// for cuDNN's linear layers (same gate order: lstm i f g o, gru r z n; 8 = lstm projection).
cudnn::RNNSpec gpu_spec(const RNNParam &p, const Shape &data, const char *op) {
  MX_CHECK(!p.lstm_state_clip_min && !p.lstm_state_clip_max, MX_ERR_UNSUPPORTED, op,
           ": lstm_state_clip_min/max are not supported on the GPU (the CPU kernel supports them)");
  MX_CHECK(!p.projection_size || *p.projection_size < p.state_size, MX_ERR_UNSUPPORTED, op,
           ": on the GPU projection_size must be smaller than state_size (cuDNN), got ", *p.projection_size);
  Net<float> net(p, data[0], data[1], data[2]);
  cudnn::RNNSpec s;
  const Mode m = mode_of(p);
  s.mode = m == kLSTM ? cudnn::RNNMode::kLSTM
           : m == kGRU ? cudnn::RNNMode::kGRU
           : m == kTanh ? cudnn::RNNMode::kTanh
                        : cudnn::RNNMode::kRelu;
  s.T = data[0];
  s.N = data[1];
  s.C = data[2];
  s.H = net.H;
  s.L = net.L;
  s.P = net.P;
  s.bidirectional = net.D == 2;
  const int64_t G = net.G, H = net.H, R = net.R;
  for (int64_t k = 0; k < net.L * net.D; ++k) {
    const size_t u = static_cast<size_t>(k);
    const int64_t ins = net.in[u];
    for (int64_t g = 0; g < G; ++g) {
      s.blocks.push_back({static_cast<int>(k), static_cast<int>(g), net.wx[u] + g * H * ins, H, ins, net.bx[u] + g * H});
      s.blocks.push_back({static_cast<int>(k), static_cast<int>(G + g), net.wh[u] + g * H * R, H, R, net.bh[u] + g * H});
    }
    if (net.P) s.blocks.push_back({static_cast<int>(k), 8, net.wr[u], net.P, H, -1});
  }
  return s;
}

void rnn_forward_gpu(const OpCall &c) {
  const auto &p = c.p<RNNParam>();
  require_no_layer_dropout(c, p);
  const bool lstm = is_lstm(p);
  cudnn::rnn_forward("RNN", gpu_spec(p, c.inputs[0].shape(), "RNN"), c.inputs[0], c.inputs[1], c.inputs[2],
                     lstm ? &c.inputs[3] : nullptr, c.outputs[0], c.outputs[1], lstm ? &c.outputs[2] : nullptr,
                     c.outputs[reserve_index(p)]);
}

void rnn_backward_gpu(const OpCall &c) {
  const auto &p = c.p<RNNParam>();
  const bool lstm = is_lstm(p);
  size_t ii = lstm ? 4 : 3;
  const NDArray &dy = c.inputs[ii++];
  const NDArray *dhy = p.state_outputs ? &c.inputs[ii++] : nullptr;
  const NDArray *dcy = p.state_outputs && lstm ? &c.inputs[ii++] : nullptr;
  cudnn::rnn_backward("_backward_RNN", gpu_spec(p, c.inputs[0].shape(), "_backward_RNN"), c.inputs[0], c.inputs[1],
                      c.inputs[2], lstm ? &c.inputs[3] : nullptr, dy, dhy, dcy, c.outputs[0], c.outputs[1],
                      c.outputs[2], lstm ? &c.outputs[3] : nullptr, c.inputs[ii], c.inputs[ii + 1]);
}

std::vector<std::string> bwd_inputs(const Params &prm) {
  const auto &p = prm.get<RNNParam>();
  auto v = rnn_inputs(prm);
  v.push_back("out_grad");
  if (p.state_outputs) {
    v.push_back("state_grad");
    if (is_lstm(p)) v.push_back("statecell_grad");
  }
  v.push_back("output");
  v.push_back("reserve");
  return v;
}

const int registered = [] {
  MX_REGISTER_OP(RNN)
      .doc("Applies a multi-layer (optionally bidirectional) recurrent network (lstm, gru, rnn_tanh, rnn_relu) "
           "to data (T, N, C) with one flat parameter vector in MXNet's layout.")
      .params<RNNParam>()
      .inputs({"data", "parameters", "state", "state_cell"})
      .inputs_fn(rnn_inputs)
      .outputs({"output", "state_output", "statecell_output", "reserve"})
      .num_outputs(rnn_nout)
      .num_visible_outputs(rnn_nvis)
      .saved_outputs(1)
      .shape(rnn_shape)
      .cpu([](const OpCall &c) { MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "RNN", { rnn_forward<T>(c); }); })
      .gpu(cuda_only(rnn_forward_gpu))
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        std::vector<Var> in = n.inputs;
        for (Var g : n.out_grads) in.push_back(g);
        in.push_back(n.outputs.front());  // y
        in.push_back(n.outputs.back());   // the reserve (empty when the forward kept none)
        auto gs = b.emit(&Registry::get().require("_backward_RNN"), n.params, in);
        gs.resize(n.inputs.size());
        return gs;
      });
  MX_REGISTER_OP(_backward_RNN)
      .doc("Gradient of RNN: inputs (data, parameters, state, [state_cell], out_grad, [state grads], output, "
           "reserve); an empty reserve makes it recompute the forward.")
      .params<RNNParam>()
      .inputs_fn(bwd_inputs)
      .outputs({"data_grad", "parameters_grad", "state_grad", "state_cell_grad"})
      .num_outputs([](const Params &prm) { return is_lstm(prm.get<RNNParam>()) ? 4 : 3; })
      .shape([](const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        const auto &p = prm.get<RNNParam>();
        const size_t nf = is_lstm(p) ? 4 : 3;
        for (size_t i = 0; i < nf; ++i) {
          if (!in[i].known()) return false;
          assign_shape(out[i], in[i], "_backward_RNN", "input gradient");
        }
        const Shape &x = in[0];
        MX_CHECK(x.ndim() == 3, MX_ERR_SHAPE, "_backward_RNN: data must have 3 dimensions, got ", x.str());
        Shape &res = in.back();
        // An empty reserve: the forward kept none (the kernel recomputes it).
        if (!(res.known() && res.ndim() == 1 && res[0] == 0))
          assign_shape(res, Shape{reserve_size(p, x[0], x[1], x[2])}, "_backward_RNN", "reserve");
        return true;
      })
      .cpu([](const OpCall &c) { MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "_backward_RNN", { rnn_backward<T>(c); }); })
      .gpu(cuda_only(rnn_backward_gpu))
      .no_grad();
  return 0;
}();

}  // namespace
}  // namespace mx
