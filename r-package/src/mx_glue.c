/*
 * .Call glue between R and libmx. Includes nothing from the core but <mx/c_api.h>.
 *
 * Error protocol: no function here calls Rf_error (or abort/exit/printf). On failure a function
 * first releases every C resource it holds, then RETURNS a small "mxr_failure" object
 * (list(status, message)); the R wrapper .mx_call() turns it into a classed R condition
 * (mx_error + mx_value_error, mx_shape_error, ...). R allocation failures may still longjmp:
 * every libmx handle is therefore stored into an external pointer (with a finalizer) that was
 * allocated BEFORE the libmx call that creates the handle, or is released by an
 * R_UnwindProtect cleanup.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include <R.h>
#include <Rinternals.h>
#include <R_ext/Rdynload.h>

#include <mx/c_api.h>

#include "mx_glue.h"

static SEXP tag_nd = NULL, tag_params = NULL, tag_op = NULL, cls_nd = NULL, cls_sym = NULL, cls_fail = NULL;

#define MXR_MAX_STACK 32

/* ------------------------------------------------------------------ failures */

static SEXP fail_obj(int status, const char *msg) {
  SEXP r = PROTECT(allocVector(VECSXP, 2));
  SET_VECTOR_ELT(r, 0, ScalarInteger(status));
  SET_VECTOR_ELT(r, 1, ScalarString(mkCharCE(msg ? msg : "", CE_UTF8)));
  setAttrib(r, R_ClassSymbol, cls_fail);
  UNPROTECT(1);
  return r;
}

/* The library's own message for a failed status (call after cleaning up C resources; freeing
 * handles never fails for valid handles and does not overwrite the message of the failure). */
static SEXP mx_fail(int status) {
  /* copy first: mx_last_error is thread-local and stays valid, but be defensive */
  char buf[4096];
  const char *m = mx_last_error();
  snprintf(buf, sizeof buf, "%s", m ? m : "unknown error");
  return fail_obj(status, buf);
}

static SEXP arg_fail(int status, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return fail_obj(status, buf);
}

static SEXP mk_str(const char *s) { return ScalarString(mkCharCE(s ? s : "", CE_UTF8)); }

/* What a call returns: the failure object when it failed, else `value` (which must be safe to
 * build from the call's zero-initialised outputs, as it is built either way). */
static SEXP result(int st, SEXP value) { return st ? mx_fail(st) : value; }

/* ------------------------------------------------------------------ handles
 * Every libmx object lives in an external pointer whose tag names its kind; one finalizer frees
 * it with the matching *_free. The pointer is allocated (and protected) BEFORE the libmx call
 * that creates the handle, so an R allocation error cannot leak it. */

static SEXP tag_sym = NULL, tag_exec = NULL, tag_opt = NULL, tag_init = NULL, tag_metric = NULL,
            tag_iter = NULL, tag_kv = NULL;

static void h_finalizer(SEXP p) {
  void *h = R_ExternalPtrAddr(p);
  if (!h) return;
  SEXP t = R_ExternalPtrTag(p);
  if (t == tag_nd) mx_ndarray_free((mx_ndarray_t)h);
  else if (t == tag_params) mx_params_free((mx_params_t)h);
  else if (t == tag_sym) mx_symbol_free((mx_symbol_t)h);
  else if (t == tag_exec) mx_executor_free((mx_executor_t)h);
  else if (t == tag_opt) mx_optimizer_free((mx_optimizer_t)h);
  else if (t == tag_init) mx_initializer_free((mx_initializer_t)h);
  else if (t == tag_metric) mx_metric_free((mx_metric_t)h);
  else if (t == tag_iter) mx_dataiter_free((mx_dataiter_t)h);
  else if (t == tag_kv) mx_kvstore_free((mx_kvstore_t)h);
  R_ClearExternalPtr(p);
}

/* An empty handle wrapper of kind `tag` with class attribute `cls` (none when R_NilValue). */
static SEXP h_wrapper(SEXP tag, SEXP cls) {
  SEXP p = PROTECT(R_MakeExternalPtr(NULL, tag, R_NilValue));
  R_RegisterCFinalizerEx(p, h_finalizer, TRUE);
  if (cls != R_NilValue) setAttrib(p, R_ClassSymbol, cls);
  UNPROTECT(1);
  return p;
}

/* Finish a handle-creating call: `w` (protected once by the caller) receives `h` when st is 0. */
static SEXP handle_result(SEXP w, void *h, int st) {
  UNPROTECT(1);
  if (st) return mx_fail(st);
  R_SetExternalPtrAddr(w, h);
  return w;
}

/* An empty NDArray wrapper (class MXNDArray); fill with R_SetExternalPtrAddr. */
static SEXP nd_wrapper(void) { return h_wrapper(tag_nd, cls_nd); }

/* NULL when ok, else a message. */
static const char *nd_get(SEXP x, mx_ndarray_t *out) {
  if (TYPEOF(x) != EXTPTRSXP || R_ExternalPtrTag(x) != tag_nd) return "expected an MXNDArray";
  *out = (mx_ndarray_t)R_ExternalPtrAddr(x);
  if (*out == NULL)
    return "the MXNDArray handle is NULL (NDArrays cannot be saved with the R session; use mx.nd.save)";
  return NULL;
}

#define GET_ND(var, sexp, what)                                                                \
  mx_ndarray_t var = NULL;                                                                     \
  do {                                                                                         \
    const char *e_ = nd_get((sexp), &var);                                                     \
    if (e_) return arg_fail(MX_ERR_INVALID_ARGUMENT, "%s: %s", (what), e_);                   \
  } while (0)

static int is_nd(SEXP x) { return TYPEOF(x) == EXTPTRSXP && R_ExternalPtrTag(x) == tag_nd; }

/* Handles of a list of NDArrays into buf (R_alloc'd when long). NULL entries allowed when
 * allow_null. Returns NULL or a message. */
static const char *nd_list(SEXP lst, int allow_null, mx_ndarray_t *stack, mx_ndarray_t **out, int *n) {
  if (TYPEOF(lst) != VECSXP) return "expected a list of MXNDArrays";
  R_xlen_t len = XLENGTH(lst);
  if (len > 1000000) return "too many arrays";
  mx_ndarray_t *buf = len <= MXR_MAX_STACK ? stack : (mx_ndarray_t *)R_alloc((size_t)len, sizeof(mx_ndarray_t));
  for (R_xlen_t i = 0; i < len; ++i) {
    SEXP e = VECTOR_ELT(lst, i);
    if (allow_null && e == R_NilValue) {
      buf[i] = NULL;
      continue;
    }
    const char *msg = nd_get(e, &buf[i]);
    if (msg) return msg;
  }
  *out = buf;
  *n = (int)len;
  return NULL;
}

/* Wrap `n` caller-owned handles into a list (a NULL handle becomes NULL); on an R error while
 * allocating, the handles not yet wrapped are freed before the error continues. */
struct wrap_ctx {
  int n, done;
  mx_ndarray_t *h;
};

static SEXP wrap_body(void *d) {
  struct wrap_ctx *c = (struct wrap_ctx *)d;
  SEXP out = PROTECT(allocVector(VECSXP, c->n));
  for (int i = 0; i < c->n; ++i) {
    if (c->h[i]) {
      SEXP w = nd_wrapper();
      R_SetExternalPtrAddr(w, c->h[i]);
      SET_VECTOR_ELT(out, i, w);
    }
    c->done = i + 1;
  }
  UNPROTECT(1);
  return out;
}

static void wrap_clean(void *d, Rboolean jump) {
  struct wrap_ctx *c = (struct wrap_ctx *)d;
  if (jump)
    for (int i = c->done; i < c->n; ++i) mx_ndarray_free(c->h[i]);
}

static SEXP wrap_handles(int n, mx_ndarray_t *h) {
  struct wrap_ctx c = {n, 0, h};
  return R_UnwindProtect(wrap_body, &c, wrap_clean, &c, NULL);
}

static int shape_from_sexp(SEXP s, int64_t *shape, int maxdim, int *ndim, const char **err) {
  R_xlen_t n = xlength(s);
  if (n > maxdim) {
    *err = "too many dimensions (at most 32)";
    return 0;
  }
  for (R_xlen_t i = 0; i < n; ++i) {
    double v;
    if (TYPEOF(s) == INTSXP) v = INTEGER(s)[i] == NA_INTEGER ? -1 : INTEGER(s)[i];
    else if (TYPEOF(s) == REALSXP) v = REAL(s)[i];
    else {
      *err = "shape must be numeric";
      return 0;
    }
    if (!(v >= -1 && v < 9.007199254740992e15) || v != (double)(int64_t)v) {
      *err = "shape entries must be whole numbers >= -1";
      return 0;
    }
    shape[i] = (int64_t)v;
  }
  *ndim = (int)n;
  return 1;
}

static SEXP shape_to_sexp(int ndim, const int64_t *shape) {
  int big = 0;
  for (int i = 0; i < ndim; ++i)
    if (shape[i] > 2147483647) big = 1;
  SEXP r = PROTECT(allocVector(big ? REALSXP : INTSXP, ndim));
  for (int i = 0; i < ndim; ++i) {
    if (big) REAL(r)[i] = (double)shape[i];
    else INTEGER(r)[i] = (int)shape[i];
  }
  UNPROTECT(1);
  return r;
}

