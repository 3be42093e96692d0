// cast_storage: convert between default (dense), row_sparse and csr storage.
#include "ndarray/sparse.h"
#include "ops/registry.h"

namespace mx {
namespace {

struct CastStorageParam {
  std::string stype;
  static void describe(ParamDecl<CastStorageParam> &d) {
    d.field("stype", &CastStorageParam::stype).required().choices({"default", "row_sparse", "csr"})
        .doc("Output storage type.");
  }
};

MX_REGISTER_OP(cast_storage)
    .doc("Casts the storage type of an array: 'default' (dense), 'row_sparse' or 'csr' (2-d).")
    .params<CastStorageParam>()
    .inputs({"data"})
    .dtypes({DType::f32, DType::f64, DType::f16, DType::bf16, DType::u8, DType::i8, DType::i32, DType::i64,
             DType::boolean})
    .shape(infer_shape_same)
    .infer_stype(
        [](const Params &p, const STypeVec &, STypeVec &out) {
          out[0] = static_cast<int>(stype_from_name(p.get<CastStorageParam>().stype, "cast_storage"));
          return true;
        },
        /*from_dense=*/true)
    .sparse([](const SparseCall &c) {
      SType s = stype_from_name(c.p<CastStorageParam>().stype, "cast_storage");
      return std::vector<NDArray>{cast_storage(c.inputs[0], s)};
    })
    .cpu([](const OpCall &c) { c.outputs[0].assign(c.inputs[0]); })  // dense to dense (fallback)
    .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
      return {b.emit1("_copy", {}, {n.out_grads[0]})};
    });

}  // namespace
}  // namespace mx
