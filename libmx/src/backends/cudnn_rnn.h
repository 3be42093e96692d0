// The RNN operator on the GPU through cuDNN 9's RNN API (backends/cuda/cudnn_rnn.cc), as
// ops/nn/rnn.cc calls it. The op file knows MXNet's packed parameter layout and describes it
// here block by block; cuDNN's weight space has its own layout, so each call copies the blocks
// in (and the weight gradient back out). In a build without CUDA rnn.cc does not register the
// GPU kernels (cuda_only) and gpu_none.cc defines these to fail. No CUDA or cuDNN types here.
#pragma once
#include <cstdint>
#include <vector>

#include "ndarray/ndarray.h"

namespace mx {
namespace cudnn {

enum class RNNMode { kRelu, kTanh, kLSTM, kGRU };

// Where one of cuDNN's linear layers lives in MX's parameter vector (element offsets):
// pseudo_layer = layer * directions + direction; lin_layer is cuDNN's linLayerID (lstm: 0-3
// input i, f, g, o, 4-7 recurrent, 8 projection; gru: 0-2 input r, z, n, 3-5 recurrent; rnn:
// 0 input, 1 recurrent). The matrix is rows x cols row-major; bias_offset -1: no bias.
struct RNNBlock {
  int pseudo_layer = 0, lin_layer = 0;
  int64_t matrix_offset = 0, rows = 0, cols = 0, bias_offset = -1;
};

struct RNNSpec {
  RNNMode mode = RNNMode::kLSTM;
  int64_t T = 0, N = 0, C = 0;  // data (T, N, C)
  int64_t H = 0, L = 1, P = 0;  // state size, layers, projection size (0: none)
  bool bidirectional = false;
  std::vector<RNNBlock> blocks;  // every weight matrix and bias of the parameter vector
};

// y (T, N, D*R), hy (L*D, N, R) and, for lstm, cy (L*D, N, H) from x, the parameter vector w,
// hx and (lstm) cx; cx/cy are null for the other modes. R = P when projecting, else H.
// `reserve` (the op's hidden output; empty when no backward will read it): when cuDNN's
// training reserve space fits in it (reserve_fits), the forward runs in training mode and leaves
// that reserve space there for rnn_backward.
void rnn_forward(const char *op, const RNNSpec &s, const NDArray &x, const NDArray &w, const NDArray &hx,
                 const NDArray *cx, const NDArray &y, const NDArray &hy, const NDArray *cy, const NDArray &reserve);
// dx, dw, dhx and (lstm) dcx from dy and, when the states are outputs, dhy / dcy (null: zero).
// y and reserve are the forward's: with a reserve that fits, cuDNN's backward reads it (a copy:
// cudnnRNNBackwardData_v8 writes to its reserve space) instead of rerunning the forward.
void rnn_backward(const char *op, const RNNSpec &s, const NDArray &x, const NDArray &w, const NDArray &hx,
                  const NDArray *cx, const NDArray &dy, const NDArray *dhy, const NDArray *dcy, const NDArray &dx,
                  const NDArray &dw, const NDArray &dhx, const NDArray *dcx, const NDArray &y,
                  const NDArray &reserve);

}  // namespace cudnn
}  // namespace mx
