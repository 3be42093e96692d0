// Gradient compression as MXNet defines '2bit': each value is added to a residual; a residual
// at or above +threshold sends +threshold (and keeps the rest), at or below -threshold sends
// -threshold, else 0 is sent. The receiver sums the dequantised values, so the reduction stays
// a plain sum. (Here the dequantised float32 values travel: the arithmetic is MXNet's, the
// 16x bandwidth saving of packing 2-bit codes is not implemented.)
#pragma once
#include <string>

#include "base/json.h"
#include "ndarray/ndarray.h"

namespace mx {

class GradientCompression {
 public:
  // {"type": "2bit", "threshold": 0.5}. Other types: MX_ERR_UNSUPPORTED / INVALID_ARGUMENT.
  explicit GradientCompression(const Json &params);
  // out[i] = quantised(grad[i] + residual[i]); residual keeps what was not sent. float32 only.
  void quantize(const NDArray &grad, const NDArray &residual, const NDArray &out) const;
  double threshold() const { return threshold_; }
  Json to_json() const;

 private:
  double threshold_ = 0.5;
};

}  // namespace mx
