/* NDArray files through the C ABI: MXNet fixture files load and re-save byte for byte, both
 * formats round-trip, every truncation and thousands of random corruptions of small files fail
 * cleanly (an error status, never a crash), missing files and unwritable targets fail with
 * MX_ERR_IO, and DLPack export/import share memory and honour ownership. Run from the repo root. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

#define FIX "tests/data/mxnet-1.9.1/ndarray/"

static char tmpdir[256];

static unsigned char *read_all(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  unsigned char *buf;
  long len;
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  len = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = (unsigned char *)malloc(len > 0 ? (size_t)len : 1);
  *n = fread(buf, 1, (size_t)len, f);
  fclose(f);
  return buf;
}

static void free_all(int n, mx_ndarray_t *arrs) {
  int i;
  for (i = 0; i < n; ++i) mx_ndarray_free(arrs[i]);
}

static int same_array(mx_ndarray_t a, mx_ndarray_t b) {
  int nda, ndb, ta, tb, i, eq;
  const int64_t *sa, *sb;
  int64_t size;
  void *pa, *pb;
  mx_ndarray_shape(a, &nda, &sa);
  mx_ndarray_shape(b, &ndb, &sb);
  mx_ndarray_dtype(a, &ta);
  mx_ndarray_dtype(b, &tb);
  if (nda != ndb || ta != tb) return 0;
  for (i = 0; i < nda; ++i)
    if (sa[i] != sb[i]) return 0;
  mx_ndarray_size(a, &size);
  mx_ndarray_data(a, &pa);
  mx_ndarray_data(b, &pb);
  eq = size == 0 || memcmp(pa, pb, (size_t)size * (ta == MX_FLOAT64 || ta == MX_INT64 ? 8 : ta == MX_FLOAT32 || ta == MX_INT32 ? 4 : ta == MX_FLOAT16 || ta == MX_BFLOAT16 ? 2 : 1)) == 0;
  return eq;
}

/* Load a fixture, save it again (same names and order) in both formats, compare. */
static void test_fixture_roundtrip(const char *name, int expect_num, int expect_named) {
  char path[512], out[512], out_st[512];
  int n = 0, n2 = 0, i;
  mx_ndarray_t *arrs = NULL, *arrs2 = NULL, held[64];
  const char **names = NULL, **names2 = NULL;
  const char *held_names[64];
  char name_store[64][64];
  unsigned char *a, *b;
  size_t na = 0, nb = 0;
  snprintf(path, sizeof path, FIX "%s", name);
  snprintf(out, sizeof out, "%s/%s", tmpdir, name);
  snprintf(out_st, sizeof out_st, "%s/%s.safetensors", tmpdir, name);
  CHECK_OK(mx_ndarray_load(path, &n, &arrs, &names));
  CHECK(n == expect_num);
  CHECK((names != NULL) == expect_named);
  if (n != expect_num || n > 64) return;
  for (i = 0; i < n; ++i) {
    held[i] = arrs[i];
    if (names) {
      snprintf(name_store[i], sizeof name_store[i], "%s", names[i]);
      held_names[i] = name_store[i];
    }
  }
  CHECK_OK(mx_ndarray_save(out, n, held, names ? held_names : NULL, MX_FORMAT_AUTO));
  a = read_all(path, &na);
  b = read_all(out, &nb);
  CHECK(a && b && na == nb && memcmp(a, b, na) == 0);
  free(a);
  free(b);
  CHECK_OK(mx_ndarray_save(out_st, n, held, names ? held_names : NULL, MX_FORMAT_AUTO));
  CHECK_OK(mx_ndarray_load(out_st, &n2, &arrs2, &names2));
  CHECK(n2 == n);
  CHECK((names2 != NULL) == (names != NULL));
  for (i = 0; i < n && i < n2; ++i) {
    CHECK(same_array(held[i], arrs2[i]));
    if (names && names2) CHECK(strcmp(names2[i], held_names[i]) == 0);
  }
  free_all(n2, arrs2);
  free_all(n, held);
}

