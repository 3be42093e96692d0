// amp_cast (MXNet 1.x's automatic-mixed-precision cast): casts floating-point input to `dtype`
// and passes every other dtype (integers, bool) through unchanged, so AMP graphs can wrap any
// input. Its gradient casts the head gradient back to the input's dtype.
#include "ops/cuda_only.h"
#include "ops/shape_common.h"

namespace mx {
namespace {

using namespace shape_detail;

struct AmpCastParam {
  std::string dtype;
  static void describe(ParamDecl<AmpCastParam> &d) {
    d.field("dtype", &AmpCastParam::dtype).required().doc("Output data type (for floating-point input).")
        .choices({"float16", "float32", "float64", "bfloat16", "uint8", "int8", "int32", "int64", "bool"});
  }
};

int amp_out_type(const Params &p, int in) {
  if (!dtype_is_float(static_cast<DType>(in))) return in;
  return static_cast<int>(dtype_from_name(p.get<AmpCastParam>().dtype));
}

const int registered = [] {
  MX_REGISTER_OP(amp_cast)
      .doc("Cast function between low precision float/FP32 used by AMP. It casts only between floating-point "
           "types; other inputs pass through unchanged.")
      .params<AmpCastParam>()
      .inputs({"data"})
      .dtypes(all_dtypes())
      .shape(infer_shape_same)
      .type([](const Params &p, TypeVec &in, TypeVec &, TypeVec &out) {
        if (in[0] < 0) return false;
        const int t = amp_out_type(p, in[0]);
        if (out[0] >= 0 && out[0] != t)
          fail(MX_ERR_TYPE, "amp_cast: output has dtype ", dtype_name(static_cast<DType>(out[0])), " but ",
               dtype_name(static_cast<DType>(t)), " follows from the input");
        out[0] = t;
        return true;
      })
      .cpu([](const OpCall &c) {
        const NDArray &in = c.inputs[0], &out = c.outputs[0];
        if (in.dtype() == out.dtype()) {
          if (!out.same_data(in)) copy_bytes(in, out);
        } else {
          convert_buffer(in.raw(), in.dtype(), out.raw(), out.dtype(), in.size());
        }
      })
      // GPU: a copy or the conversion kernel (NDArray::assign -> backends/cuda/cast.cu).
      .gpu(cuda_only([](const OpCall &c) {
        if (!c.outputs[0].same_data(c.inputs[0])) c.outputs[0].assign(c.inputs[0]);
      }))
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        const DType t = b.dtype(n.inputs[0]);
        if (!dtype_is_float(t)) return {Var::none()};
        return {b.emit1("Cast", {{"dtype", dtype_name(t)}}, {n.out_grads[0]})};
      });
  return 0;
}();

}  // namespace
}  // namespace mx
