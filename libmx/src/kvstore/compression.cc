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

Json GradientCompression::to_json() const {
  Json j = Json::object();
  j.set("type", Json(std::string("2bit")));
  j.set("threshold", Json(threshold_));
  return j;
}

}  // namespace mx
