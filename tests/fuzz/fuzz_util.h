/* Shared by the libFuzzer harnesses (one per reader). Readers that take a path get the input
 * through a per-process temporary file; the harness only checks that libmx returns (a status
 * or a value) — crashes, hangs, leaks and over-allocation are caught by libFuzzer, ASan and
 * UBSan (flags set by tests/fuzz/run_fuzz.sh). */
#ifndef MX_TESTS_FUZZ_UTIL_H_
#define MX_TESTS_FUZZ_UTIL_H_

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mx/c_api.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Path of this process's temporary file number `slot` (0..3), "<dir>/mx_fuzz_<pid>_<slot><ext>". */
static const char *fuzz_temp_path(int slot, const char *ext) {
  static char paths[4][512];
  static int registered = 0;
  if (!registered) {
    registered = 1;
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir) dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    for (int i = 0; i < 4; ++i) snprintf(paths[i], sizeof paths[i], "%s/mx_fuzz_%d_%d", dir, (int)getpid(), i);
  }
  static char with_ext[4][600];
  snprintf(with_ext[slot], sizeof with_ext[slot], "%s%s", paths[slot], ext ? ext : "");
  return with_ext[slot];
}

/* Write `data` to the temporary file `slot`; returns its path (aborts if the disk is full:
 * that is the machine's fault, not libmx's, and must not pass silently). */
static const char *fuzz_write_temp(int slot, const char *ext, const uint8_t *data, size_t size) {
  const char *path = fuzz_temp_path(slot, ext);
  FILE *f = fopen(path, "wb");
  if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
    perror(path);
    abort();
  }
  return path;
}

/* A libmx call must return OK or a known error status with a message. MX_ERR_INTERNAL ("a bug
 * in MX") counts as a finding: bad input deserves a clear format/value error. */
static void fuzz_check_status(int rc, const char *call) {
  if (rc == MX_OK) return;
  const char *msg = mx_last_error();
  /* MX_FUZZ_ALLOW_INTERNAL=1 tolerates MX_ERR_INTERNAL (run_fuzz.sh sets it only while a fix
   * for a known internal error is held back). */
  static int allow_internal = -1;
  if (allow_internal < 0) allow_internal = getenv("MX_FUZZ_ALLOW_INTERNAL") != NULL;
  if (rc == MX_ERR_INTERNAL && allow_internal && msg && *msg) return;
  if (rc < MX_ERR_FORMAT || rc > MX_ERR_INVALID_ARGUMENT || !msg || !*msg) {
    fprintf(stderr, "%s returned %d with message '%s'\n", call, rc, msg ? msg : "(null)");
    abort();
  }
}

/* Bytes per element of an mx_dtype (0 for an unknown code, which fuzz_touch_and_free rejects). */
static size_t fuzz_dtype_bytes(int dtype) {
  switch (dtype) {
    case MX_FLOAT64: case MX_INT64: return 8;
    case MX_FLOAT32: case MX_INT32: return 4;
    case MX_FLOAT16: case MX_BFLOAT16: return 2;
    case MX_UINT8: case MX_INT8: case MX_BOOL: return 1;
    default: return 0;
  }
}

/* Copy every element of each array out (a wrong size or a dangling buffer shows up under ASan
 * here), then free the handles. */
static void fuzz_touch_and_free(int num, mx_ndarray_t *arrays);
/* A sparse array: copy out each of its parts (dense, bounded by the input's size; the logical
 * shape of a sparse array is not). */
static int fuzz_touch_sparse(mx_ndarray_t arr) {
  int stype = 0;
  fuzz_check_status(mx_ndarray_stype(arr, &stype), "mx_ndarray_stype");
  if (stype == MX_STYPE_DEFAULT) return 0;
  for (int part = MX_SPARSE_DATA; part <= MX_SPARSE_INDPTR; ++part) {
    mx_ndarray_t p = NULL;
    if (part == MX_SPARSE_INDPTR && stype != MX_STYPE_CSR) break;
    fuzz_check_status(mx_ndarray_sparse_part(arr, part, &p), "mx_ndarray_sparse_part");
    if (p) fuzz_touch_and_free(1, &p);
  }
  return 1;
}

static void fuzz_touch_and_free(int num, mx_ndarray_t *arrays) {
  for (int i = 0; i < num; ++i) {
    if (fuzz_touch_sparse(arrays[i])) {
      fuzz_check_status(mx_ndarray_free(arrays[i]), "mx_ndarray_free");
      continue;
    }
    int64_t size = 0;
    int dtype = 0;
    fuzz_check_status(mx_ndarray_size(arrays[i], &size), "mx_ndarray_size");
    fuzz_check_status(mx_ndarray_dtype(arrays[i], &dtype), "mx_ndarray_dtype");
    size_t esize = fuzz_dtype_bytes(dtype);
    if (esize == 0 || size < 0) {
      fprintf(stderr, "loaded array %d has dtype %d and size %lld\n", i, dtype, (long long)size);
      abort();
    }
    size_t nbytes = (size_t)size * esize;
    void *buf = malloc(nbytes ? nbytes : 1);
    if (buf) {
      fuzz_check_status(mx_ndarray_copy_to(arrays[i], buf, nbytes), "mx_ndarray_copy_to");
      free(buf);
    }
    fuzz_check_status(mx_ndarray_free(arrays[i]), "mx_ndarray_free");
  }
}

#ifdef __cplusplus
}
#endif

#endif /* MX_TESTS_FUZZ_UTIL_H_ */
