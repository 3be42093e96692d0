// RNN on the GPU through cuDNN 9's RNN API (cudnnRNNForward, cudnnRNNBackwardData_v8,
// cudnnRNNBackwardWeights_v8). MX keeps every weight and bias in one vector in MXNet's layout;
// cuDNN wants its own weight space, whose blocks cudnnGetRNNWeightParams locates: each call
// copies MX's blocks in (device-to-device, on the compute stream) and the backward copies the
// weight gradient back out. A recorded forward runs in training mode and leaves cuDNN's reserve
// space in the op's hidden reserve output (when it fits: its size comes from the CPU layout in
// ops/nn/rnn.cc, fixed at shape inference); _backward_RNN reads a copy of it and the forward's
// y. Without one (inference-only call sites, or too small) the backward reruns the forward in
// training mode, as before.
// Dropout between layers (p) is not applied, as on the CPU: the dropout descriptor has p = 0.
// float32 runs with FMA math (no TF32), so GPU and CPU agree to float32 rounding.
#ifdef MX_HAVE_CUDA
#include <cstring>
#include <memory>

#include "backends/cuda/cudnn_common.h"
#include "backends/cudnn_rnn.h"
#include "backends/gpu.h"
#include "base/error.h"

namespace mx {
namespace cudnn {
namespace {

// A cuDNN descriptor destroyed at scope end (every descriptor type is an opaque pointer).
class Owned {
 public:
  using Destroy = Status (*)(void *);
  explicit Owned(Destroy f) : f_(f) {}
  ~Owned() {
    if (d_) f_(d_);
  }
  Owned(const Owned &) = delete;
  Owned &operator=(const Owned &) = delete;
  void **out() { return &d_; }
  void *get() const { return d_; }

 private:
  void *d_ = nullptr;
  Destroy f_;
};

void zero(const NDArray &a) {
  if (a.size() == 0) return;
  const unsigned char z = 0;
  gpu::fill(a.device().id, a.raw(), &z, 1, a.nbytes());
}

// The descriptors of one problem, the handle (locked while this lives) and the device's
// sequence lengths (all T: MX's RNN has no use_sequence_length).
struct Setup {
  const Api &a;
  HandleLease h;
  Owned drop, rnn, xd, yd;
  std::unique_ptr<Tensor> hd, cd;
  NDArray seq;
  size_t wbytes = 0;