/* ------------------------------------------------------------------ version, features, devices */

SEXP mxr_abi_version(void) { return ScalarInteger(mx_abi_version()); }
SEXP mxr_header_abi_version(void) { return ScalarInteger(MX_ABI_VERSION); }

SEXP mxr_version(void) {
  int a = 0, b = 0, c = 0;
  mx_version(&a, &b, &c);
  SEXP r = PROTECT(allocVector(INTSXP, 3));
  INTEGER(r)[0] = a;
  INTEGER(r)[1] = b;
  INTEGER(r)[2] = c;
  UNPROTECT(1);
  return r;
}

SEXP mxr_features(void) {
  const char *js = NULL;
  int st = mx_features(&js);
  return result(st, mk_str(js));
}

SEXP mxr_device_count(SEXP dev_type) {
  int n = 0;
  int st = mx_device_count(asInteger(dev_type), &n);
  return result(st, ScalarInteger(n));
}

SEXP mxr_set_num_threads(SEXP n) {
  int st = mx_set_num_threads(asInteger(n));
  return result(st, R_NilValue);
}

SEXP mxr_random_seed(SEXP seed, SEXP dev_type) {
  double s = asReal(seed);
  if (!(s >= 0 && s <= 18446744073709549568.0) || s != floor(s))
    return arg_fail(MX_ERR_INVALID_ARGUMENT, "mx.set.seed: seed must be a whole number >= 0, got %g", s);
  int st = mx_random_seed((uint64_t)s, asInteger(dev_type));
  return result(st, R_NilValue);
}

/* ------------------------------------------------------------------ NDArray basics */

SEXP mxr_nd_is_valid(SEXP x) {
  mx_ndarray_t h;
  return ScalarLogical(nd_get(x, &h) == NULL);
}

SEXP mxr_nd_new(SEXP shape, SEXP dtype, SEXP dev_type, SEXP dev_id) {
  int64_t shp[64];
  int ndim = 0;
  const char *err = NULL;
  if (!shape_from_sexp(shape, shp, 32, &ndim, &err)) return arg_fail(MX_ERR_SHAPE, "mx.nd.empty: %s", err);
  SEXP w = PROTECT(nd_wrapper());
  mx_ndarray_t h = NULL;
  int st = mx_ndarray_new(shp, ndim, asInteger(dtype), asInteger(dev_type), asInteger(dev_id), &h);
  return handle_result(w, h, st);
}

SEXP mxr_nd_shape(SEXP x) {
  GET_ND(h, x, "dim");
  int nd = 0;
  const int64_t *shp = NULL;
  int st = mx_ndarray_shape(h, &nd, &shp);
  return result(st, shape_to_sexp(nd, shp));
}

/* list(shape, dtype, dev_type, dev_id) in one call */
SEXP mxr_nd_info(SEXP x) {
  GET_ND(h, x, "MXNDArray");
  int nd = 0, dt = 0, devt = 0, devi = 0;
  const int64_t *shp = NULL;
  int st = mx_ndarray_shape(h, &nd, &shp);
  if (!st) st = mx_ndarray_dtype(h, &dt);
  if (!st) st = mx_ndarray_device(h, &devt, &devi);
  if (st) return mx_fail(st);
  SEXP r = PROTECT(allocVector(VECSXP, 4));
  SET_VECTOR_ELT(r, 0, shape_to_sexp(nd, shp));
  SET_VECTOR_ELT(r, 1, ScalarInteger(dt));
  SET_VECTOR_ELT(r, 2, ScalarInteger(devt));
  SET_VECTOR_ELT(r, 3, ScalarInteger(devi));
  UNPROTECT(1);
  return r;
}

SEXP mxr_nd_size(SEXP x) {
  GET_ND(h, x, "length");
  int64_t n = 0;
  int st = mx_ndarray_size(h, &n);
  return result(st, ScalarReal((double)n));
}

SEXP mxr_nd_reshape(SEXP x, SEXP shape) {
  GET_ND(h, x, "mx.nd.reshape");
  int64_t shp[64];
  int ndim = 0;
  const char *err = NULL;
  if (!shape_from_sexp(shape, shp, 32, &ndim, &err)) return arg_fail(MX_ERR_SHAPE, "mx.nd.reshape: %s", err);
  SEXP w = PROTECT(nd_wrapper());
  mx_ndarray_t o = NULL;
  int st = mx_ndarray_reshape(h, shp, ndim, &o);
  return handle_result(w, o, st);
}

SEXP mxr_nd_slice(SEXP x, SEXP begin, SEXP end) {
  GET_ND(h, x, "slice");
  SEXP w = PROTECT(nd_wrapper());
  mx_ndarray_t o = NULL;
  int st = mx_ndarray_slice(h, (int64_t)asReal(begin), (int64_t)asReal(end), &o);
  return handle_result(w, o, st);
}

SEXP mxr_nd_at(SEXP x, SEXP index) {
  GET_ND(h, x, "at");
  SEXP w = PROTECT(nd_wrapper());
  mx_ndarray_t o = NULL;
  int st = mx_ndarray_at(h, (int64_t)asReal(index), &o);
  return handle_result(w, o, st);
}

SEXP mxr_nd_copy(SEXP src, SEXP dst) {
  GET_ND(s, src, "mx.nd.copyto");
  GET_ND(d, dst, "mx.nd.copyto");
  int st = mx_ndarray_copy(s, d);
  return result(st, dst);
}

SEXP mxr_nd_to_device(SEXP x, SEXP dev_type, SEXP dev_id) {
  GET_ND(h, x, "mx.nd.copyto");
  SEXP w = PROTECT(nd_wrapper());
  mx_ndarray_t o = NULL;
  int st = mx_ndarray_to_device(h, asInteger(dev_type), asInteger(dev_id), &o);
  return handle_result(w, o, st);
}

SEXP mxr_nd_detach(SEXP x) {
  GET_ND(h, x, "mx.nd.detach");
  SEXP w = PROTECT(nd_wrapper());
  mx_ndarray_t o = NULL;
  int st = mx_ndarray_detach(h, &o);
  return handle_result(w, o, st);
}

/* ------------------------------------------------------------------ sparse storage */

SEXP mxr_nd_stype(SEXP x) {
  GET_ND(h, x, "mx.nd.stype");
  int s = 0;
  int st = mx_ndarray_stype(h, &s);
  return result(st, ScalarInteger(s));
}

SEXP mxr_nd_cast_storage(SEXP x, SEXP stype) {
  GET_ND(h, x, "mx.nd.tostype");
  SEXP w = PROTECT(nd_wrapper());
  mx_ndarray_t o = NULL;
  int st = mx_ndarray_cast_storage(h, asInteger(stype), &o);
  return handle_result(w, o, st);
}

SEXP mxr_nd_sparse_part(SEXP x, SEXP part) {
  GET_ND(h, x, "sparse part");
  SEXP w = PROTECT(nd_wrapper());
  mx_ndarray_t o = NULL;
  int st = mx_ndarray_sparse_part(h, asInteger(part), &o);
  return handle_result(w, o, st);
}

SEXP mxr_nd_sparse_new(SEXP stype, SEXP shape, SEXP parts) {
  int64_t shp[64];
  int ndim = 0;
  const char *err = NULL;
  if (!shape_from_sexp(shape, shp, 32, &ndim, &err)) return arg_fail(MX_ERR_SHAPE, "sparse array: %s", err);
  mx_ndarray_t sp[MXR_MAX_STACK];
  mx_ndarray_t *p = NULL;
  int np = 0;
  err = nd_list(parts, 0, sp, &p, &np);
  if (err) return arg_fail(MX_ERR_INVALID_ARGUMENT, "sparse array parts: %s", err);
  SEXP w = PROTECT(nd_wrapper());
  mx_ndarray_t o = NULL;
  int st = mx_ndarray_sparse_new(asInteger(stype), shp, ndim, np, p, &o);
  return handle_result(w, o, st);
}

SEXP mxr_nd_shares_memory(SEXP a, SEXP b) {
  GET_ND(ha, a, "mx.nd.shares.memory");
  GET_ND(hb, b, "mx.nd.shares.memory");
  int f = 0;
  int st = mx_ndarray_shares_memory(ha, hb, &f);
  return result(st, ScalarLogical(f != 0));
}

SEXP mxr_nd_free(SEXP x) {
  if (is_nd(x)) h_finalizer(x);
  return R_NilValue;
}

SEXP mxr_waitall(void) {
  int st = mx_waitall();
  return result(st, R_NilValue);
}

/* ------------------------------------------------------------------ conversion R <-> NDArray */

