#include "ops/sparse/dispatch.h"

#include "ndarray/sparse.h"
#include "ops/imperative.h"
#include "ops/sparse/attach.h"

namespace mx {

namespace {
thread_local int t_fallback_depth = 0;
struct FallbackScope {
  FallbackScope() { ++t_fallback_depth; }
  ~FallbackScope() { --t_fallback_depth; }
};

// Logical shapes and dtypes of the outputs, checked against the inputs like a dense call.
void infer_logical(const OpDef *op, const Params &params, const std::vector<NDArray> &inputs,
                   const std::vector<NDArray> &aux, int nout, ShapeVec &out_s, TypeVec &out_t) {
  const char *name = op->name.c_str();
  ShapeVec in_s, aux_s;
  TypeVec in_t, aux_t;
  for (auto &x : inputs) {
    in_s.push_back(x.shape());
    in_t.push_back(static_cast<int>(x.dtype()));
  }
  for (auto &x : aux) {
    aux_s.push_back(x.shape());
    aux_t.push_back(static_cast<int>(x.dtype()));
  }
  out_s.assign(static_cast<size_t>(nout), Shape());
  out_t.assign(static_cast<size_t>(nout), -1);
  MX_CHECK(op->infer_shape, MX_ERR_INTERNAL, name, ": no shape inference registered");
  bool ok = op->infer_shape(params, in_s, aux_s, out_s);
  for (size_t i = 0; i < inputs.size(); ++i)
    MX_CHECK(in_s[i] == inputs[i].shape(), MX_ERR_SHAPE, name, ": input ", i, " has shape ",
             inputs[i].shape().str(), " but ", in_s[i].str(), " was expected");
  for (auto &s : out_s) ok = ok && s.known();
  MX_CHECK(ok, MX_ERR_SHAPE, name, ": cannot infer the output shape from the inputs");
  bool tok = op->infer_type ? op->infer_type(params, in_t, aux_t, out_t) : infer_type_same(params, in_t, aux_t, out_t);
  for (int t : out_t) tok = tok && t >= 0;
  MX_CHECK(tok, MX_ERR_TYPE, name, ": cannot infer the output dtype");
}

// Results into the caller's out= arrays (any storage type: assign converts).
std::vector<NDArray> deliver(std::vector<NDArray> res, const std::vector<NDArray> *out) {
  if (!out) return res;
  for (size_t i = 0; i < out->size() && i < res.size(); ++i) {
    (*out)[i].assign(res[i]);
    res[i] = (*out)[i].detach();
  }
  return res;
}

// Value dtypes the sparse kernels compute in (others take the storage fallback: float16 and
// bfloat16 then run through float32 as in any dense call).
bool kernel_dtype(DType t) {
  return t == DType::f32 || t == DType::f64 || t == DType::i32 || t == DType::i64 || t == DType::u8 ||
         t == DType::i8;
}
}  // namespace

bool stype_dispatch_active() { return t_fallback_depth > 0; }

std::vector<NDArray> invoke_stype(const OpDef *op, const Params &params, const std::vector<NDArray> &inputs,
                                  const std::vector<NDArray> &aux, bool is_train,
                                  const std::vector<NDArray> *out, const std::vector<bool> *skip) {
  for (size_t i = 0; i < inputs.size(); ++i)
    MX_CHECK(inputs[i].defined(), MX_ERR_INVALID_ARGUMENT, op->name, ": input ", i, " is an empty handle");
  install_sparse_attachments();
  int nout = op->num_outputs(params);
  if (op->infer_stype && op->forward_sparse) {
    STypeVec in_st, out_st(static_cast<size_t>(nout), 0);
    bool native = true;
    for (auto &x : inputs) {
      in_st.push_back(static_cast<int>(stype_of(x)));
      native = native && x.device().is_cpu() && supports_dtype(op, x.dtype()) && kernel_dtype(x.dtype());
    }
    for (auto &x : aux) in_st.push_back(static_cast<int>(stype_of(x)));
    if (native && op->infer_stype(params, in_st, out_st)) {
      ShapeVec out_s;
      TypeVec out_t;
      infer_logical(op, params, inputs, aux, nout, out_s, out_t);
      SparseCall call{params, inputs, aux, out_s, out_t, out_st, is_train};
      std::vector<NDArray> res = op->forward_sparse(call);
      MX_CHECK(res.size() == static_cast<size_t>(nout), MX_ERR_INTERNAL, op->name,
               ": sparse kernel returned ", res.size(), " outputs, expected ", nout);
      return deliver(std::move(res), out);
    }
  }
  // Storage fallback: densify, run the dense kernel, dense results.
  std::vector<NDArray> din, daux;
  for (auto &x : inputs) din.push_back(to_dense(x));
  for (auto &x : aux) daux.push_back(to_dense(x));
  bool sparse_out = false;
  if (out)
    for (auto &x : *out) sparse_out = sparse_out || x.is_sparse();
  std::vector<NDArray> res;
  {
    FallbackScope scope;
    res = invoke_raw(op, params, din, daux, is_train, sparse_out ? nullptr : out, skip);
  }
  for (size_t i = 0; i < aux.size(); ++i)
    if (aux[i].is_sparse()) aux[i].assign(daux[i]);  // aux states are updated in place
  return sparse_out ? deliver(std::move(res), out) : res;
}

}  // namespace mx