static void test_errors(void) {
  int n;
  mx_ndarray_t *arrs;
  const char **names;
  char path[512];
  int64_t shape[2] = {2, 3};
  mx_ndarray_t x = NULL;
  unsigned char *a, *b;
  size_t na = 0, nb = 0;

  CHECK_FAIL(mx_ndarray_load("tests/data/no/such/file.nd", &n, &arrs, &names), MX_ERR_IO, "No such file");
  CHECK_FAIL(mx_ndarray_load("tests/data/no/such/file.nd", &n, &arrs, &names), MX_ERR_IO, "tests/data/no/such/file.nd");
  /* sparse records load (tests/c/test_sparse.c and test_sparse_files.py check their values) */
  CHECK_OK(mx_ndarray_load(FIX "sparse.nd", &n, &arrs, &names));
  if (n == 2) {
    int st0 = -1, st1 = -1;
    CHECK_OK(mx_ndarray_stype(arrs[0], &st0));
    CHECK_OK(mx_ndarray_stype(arrs[1], &st1));
    CHECK(st0 + st1 == MX_STYPE_CSR + MX_STYPE_ROW_SPARSE && st0 != st1);
    free_all(n, arrs);
  } else {
    CHECK(n == 2);
  }
  CHECK_FAIL(mx_ndarray_load(FIX "dict.npz", &n, &arrs, &names), MX_ERR_FORMAT, NULL);
  CHECK_FAIL(mx_ndarray_load_buffer("", 0, &n, &arrs, &names), MX_ERR_FORMAT, "empty");
  CHECK_FAIL(mx_ndarray_load(NULL, &n, &arrs, &names), MX_ERR_INVALID_ARGUMENT, NULL);

  /* Atomic save: an unwritable target fails with MX_ERR_IO and leaves no temporary behind;
   * a failed save over an existing file keeps it. */
  CHECK_OK(mx_ndarray_new(shape, 2, MX_FLOAT32, MX_CPU, 0, &x));
  snprintf(path, sizeof path, "%s/missing_dir/x.nd", tmpdir);
  CHECK_FAIL(mx_ndarray_save(path, 1, &x, NULL, MX_FORMAT_AUTO), MX_ERR_IO, "missing_dir");
  snprintf(path, sizeof path, "%s/keep.nd", tmpdir);
  CHECK_OK(mx_ndarray_save(path, 1, &x, NULL, MX_FORMAT_AUTO));
  a = read_all(path, &na);
  {
    const char *dup[2] = {"w", "w"};
    mx_ndarray_t two[2];
    two[0] = x;
    two[1] = x;
    snprintf(path, sizeof path, "%s/keep.nd", tmpdir);
    /* duplicate names are refused by safetensors: the save fails midway */
    CHECK_FAIL(mx_ndarray_save(path, 2, two, dup, MX_FORMAT_SAFETENSORS), MX_ERR_INVALID_ARGUMENT, "duplicate");
  }
  b = read_all(path, &nb);
  CHECK(a && b && na == nb && memcmp(a, b, na) == 0);
  free(a);
  free(b);
  CHECK_FAIL(mx_ndarray_save(path, 1, &x, NULL, 7), MX_ERR_INVALID_ARGUMENT, "format");
  mx_ndarray_free(x);
}

/* Every proper prefix of a file must fail with MX_ERR_FORMAT. */
static void test_truncation(const unsigned char *buf, size_t len, const char *what) {
  size_t k;
  int bad = 0, n;
  mx_ndarray_t *arrs;
  const char **names;
  for (k = 0; k < len; ++k) {
    int rc = mx_ndarray_load_buffer(buf, k, &n, &arrs, &names);
    if (rc != MX_ERR_FORMAT) {
      if (!bad) fprintf(stderr, "%s: prefix of %zu bytes gave %d: %s\n", what, k, rc, mx_last_error());
      ++bad;
      if (rc == MX_OK) free_all(n, arrs);
    }
  }
  CHECK(bad == 0);
  CHECK_OK(mx_ndarray_load_buffer(buf, len, &n, &arrs, &names));
  free_all(n, arrs);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void) {
  rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
  return (uint32_t)(rng_state >> 33);
}