/* Row-major position r walks 0..size-1; `off` is the matching column-major (R) offset. */
#define MXR_PERMUTE(ASSIGN)                                                                    \
  do {                                                                                         \
    if (ndim <= 1) {                                                                           \
      for (int64_t r = 0, off = 0; r < size; ++r, off = r) { ASSIGN; }                        \
    } else {                                                                                   \
      int64_t idx[64], cs[64];                                                                 \
      cs[0] = 1;                                                                               \
      for (int k = 1; k < ndim; ++k) cs[k] = cs[k - 1] * dims[k - 1];                          \
      for (int k = 0; k < ndim; ++k) idx[k] = 0;                                               \
      int64_t off = 0;                                                                         \
      const int last = ndim - 1;                                                               \
      const int64_t dl = dims[last], sl = cs[last];                                            \
      int64_t r = 0;                                                                           \
      while (r < size) {                                                                       \
        for (int64_t j = 0; j < dl; ++j, ++r, off += sl) { ASSIGN; }                           \
        off -= dl * sl;                                                                        \
        int k = last - 1;                                                                      \
        while (k >= 0) {                                                                       \
          idx[k]++;                                                                            \
          off += cs[k];                                                                        \
          if (idx[k] < dims[k]) break;                                                         \
          off -= dims[k] * cs[k];                                                              \
          idx[k] = 0;                                                                          \
          --k;                                                                                 \
        }                                                                                      \
        if (k < 0) break;                                                                      \
      }                                                                                        \
    }                                                                                          \
  } while (0)

static int is_int_dtype(int dt) {
  return dt == MX_INT32 || dt == MX_INT64 || dt == MX_INT8 || dt == MX_UINT8 || dt == MX_BOOL;
}

/* x: double, integer or logical vector holding an R array in column-major order; dims: its
 * logical shape (R's dim, unchanged). Returns an NDArray of that shape, row-major. */
SEXP mxr_nd_from_r(SEXP x, SEXP dimsx, SEXP dtype, SEXP dev_type, SEXP dev_id) {
  int64_t dims[64];
  int ndim = 0;
  const char *err = NULL;
  if (!shape_from_sexp(dimsx, dims, 32, &ndim, &err)) return arg_fail(MX_ERR_SHAPE, "mx.nd.array: %s", err);
  int64_t size = 1;
  for (int k = 0; k < ndim; ++k) {
    if (dims[k] < 0) return arg_fail(MX_ERR_SHAPE, "mx.nd.array: negative dimension");
    size *= dims[k];
  }
  int xt = TYPEOF(x);
  if (xt != REALSXP && xt != INTSXP && xt != LGLSXP)
    return arg_fail(MX_ERR_TYPE, "mx.nd.array: expected a numeric, integer or logical array, got %s",
                    type2char(xt));
  if ((int64_t)XLENGTH(x) != size)
    return arg_fail(MX_ERR_SHAPE, "mx.nd.array: data has %lld elements but its dims give %lld",
                    (long long)XLENGTH(x), (long long)size);
  int dt = asInteger(dtype), devt = asInteger(dev_type), devi = asInteger(dev_id);
  /* Missing values cannot be represented in integer storage. */
  if (xt == INTSXP || xt == LGLSXP) {
    const int *p = xt == INTSXP ? INTEGER(x) : LOGICAL(x);
    for (int64_t i = 0; i < size; ++i)
      if (p[i] == NA_INTEGER)
        return arg_fail(MX_ERR_INVALID_ARGUMENT,
                        "mx.nd.array: input has a missing value (NA) at position %lld; integer and "
                        "logical data cannot hold NA", (long long)(i + 1));
  } else if (is_int_dtype(dt)) {
    const double *p = REAL(x);
    for (int64_t i = 0; i < size; ++i)
      if (ISNAN(p[i]))
        return arg_fail(MX_ERR_INVALID_ARGUMENT,
                        "mx.nd.array: input has NA/NaN at position %lld, which dtype code %d (an "
                        "integer type) cannot hold", (long long)(i + 1), dt);
  }
  /* Staging dtype on the CPU: float32 or float64 for doubles, int32 for integers/logicals; any
   * other dtype or device is reached through mx_ndarray_copy, so the core does the conversion. */
  int stage = xt == REALSXP ? (dt == MX_FLOAT32 ? MX_FLOAT32 : MX_FLOAT64) : MX_INT32;
  int direct = stage == dt && devt == MX_CPU;
  SEXP w = PROTECT(nd_wrapper());
  mx_ndarray_t s = NULL, d = NULL;
  int st = mx_ndarray_new(dims, ndim, stage, MX_CPU, 0, &s);
  void *ptr = NULL;
  if (!st) st = mx_ndarray_data(s, &ptr);
  if (st) goto fail;
  if (size > 0) {
    if (xt == REALSXP && stage == MX_FLOAT32) {
      float *o = (float *)ptr;
      const double *in = REAL(x);
      MXR_PERMUTE(o[r] = (float)in[off]);
    } else if (xt == REALSXP) {
      double *o = (double *)ptr;
      const double *in = REAL(x);
      MXR_PERMUTE(o[r] = in[off]);
    } else {
      int32_t *o = (int32_t *)ptr;
      const int *in = xt == INTSXP ? INTEGER(x) : LOGICAL(x);
      MXR_PERMUTE(o[r] = (int32_t)in[off]);
    }
  }
  if (direct) {
    R_SetExternalPtrAddr(w, s);
    UNPROTECT(1);
    return w;
  }
  st = mx_ndarray_new(dims, ndim, dt, devt, devi, &d);
  if (!st) st = mx_ndarray_copy(s, d);
  if (st) goto fail;
  mx_ndarray_free(s);
  R_SetExternalPtrAddr(w, d);
  UNPROTECT(1);
  return w;
fail:
  UNPROTECT(1);
  {
    SEXP f = PROTECT(mx_fail(st));
    mx_ndarray_free(s);
    mx_ndarray_free(d);
    UNPROTECT(1);
    return f;
  }
}

/* NDArray -> R vector in column-major order with dim set to the logical shape (no dim for 0-d).
 * float types and int64 -> double, int32/int8/uint8 -> integer, bool -> logical. */
SEXP mxr_nd_to_r(SEXP x) {
  GET_ND(h, x, "as.array");
  int stype = MX_STYPE_DEFAULT;
  if (mx_ndarray_stype(h, &stype) == MX_OK && stype != MX_STYPE_DEFAULT) {
    /* csr / row_sparse: densified by the core into a wrapped temporary, then read as usual */
    SEXP w = PROTECT(nd_wrapper());
    mx_ndarray_t d = NULL;
    int sst = mx_ndarray_cast_storage(h, MX_STYPE_DEFAULT, &d);
    SEXP dense = handle_result(w, d, sst);
    if (sst) return dense;
    PROTECT(dense);
    SEXP r = mxr_nd_to_r(dense);
    UNPROTECT(1);
    return r;
  }
  int ndim = 0, dt = 0, devt = 0, devi = 0;
  const int64_t *shp = NULL;
  int st = mx_ndarray_shape(h, &ndim, &shp);
  if (!st) st = mx_ndarray_dtype(h, &dt);
  if (!st) st = mx_ndarray_device(h, &devt, &devi);
  if (!st) st = mx_ndarray_wait_to_read(h);
  if (st) return mx_fail(st);
  int64_t dims[64];
  int64_t size = 1;
  for (int k = 0; k < ndim; ++k) {
    dims[k] = shp[k];
    size *= shp[k];
  }
  if (size > (int64_t)R_XLEN_T_MAX) return arg_fail(MX_ERR_OUT_OF_MEMORY, "as.array: array too large for R");
  /* R's integer NA is INT_MIN: an int32 array holding INT_MIN comes back as doubles (exact), the
   * way length() of a long vector does, rather than turning a value into NA. */
  int int32_min = 0;
  if (dt == MX_INT32 && devt == MX_CPU && size > 0) {
    void *p32 = NULL;
    st = mx_ndarray_data(h, &p32);
    if (st) return mx_fail(st);
    for (int64_t i = 0; i < size && !int32_min; ++i) int32_min = ((const int32_t *)p32)[i] == INT32_MIN;
  }
  int rtype = REALSXP;
  if ((dt == MX_INT32 && !int32_min) || dt == MX_INT8 || dt == MX_UINT8) rtype = INTSXP;
  else if (dt == MX_BOOL) rtype = LGLSXP;
  SEXP res = PROTECT(allocVector(rtype, (R_xlen_t)size));
  SEXP dimv = PROTECT(ndim > 0 ? shape_to_sexp(ndim, dims) : R_NilValue);
  if (ndim > 0 && TYPEOF(dimv) == REALSXP) {
    UNPROTECT(2);
    return arg_fail(MX_ERR_SHAPE, "as.array: a dimension exceeds R's limit");
  }
  /* Read directly from CPU storage when R can take the dtype; otherwise through a CPU copy in
   * float32 (float16/bfloat16 or device arrays), converted by the core. */
  int readable = dt == MX_FLOAT32 || dt == MX_FLOAT64 || dt == MX_INT32 || dt == MX_INT64 ||
                 dt == MX_INT8 || dt == MX_UINT8 || dt == MX_BOOL;
  mx_ndarray_t tmp = NULL, src = h;
  int sdt = dt;
  if (!readable || devt != MX_CPU) {
    sdt = readable ? dt : MX_FLOAT32;
    st = mx_ndarray_new(dims, ndim, sdt, MX_CPU, 0, &tmp);
    if (!st) st = mx_ndarray_copy(h, tmp);
    if (st) goto fail;
    src = tmp;
  }
  void *ptr = NULL;
  if (size > 0) {
    st = mx_ndarray_data(src, &ptr);
    if (st) goto fail;
    switch (sdt) {
      case MX_FLOAT32: { const float *in = (const float *)ptr; double *o = REAL(res); MXR_PERMUTE(o[off] = (double)in[r]); break; }
      case MX_FLOAT64: { const double *in = (const double *)ptr; double *o = REAL(res); MXR_PERMUTE(o[off] = in[r]); break; }
      case MX_INT64: { const int64_t *in = (const int64_t *)ptr; double *o = REAL(res); MXR_PERMUTE(o[off] = (double)in[r]); break; }
      case MX_INT32: {
        const int32_t *in = (const int32_t *)ptr;
        if (rtype == REALSXP) { double *o = REAL(res); MXR_PERMUTE(o[off] = (double)in[r]); }
        else { int *o = INTEGER(res); MXR_PERMUTE(o[off] = in[r]); }
        break;
      }
      case MX_INT8: { const int8_t *in = (const int8_t *)ptr; int *o = INTEGER(res); MXR_PERMUTE(o[off] = in[r]); break; }
      case MX_UINT8: { const uint8_t *in = (const uint8_t *)ptr; int *o = INTEGER(res); MXR_PERMUTE(o[off] = in[r]); break; }
      case MX_BOOL: { const uint8_t *in = (const uint8_t *)ptr; int *o = LOGICAL(res); MXR_PERMUTE(o[off] = in[r] != 0); break; }
      default: break;
    }
  }
  if (tmp) mx_ndarray_free(tmp);
  if (ndim > 0) setAttrib(res, R_DimSymbol, dimv);
  UNPROTECT(2);
  return res;
fail:
  UNPROTECT(2);
  {
    SEXP f = PROTECT(mx_fail(st));
    mx_ndarray_free(tmp);
    UNPROTECT(1);
    return f;
  }
}

