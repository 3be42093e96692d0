/* Sparse storage through the C ABI: build a csr array from parts, read its parts back, cast
 * storage, and refuse bad parts and dense-only calls with clear statuses. Expected values are
 * the small matrix written out below. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"

static mx_ndarray_t from_f32(const float *v, int64_t n) {
  mx_ndarray_t a = NULL;
  CHECK_OK(mx_ndarray_new(&n, 1, MX_FLOAT32, MX_CPU, 0, &a));
  CHECK_OK(mx_ndarray_copy_from(a, v, (size_t)n * sizeof(float)));
  return a;
}
static mx_ndarray_t from_i64(const int64_t *v, int64_t n) {
  mx_ndarray_t a = NULL;
  CHECK_OK(mx_ndarray_new(&n, 1, MX_INT64, MX_CPU, 0, &a));
  CHECK_OK(mx_ndarray_copy_from(a, v, (size_t)n * sizeof(int64_t)));
  return a;
}

int main(void) {
  /* [[0, 1, 0], [2, 0, 3]] */
  const float data[] = {1, 2, 3};
  const int64_t indptr[] = {0, 1, 3}, indices[] = {1, 0, 2}, shape[] = {2, 3};
  mx_ndarray_t parts[3] = {from_f32(data, 3), from_i64(indptr, 3), from_i64(indices, 3)};
  mx_ndarray_t csr = NULL;
  CHECK_OK(mx_ndarray_sparse_new(MX_STYPE_CSR, shape, 2, 3, parts, &csr));
  int st = -1;
  CHECK_OK(mx_ndarray_stype(csr, &st));
  CHECK(st == MX_STYPE_CSR);
  int nd = 0;
  const int64_t *sh = NULL;
  CHECK_OK(mx_ndarray_shape(csr, &nd, &sh));
  CHECK(nd == 2 && sh[0] == 2 && sh[1] == 3);

  /* parts come back as new dense handles */
  mx_ndarray_t p = NULL;
  int64_t got[3] = {0, 0, 0};
  CHECK_OK(mx_ndarray_sparse_part(csr, MX_SPARSE_INDPTR, &p));
  CHECK_OK(mx_ndarray_copy_to(p, got, sizeof(got)));
  CHECK(got[0] == 0 && got[1] == 1 && got[2] == 3);
  mx_ndarray_free(p);

  /* dense conversion */
  mx_ndarray_t dense = NULL;
  float d[6] = {0};
  CHECK_OK(mx_ndarray_cast_storage(csr, MX_STYPE_DEFAULT, &dense));
  CHECK_OK(mx_ndarray_copy_to(dense, d, sizeof(d)));
  CHECK(d[0] == 0 && d[1] == 1 && d[2] == 0 && d[3] == 2 && d[4] == 0 && d[5] == 3);

  /* dense to row_sparse keeps both (non-zero) rows */
  mx_ndarray_t rsp = NULL;
  CHECK_OK(mx_ndarray_cast_storage(dense, MX_STYPE_ROW_SPARSE, &rsp));
  CHECK_OK(mx_ndarray_sparse_part(rsp, MX_SPARSE_INDICES, &p));
  int64_t rows[2] = {-1, -1};
  CHECK_OK(mx_ndarray_copy_to(p, rows, sizeof(rows)));
  CHECK(rows[0] == 0 && rows[1] == 1);
  mx_ndarray_free(p);
  CHECK_FAIL_IN(mx_ndarray_sparse_part(rsp, MX_SPARSE_INDPTR, &p), MX_ERR_INVALID_ARGUMENT,
                "mx_ndarray_sparse_part", "row_sparse");
  CHECK_FAIL_IN(mx_ndarray_sparse_part(dense, MX_SPARSE_DATA, &p), MX_ERR_INVALID_ARGUMENT,
                "mx_ndarray_sparse_part", "dense");

  /* dense-only functions refuse sparse arrays */
  float buf[6];
  CHECK_FAIL_IN(mx_ndarray_copy_to(csr, buf, sizeof(buf)), MX_ERR_UNSUPPORTED, "mx_ndarray_copy_to", "csr");

  /* bad parts */
  const int64_t bad_indices[] = {1, 0, 7};
  mx_ndarray_t bad[3] = {parts[0], parts[1], from_i64(bad_indices, 3)};
  mx_ndarray_t out = NULL;
  CHECK_FAIL_IN(mx_ndarray_sparse_new(MX_STYPE_CSR, shape, 2, 3, bad, &out), MX_ERR_INVALID_ARGUMENT,
                "mx_ndarray_sparse_new", "out of bounds");
  CHECK_FAIL_IN(mx_ndarray_sparse_new(MX_STYPE_CSR, shape, 2, 2, parts, &out), MX_ERR_INVALID_ARGUMENT,
                "mx_ndarray_sparse_new", "parts");
  CHECK_FAIL_IN(mx_ndarray_sparse_new(7, shape, 2, 3, parts, &out), MX_ERR_INVALID_ARGUMENT,
                "mx_ndarray_sparse_new", "stype");
  CHECK_FAIL_IN(mx_ndarray_cast_storage(csr, 9, &out), MX_ERR_INVALID_ARGUMENT, "mx_ndarray_cast_storage",
                "storage type");
  CHECK(out == NULL);

  mx_ndarray_free(bad[2]);
  for (int i = 0; i < 3; ++i) mx_ndarray_free(parts[i]);
  mx_ndarray_free(csr);
  mx_ndarray_free(dense);
  mx_ndarray_free(rsp);
  return check_report("test_sparse");
}
