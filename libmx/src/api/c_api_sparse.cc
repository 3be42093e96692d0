// Sparse storage through the C ABI: create from parts, query, take parts, cast storage.
#include "api/api_util.h"
#include "ndarray/sparse.h"

using namespace mx;

namespace mx {
void fail_sparse(const NDArray &a, const char *what) {
  fail(MX_ERR_UNSUPPORTED, what, " is a ", stype_name(stype_of(a)),
       " array, but this function needs dense storage (convert it with tostype('default'))");
}
}  // namespace mx

extern "C" {

int mx_ndarray_stype(mx_ndarray_t arr, int *out_stype) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_stype);
  *out_stype = static_cast<int>(stype_of(any_arr_of(arr, "arr")));
  MX_API_END();
}

int mx_ndarray_sparse_new(int stype, const int64_t *shape, int ndim, int num_parts, const mx_ndarray_t *parts,
                          mx_ndarray_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out);
  MX_CHECK(stype == MX_STYPE_ROW_SPARSE || stype == MX_STYPE_CSR, MX_ERR_INVALID_ARGUMENT,
           "stype must be row_sparse (1) or csr (2), got ", stype);
  MX_CHECK(ndim >= 1 && ndim <= 32 && shape, MX_ERR_SHAPE, "ndim must be in [1, 32], got ", ndim);
  int want = stype == MX_STYPE_CSR ? 3 : 2;
  MX_CHECK(num_parts == want && parts, MX_ERR_INVALID_ARGUMENT, stype_name(static_cast<SType>(stype)),
           " arrays take ", want, " parts, got ", num_parts);
  std::vector<NDArray> p;
  for (int i = 0; i < num_parts; ++i) {
    const NDArray &x = arr_of(parts[i], "parts[i]");
    MX_CHECK(x.device().is_cpu(), MX_ERR_UNSUPPORTED, "sparse arrays live on the cpu in MX (part ", i,
             " is on a gpu)");
    if (i == 0) {
      p.push_back(x.copy());
    } else {
      MX_CHECK((!dtype_is_float(x.dtype()) && x.dtype() != DType::boolean) || (x.ndim() == 1 && x.size() == 0), MX_ERR_TYPE, "part ", i,
               " (indices/indptr) must hold integers, got ", dtype_name(x.dtype()));
      p.push_back(x.astype(DType::i64));
    }
  }
  Shape s(shape, ndim);
  NDArray a = stype == MX_STYPE_CSR ? make_csr(s, p[0], p[1], p[2]) : make_row_sparse(s, p[0], p[1]);
  validate_sparse(a, "mx_ndarray_sparse_new");
  *out = new_handle(std::move(a));
  MX_API_END();
}

int mx_ndarray_sparse_part(mx_ndarray_t arr, int part, mx_ndarray_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out);
  const NDArray &a = any_arr_of(arr, "arr");
  MX_CHECK(a.is_sparse(), MX_ERR_INVALID_ARGUMENT, "the array has default (dense) storage and no sparse parts");
  const SparseParts &p = *a.sparse();
  const NDArray *r = part == MX_SPARSE_DATA ? &p.data : part == MX_SPARSE_INDICES ? &p.indices
                   : part == MX_SPARSE_INDPTR ? &p.indptr : nullptr;
  MX_CHECK(r && r->defined(), MX_ERR_INVALID_ARGUMENT, "a ", stype_name(p.stype), " array has no part ", part,
           " (0 data, 1 indices, 2 indptr for csr)");
  *out = new_handle(r->detach());
  MX_API_END();
}

int mx_ndarray_cast_storage(mx_ndarray_t arr, int stype, mx_ndarray_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out);
  MX_CHECK(stype_valid(stype), MX_ERR_INVALID_ARGUMENT, "unknown storage type ", stype,
           " (0 default, 1 row_sparse, 2 csr)");
  *out = new_handle(cast_storage(any_arr_of(arr, "arr"), static_cast<SType>(stype)));
  MX_API_END();
}

}  // extern "C"