/* ------------------------------------------------------------------ operators */

SEXP mxr_op_names(void) {
  int n = 0;
  int st = mx_op_count(&n);
  if (st) return mx_fail(st);
  SEXP r = PROTECT(allocVector(STRSXP, n));
  for (int i = 0; i < n; ++i) {
    const char *nm = NULL;
    st = mx_op_name(i, &nm);
    if (st) {
      UNPROTECT(1);
      return mx_fail(st);
    }
    SET_STRING_ELT(r, i, mkCharCE(nm, CE_UTF8));
  }
  UNPROTECT(1);
  return r;
}

SEXP mxr_op_find(SEXP name) {
  if (TYPEOF(name) != STRSXP || XLENGTH(name) != 1 || STRING_ELT(name, 0) == NA_STRING)
    return arg_fail(MX_ERR_INVALID_ARGUMENT, "operator name must be a single string");
  mx_op_t op = NULL;
  int st = mx_op_find(translateCharUTF8(STRING_ELT(name, 0)), &op);
  if (st) return mx_fail(st);
  return R_MakeExternalPtr(op, tag_op, R_NilValue); /* borrowed, static: no finalizer */
}

static const char *op_get(SEXP x, mx_op_t *out) {
  if (TYPEOF(x) != EXTPTRSXP || R_ExternalPtrTag(x) != tag_op || R_ExternalPtrAddr(x) == NULL)
    return "invalid operator handle";
  *out = (mx_op_t)R_ExternalPtrAddr(x);
  return NULL;
}


SEXP mxr_op_schema(SEXP opx) {
  mx_op_t op;
  const char *e = op_get(opx, &op);
  if (e) return arg_fail(MX_ERR_INVALID_ARGUMENT, "operator schema: %s [mx_op_schema]", e);
  const char *js = NULL;
  int st = mx_op_schema(op, &js);
  return result(st, mk_str(js));
}

SEXP mxr_params_new(SEXP opx, SEXP keys, SEXP values) {
  mx_op_t op;
  const char *e = op_get(opx, &op);
  if (e) return arg_fail(MX_ERR_INVALID_ARGUMENT, "operator parameters: %s [mx_params_new]", e);
  if (TYPEOF(keys) != STRSXP || TYPEOF(values) != STRSXP || XLENGTH(keys) != XLENGTH(values))
    return arg_fail(MX_ERR_INVALID_ARGUMENT, "operator parameters: keys and values must be character vectors of one length [mx_params_new]");
  int n = (int)XLENGTH(keys);
  const char **k = (const char **)R_alloc((size_t)(n > 0 ? n : 1), sizeof(char *));
  const char **v = (const char **)R_alloc((size_t)(n > 0 ? n : 1), sizeof(char *));
  for (int i = 0; i < n; ++i) {
    if (STRING_ELT(keys, i) == NA_STRING || STRING_ELT(values, i) == NA_STRING)
      return arg_fail(MX_ERR_INVALID_ARGUMENT, "operator parameters: parameter keys and values must not be NA [mx_params_new]");
    k[i] = translateCharUTF8(STRING_ELT(keys, i));
    v[i] = translateCharUTF8(STRING_ELT(values, i));
  }
  SEXP w = PROTECT(h_wrapper(tag_params, R_NilValue));
  mx_params_t p = NULL;
  int st = mx_params_new(op, n, k, v, &p);
  return handle_result(w, p, st);
}

static const char *params_get(SEXP x, mx_params_t *out) {
  if (x == R_NilValue) {
    *out = NULL;
    return NULL;
  }
  if (TYPEOF(x) != EXTPTRSXP || R_ExternalPtrTag(x) != tag_params || R_ExternalPtrAddr(x) == NULL)
    return "invalid parameter handle";
  *out = (mx_params_t)R_ExternalPtrAddr(x);
  return NULL;
}

SEXP mxr_params_json(SEXP px) {
  mx_params_t p;
  const char *e = params_get(px, &p);
  if (e || p == NULL) return arg_fail(MX_ERR_INVALID_ARGUMENT, "operator parameters: invalid parameter handle [mx_params_json]");
  const char *js = NULL;
  int st = mx_params_json(p, &js);
  return result(st, mk_str(js));
}

/* inputs: list of MXNDArrays; out: NULL or list of MXNDArrays to write into.
 * Returns a list of new NDArrays, or `out` when given. */
SEXP mxr_op_invoke(SEXP opx, SEXP px, SEXP inputs, SEXP out) {
  mx_op_t op;
  mx_params_t p;
  const char *e = op_get(opx, &op);
  if (!e) e = params_get(px, &p);
  if (e) return arg_fail(MX_ERR_INVALID_ARGUMENT, "operator call: %s [mx_op_invoke]", e);
  mx_ndarray_t stack_in[MXR_MAX_STACK], stack_out[MXR_MAX_STACK];
  mx_ndarray_t *in = NULL, *outs = NULL;
  int nin = 0, nout = 0;
  e = nd_list(inputs, 0, stack_in, &in, &nin);
  if (e) return arg_fail(MX_ERR_INVALID_ARGUMENT, "operator inputs: %s", e);
  if (out != R_NilValue) {
    e = nd_list(out, 0, stack_out, &outs, &nout);
    if (e) return arg_fail(MX_ERR_INVALID_ARGUMENT, "operator out=: %s", e);
    if (nout == 0) return arg_fail(MX_ERR_INVALID_ARGUMENT, "operator out=: empty list");
  }
  int k = 0;
  mx_ndarray_t *res = NULL;
  int st = mx_op_invoke(op, p, nin, in, nout, outs, &k, &res);
  if (st) return mx_fail(st);
  if (nout > 0) return out;
  return wrap_handles(k, res);
}

SEXP mxr_op_invoke1(SEXP opx, SEXP px, SEXP inputs) {
  mx_op_t op;
  mx_params_t p;
  const char *e = op_get(opx, &op);
  if (!e) e = params_get(px, &p);
  if (e) return arg_fail(MX_ERR_INVALID_ARGUMENT, "operator call: %s [mx_op_invoke1]", e);
  mx_ndarray_t stack_in[MXR_MAX_STACK];
  mx_ndarray_t *in = NULL;
  int nin = 0;
  e = nd_list(inputs, 0, stack_in, &in, &nin);
  if (e) return arg_fail(MX_ERR_INVALID_ARGUMENT, "operator inputs: %s", e);
  SEXP w = PROTECT(nd_wrapper());
  mx_ndarray_t o = NULL;
  int st = mx_op_invoke1(op, p, nin, in, &o);
  return handle_result(w, o, st);
}

/* ------------------------------------------------------------------ autograd */

SEXP mxr_ag_set_recording(SEXP flag) {
  int prev = 0;
  int st = mx_autograd_set_recording(asLogical(flag) == TRUE, &prev);
  return result(st, ScalarLogical(prev != 0));
}

SEXP mxr_ag_set_training(SEXP flag) {
  int prev = 0;
  int st = mx_autograd_set_training(asLogical(flag) == TRUE, &prev);
  return result(st, ScalarLogical(prev != 0));
}

SEXP mxr_ag_is_recording(void) {
  int f = 0;
  int st = mx_autograd_is_recording(&f);
  return result(st, ScalarLogical(f != 0));
}