/* Random byte mutations: any status is fine except a crash or an unknown code. */
static void test_mutations(const unsigned char *buf, size_t len, int rounds, const char *what) {
  unsigned char *m = (unsigned char *)malloc(len);
  int r, ok = 0, failed = 0, odd = 0, n;
  mx_ndarray_t *arrs;
  const char **names;
  for (r = 0; r < rounds; ++r) {
    int k, flips = 1 + (int)(rnd() % 4), rc;
    memcpy(m, buf, len);
    for (k = 0; k < flips; ++k) {
      size_t at = rnd() % len;
      switch (rnd() % 4) {
        case 0: m[at] ^= (unsigned char)(1u << (rnd() % 8)); break;
        case 1: m[at] = (unsigned char)rnd(); break;
        case 2: m[at] = 0xFF; break;
        default: m[at] = 0x00; break;
      }
    }
    rc = mx_ndarray_load_buffer(m, len, &n, &arrs, &names);
    if (rc == MX_OK) {
      ++ok;
      free_all(n, arrs);
    } else if (rc == MX_ERR_FORMAT || rc == MX_ERR_TYPE || rc == MX_ERR_UNSUPPORTED) {
      ++failed;
    } else {
      if (!odd) fprintf(stderr, "%s: mutation gave %d: %s\n", what, rc, mx_last_error());
      ++odd;
    }
  }
  CHECK(odd == 0);
  CHECK(failed > 0);
  fprintf(stderr, "%s: %d mutations loaded, %d rejected\n", what, ok, failed);
  free(m);
}

static void test_hostile(void) {
  static const char *files[] = {"list.nd", "dict_np_shape.nd", "legacy_v0.nd", "legacy_v1_list.nd", "sparse.nd"};
  char path[512];
  size_t i, len;
  unsigned char *buf;
  for (i = 0; i < sizeof files / sizeof files[0]; ++i) {
    snprintf(path, sizeof path, FIX "%s", files[i]);
    buf = read_all(path, &len);
    CHECK(buf != NULL);
    if (!buf) continue;
    test_truncation(buf, len, files[i]);
    test_mutations(buf, len, 3000, files[i]);
    free(buf);
  }
  /* a safetensors file written by MX */
  snprintf(path, sizeof path, "%s/list.nd.safetensors", tmpdir);
  buf = read_all(path, &len);
  CHECK(buf != NULL);
  if (buf) {
    test_truncation(buf, len, "list.safetensors");
    test_mutations(buf, len, 3000, "list.safetensors");
    free(buf);
  }
  /* Hand-made hostile headers: huge counts, lengths and dims must not allocate. */
  {
    unsigned char h[64];
    int n;
    mx_ndarray_t *arrs;
    const char **names;
    uint64_t v;
    memset(h, 0, sizeof h);
    v = 0x112;
    memcpy(h, &v, 8);
    v = 0xFFFFFFFFFFFFull;
    memcpy(h + 16, &v, 8);
    CHECK_FAIL(mx_ndarray_load_buffer(h, sizeof h, &n, &arrs, &names), MX_ERR_FORMAT, "byte 16");
    v = 1;
    memcpy(h + 16, &v, 8);
    /* V2 record, 2^30 x 2^30 floats */
    {
      uint32_t magic = 0xF993FAC9u, nd = 2, cpu = 1;
      int64_t d = (int64_t)1 << 30;
      memcpy(h + 24, &magic, 4);
      memcpy(h + 32, &nd, 4);
      memcpy(h + 36, &d, 8);
      memcpy(h + 44, &d, 8);
      memcpy(h + 52, &cpu, 4); /* context cpu(0), float32: then 2^62 bytes of data are missing */
      CHECK_FAIL(mx_ndarray_load_buffer(h, sizeof h, &n, &arrs, &names), MX_ERR_FORMAT, "truncated");
    }
    /* safetensors with a header length beyond the file */
    memset(h, ' ', sizeof h);
    v = 1000;
    memcpy(h, &v, 8);
    h[8] = '{';
    CHECK_FAIL(mx_ndarray_load_buffer(h, sizeof h, &n, &arrs, &names), MX_ERR_FORMAT, NULL);
    {
      const char *js = "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}";
      size_t jl = strlen(js);
      unsigned char st[256];
      v = jl;
      memcpy(st, &v, 8);
      memcpy(st + 8, js, jl);
      memset(st + 8 + jl, 0, 4);
      CHECK_FAIL(mx_ndarray_load_buffer(st, 8 + jl + 4, &n, &arrs, &names), MX_ERR_FORMAT, "'a'");
    }
    {
      /* an empty tensor whose other dims multiply past 2^63 */
      const char *js = "{\"a\":{\"dtype\":\"F32\",\"shape\":[0,4503599627370496,4503599627370496],\"data_offsets\":[0,0]}}";
      size_t jl = strlen(js);
      unsigned char st[256];
      v = jl;
      memcpy(st, &v, 8);
      memcpy(st + 8, js, jl);
      CHECK_FAIL(mx_ndarray_load_buffer(st, 8 + jl, &n, &arrs, &names), MX_ERR_FORMAT, "64 bits");
    }
  }
}

