// Sparse kernels for operators registered elsewhere (elemwise_add, dot, sum, ...): each sparse
// source file declares them with MX_SPARSE_KERNEL, and the dispatch installs them on the OpDefs
// once, on its first call (after every static registration has run, whatever the link order).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "ndarray/sparse.h"
#include "ops/imperative.h"
#include "ops/registry.h"

namespace mx {

struct SparseAttachment {
  std::string op;
  InferSTypeFn infer;
  SparseKernelFn kernel;
};
std::vector<SparseAttachment> &sparse_attachments();
void install_sparse_attachments();  // idempotent, thread-safe

struct SparseAttach {
  SparseAttach(const char *op, InferSTypeFn infer, SparseKernelFn kernel) {
    sparse_attachments().push_back({op, std::move(infer), std::move(kernel)});
  }
};
#define MX_SPARSE_KERNEL(OPNAME, INFER, KERNEL) \
  [[maybe_unused]] static ::mx::SparseAttach MX_CONCAT(mx_sparse_att_, __COUNTER__)(OPNAME, INFER, KERNEL)

// ---- helpers for sparse kernels
inline int st(SType s) { return static_cast<int>(s); }
constexpr int kDns = 0, kRsp = 1, kCsr = 2;
// Canonical text of parameter `name` in p ("" when the op has no such parameter).
std::string param_text(const Params &p, const char *name);
// Items of a tuple parameter's text: "(0, -1)", "1", "(1, None)"; "None" / "()" are empty.
// *ok is false for text that is not such a tuple.
std::vector<std::optional<int64_t>> parse_opt_tuple(const std::string &text, bool *ok);
// The same without None items (*ok false when one is present).
std::vector<int64_t> parse_int_tuple(const std::string &text, bool *ok);
// The same sparsity structure as `a` (shared indices) with new values.
NDArray with_values(const NDArray &a, const NDArray &values);
// Dense values through a dense op (zero-preserving maps over the stored values).
NDArray run_dense(const OpDef *op, const Params &p, const std::vector<NDArray> &inputs);

}  // namespace mx