SEXP mxr_ag_is_training(void) {
  int f = 0;
  int st = mx_autograd_is_training(&f);
  return result(st, ScalarLogical(f != 0));
}

SEXP mxr_ag_mark_variables(SEXP vars, SEXP reqs, SEXP grads) {
  mx_ndarray_t sv[MXR_MAX_STACK], sg[MXR_MAX_STACK];
  mx_ndarray_t *v = NULL, *g = NULL;
  int nv = 0, ng = 0;
  const char *e = nd_list(vars, 0, sv, &v, &nv);
  if (e) return arg_fail(MX_ERR_INVALID_ARGUMENT, "mx.nd.attach.grad: %s", e);
  if (TYPEOF(reqs) != INTSXP || XLENGTH(reqs) != nv)
    return arg_fail(MX_ERR_INVALID_ARGUMENT, "mx.nd.attach.grad: one grad_req per variable expected");
  if (grads != R_NilValue) {
    e = nd_list(grads, 0, sg, &g, &ng);
    if (e) return arg_fail(MX_ERR_INVALID_ARGUMENT, "mx.nd.attach.grad: %s", e);
    if (ng != nv) return arg_fail(MX_ERR_INVALID_ARGUMENT, "mx.nd.attach.grad: one gradient buffer per variable expected");
  }
  int st = mx_autograd_mark_variables(nv, v, INTEGER(reqs), g);
  return result(st, R_NilValue);
}

SEXP mxr_nd_grad(SEXP x) {
  GET_ND(h, x, "mx.nd.grad");
  SEXP w = PROTECT(nd_wrapper());
  mx_ndarray_t o = NULL;
  int st = mx_ndarray_grad(h, &o);
  if (st) {
    UNPROTECT(1);
    return mx_fail(st);
  }
  if (o == NULL) {
    UNPROTECT(1);
    return R_NilValue;
  }
  R_SetExternalPtrAddr(w, o);
  UNPROTECT(1);
  return w;
}

SEXP mxr_ag_backward(SEXP heads, SEXP head_grads, SEXP retain, SEXP train) {
  mx_ndarray_t sh[MXR_MAX_STACK], sg[MXR_MAX_STACK];
  mx_ndarray_t *h = NULL, *g = NULL;
  int nh = 0, ng = 0;
  const char *e = nd_list(heads, 0, sh, &h, &nh);
  if (e) return arg_fail(MX_ERR_INVALID_ARGUMENT, "mx.autograd.backward: heads: %s", e);
  if (head_grads != R_NilValue) {
    e = nd_list(head_grads, 1, sg, &g, &ng);
    if (e) return arg_fail(MX_ERR_INVALID_ARGUMENT, "mx.autograd.backward: head.grads: %s", e);
    if (ng != nh) return arg_fail(MX_ERR_INVALID_ARGUMENT, "mx.autograd.backward: %d heads but %d head gradients", nh, ng);
  }
  int st = mx_autograd_backward(nh, h, g, asLogical(retain) == TRUE, asLogical(train) == TRUE);
  return result(st, R_NilValue);
}

SEXP mxr_ag_grad(SEXP heads, SEXP head_grads, SEXP vars, SEXP retain, SEXP create, SEXP train) {
  mx_ndarray_t sh[MXR_MAX_STACK], sg[MXR_MAX_STACK], sv[MXR_MAX_STACK];
  mx_ndarray_t *h = NULL, *g = NULL, *v = NULL;
  int nh = 0, ng = 0, nv = 0;
  const char *e = nd_list(heads, 0, sh, &h, &nh);
  if (!e && head_grads != R_NilValue) e = nd_list(head_grads, 1, sg, &g, &ng);
  if (!e) e = nd_list(vars, 0, sv, &v, &nv);
  if (e) return arg_fail(MX_ERR_INVALID_ARGUMENT, "mx.autograd.grad: %s", e);
  if (g && ng != nh) return arg_fail(MX_ERR_INVALID_ARGUMENT, "mx.autograd.grad: %d heads but %d head gradients", nh, ng);
  mx_ndarray_t *res = (mx_ndarray_t *)R_alloc((size_t)(nv > 0 ? nv : 1), sizeof(mx_ndarray_t));
  int st = mx_autograd_grad(nh, h, g, nv, v, asLogical(retain) == TRUE, asLogical(create) == TRUE,
                            asLogical(train) == TRUE, res);
  if (st) return mx_fail(st);
  return wrap_handles(nv, res);
}

/* ------------------------------------------------------------------ files */

SEXP mxr_nd_save(SEXP path, SEXP arrays, SEXP names, SEXP format) {
  if (TYPEOF(path) != STRSXP || XLENGTH(path) != 1 || STRING_ELT(path, 0) == NA_STRING)
    return arg_fail(MX_ERR_INVALID_ARGUMENT, "mx.nd.save: filename must be a single string");
  mx_ndarray_t sa[MXR_MAX_STACK];
  mx_ndarray_t *a = NULL;
  int n = 0;
  const char *e = nd_list(arrays, 0, sa, &a, &n);
  if (e) return arg_fail(MX_ERR_INVALID_ARGUMENT, "mx.nd.save: %s", e);
  const char **nm = NULL;
  if (names != R_NilValue) {
    if (TYPEOF(names) != STRSXP || XLENGTH(names) != n)
      return arg_fail(MX_ERR_INVALID_ARGUMENT, "mx.nd.save: one name per array expected");
    nm = (const char **)R_alloc((size_t)(n > 0 ? n : 1), sizeof(char *));
    for (int i = 0; i < n; ++i) nm[i] = translateCharUTF8(STRING_ELT(names, i));
  }
  const char *p = R_ExpandFileName(translateChar(STRING_ELT(path, 0)));
  int st = mx_ndarray_save(p, n, a, nm, asInteger(format));
  return result(st, R_NilValue);
}

SEXP mxr_nd_load(SEXP path) {
  if (TYPEOF(path) != STRSXP || XLENGTH(path) != 1 || STRING_ELT(path, 0) == NA_STRING)
    return arg_fail(MX_ERR_INVALID_ARGUMENT, "mx.nd.load: filename must be a single string");
  const char *p = R_ExpandFileName(translateChar(STRING_ELT(path, 0)));
  int n = 0;
  mx_ndarray_t *h = NULL;
  const char **names = NULL;
  int st = mx_ndarray_load(p, &n, &h, &names);
  if (st) return mx_fail(st);
  /* Wrap the handles first (freed on an allocation error), then attach names. */
  SEXP lst = PROTECT(wrap_handles(n, h));
  if (names) {
    SEXP nm = PROTECT(allocVector(STRSXP, n));
    for (int i = 0; i < n; ++i) SET_STRING_ELT(nm, i, mkCharCE(names[i] ? names[i] : "", CE_UTF8));
    setAttrib(lst, R_NamesSymbol, nm);
    UNPROTECT(1);
  }
  UNPROTECT(1);
  return lst;
}

/* ------------------------------------------------------------------ other handles */

static void *h_get(SEXP x, SEXP tag) {
  if (TYPEOF(x) != EXTPTRSXP || R_ExternalPtrTag(x) != tag) return NULL;
  return R_ExternalPtrAddr(x);
}

#define GET_H(type, var, sexp, tag, what)                                                      \
  type var = (type)h_get((sexp), (tag));                                                       \
  if (var == NULL)                                                                             \
    return arg_fail(MX_ERR_INVALID_ARGUMENT, "%s: invalid or expired handle (handles do not "  \
                    "survive saving the R session; use mx.serialize / mx.model.save)", (what));

static const char *str1(SEXP s) {
  if (TYPEOF(s) != STRSXP || XLENGTH(s) != 1 || STRING_ELT(s, 0) == NA_STRING) return NULL;
  return translateCharUTF8(STRING_ELT(s, 0));
}

static const char *str1_or_null(SEXP s) { return s == R_NilValue ? NULL : str1(s); }

static const char **str_vec(SEXP s, int *n) {
  *n = (s == R_NilValue) ? 0 : (int)XLENGTH(s);
  const char **v = (const char **)R_alloc((size_t)(*n > 0 ? *n : 1), sizeof(char *));
  for (int i = 0; i < *n; ++i) v[i] = translateCharUTF8(STRING_ELT(s, i));
  return v;
}



static const char *sym_list(SEXP lst, mx_symbol_t **out, int *n) {
  if (lst == R_NilValue) {
    *n = 0;
    *out = NULL;
    return NULL;
  }
  if (TYPEOF(lst) != VECSXP) return "expected a list of MXSymbols";
  *n = (int)XLENGTH(lst);
  mx_symbol_t *b = (mx_symbol_t *)R_alloc((size_t)(*n > 0 ? *n : 1), sizeof(mx_symbol_t));
  for (int i = 0; i < *n; ++i) {
    b[i] = (mx_symbol_t)h_get(VECTOR_ELT(lst, i), tag_sym);
    if (!b[i]) return "expected MXSymbols";
  }
  *out = b;
  return NULL;
}

/* ------------------------------------------------------------------ symbols */

