// Sparse storage (MXNet's row_sparse and csr): an NDArray whose `sparse()` parts hold the
// values and int64 index arrays, while its shape() is the logical dense shape. Everything
// here runs on the CPU; sparse arrays live on the CPU only (see docs/DESIGN.md "Storage types").
#pragma once
#include <string>

#include "ndarray/ndarray.h"

namespace mx {

// Numbers follow MXNet's storage types (they are written in .params files).
enum class SType : int { dflt = 0, row_sparse = 1, csr = 2 };

struct SparseParts {
  SType stype = SType::dflt;
  NDArray data;     // row_sparse: [nnz_rows, shape[1:]...]; csr: [nnz]
  NDArray indices;  // int64. row_sparse: [nnz_rows] rows, increasing; csr: [nnz] columns, increasing per row
  NDArray indptr;   // csr only: int64 [rows+1]
};

inline SType stype_of(const NDArray &a) { return a.sparse() ? a.sparse()->stype : SType::dflt; }
inline bool stype_valid(int code) { return code >= 0 && code <= 2; }
const char *stype_name(SType s);
// "default", "row_sparse" or "csr"; anything else is MX_ERR_INVALID_ARGUMENT naming `what`.
SType stype_from_name(const std::string &name, const char *what);

// Wrap parts (no copy, no validation: for kernels whose output is correct by construction).
NDArray make_row_sparse(const Shape &shape, NDArray data, NDArray indices);
NDArray make_csr(const Shape &shape, NDArray data, NDArray indptr, NDArray indices);
// Check untrusted parts (from users or files): dtypes, shapes, counts, bounds, order.
void validate_sparse(const NDArray &a, const char *what);
// An all-zero sparse array (no stored values).
NDArray sparse_zeros(SType s, const Shape &shape, DType dtype, Device dev = Device());

// The dense equivalent: `a` itself when already dense, else a new dense array.
NDArray to_dense(const NDArray &a);
// A new array of storage type `s` with a's values (always a copy).
NDArray cast_storage(const NDArray &a, SType s);
// Deep copy, optionally converting the values' dtype.
NDArray sparse_copy(const NDArray &a, DType dtype);
// A copy of sparse `a` with every component on `dev` (a cpu device; the caller checks).
NDArray sparse_copy_to(const NDArray &a, Device dev);
// dst = src where either is sparse. dst keeps its storage type and dtype; a sparse dst gets new
// parts (seen by every handle sharing it).
void sparse_assign(const NDArray &dst, const NDArray &src);
// Number of stored rows (row_sparse) or elements (csr).
int64_t sparse_nnz(const NDArray &a);

// Refuse sparse inputs in code that needs dense memory (names the caller and the storage type).
void require_dense(const NDArray &a, const char *func, const char *what);

}  // namespace mx
