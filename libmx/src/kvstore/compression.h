// Gradient compression as MXNet defines '2bit': each value is added to a residual; a residual
// at or above +threshold sends +threshold (and keeps the rest), at or below -threshold sends
// -threshold, else 0 is sent. The receiver sums the dequantised values, so the reduction stays
// a plain sum. Between workers the values travel as 2-bit codes, four to a byte (1/16 of the
// float32 bytes); every worker decodes and sums all workers' codes in rank order, so all of
// them hold the same sum.
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
  // The same quantisation written as codes (0: 0, 1: +threshold, 2: -threshold), four values
  // per byte, value i in bits 2*(i%4) of byte i/4: packed_bytes(n) bytes.
  void quantize_packed(const NDArray &grad, const NDArray &residual, uint8_t *codes) const;
  // out[i] += the value coded for element i (n elements).
  void add_packed(const uint8_t *codes, float *out, int64_t n) const;
  static size_t packed_bytes(int64_t n) { return static_cast<size_t>((n + 3) / 4); }
  double threshold() const { return threshold_; }
  Json to_json() const;

 private:
  double threshold_ = 0.5;
};

}  // namespace mx