SEXP mxr_sym_variable(SEXP name, SEXP keys, SEXP vals) {
  const char *nm = str1(name);
  if (!nm) return arg_fail(MX_ERR_INVALID_ARGUMENT, "mx.symbol.Variable: name must be a single string");
  int nk = 0, nv = 0;
  const char **k = str_vec(keys, &nk), **v = str_vec(vals, &nv);
  if (nk != nv) return arg_fail(MX_ERR_INVALID_ARGUMENT, "mx.symbol.Variable: attribute keys and values differ in length");
  SEXP w = PROTECT(h_wrapper(tag_sym, cls_sym));
  mx_symbol_t h = NULL;
  int st = mx_symbol_variable(nm, nk, k, v, &h);
  return handle_result(w, h, st);
}

SEXP mxr_sym_compose(SEXP opx, SEXP px, SEXP name, SEXP args, SEXP kwnames, SEXP kwargs, SEXP akeys, SEXP avals) {
  mx_op_t op;
  mx_params_t p;
  const char *e = op_get(opx, &op);
  if (!e) e = params_get(px, &p);
  if (e) return arg_fail(MX_ERR_INVALID_ARGUMENT, "mx.symbol: %s", e);
  mx_symbol_t *a = NULL, *kw = NULL;
  int na = 0, nkw = 0, nkn = 0, nak = 0, nav = 0;
  e = sym_list(args, &a, &na);
  if (!e) e = sym_list(kwargs, &kw, &nkw);
  if (e) return arg_fail(MX_ERR_INVALID_ARGUMENT, "mx.symbol: inputs: %s", e);
  const char **kn = str_vec(kwnames, &nkn);
  const char **ak = str_vec(akeys, &nak), **av = str_vec(avals, &nav);
  if (nkn != nkw || nak != nav) return arg_fail(MX_ERR_INVALID_ARGUMENT, "mx.symbol: names and values differ in length");
  SEXP w = PROTECT(h_wrapper(tag_sym, cls_sym));
  mx_symbol_t h = NULL;
  int st = mx_symbol_compose(op, p, str1_or_null(name), na, a, nkw, kn, kw, nak, ak, av, &h);
  return handle_result(w, h, st);
}

SEXP mxr_sym_group(SEXP lst) {
  mx_symbol_t *a = NULL;
  int n = 0;
  const char *e = sym_list(lst, &a, &n);
  if (e) return arg_fail(MX_ERR_INVALID_ARGUMENT, "mx.symbol.Group: %s", e);
  SEXP w = PROTECT(h_wrapper(tag_sym, cls_sym));
  mx_symbol_t h = NULL;
  int st = mx_symbol_group(n, a, &h);
  return handle_result(w, h, st);
}

SEXP mxr_sym_num_outputs(SEXP s) {
  GET_H(mx_symbol_t, h, s, tag_sym, "MXSymbol");
  int n = 0;
  int st = mx_symbol_num_outputs(h, &n);
  return result(st, ScalarInteger(n));
}

SEXP mxr_sym_get_output(SEXP s, SEXP index) {
  GET_H(mx_symbol_t, h, s, tag_sym, "MXSymbol");
  SEXP w = PROTECT(h_wrapper(tag_sym, cls_sym));
  mx_symbol_t o = NULL;
  int st = mx_symbol_get_output(h, asInteger(index), &o);
  return handle_result(w, o, st);
}

SEXP mxr_sym_internals(SEXP s) {
  GET_H(mx_symbol_t, h, s, tag_sym, "MXSymbol");
  SEXP w = PROTECT(h_wrapper(tag_sym, cls_sym));
  mx_symbol_t o = NULL;
  int st = mx_symbol_get_internals(h, &o);
  return handle_result(w, o, st);
}

SEXP mxr_sym_list(SEXP s, SEXP kind) {
  GET_H(mx_symbol_t, h, s, tag_sym, "MXSymbol");
  int n = 0;
  const char **names = NULL;
  int st = mx_symbol_list(h, asInteger(kind), &n, &names);
  if (st) return mx_fail(st);
  SEXP r = PROTECT(allocVector(STRSXP, n));
  for (int i = 0; i < n; ++i) SET_STRING_ELT(r, i, mkCharCE(names[i], CE_UTF8));
  UNPROTECT(1);
  return r;
}

SEXP mxr_sym_name(SEXP s) {
  GET_H(mx_symbol_t, h, s, tag_sym, "MXSymbol");
  const char *nm = NULL;
  int st = mx_symbol_name(h, &nm);
  return result(st, mk_str(nm));
}

SEXP mxr_sym_get_attr(SEXP s, SEXP key) {
  GET_H(mx_symbol_t, h, s, tag_sym, "MXSymbol");
  const char *k = str1(key), *v = NULL;
  if (!k) return arg_fail(MX_ERR_INVALID_ARGUMENT, "attribute key must be a single string");
  int st = mx_symbol_get_attr(h, k, &v);
  if (st) return mx_fail(st);
  return v ? mk_str(v) : R_NilValue;
}

SEXP mxr_sym_set_attr(SEXP s, SEXP key, SEXP value) {
  GET_H(mx_symbol_t, h, s, tag_sym, "MXSymbol");
  const char *k = str1(key), *v = str1(value);
  if (!k || !v) return arg_fail(MX_ERR_INVALID_ARGUMENT, "attribute key and value must be single strings");
  int st = mx_symbol_set_attr(h, k, v);
  return result(st, R_NilValue);
}

SEXP mxr_sym_list_attr(SEXP s, SEXP recursive) {
  GET_H(mx_symbol_t, h, s, tag_sym, "MXSymbol");
  const char *js = NULL;
  int st = mx_symbol_list_attr(h, asLogical(recursive) == TRUE, &js);
  return result(st, mk_str(js));
}

SEXP mxr_sym_to_json(SEXP s) {
  GET_H(mx_symbol_t, h, s, tag_sym, "MXSymbol");
  const char *js = NULL;
  int st = mx_symbol_to_json(h, &js);
  return result(st, mk_str(js));
}

SEXP mxr_sym_from_json(SEXP json) {
  const char *js = str1(json);
  if (!js) return arg_fail(MX_ERR_INVALID_ARGUMENT, "mx.symbol.load.json: expected a single string");
  SEXP w = PROTECT(h_wrapper(tag_sym, cls_sym));
  mx_symbol_t h = NULL;
  int st = mx_symbol_from_json(js, &h);
  return handle_result(w, h, st);
}

SEXP mxr_sym_save(SEXP s, SEXP path) {
  GET_H(mx_symbol_t, h, s, tag_sym, "mx.symbol.save");
  if (!str1(path)) return arg_fail(MX_ERR_INVALID_ARGUMENT, "mx.symbol.save: filename must be a single string");
  int st = mx_symbol_save(h, R_ExpandFileName(translateChar(STRING_ELT(path, 0))));
  return result(st, R_NilValue);
}

SEXP mxr_sym_load(SEXP path) {
  if (!str1(path)) return arg_fail(MX_ERR_INVALID_ARGUMENT, "mx.symbol.load: filename must be a single string");
  SEXP w = PROTECT(h_wrapper(tag_sym, cls_sym));
  mx_symbol_t h = NULL;
  int st = mx_symbol_load(R_ExpandFileName(translateChar(STRING_ELT(path, 0))), &h);
  return handle_result(w, h, st);
}

SEXP mxr_sym_infer_shape(SEXP s, SEXP known, SEXP partial) {
  GET_H(mx_symbol_t, h, s, tag_sym, "mx.symbol.infer.shape");
  const char *js = NULL;
  int st = mx_symbol_infer_shape(h, str1(known), asLogical(partial) == TRUE, &js);
  return result(st, mk_str(js));
}

/* ------------------------------------------------------------------ executors */

SEXP mxr_exec_simple_bind(SEXP s, SEXP devt, SEXP devid, SEXP shapes, SEXP types, SEXP req, SEXP reqs) {
  GET_H(mx_symbol_t, h, s, tag_sym, "mx.simple.bind");
  SEXP w = PROTECT(h_wrapper(tag_exec, R_NilValue));
  mx_executor_t e = NULL;
  int st = mx_executor_simple_bind(h, asInteger(devt), asInteger(devid), str1(shapes), str1_or_null(types),
                                   asInteger(req), str1_or_null(reqs), &e);
  return handle_result(w, e, st);
}

SEXP mxr_exec_bind(SEXP s, SEXP devt, SEXP devid, SEXP args, SEXP grads, SEXP reqs, SEXP aux) {
  GET_H(mx_symbol_t, h, s, tag_sym, "mx.exec.bind");
  mx_ndarray_t sa[MXR_MAX_STACK], sg[MXR_MAX_STACK], sx[MXR_MAX_STACK];
  mx_ndarray_t *a = NULL, *g = NULL, *x = NULL;
  int na = 0, ng = 0, nx = 0;
  const char *e = nd_list(args, 0, sa, &a, &na);
  if (!e && grads != R_NilValue) e = nd_list(grads, 1, sg, &g, &ng);
  if (!e) e = nd_list(aux, 0, sx, &x, &nx);
  if (e) return arg_fail(MX_ERR_INVALID_ARGUMENT, "mx.exec.bind: %s", e);
  if ((g && ng != na) || TYPEOF(reqs) != INTSXP || XLENGTH(reqs) != na)
    return arg_fail(MX_ERR_INVALID_ARGUMENT, "mx.exec.bind: one gradient and grad.req per argument expected");
  SEXP w = PROTECT(h_wrapper(tag_exec, R_NilValue));
  mx_executor_t o = NULL;
  int st = mx_executor_bind(h, asInteger(devt), asInteger(devid), na, a, g, INTEGER(reqs), nx, x, &o);
  return handle_result(w, o, st);
}

