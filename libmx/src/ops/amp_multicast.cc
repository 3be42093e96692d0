// amp_multicast (MXNet 1.x AMP): casts its num_outputs inputs to one common floating type so an
// op with several inputs sees matching dtypes. float32/float16/bfloat16 inputs become the widest
// of them (float32 when any input is float32, else input 0's dtype), or with cast_narrow the
// narrowest (float16 / bfloat16 when present, else float32); other dtypes (float64, integers,
// bool) pass through unchanged. The copy is NDArray::assign: a conversion kernel on the GPU
// (backends/cuda/cast.cu), the host loop on the CPU. Gradients cast back to each input's dtype.
#include <string>

#include "ops/cuda_only.h"
#include "ops/registry.h"
#include "ops/shape_common.h"

namespace mx {
namespace {

struct AmpMultiCastParam {
  int64_t num_outputs = 0;
  bool cast_narrow = false;
  static void describe(ParamDecl<AmpMultiCastParam> &d) {
    d.field("num_outputs", &AmpMultiCastParam::num_outputs).required().doc("Number of input/output pairs to be casted to the widest type.");
    d.field("cast_narrow", &AmpMultiCastParam::cast_narrow).def(false).doc("Whether to cast to the narrowest type");
  }
};

bool amp_float(int t) {
  return t == static_cast<int>(DType::f32) || t == static_cast<int>(DType::f16) || t == static_cast<int>(DType::bf16);
}

void check_count(const AmpMultiCastParam &p, size_t n) {
  MX_CHECK(p.num_outputs >= 1 && static_cast<size_t>(p.num_outputs) == n, MX_ERR_INVALID_ARGUMENT,
           "amp_multicast: num_outputs (", p.num_outputs, ") must equal the number of inputs (", n, ")");
}

// MXNet's rule (src/operator/tensor/amp_cast.h), input dtypes only.
bool multicast_type(const Params &prm, TypeVec &in, TypeVec &, TypeVec &out) {
  const auto &p = prm.get<AmpMultiCastParam>();
  check_count(p, in.size());
  for (int t : in)
    if (t < 0) return false;
  const int f32 = static_cast<int>(DType::f32), f16 = static_cast<int>(DType::f16), bf16 = static_cast<int>(DType::bf16);
  int target = p.cast_narrow ? f32 : in[0];
  for (int t : in) {
    if (!p.cast_narrow && t == f32) target = f32;
    else if (p.cast_narrow && t == f16) target = f16;
    else if (p.cast_narrow && t == bf16) target = bf16;
  }
  for (size_t i = 0; i < in.size(); ++i) {
    const int want = amp_float(in[i]) ? target : in[i];
    if (out[i] >= 0 && out[i] != want)
      fail(MX_ERR_TYPE, "amp_multicast: output ", i, " has dtype ", dtype_name(static_cast<DType>(out[i])), " but ",
           dtype_name(static_cast<DType>(want)), " follows from the inputs");
    out[i] = want;
  }
  return true;
}

void multicast_kernel(const OpCall &c) {
  for (size_t i = 0; i < c.inputs.size(); ++i)
    if (!c.outputs[i].same_data(c.inputs[i]) || c.outputs[i].dtype() != c.inputs[i].dtype())
      c.outputs[i].assign(c.inputs[i]);
}

const int registered = [] {
  MX_REGISTER_OP(amp_multicast)
      .doc("Cast function used by AMP, that casts its inputs to the common widest type (or the narrowest with "
           "cast_narrow). float32, float16 and bfloat16 inputs are cast; other dtypes pass through unchanged.")
      .params<AmpMultiCastParam>()
      .variadic("num_outputs")
      .inputs({})
      .num_outputs([](const Params &p) { return static_cast<int>(p.get<AmpMultiCastParam>().num_outputs); })
      .dtypes(shape_detail::all_dtypes())
      .type(multicast_type)
      .shape([](const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        check_count(prm.get<AmpMultiCastParam>(), in.size());
        bool known = true;
        for (size_t i = 0; i < in.size(); ++i) {
          if (!in[i].known()) {
            known = false;
            continue;
          }
          assign_shape(out[i], in[i], "amp_multicast", "output " + std::to_string(i));
        }
        return known;
      })
      .cpu(multicast_kernel)
      .gpu(cuda_only(multicast_kernel))
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        std::vector<Var> r;
        for (size_t i = 0; i < n.inputs.size(); ++i) {
          const DType t = b.dtype(n.inputs[i]);
          if (!dtype_is_float(t)) r.push_back(Var::none());
          else r.push_back(b.emit1("Cast", {{"dtype", dtype_name(t)}}, {n.out_grads[i]}));
        }
        return r;
      });
  return 0;
}();

}  // namespace
}  // namespace mx