  Setup(const char *op, const RNNSpec &s, const NDArray &x)
      : a(api(op)), h(handle_for(x.device().id, op)), drop(library().api.DestroyDropoutDescriptor),
        rnn(library().api.DestroyRNNDescriptor), xd(library().api.DestroyRNNDataDescriptor),
        yd(library().api.DestroyRNNDataDescriptor) {
    const DType t = x.dtype();
    MX_CHECK(t == DType::f32 || t == DType::f64, MX_ERR_TYPE, op,
             ": the GPU kernel (cuDNN) takes float32 or float64 data, got ", dtype_name(t));
    const int dt = data_type(t, op);
    const int64_t D = s.bidirectional ? 2 : 1, R = s.P ? s.P : s.H;
    const std::vector<int> d = to_int({s.T, s.N, s.C, s.H, s.L, R, D * R, s.L * D}, op);
    check(a.CreateDropoutDescriptor(drop.out()), op, "cudnnCreateDropoutDescriptor");
    check(a.SetDropoutDescriptor(drop.get(), h.handle, 0.0f, nullptr, 0, 0), op, "cudnnSetDropoutDescriptor");
    const int cell = s.mode == RNNMode::kLSTM   ? kLSTM
                     : s.mode == RNNMode::kGRU  ? kGRU
                     : s.mode == RNNMode::kTanh ? kRNNTanh
                                                : kRNNRelu;
    check(a.CreateRNNDescriptor(rnn.out()), op, "cudnnCreateRNNDescriptor");
    // Without projection cuDNN's projSize is the hidden size.
    check(a.SetRNNDescriptor_v8(rnn.get(), kRNNAlgoStandard, cell, kRNNDoubleBias,
                                s.bidirectional ? kBidirectional : kUnidirectional, kLinearInput, dt, dt,
                                t == DType::f32 ? kFmaMath : kDefaultMath, d[2], d[3], d[5], d[4], drop.get(),
                                kRNNPaddedIODisabled),
          op, "cudnnSetRNNDescriptor_v8");
    const std::vector<int> lens(static_cast<size_t>(s.N), d[0]);
    check(a.CreateRNNDataDescriptor(xd.out()), op, "cudnnCreateRNNDataDescriptor");
    check(a.SetRNNDataDescriptor(xd.get(), dt, kRNNDataSeqMajorPacked, d[0], d[1], d[2], lens.data(), nullptr), op,
          "cudnnSetRNNDataDescriptor");
    check(a.CreateRNNDataDescriptor(yd.out()), op, "cudnnCreateRNNDataDescriptor");
    check(a.SetRNNDataDescriptor(yd.get(), dt, kRNNDataSeqMajorPacked, d[0], d[1], d[6], lens.data(), nullptr), op,
          "cudnnSetRNNDataDescriptor");
    hd = std::make_unique<Tensor>(op, t, std::vector<int64_t>{s.L * D, s.N, R});
    cd = std::make_unique<Tensor>(op, t, std::vector<int64_t>{s.L * D, s.N, s.H});
    seq = NDArray(Shape{s.N}, DType::i32, x.device());
    const int32_t len = d[0];
    gpu::fill(x.device().id, seq.raw(), &len, sizeof len, static_cast<size_t>(s.N));
    check(a.GetRNNWeightSpaceSize(h.handle, rnn.get(), &wbytes), op, "cudnnGetRNNWeightSpaceSize");
  }
  const int32_t *lengths() const { return static_cast<const int32_t *>(seq.craw()); }
};

int64_t elements(const Api &a, TensorDesc t, const char *op) {
  int dt = 0, nb = 0, dims[8] = {0}, strides[8] = {0};
  check(a.GetTensorNdDescriptor(t, 8, &dt, &nb, dims, strides), op, "cudnnGetTensorNdDescriptor");
  int64_t n = 1;
  for (int i = 0; i < nb && i < 8; ++i) n *= dims[i];
  return n;
}

// Copies every block of MX's parameter vector `mx` into cuDNN's weight space (in = true) or
// from the weight space into `mx` (in = false). Checks cuDNN's sizes against MX's.
void map_blocks(Setup &st, const char *op, const RNNSpec &s, void *space, const NDArray &mx, bool in) {
  const Api &a = st.a;
  Owned md(a.DestroyTensorDescriptor), bd(a.DestroyTensorDescriptor);
  check(a.CreateTensorDescriptor(reinterpret_cast<TensorDesc *>(md.out())), op, "cudnnCreateTensorDescriptor");
  check(a.CreateTensorDescriptor(reinterpret_cast<TensorDesc *>(bd.out())), op, "cudnnCreateTensorDescriptor");
  const size_t esz = dtype_size(mx.dtype());
  char *base = static_cast<char *>(in ? const_cast<void *>(mx.craw()) : mx.raw());
  const Device dev = mx.device();
  auto move = [&](void *cudnn_addr, int64_t mx_off, int64_t n) {
    char *m = base + mx_off * static_cast<int64_t>(esz);
    if (in)
      gpu::copy(cudnn_addr, dev, m, dev, static_cast<size_t>(n) * esz);
    else
      gpu::copy(m, dev, cudnn_addr, dev, static_cast<size_t>(n) * esz);
  };
  for (const RNNBlock &b : s.blocks) {
    void *m = nullptr, *bias = nullptr;
    check(a.GetRNNWeightParams(st.h.handle, st.rnn.get(), b.pseudo_layer, st.wbytes, space, b.lin_layer, md.get(),
                               &m, bd.get(), &bias),
          op, "cudnnGetRNNWeightParams");
    MX_CHECK(m && elements(a, md.get(), op) == b.rows * b.cols, MX_ERR_INTERNAL, op,
             ": cuDNN's weight matrix ", b.lin_layer, " of pseudo-layer ", b.pseudo_layer, " is not the ", b.rows,
             "x", b.cols, " block MX expects");
    move(m, b.matrix_offset, b.rows * b.cols);
    if (b.bias_offset >= 0) {
      MX_CHECK(bias && elements(a, bd.get(), op) == b.rows, MX_ERR_INTERNAL, op, ": cuDNN's bias ", b.lin_layer,
               " of pseudo-layer ", b.pseudo_layer, " is not the ", b.rows, "-vector MX expects");
      move(bias, b.bias_offset, b.rows);
    }
  }
}

int64_t out_width(const RNNSpec &s) { return (s.bidirectional ? 2 : 1) * (s.P ? s.P : s.H); }

// cuDNN's workspace and reserve sizes in training mode; whether that reserve fits in the op's.
struct TrainSizes {
  size_t ws = 0, rs = 0;
  bool fits = false;
};
TrainSizes train_sizes(Setup &st, const char *op, const NDArray &reserve) {
  TrainSizes z;
  check(st.a.GetRNNTempSpaceSizes(st.h.handle, st.rnn.get(), kFwdModeTraining, st.xd.get(), &z.ws, &z.rs), op,
        "cudnnGetRNNTempSpaceSizes");
  z.fits = reserve.size() > 0 && z.rs > 0 && z.rs <= reserve.nbytes();
  return z;
}

void copy_or_zero(const NDArray &dst, const NDArray *src) {
  if (src)
    gpu::copy(dst.raw(), dst.device(), src->craw(), src->device(), dst.nbytes());
  else
    zero(dst);
}

}  // namespace

void rnn_forward(const char *op, const RNNSpec &s, const NDArray &x, const NDArray &w, const NDArray &hx,
                 const NDArray *cx, const NDArray &y, const NDArray &hy, const NDArray *cy, const NDArray &reserve) {
  if (s.N == 0) return;
  if (s.T == 0) {  // no step: the states pass through
    copy_or_zero(hy, &hx);
    if (cy) copy_or_zero(*cy, cx);
    return;
  }
  Setup st(op, s, x);
  const Device dev = x.device();
  Workspace space(st.wbytes, dev);
  const unsigned char z = 0;
  if (st.wbytes) gpu::fill(dev.id, space.ptr(), &z, 1, st.wbytes);  // any padding cuDNN keeps between blocks
  map_blocks(st, op, s, space.ptr(), w, true);
  const TrainSizes tz = train_sizes(st, op, reserve);
  size_t ws = tz.ws, rs = 0;
  if (!tz.fits)
    check(st.a.GetRNNTempSpaceSizes(st.h.handle, st.rnn.get(), kFwdModeInference, st.xd.get(), &ws, &rs), op,
          "cudnnGetRNNTempSpaceSizes");
  Workspace work(ws, dev);
  check(st.a.RNNForward(st.h.handle, st.rnn.get(), tz.fits ? kFwdModeTraining : kFwdModeInference, st.lengths(),
                        st.xd.get(), in_ptr(x), st.yd.get(), out_ptr(y), st.hd->get(), in_ptr(hx), out_ptr(hy),
                        st.cd->get(), cx ? in_ptr(*cx) : nullptr, cy ? out_ptr(*cy) : nullptr, st.wbytes,
                        space.ptr(), ws, work.ptr(), tz.fits ? tz.rs : 0, tz.fits ? reserve.raw() : nullptr),
        op, "cudnnRNNForward");
}

void rnn_backward(const char *op, const RNNSpec &s, const NDArray &x, const NDArray &w, const NDArray &hx,
                  const NDArray *cx, const NDArray &dy, const NDArray *dhy, const NDArray *dcy, const NDArray &dx,
                  const NDArray &dw, const NDArray &dhx, const NDArray *dcx, const NDArray &y_saved,
                  const NDArray &saved) {
  if (s.N == 0) {
    zero(dw);
    return;
  }
  if (s.T == 0) {  // no step: the state gradients pass through, the weights get none
    zero(dw);
    copy_or_zero(dhx, dhy);
    if (dcx) copy_or_zero(*dcx, dcy);
    return;
  }
  Setup st(op, s, x);
  const Device dev = x.device();
  const unsigned char z = 0;
  Workspace space(st.wbytes, dev), dspace(st.wbytes, dev);
  if (st.wbytes) {
    gpu::fill(dev.id, space.ptr(), &z, 1, st.wbytes);
    gpu::fill(dev.id, dspace.ptr(), &z, 1, st.wbytes);  // cudnnRNNBackwardWeights_v8 adds to it
  }
  map_blocks(st, op, s, space.ptr(), w, true);
  const TrainSizes tz = train_sizes(st, op, saved);
  const size_t ws = tz.ws, rs = tz.rs;
  Workspace work(ws, dev), reserve(rs, dev);
  NDArray y = y_saved;
  if (tz.fits) {
    // The forward's reserve space, copied: the data gradient below writes to its reserve space,
    // and a retained graph may run this backward again.
    gpu::copy(reserve.ptr(), dev, saved.craw(), dev, rs);
  } else {  // the forward kept none: rerun it in training mode
    y = NDArray(Shape{s.T, s.N, out_width(s)}, x.dtype(), dev);
    check(st.a.RNNForward(st.h.handle, st.rnn.get(), kFwdModeTraining, st.lengths(), st.xd.get(), in_ptr(x),
                          st.yd.get(), out_ptr(y), st.hd->get(), in_ptr(hx), nullptr, st.cd->get(),
                          cx ? in_ptr(*cx) : nullptr, nullptr, st.wbytes, space.ptr(), ws, work.ptr(), rs,
                          reserve.ptr()),
          op, "cudnnRNNForward (training)");
  }
  // The data gradient first: it prepares the reserve space the weight gradient reads.
  check(st.a.RNNBackwardData_v8(st.h.handle, st.rnn.get(), st.lengths(), st.yd.get(), in_ptr(y), in_ptr(dy),
                                st.xd.get(), out_ptr(dx), st.hd->get(), in_ptr(hx), dhy ? in_ptr(*dhy) : nullptr,
                                out_ptr(dhx), st.cd->get(), cx ? in_ptr(*cx) : nullptr,
                                dcy ? in_ptr(*dcy) : nullptr, dcx ? out_ptr(*dcx) : nullptr, st.wbytes, space.ptr(),
                                ws, work.ptr(), rs, reserve.ptr()),
        op, "cudnnRNNBackwardData_v8");
  check(st.a.RNNBackwardWeights_v8(st.h.handle, st.rnn.get(), kWgradModeAdd, st.lengths(), st.xd.get(), in_ptr(x),
                                   st.hd->get(), in_ptr(hx), st.yd.get(), in_ptr(y), st.wbytes, dspace.ptr(), ws,
                                   work.ptr(), rs, reserve.ptr()),
        op, "cudnnRNNBackwardWeights_v8");
  zero(dw);
  map_blocks(st, op, s, dspace.ptr(), dw, false);
}

}  // namespace cudnn
}  // namespace mx
#endif  // MX_HAVE_CUDA