SEXP mxr_exec_forward(SEXP x, SEXP is_train) {
  GET_H(mx_executor_t, h, x, tag_exec, "mx.exec.forward");
  int st = mx_executor_forward(h, asLogical(is_train) == TRUE);
  return result(st, R_NilValue);
}

SEXP mxr_exec_backward(SEXP x, SEXP head_grads, SEXP is_train) {
  GET_H(mx_executor_t, h, x, tag_exec, "mx.exec.backward");
  mx_ndarray_t sg[MXR_MAX_STACK];
  mx_ndarray_t *g = NULL;
  int ng = 0;
  if (head_grads != R_NilValue) {
    const char *e = nd_list(head_grads, 1, sg, &g, &ng);
    if (e) return arg_fail(MX_ERR_INVALID_ARGUMENT, "mx.exec.backward: %s", e);
  }
  int st = mx_executor_backward(h, ng, g, asLogical(is_train) == TRUE);
  return result(st, R_NilValue);
}

SEXP mxr_exec_arrays(SEXP x, SEXP kind) {
  GET_H(mx_executor_t, h, x, tag_exec, "MXExecutor");
  int n = 0;
  mx_ndarray_t *a = NULL;
  int st = mx_executor_arrays(h, asInteger(kind), &n, &a);
  if (st) return mx_fail(st);
  mx_ndarray_t *copy = (mx_ndarray_t *)R_alloc((size_t)(n > 0 ? n : 1), sizeof(mx_ndarray_t));
  for (int i = 0; i < n; ++i) copy[i] = a[i];
  return wrap_handles(n, copy);
}

/* ------------------------------------------------------------------ optimizers */

SEXP mxr_opt_new(SEXP name, SEXP json) {
  const char *nm = str1(name), *js = str1(json);
  if (!nm || !js) return arg_fail(MX_ERR_INVALID_ARGUMENT, "mx.opt.create: name and hyperparameters must be strings");
  SEXP w = PROTECT(h_wrapper(tag_opt, R_NilValue));
  mx_optimizer_t h = NULL;
  int st = mx_optimizer_new(nm, js, &h);
  return handle_result(w, h, st);
}

SEXP mxr_opt_set(SEXP o, SEXP key, SEXP value) {
  GET_H(mx_optimizer_t, h, o, tag_opt, "optimizer");
  const char *k = str1(key), *v = str1(value);
  if (!k || !v) return arg_fail(MX_ERR_INVALID_ARGUMENT, "optimizer: key and value must be strings");
  int st = mx_optimizer_set(h, k, v);
  return result(st, R_NilValue);
}

SEXP mxr_opt_set_index(SEXP o, SEXP index, SEXP name, SEXP lr_mult, SEXP wd_mult) {
  GET_H(mx_optimizer_t, h, o, tag_opt, "optimizer");
  int st = mx_optimizer_set_index(h, asInteger(index), str1(name), asReal(lr_mult), asReal(wd_mult));
  return result(st, R_NilValue);
}

SEXP mxr_opt_update(SEXP o, SEXP indices, SEXP weights, SEXP grads) {
  GET_H(mx_optimizer_t, h, o, tag_opt, "optimizer");
  mx_ndarray_t sw[MXR_MAX_STACK], sg[MXR_MAX_STACK];
  mx_ndarray_t *w = NULL, *g = NULL;
  int nw = 0, ng = 0;
  const char *e = nd_list(weights, 0, sw, &w, &nw);
  if (!e) e = nd_list(grads, 0, sg, &g, &ng);
  if (e) return arg_fail(MX_ERR_INVALID_ARGUMENT, "optimizer update: %s", e);
  if (nw != ng || TYPEOF(indices) != INTSXP || XLENGTH(indices) != nw)
    return arg_fail(MX_ERR_INVALID_ARGUMENT, "optimizer update: one index, weight and gradient each expected");
  int st = mx_optimizer_update(h, nw, INTEGER(indices), w, g);
  return result(st, R_NilValue);
}

SEXP mxr_opt_lr(SEXP o) {
  GET_H(mx_optimizer_t, h, o, tag_opt, "optimizer");
  double lr = 0;
  int st = mx_optimizer_learning_rate(h, &lr);
  return result(st, ScalarReal(lr));
}

SEXP mxr_opt_json(SEXP o) {
  GET_H(mx_optimizer_t, h, o, tag_opt, "optimizer");
  const char *js = NULL;
  int st = mx_optimizer_json(h, &js);
  return result(st, mk_str(js));
}

static SEXP opt_states_file(SEXP o, SEXP path, int (*io)(mx_optimizer_t, const char *)) {
  GET_H(mx_optimizer_t, h, o, tag_opt, "optimizer");
  if (!str1(path)) return arg_fail(MX_ERR_INVALID_ARGUMENT, "optimizer states: filename must be a single string");
  return result(io(h, R_ExpandFileName(translateChar(STRING_ELT(path, 0)))), R_NilValue);
}

SEXP mxr_opt_save(SEXP o, SEXP path) { return opt_states_file(o, path, mx_optimizer_save_states); }
SEXP mxr_opt_load(SEXP o, SEXP path) { return opt_states_file(o, path, mx_optimizer_load_states); }

/* ------------------------------------------------------------------ kvstore */

SEXP mxr_kv_new(SEXP type) {
  const char *t = str1(type);
  if (!t) return arg_fail(MX_ERR_INVALID_ARGUMENT, "mx.kv.create: type must be a single string");
  SEXP w = PROTECT(h_wrapper(tag_kv, R_NilValue));
  mx_kvstore_t h = NULL;
  int st = mx_kvstore_new(t, &h);
  return handle_result(w, h, st);
}

SEXP mxr_kv_config(SEXP k) {
  GET_H(mx_kvstore_t, h, k, tag_kv, "kvstore");
  const char *js = NULL;
  int st = mx_kvstore_config(h, &js);
  return result(st, mk_str(js));
}

/* Keys of a character vector (R_alloc'd pointers). */
static const char *kv_keys(SEXP keys, int n, const char ***out) {
  if (TYPEOF(keys) != STRSXP || XLENGTH(keys) != n) return "keys must be a character vector, one per array";
  const char **ks = (const char **)R_alloc((size_t)(n > 0 ? n : 1), sizeof(char *));
  for (int i = 0; i < n; ++i) {
    if (STRING_ELT(keys, i) == NA_STRING) return "keys must not be NA";
    ks[i] = translateCharUTF8(STRING_ELT(keys, i));
  }
  *out = ks;
  return NULL;
}

/* op: "init", "push", "pull", "pushpull", "pushpull_grads" (the gradients backward writes:
 * reduced while backward runs when overlap is on) or "broadcast"; outs/out_keys only for the
 * last three. */
SEXP mxr_kv_call(SEXP k, SEXP op, SEXP keys, SEXP values, SEXP out_keys, SEXP outs) {
  GET_H(mx_kvstore_t, h, k, tag_kv, "kvstore");
  const char *o = str1(op);
  if (!o) return arg_fail(MX_ERR_INVALID_ARGUMENT, "kvstore: op must be a string");
  mx_ndarray_t sv[MXR_MAX_STACK], so[MXR_MAX_STACK];
  mx_ndarray_t *v = NULL, *w = NULL;
  int nv = 0, nw = 0;
  const char **ks = NULL, **oks = NULL;
  const char *e = nd_list(values, 0, sv, &v, &nv);
  if (!e) e = kv_keys(keys, nv, &ks);
  if (!e && outs != R_NilValue) {
    e = nd_list(outs, 0, so, &w, &nw);
    if (!e) e = kv_keys(out_keys, nw, &oks);
  }
  if (e) return arg_fail(MX_ERR_INVALID_ARGUMENT, "kvstore %s: %s", o, e);
  int st;
  if (!strcmp(o, "init")) st = mx_kvstore_init(h, nv, ks, v);
  else if (!strcmp(o, "push")) st = mx_kvstore_push(h, nv, ks, v, 0);
  else if (!strcmp(o, "pull")) st = mx_kvstore_pull(h, nv, ks, v, 0);
  else if (!strcmp(o, "pushpull")) st = mx_kvstore_pushpull(h, nv, ks, v, nw, oks, w, 0);
  else if (!strcmp(o, "pushpull_grads")) st = mx_kvstore_pushpull_grads(h, nv, ks, v, nw, oks, w, 0);
  else if (!strcmp(o, "broadcast")) st = mx_kvstore_broadcast(h, nv, ks, v, nw, oks, w, 0);
  else return arg_fail(MX_ERR_INVALID_ARGUMENT, "kvstore: unknown operation '%s'", o);
  return result(st, R_NilValue);
}

