#include "kvstore/compression.h"

#include "backends/cpu/parallel.h"
#include "base/error.h"

namespace mx {

GradientCompression::GradientCompression(const Json &params) {
  MX_CHECK(params.is_object(), MX_ERR_INVALID_ARGUMENT,
           "set_gradient_compression: compression_params must be an object such as "
           "{\"type\": \"2bit\", \"threshold\": 0.5}, got ", params.dump());
  MX_CHECK(params["type"].is_string(), MX_ERR_INVALID_ARGUMENT,
           "set_gradient_compression: compression_params needs a 'type' (\"2bit\")");
  const std::string &t = params["type"].as_string();
  MX_CHECK(t != "1bit", MX_ERR_UNSUPPORTED,
           "set_gradient_compression: type '1bit' is not implemented in MX; use '2bit'");
  MX_CHECK(t == "2bit", MX_ERR_INVALID_ARGUMENT,
           "set_gradient_compression: unknown compression type '", t, "' (supported: '2bit')");
  for (const auto &kv : params.members())
    MX_CHECK(kv.first == "type" || kv.first == "threshold", MX_ERR_INVALID_ARGUMENT,
             "set_gradient_compression: unknown parameter '", kv.first, "'");
  if (params.has("threshold")) {
    MX_CHECK(params["threshold"].is_number(), MX_ERR_INVALID_ARGUMENT,
             "set_gradient_compression: threshold must be a number");
    threshold_ = params["threshold"].as_number();
  }
  MX_CHECK(threshold_ > 0, MX_ERR_INVALID_ARGUMENT,
           "set_gradient_compression: threshold must be > 0, got ", threshold_);
}

void GradientCompression::quantize(const NDArray &grad, const NDArray &residual,
                                   const NDArray &out) const {
  MX_CHECK(grad.dtype() == DType::f32, MX_ERR_TYPE,
           "gradient compression '2bit': only float32 gradients can be compressed, got ",
           dtype_name(grad.dtype()));
  const float *g = grad.data<float>();
  float *r = residual.data<float>();
  float *o = out.data<float>();
  const float th = static_cast<float>(threshold_);
  parallel_for(grad.size(), 1 << 15, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      float v = r[i] + g[i];
      float q = v >= th ? th : (v <= -th ? -th : 0.0f);
      r[i] = v - q;
      o[i] = q;
    }
  });
}

void GradientCompression::quantize_packed(const NDArray &grad, const NDArray &residual,
                                          uint8_t *codes) const {
  MX_CHECK(grad.dtype() == DType::f32, MX_ERR_TYPE,
           "gradient compression '2bit': only float32 gradients can be compressed, got ",
           dtype_name(grad.dtype()));
  const float *g = grad.data<float>();
  float *r = residual.data<float>();
  const float th = static_cast<float>(threshold_);
  const int64_t n = grad.size();
  const int64_t full = n / 4;
  // Whole bytes per task (four values share one); branch-free so the compiler vectorises it.
  parallel_for(full, 1 << 13, [&](int64_t b, int64_t e) {
    for (int64_t byte = b; byte < e; ++byte) {
      uint8_t c = 0;
      for (int k = 0; k < 4; ++k) {
        const int64_t i = byte * 4 + k;
        const float v = r[i] + g[i];
        const uint8_t pos = v >= th, neg = v <= -th;
        r[i] = v - th * static_cast<float>(pos) + th * static_cast<float>(neg);
        c |= static_cast<uint8_t>((pos | (neg << 1)) << (2 * k));
      }
      codes[byte] = c;
    }
  });
  if (full * 4 < n) {  // the last, partial byte
    uint8_t c = 0;
    for (int64_t i = full * 4; i < n; ++i) {
      const float v = r[i] + g[i];
      const uint8_t pos = v >= th, neg = v <= -th;
      r[i] = v - th * static_cast<float>(pos) + th * static_cast<float>(neg);
      c |= static_cast<uint8_t>((pos | (neg << 1)) << (2 * (i & 3)));
    }
    codes[full] = c;
  }
}

void GradientCompression::add_packed(const uint8_t *codes, float *out, int64_t n) const {
  // The four values of every possible byte, looked up whole.
  const float th = static_cast<float>(threshold_);
  const float value[4] = {0.0f, th, -th, 0.0f};
  float table[256][4];
  for (int c = 0; c < 256; ++c)
    for (int k = 0; k < 4; ++k) table[c][k] = value[(c >> (2 * k)) & 3];
  const int64_t full = n / 4;
  parallel_for(full, 1 << 13, [&](int64_t b, int64_t e) {
    for (int64_t byte = b; byte < e; ++byte) {
      const float *t = table[codes[byte]];
      float *o = out + byte * 4;
      o[0] += t[0];
      o[1] += t[1];
      o[2] += t[2];
      o[3] += t[3];
    }
  });
  for (int64_t i = full * 4; i < n; ++i) out[i] += table[codes[full]][i & 3];
}

Json GradientCompression::to_json() const {
  Json j = Json::object();
  j.set("type", Json(std::string("2bit")));
  j.set("threshold", Json(threshold_));
  return j;
}

}  // namespace mx
