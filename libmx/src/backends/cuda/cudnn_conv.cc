// Convolution and Deconvolution on the GPU through cuDNN's legacy convolution API (forward,
// backward data, backward filter, backward bias). A deconvolution is the data gradient of its
// equivalent convolution, so both run on the same descriptors. The algorithm for a problem
// (device, dtype, direction, dims, groups, tuning, workspace limit) is chosen once and cached:
// cuDNN's heuristics (cudnnGet*Algorithm_v7), or measured runs (cudnnFind*Algorithm) with
// cudnn_tune='fastest'. float16 and bfloat16 (sm_80+) run with tensor-op math and float32
// accumulation. float32 runs with CUDNN_FMA_MATH: no TF32 tensor-core rounding, so GPU
// results agree with the CPU's to float32 accuracy.
#ifdef MX_HAVE_CUDA
#include <map>
#include <mutex>
#include <sstream>

#include "backends/cuda/cudnn_common.h"
#include "backends/cudnn.h"
#include "backends/gpu.h"
#include "base/error.h"

namespace mx {
namespace cudnn {
namespace {

// Full tensor dims of the problem. cuDNN's convolutions need at least 2 spatial dims: a 1-D
// problem gets a leading spatial axis of size 1 (kernel 1, stride 1, no pad).
struct Dims {
  std::vector<int64_t> x, w, y, bias, k, s, d, p;
};

Dims dims_of(const ConvSpec &sp, const char *op) {
  const size_t n = sp.k.size();
  MX_CHECK(n >= 1 && n <= 3 && sp.in.size() == n && sp.out.size() == n && sp.s.size() == n && sp.d.size() == n &&
               sp.p.size() == n,
           MX_ERR_INTERNAL, op, ": inconsistent convolution geometry");
  Dims D;
  D.x = {sp.N, sp.C};
  D.w = {sp.F, sp.C / sp.G};
  D.y = {sp.N, sp.F};
  D.bias = {1, sp.F};
  if (n == 1) {
    D.x.push_back(1);
    D.w.push_back(1);
    D.y.push_back(1);
    D.k = {1};
    D.s = {1};
    D.d = {1};
    D.p = {0};
  }
  for (size_t i = 0; i < n; ++i) {
    // cuDNN's output size; MX's may differ only for a Deconvolution with adj >= stride.
    const int64_t ext = sp.d[i] * (sp.k[i] - 1) + 1;
    const int64_t o = (sp.in[i] + 2 * sp.p[i] - ext) / sp.s[i] + 1;
    MX_CHECK(o == sp.out[i], MX_ERR_UNSUPPORTED, op, ": this geometry (size ", sp.in[i], " against ", sp.out[i],
             " along spatial axis ", i, ", kernel ", sp.k[i], ", stride ", sp.s[i], ", pad ", sp.p[i],
             ") has no cuDNN convolution; run it on the CPU");
    D.x.push_back(sp.in[i]);
    D.w.push_back(sp.k[i]);
    D.y.push_back(sp.out[i]);
    D.k.push_back(sp.k[i]);
    D.s.push_back(sp.s[i]);
    D.d.push_back(sp.d[i]);
    D.p.push_back(sp.p[i]);
  }
  while (D.bias.size() < D.y.size()) D.bias.push_back(1);
  return D;
}

class ConvolutionDesc {
 public:
  ConvolutionDesc(const char *op, const Dims &D, int64_t groups, DType t) {
    const Api &a = api(op);
    std::vector<int> p = to_int(D.p, op), s = to_int(D.s, op), d = to_int(D.d, op);
    const int compute = t == DType::f64 ? kDouble : kFloat;  // float16/bfloat16 data accumulates in float32
    const int math = t == DType::f16 || t == DType::bf16 ? kTensorOpMath : t == DType::f32 ? kFmaMath : kDefaultMath;
    data_type(t, op);
    check(a.CreateConvolutionDescriptor(&d_), op, "cudnnCreateConvolutionDescriptor");
    Status st = a.SetConvolutionNdDescriptor(d_, static_cast<int>(p.size()), p.data(), s.data(), d.data(),
                                             kCrossCorrelation, compute);
    const char *call = "cudnnSetConvolutionNdDescriptor";
    if (st == kSuccess) {
      st = a.SetConvolutionGroupCount(d_, static_cast<int>(groups));
      call = "cudnnSetConvolutionGroupCount";
    }
    if (st == kSuccess) {
      st = a.SetConvolutionMathType(d_, math);
      call = "cudnnSetConvolutionMathType";
    }
    if (st != kSuccess) {
      a.DestroyConvolutionDescriptor(d_);
      check(st, op, call);
    }
  }
  ~ConvolutionDesc() { library().api.DestroyConvolutionDescriptor(d_); }
  ConvolutionDesc(const ConvolutionDesc &) = delete;
  ConvolutionDesc &operator=(const ConvolutionDesc &) = delete;
  ConvDesc get() const { return d_; }