SEXP mxr_kv_set_optimizer(SEXP k, SEXP opt) {
  GET_H(mx_kvstore_t, h, k, tag_kv, "kvstore");
  GET_H(mx_optimizer_t, o, opt, tag_opt, "optimizer");
  int st = mx_kvstore_set_optimizer(h, o);
  return result(st, R_NilValue);
}

/* what: "barrier", "overlap_sync", "save", "load", "compression" (arg: JSON), or a setting name
 * (arg: JSON). */
SEXP mxr_kv_ctl(SEXP k, SEXP what, SEXP arg) {
  GET_H(mx_kvstore_t, h, k, tag_kv, "kvstore");
  const char *wt = str1(what), *a = arg == R_NilValue ? NULL : str1(arg);
  if (!wt) return arg_fail(MX_ERR_INVALID_ARGUMENT, "kvstore: bad control call");
  int st;
  if (!strcmp(wt, "barrier")) st = mx_kvstore_barrier(h);
  else if (!strcmp(wt, "overlap_sync")) st = mx_kvstore_overlap_sync(h);
  else if (!a) return arg_fail(MX_ERR_INVALID_ARGUMENT, "kvstore %s: argument must be a single string", wt);
  else if (!strcmp(wt, "save")) st = mx_kvstore_save_optimizer_states(h, R_ExpandFileName(a));
  else if (!strcmp(wt, "load")) st = mx_kvstore_load_optimizer_states(h, R_ExpandFileName(a));
  else if (!strcmp(wt, "compression")) st = mx_kvstore_set_gradient_compression(h, a);
  else st = mx_kvstore_set_config(h, wt, a);
  return result(st, R_NilValue);
}

/* ------------------------------------------------------------------ initializers */

SEXP mxr_init_new(SEXP json) {
  const char *js = str1(json);
  if (!js) return arg_fail(MX_ERR_INVALID_ARGUMENT, "initializer: description must be a single string");
  SEXP w = PROTECT(h_wrapper(tag_init, R_NilValue));
  mx_initializer_t h = NULL;
  int st = mx_initializer_new(js, &h);
  return handle_result(w, h, st);
}

SEXP mxr_init_apply(SEXP i, SEXP name, SEXP attrs, SEXP arr) {
  GET_H(mx_initializer_t, h, i, tag_init, "initializer");
  GET_ND(a, arr, "initializer");
  const char *nm = str1(name);
  if (!nm) return arg_fail(MX_ERR_INVALID_ARGUMENT, "initializer: name must be a single string");
  int st = mx_initializer_apply_desc(h, nm, str1_or_null(attrs), a);
  return result(st, R_NilValue);
}

SEXP mxr_init_json(SEXP i) {
  GET_H(mx_initializer_t, h, i, tag_init, "initializer");
  const char *js = NULL;
  int st = mx_initializer_json(h, &js);
  return result(st, mk_str(js));
}

/* ------------------------------------------------------------------ metrics */

SEXP mxr_metric_new(SEXP name, SEXP json) {
  const char *nm = str1(name), *js = str1(json);
  if (!nm || !js) return arg_fail(MX_ERR_INVALID_ARGUMENT, "metric: name and arguments must be strings");
  SEXP w = PROTECT(h_wrapper(tag_metric, R_NilValue));
  mx_metric_t h = NULL;
  int st = mx_metric_new(nm, js, &h);
  return handle_result(w, h, st);
}

SEXP mxr_metric_update(SEXP m, SEXP labels, SEXP preds) {
  GET_H(mx_metric_t, h, m, tag_metric, "metric");
  mx_ndarray_t sl[MXR_MAX_STACK], sp[MXR_MAX_STACK];
  mx_ndarray_t *l = NULL, *p = NULL;
  int nl = 0, np = 0;
  const char *e = NULL;
  if (labels != R_NilValue) e = nd_list(labels, 0, sl, &l, &nl);
  if (!e) e = nd_list(preds, 0, sp, &p, &np);
  if (e) return arg_fail(MX_ERR_INVALID_ARGUMENT, "metric update: %s", e);
  if (l && nl != np) return arg_fail(MX_ERR_INVALID_ARGUMENT, "metric update: %d labels but %d predictions", nl, np);
  int st = mx_metric_update(h, np, l, p);
  return result(st, R_NilValue);
}

SEXP mxr_metric_reset(SEXP m) {
  GET_H(mx_metric_t, h, m, tag_metric, "metric");
  int st = mx_metric_reset(h);
  return result(st, R_NilValue);
}

SEXP mxr_metric_get(SEXP m, SEXP global) {
  GET_H(mx_metric_t, h, m, tag_metric, "metric");
  const char *nm = NULL;
  double v = 0;
  int64_t n = 0;
  int st = asLogical(global) == TRUE ? mx_metric_get_global(h, &nm, &v, &n) : mx_metric_get(h, &nm, &v, &n);
  if (st) return mx_fail(st);
  SEXP r = PROTECT(allocVector(VECSXP, 3));
  SET_VECTOR_ELT(r, 0, mk_str(nm));
  SET_VECTOR_ELT(r, 1, ScalarReal(v));
  SET_VECTOR_ELT(r, 2, ScalarReal((double)n));
  UNPROTECT(1);
  return r;
}


/* ------------------------------------------------------------------ data iterators */

SEXP mxr_iter_new(SEXP name, SEXP json) {
  const char *nm = str1(name), *js = str1(json);
  if (!nm || !js) return arg_fail(MX_ERR_INVALID_ARGUMENT, "data iterator: name and arguments must be strings");
  SEXP w = PROTECT(h_wrapper(tag_iter, R_NilValue));
  mx_dataiter_t h = NULL;
  int st = mx_dataiter_new(nm, js, &h);
  return handle_result(w, h, st);
}

SEXP mxr_iter_next(SEXP x) {
  GET_H(mx_dataiter_t, h, x, tag_iter, "data iterator");
  int has = 0;
  int st = mx_dataiter_next(h, &has);
  return result(st, ScalarLogical(has != 0));
}

SEXP mxr_iter_reset(SEXP x) {
  GET_H(mx_dataiter_t, h, x, tag_iter, "data iterator");
  int st = mx_dataiter_reset(h);
  return result(st, R_NilValue);
}

/* kind 0: data arrays, 1: label arrays (new handles, wrapped). */
SEXP mxr_iter_arrays(SEXP x, SEXP kind) {
  GET_H(mx_dataiter_t, h, x, tag_iter, "data iterator");
  int n = 0;
  mx_ndarray_t *a = NULL;
  int st = asInteger(kind) == 1 ? mx_dataiter_label(h, &n, &a) : mx_dataiter_data(h, &n, &a);
  if (st) return mx_fail(st);
  /* copy out of the thread-local buffer before any R allocation */
  mx_ndarray_t copy[MXR_MAX_STACK];
  if (n > MXR_MAX_STACK) {
    for (int i = 0; i < n; ++i) mx_ndarray_free(a[i]);
    return arg_fail(MX_ERR_INVALID_ARGUMENT, "data iterator: more than %d arrays per batch", MXR_MAX_STACK);
  }
  for (int i = 0; i < n; ++i) copy[i] = a[i];
  return wrap_handles(n, copy);
}

SEXP mxr_iter_pad(SEXP x) {
  GET_H(mx_dataiter_t, h, x, tag_iter, "data iterator");
  int64_t pad = 0;
  int st = mx_dataiter_pad(h, &pad);
  return result(st, ScalarReal((double)pad));
}

SEXP mxr_iter_index(SEXP x) {
  GET_H(mx_dataiter_t, h, x, tag_iter, "data iterator");
  int n = 0;
  const uint64_t *idx = NULL;
  int st = mx_dataiter_index(h, &n, &idx);
  if (st) return mx_fail(st);
  SEXP r = PROTECT(allocVector(REALSXP, n));
  for (int i = 0; i < n; ++i) REAL(r)[i] = (double)idx[i];
  UNPROTECT(1);
  return r;
}

SEXP mxr_iter_provide(SEXP x) {
  GET_H(mx_dataiter_t, h, x, tag_iter, "data iterator");
  const char *js = NULL;
  int st = mx_dataiter_provide(h, &js);
  return result(st, mk_str(js));
}

/* ------------------------------------------------------------------ init */

void mxr_glue_init(void) {
  tag_nd = install("mx_ndarray");
  tag_params = install("mx_params");
  tag_op = install("mx_op");
  tag_sym = install("mx_symbol");
  tag_exec = install("mx_executor");
  tag_opt = install("mx_optimizer");
  tag_init = install("mx_initializer");
  tag_metric = install("mx_metric");
  tag_iter = install("mx_dataiter");
  tag_kv = install("mx_kvstore");
  cls_nd = mkString("MXNDArray");
  R_PreserveObject(cls_nd);
  cls_sym = mkString("MXSymbol");
  R_PreserveObject(cls_sym);
  cls_fail = mkString("mxr_failure");
  R_PreserveObject(cls_fail);
}

SEXP mxr_fail_msg(int status, const char *msg) { return fail_obj(status, msg); }
