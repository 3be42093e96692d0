// Pooling on the GPU through cuDNN (cudnnPoolingForward/Backward). cuDNN pads symmetrically and
// sizes the output as floor((in + 2 pad - k) / stride) + 1, so it computes MX's pooling exactly
// when the op's windows are of that form (every 'valid' pooling with pad < kernel, global pooling,
// and 'full'/'same' where they coincide); pool_supported says which. Sum pooling is average
// pooling counting the padding, scaled by the window size (alpha). float16 and bfloat16 (sm_80+)
// data pool natively (float32 scaling factors).
#ifdef MX_HAVE_CUDA
#include "backends/cuda/cudnn_common.h"
#include "backends/cudnn.h"
#include "base/error.h"

namespace mx {
namespace cudnn {

bool pool_supported(const PoolSpec &s, std::string *why) {
  const size_t n = s.k.size();
  if (n < 1 || n > 3) {
    *why = "cuDNN pools over 1 to 3 spatial dimensions";
    return false;
  }
  for (size_t i = 0; i < n; ++i) {
    if (s.p[i] >= s.k[i]) {
      *why = "cuDNN needs the padding (" + std::to_string(s.p[i]) + ") smaller than the window (" +
             std::to_string(s.k[i]) + ")";
      return false;
    }
    if (s.out[i] != (s.in[i] + 2 * s.p[i] - s.k[i]) / s.s[i] + 1) {
      *why = "cuDNN pads symmetrically and drops partial windows: output size " + std::to_string(s.out[i]) +
             " along spatial axis " + std::to_string(i) + " is not floor((in + 2 pad - kernel) / stride) + 1";
      return false;
    }
  }
  return true;
}

namespace {

class PoolingDesc {
 public:
  PoolingDesc(const char *op, int mode, const std::vector<int64_t> &k, const std::vector<int64_t> &p,
              const std::vector<int64_t> &s) {
    const Api &a = api(op);
    std::vector<int> kk = to_int(k, op), pp = to_int(p, op), ss = to_int(s, op);
    check(a.CreatePoolingDescriptor(&d_), op, "cudnnCreatePoolingDescriptor");
    Status st = a.SetPoolingNdDescriptor(d_, mode, kNotPropagateNan, static_cast<int>(kk.size()), kk.data(),
                                         pp.data(), ss.data());
    if (st != kSuccess) {
      a.DestroyPoolingDescriptor(d_);
      check(st, op, "cudnnSetPoolingNdDescriptor");
    }
  }
  ~PoolingDesc() { library().api.DestroyPoolingDescriptor(d_); }
  PoolingDesc(const PoolingDesc &) = delete;
  PoolingDesc &operator=(const PoolingDesc &) = delete;
  PoolDesc get() const { return d_; }

 private:
  PoolDesc d_ = nullptr;
};

// The problem as cuDNN sees it: (N, C, spatial...) with 1-D pooling given a leading spatial
// axis of size 1 (cuDNN pools 4-D and 5-D tensors).
struct PoolProblem {
  std::vector<int64_t> x, y, k, p, s;
  int mode;
  double alpha;  // sum pooling: the window size
};

PoolProblem problem(const char *op, const PoolSpec &sp, const Shape &data) {
  std::string why;
  MX_CHECK(pool_supported(sp, &why), MX_ERR_UNSUPPORTED, op, " on the GPU: ", why, "; run it on the CPU");
  PoolProblem P;
  P.x = {data[0], data[1]};
  P.y = {data[0], data[1]};
  if (sp.k.size() == 1) {
    P.x.push_back(1);
    P.y.push_back(1);
    P.k = {1};
    P.p = {0};
    P.s = {1};
  }
  double window = 1;
  for (size_t i = 0; i < sp.k.size(); ++i) {
    P.x.push_back(sp.in[i]);
    P.y.push_back(sp.out[i]);
    P.k.push_back(sp.k[i]);
    P.p.push_back(sp.p[i]);
    P.s.push_back(sp.s[i]);
    window *= static_cast<double>(sp.k[i]);
  }
  switch (sp.mode) {
    case PoolMode::kMax: P.mode = kPoolMaxDeterministic; break;
    case PoolMode::kAvgIncludePad: P.mode = kPoolAvgIncludePad; break;
    case PoolMode::kAvgExcludePad: P.mode = kPoolAvgExcludePad; break;
    case PoolMode::kSum: P.mode = kPoolAvgIncludePad; break;
  }
  P.alpha = sp.mode == PoolMode::kSum ? window : 1.0;
  return P;
}

}  // namespace

void pool_forward(const char *op, const PoolSpec &sp, const NDArray &x, const NDArray &y) {
  PoolProblem P = problem(op, sp, x.shape());
  require_dtype(x.dtype(), x.device().id, op);
  if (y.size() == 0) return;
  HandleLease h = handle_for(x.device().id, op);
  Tensor xd(op, x.dtype(), P.x), yd(op, x.dtype(), P.y);
  PoolingDesc pd(op, P.mode, P.k, P.p, P.s);
  Scalars s(x.dtype(), P.alpha, 0);
  check(api(op).PoolingForward(h.handle, pd.get(), s.alpha(), xd.get(), in_ptr(x), s.beta(), yd.get(), out_ptr(y)),
        op, "cudnnPoolingForward");
}

void pool_backward(const char *op, const PoolSpec &sp, const NDArray &dy, const NDArray &x, const NDArray &y,
                   const NDArray &dx) {
  PoolProblem P = problem(op, sp, x.shape());
  require_dtype(x.dtype(), x.device().id, op);
  if (dx.size() == 0) return;
  HandleLease h = handle_for(x.device().id, op);
  Tensor xd(op, x.dtype(), P.x), yd(op, x.dtype(), P.y);
  PoolingDesc pd(op, P.mode, P.k, P.p, P.s);
  Scalars s(x.dtype(), P.alpha, 0);
  check(api(op).PoolingBackward(h.handle, pd.get(), s.alpha(), yd.get(), in_ptr(y), yd.get(), in_ptr(dy), xd.get(),
                                in_ptr(x), s.beta(), xd.get(), out_ptr(dx)),
        op, "cudnnPoolingBackward");
}

}  // namespace cudnn
}  // namespace mx
#endif  // MX_HAVE_CUDA