 private:
  ConvDesc d_ = nullptr;
};

enum class Dir { kForward, kBackwardData, kBackwardFilter };
struct Choice {
  int algo;
  size_t workspace;
};

// Everything the three descriptors say, as the cache key.
std::string problem_key(int dev, DType t, Dir dir, const Dims &D, const ConvSpec &sp) {
  std::ostringstream k;
  k << dev << '|' << static_cast<int>(t) << '|' << static_cast<int>(dir) << '|' << sp.G << '|' << sp.tune << '|'
    << sp.workspace_mb;
  for (const auto *v : {&D.x, &D.w, &D.y, &D.s, &D.d, &D.p}) {
    k << '|';
    for (int64_t x : *v) k << x << ',';
  }
  return k.str();
}

std::mutex g_cache_mu;
std::map<std::string, Choice> g_cache;

// Chooses and caches the algorithm of one direction. The descriptors are those of the
// convolution: x (its input), w, y (its output).
Choice choose(const char *op, Handle h, Dir dir, const Tensor &x, const Filter &w, const ConvolutionDesc &c,
              const Tensor &y, int dev, DType t, const Dims &D, const ConvSpec &sp) {
  const std::string key = problem_key(dev, t, dir, D, sp);
  {
    std::lock_guard<std::mutex> g(g_cache_mu);
    auto it = g_cache.find(key);
    if (it != g_cache.end()) return it->second;
  }
  const Api &a = api(op);
  constexpr int kMax = 16;
  AlgoPerf perf[kMax] = {};
  int n = 0;
  const bool measure = sp.tune == "fastest";
  switch (dir) {
    case Dir::kForward:
      check(measure ? a.FindConvolutionForwardAlgorithm(h, x.get(), w.get(), c.get(), y.get(), kMax, &n, perf)
                    : a.GetConvolutionForwardAlgorithm_v7(h, x.get(), w.get(), c.get(), y.get(), kMax, &n, perf),
            op, measure ? "cudnnFindConvolutionForwardAlgorithm" : "cudnnGetConvolutionForwardAlgorithm_v7");
      break;
    case Dir::kBackwardData:
      check(measure ? a.FindConvolutionBackwardDataAlgorithm(h, w.get(), y.get(), c.get(), x.get(), kMax, &n, perf)
                    : a.GetConvolutionBackwardDataAlgorithm_v7(h, w.get(), y.get(), c.get(), x.get(), kMax, &n, perf),
            op, measure ? "cudnnFindConvolutionBackwardDataAlgorithm" : "cudnnGetConvolutionBackwardDataAlgorithm_v7");
      break;
    case Dir::kBackwardFilter:
      check(measure ? a.FindConvolutionBackwardFilterAlgorithm(h, x.get(), y.get(), c.get(), w.get(), kMax, &n, perf)
                    : a.GetConvolutionBackwardFilterAlgorithm_v7(h, x.get(), y.get(), c.get(), w.get(), kMax, &n,
                                                                 perf),
            op,
            measure ? "cudnnFindConvolutionBackwardFilterAlgorithm" : "cudnnGetConvolutionBackwardFilterAlgorithm_v7");
      break;
  }
  const size_t limit = static_cast<size_t>(std::max<int64_t>(sp.workspace_mb, 0)) << 20;
  const bool exact_fp32 = t == DType::f32;
  for (int i = 0; i < n && i < kMax; ++i) {
    const AlgoPerf &pf = perf[i];
    if (pf.status != kSuccess) continue;
    // float32: no TF32 tensor-core algorithms (they round the inputs to 10 mantissa bits).
    if (exact_fp32 && (pf.mathType == kTensorOpMath || pf.mathType == kTensorOpMathAllowConversion)) continue;
    size_t ws = 0;
    Status st = kSuccess;
    switch (dir) {
      case Dir::kForward:
        st = a.GetConvolutionForwardWorkspaceSize(h, x.get(), w.get(), c.get(), y.get(), pf.algo, &ws);
        break;
      case Dir::kBackwardData:
        st = a.GetConvolutionBackwardDataWorkspaceSize(h, w.get(), y.get(), c.get(), x.get(), pf.algo, &ws);
        break;
      case Dir::kBackwardFilter:
        st = a.GetConvolutionBackwardFilterWorkspaceSize(h, x.get(), y.get(), c.get(), w.get(), pf.algo, &ws);
        break;
    }
    if (st != kSuccess || ws > limit) continue;
    Choice ch{pf.algo, ws};
    std::lock_guard<std::mutex> g(g_cache_mu);
    g_cache[key] = ch;
    return ch;
  }
  fail(MX_ERR_UNSUPPORTED, op, ": cuDNN has no ",
       dir == Dir::kForward ? "forward" : dir == Dir::kBackwardData ? "backward-data" : "backward-filter",
       " convolution algorithm for data ", Shape(D.x).str(), ", weight ", Shape(D.w).str(), ", groups ", sp.G,
       " within the workspace limit of ", sp.workspace_mb, " MB (", n, " candidates; raise 'workspace')");
}

void zero(const NDArray &a) {
  if (a.size() == 0) return;
  const uint64_t z = 0;  // all-zero bits: 0 in every float dtype
  gpu::fill(a.device().id, a.raw(), &z, dtype_size(a.dtype()), static_cast<size_t>(a.size()));
}

// The three convolution passes on tensors laid out as the spec's convolution input (cx), output
// (cy) and weight.
struct Problem {
  const char *op;
  int dev;
  DType t;
  Dims D;
  const ConvSpec &sp;
  HandleLease lease;
  Tensor x, y, bias;
  Filter w;
  ConvolutionDesc conv;
  Problem(const char *op_, const ConvSpec &s, DType t_, int dev_)
      : op(op_), dev(dev_), t(t_), D((require_dtype(t_, dev_, op_), dims_of(s, op_))), sp(s), lease(handle_for(dev_, op_)), x(op_, t_, D.x),
        y(op_, t_, D.y), bias(op_, t_, D.bias), w(op_, t_, D.w), conv(op_, D, s.G, t_) {}