/* ------------------------------------------------------------------ DLPack */
typedef struct {
  void *data;
  int32_t device_type, device_id;
  int32_t ndim;
  uint8_t code, bits;
  uint16_t lanes;
  int64_t *shape;
  int64_t *strides;
  uint64_t byte_offset;
} dl_tensor;
typedef struct dl_managed {
  dl_tensor t;
  void *ctx;
  void (*deleter)(struct dl_managed *);
} dl_managed;

static int deleter_calls = 0;
static void count_deleter(dl_managed *m) {
  (void)m;
  ++deleter_calls;
}

static void test_dlpack(void) {
  int64_t shape[2] = {2, 3}, strides[2] = {3, 1}, bad_strides[2] = {1, 2};
  float buf[6] = {1, 2, 3, 4, 5, 6};
  dl_managed m;
  mx_ndarray_t a = NULL, b = NULL;
  void *p = NULL, *out = NULL;
  dl_managed *e;
  memset(&m, 0, sizeof m);
  m.t.data = buf;
  m.t.device_type = 1;
  m.t.ndim = 2;
  m.t.code = 2;
  m.t.bits = 32;
  m.t.lanes = 1;
  m.t.shape = shape;
  m.t.strides = bad_strides;
  m.deleter = count_deleter;
  /* failure: the deleter is not called, ownership stays with the caller */
  CHECK_FAIL(mx_ndarray_from_dlpack(&m, &a), MX_ERR_INVALID_ARGUMENT, "strides");
  m.t.strides = strides;
  m.t.lanes = 2;
  CHECK_FAIL(mx_ndarray_from_dlpack(&m, &a), MX_ERR_TYPE, "lanes");
  m.t.lanes = 1;
  m.t.device_type = 2;
  CHECK_FAIL(mx_ndarray_from_dlpack(&m, &a), MX_ERR_UNSUPPORTED, "device");
  m.t.device_type = 1;
  CHECK(deleter_calls == 0);
  CHECK_OK(mx_ndarray_from_dlpack(&m, &a));
  CHECK_OK(mx_ndarray_data(a, &p));
  CHECK(p == (void *)buf);
  {
    int64_t six = 6;
    CHECK_OK(mx_ndarray_reshape(a, &six, 1, &b));
  }
  mx_ndarray_free(b);
  mx_ndarray_free(a);
  CHECK(deleter_calls == 1);
  /* export, then import the export: one storage, released by the last holder */
  CHECK_OK(mx_ndarray_new(shape, 2, MX_FLOAT32, MX_CPU, 0, &a));
  CHECK_OK(mx_ndarray_to_dlpack(a, &out));
  e = (dl_managed *)out;
  CHECK_OK(mx_ndarray_data(a, &p));
  CHECK(e->t.data == p && e->t.ndim == 2 && e->t.shape[0] == 2 && e->t.shape[1] == 3);
  CHECK(e->t.strides[0] == 3 && e->t.strides[1] == 1 && e->t.code == 2 && e->t.bits == 32);
  mx_ndarray_free(a);
  ((float *)e->t.data)[5] = 7.0f; /* still alive */
  CHECK_OK(mx_ndarray_from_dlpack(out, &b));
  {
    float got[6];
    CHECK_OK(mx_ndarray_copy_to(b, got, sizeof got));
    CHECK(got[5] == 7.0f);
  }
  mx_ndarray_free(b);
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "tests/tmp/ndarray_file_%ld", (long)getpid());
  mkdir("tests/tmp", 0777);
  if (mkdir(tmpdir, 0777) != 0 && errno != EEXIST) {
    fprintf(stderr, "cannot create %s\n", tmpdir);
    return 1;
  }
  test_fixture_roundtrip("dict.nd", 9, 1);
  test_fixture_roundtrip("list.nd", 3, 0);
  test_fixture_roundtrip("dict_np_shape.nd", 4, 1);
  test_errors();
  test_hostile();
  test_dlpack();
  {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  }
  return CHECK_DONE();
}