  // out (cy) = conv(in (cx), weight)
  void forward(const void *in, const void *weight, void *out) {
    Choice ch = choose(op, lease.handle, Dir::kForward, x, w, conv, y, dev, t, D, sp);
    Workspace ws(ch.workspace, Device{MX_GPU, dev});
    Scalars s(t, 1, 0);
    check(api(op).ConvolutionForward(lease.handle, s.alpha(), x.get(), in, w.get(), weight, conv.get(), ch.algo,
                                     ws.ptr(), ch.workspace, s.beta(), y.get(), out),
          op, "cudnnConvolutionForward");
  }
  // out (cx) = data gradient of conv for gradient g (cy)
  void backward_data(const void *weight, const void *g, void *out) {
    Choice ch = choose(op, lease.handle, Dir::kBackwardData, x, w, conv, y, dev, t, D, sp);
    Workspace ws(ch.workspace, Device{MX_GPU, dev});
    Scalars s(t, 1, 0);
    check(api(op).ConvolutionBackwardData(lease.handle, s.alpha(), w.get(), weight, y.get(), g, conv.get(), ch.algo,
                                          ws.ptr(), ch.workspace, s.beta(), x.get(), out),
          op, "cudnnConvolutionBackwardData");
  }
  // dw = weight gradient from input (cx) and gradient g (cy)
  void backward_filter(const void *in, const void *g, void *dw) {
    Choice ch = choose(op, lease.handle, Dir::kBackwardFilter, x, w, conv, y, dev, t, D, sp);
    Workspace ws(ch.workspace, Device{MX_GPU, dev});
    Scalars s(t, 1, 0);
    check(api(op).ConvolutionBackwardFilter(lease.handle, s.alpha(), x.get(), in, y.get(), g, conv.get(), ch.algo,
                                            ws.ptr(), ch.workspace, s.beta(), w.get(), dw),
          op, "cudnnConvolutionBackwardFilter");
  }
  // out (layout `on`) += bias per channel
  void add_bias(const Tensor &bias_desc, const void *b, const Tensor &on, void *out) {
    Scalars s(t, 1, 1);
    check(api(op).AddTensor(lease.handle, s.alpha(), bias_desc.get(), b, s.beta(), on.get(), out), op,
          "cudnnAddTensor");
  }
  // db = sum of g (layout `on`) per channel
  void bias_grad(const Tensor &on, const void *g, const Tensor &bias_desc, void *db) {
    Scalars s(t, 1, 0);
    check(api(op).ConvolutionBackwardBias(lease.handle, s.alpha(), on.get(), g, s.beta(), bias_desc.get(), db), op,
          "cudnnConvolutionBackwardBias");
  }
};

std::vector<int64_t> channel_dims(int64_t c, size_t nd) {
  std::vector<int64_t> v{1, c};
  while (v.size() < nd) v.push_back(1);
  return v;
}

}  // namespace

void conv_forward(const char *op, const ConvSpec &sp, const NDArray &x, const NDArray &w, const NDArray *bias,
                  const NDArray &y) {
  if (y.size() == 0) return;
  Problem P(op, sp, x.dtype(), x.device().id);
  P.forward(in_ptr(x), in_ptr(w), out_ptr(y));
  if (bias) P.add_bias(P.bias, in_ptr(*bias), P.y, out_ptr(y));
}

void conv_backward(const char *op, const ConvSpec &sp, const NDArray &dy, const NDArray &x, const NDArray &w,
                   const NDArray *dx, const NDArray &dw, const NDArray *db) {
  if (sp.N == 0 || dy.size() == 0) {  // nothing flows back: zero weight and bias gradients
    zero(dw);
    if (db) zero(*db);
    return;
  }
  Problem P(op, sp, x.dtype(), x.device().id);
  if (dx) P.backward_data(in_ptr(w), in_ptr(dy), out_ptr(*dx));
  P.backward_filter(in_ptr(x), in_ptr(dy), out_ptr(dw));
  if (db) P.bias_grad(P.y, in_ptr(dy), P.bias, out_ptr(*db));
}

// The deconvolution's data x has the layout of the convolution's output (cy), its output y that
// of the convolution's input (cx); its bias runs over the convolution's input channels.
void deconv_forward(const char *op, const ConvSpec &sp, const NDArray &x, const NDArray &w, const NDArray *bias,
                    const NDArray &y) {
  if (y.size() == 0) return;
  Problem P(op, sp, x.dtype(), x.device().id);
  P.backward_data(in_ptr(w), in_ptr(x), out_ptr(y));
  if (bias) {
    Tensor bd(op, x.dtype(), channel_dims(sp.C, P.D.x.size()));
    P.add_bias(bd, in_ptr(*bias), P.x, out_ptr(y));
  }
}

void deconv_backward(const char *op, const ConvSpec &sp, const NDArray &dy, const NDArray &x, const NDArray &w,
                     const NDArray *dx, const NDArray &dw, const NDArray *db) {
  if (sp.N == 0 || dy.size() == 0) {
    zero(dw);
    if (db) zero(*db);
    return;
  }
  Problem P(op, sp, x.dtype(), x.device().id);
  if (dx) P.forward(in_ptr(dy), in_ptr(w), out_ptr(*dx));
  P.backward_filter(in_ptr(dy), in_ptr(x), out_ptr(dw));
  if (db) {
    Tensor bd(op, x.dtype(), channel_dims(sp.C, P.D.x.size()));
    P.bias_grad(P.x, in_ptr(dy), bd, out_ptr(*db));
  }
}

}  // namespace cudnn
}  // namespace mx
#endif  // MX_HAVE_CUDA
