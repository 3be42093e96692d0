/* C ABI contract tests (docs/DESIGN.md section 2): versions, every reachable error path of the
 * NDArray and operator functions returns the right negative status and leaves a thread-local
 * message naming the function; *_free(NULL) is fine; the operator registry describes itself. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"

static mx_ndarray_t make(int ndim, const int64_t *shape, int dtype) {
  mx_ndarray_t a = NULL;
  CHECK_OK(mx_ndarray_new(shape, ndim, dtype, MX_CPU, 0, &a));
  return a;
}

static mx_op_t find_op(const char *name) {
  mx_op_t op = NULL;
  CHECK_OK(mx_op_find(name, &op));
  CHECK(op != NULL);
  return op;
}

/* ------------------------------------------------------------------ version, features */
static void test_version(void) {
  int major = -1, minor = -1, patch = -1;
  CHECK(mx_abi_version() == MX_ABI_VERSION);
  mx_version(&major, &minor, &patch);
  CHECK(major >= 0 && minor >= 0 && patch >= 0);
  CHECK(major > 0 || minor > 0 || patch > 0);
  mx_version(NULL, NULL, NULL); /* never fails, accepts NULL outputs */

  const char *features = NULL;
  CHECK_OK(mx_features(&features));
  CHECK(features != NULL && features[0] == '{' && strstr(features, "\"cuda\"") != NULL);
  CHECK_FAIL_IN(mx_features(NULL), MX_ERR_INVALID_ARGUMENT, "mx_features", "out_json");

  int n = -1;
  CHECK_OK(mx_device_count(MX_CPU, &n));
  CHECK(n >= 1);
  CHECK_OK(mx_device_count(MX_GPU, &n));
  CHECK(n >= 0);
  CHECK_FAIL_IN(mx_device_count(MX_CPU, NULL), MX_ERR_INVALID_ARGUMENT, "mx_device_count", NULL);
  CHECK_OK(mx_set_log_callback(NULL, NULL));
}

/* ------------------------------------------------------------------ NDArray errors */
static void test_ndarray_new_errors(void) {
  const int64_t shape[2] = {2, 3};
  const int64_t neg[2] = {2, -3};
  const int64_t huge[3] = {INT64_C(1) << 30, INT64_C(1) << 30, INT64_C(1) << 30};
  mx_ndarray_t a = (mx_ndarray_t)0x1; /* must stay untouched on failure */

  CHECK_FAIL_IN(mx_ndarray_new(shape, 2, MX_FLOAT32, MX_CPU, 0, NULL), MX_ERR_INVALID_ARGUMENT,
             "mx_ndarray_new", "out");
  CHECK_FAIL_IN(mx_ndarray_new(NULL, 2, MX_FLOAT32, MX_CPU, 0, &a), MX_ERR_INVALID_ARGUMENT,
             "mx_ndarray_new", "shape");
  CHECK_FAIL_IN(mx_ndarray_new(shape, -1, MX_FLOAT32, MX_CPU, 0, &a), MX_ERR_SHAPE, "mx_ndarray_new",
             "ndim");
  CHECK_FAIL_IN(mx_ndarray_new(shape, 2, 99, MX_CPU, 0, &a), MX_ERR_TYPE, "mx_ndarray_new", "99");
  CHECK_FAIL_IN(mx_ndarray_new(shape, 2, 9, MX_CPU, 0, &a), MX_ERR_TYPE, "mx_ndarray_new", "dtype");
  CHECK_FAIL_IN(mx_ndarray_new(shape, 2, -1, MX_CPU, 0, &a), MX_ERR_TYPE, "mx_ndarray_new", "dtype");
  CHECK_FAIL_IN(mx_ndarray_new(neg, 2, MX_FLOAT32, MX_CPU, 0, &a), MX_ERR_SHAPE, "mx_ndarray_new", "-3");
  /* 2^90 elements: the count itself does not fit in 64 bits, a shape error (numpy: ValueError) */
  CHECK_FAIL_IN(mx_ndarray_new(huge, 3, MX_FLOAT32, MX_CPU, 0, &a), MX_ERR_SHAPE, "mx_ndarray_new", "too large");
  CHECK_FAIL_IN(mx_ndarray_new(shape, 2, MX_FLOAT32, 42, 0, &a), MX_ERR_INVALID_ARGUMENT,
             "mx_ndarray_new", "42");
  CHECK(a == (mx_ndarray_t)0x1);

  /* A GPU array on a build or machine without one: a clear "unsupported", at creation or at the
   * latest when it is touched. */
  int ngpu = 0;
  CHECK_OK(mx_device_count(MX_GPU, &ngpu));
  if (ngpu == 0) {
    mx_ndarray_t g = NULL;
    int rc = mx_ndarray_new(shape, 2, MX_FLOAT32, MX_GPU, 0, &g);
    if (rc == MX_OK) {
      float buf[6] = {0};
      CHECK_FAIL_IN(mx_ndarray_copy_from(g, buf, sizeof buf), MX_ERR_UNSUPPORTED, "mx_ndarray_copy_from",
                 "gpu");
      CHECK_OK(mx_ndarray_free(g));
    } else {
      CHECK_FAIL_IN(rc, MX_ERR_UNSUPPORTED, "mx_ndarray_new", "gpu");
    }
  }

  /* The valid edge cases: a scalar (ndim 0, shape NULL) and a zero-size array. */
  mx_ndarray_t s = NULL;
  CHECK_OK(mx_ndarray_new(NULL, 0, MX_FLOAT64, MX_CPU, 0, &s));
  int64_t size = -1;
  CHECK_OK(mx_ndarray_size(s, &size));
  CHECK(size == 1);
  CHECK_OK(mx_ndarray_free(s));
  const int64_t empty[2] = {0, 5};
  mx_ndarray_t e = make(2, empty, MX_INT32);
  CHECK_OK(mx_ndarray_size(e, &size));
  CHECK(size == 0);
  CHECK_OK(mx_ndarray_copy_to(e, NULL, 0));
  CHECK_OK(mx_ndarray_free(e));
}

static void test_ndarray_null_handles(void) {
  int ndim = 0, dtype = 0, dt = 0, di = 0, flag = 0;
  const int64_t *shp = NULL;
  int64_t size = 0;
  void *data = NULL;
  float buf[4];
  const int64_t shape[1] = {4};
  mx_ndarray_t out = NULL;

  CHECK_FAIL_IN(mx_ndarray_shape(NULL, &ndim, &shp), MX_ERR_INVALID_ARGUMENT, "mx_ndarray_shape", "NULL");
  CHECK_FAIL_IN(mx_ndarray_dtype(NULL, &dtype), MX_ERR_INVALID_ARGUMENT, "mx_ndarray_dtype", "NULL");
  CHECK_FAIL_IN(mx_ndarray_device(NULL, &dt, &di), MX_ERR_INVALID_ARGUMENT, "mx_ndarray_device", "NULL");
  CHECK_FAIL_IN(mx_ndarray_size(NULL, &size), MX_ERR_INVALID_ARGUMENT, "mx_ndarray_size", "NULL");
  CHECK_FAIL_IN(mx_ndarray_copy_from(NULL, buf, sizeof buf), MX_ERR_INVALID_ARGUMENT,
             "mx_ndarray_copy_from", "NULL");
  CHECK_FAIL_IN(mx_ndarray_copy_to(NULL, buf, sizeof buf), MX_ERR_INVALID_ARGUMENT, "mx_ndarray_copy_to",
             "NULL");
  CHECK_FAIL_IN(mx_ndarray_data(NULL, &data), MX_ERR_INVALID_ARGUMENT, "mx_ndarray_data", "NULL");
  CHECK_FAIL_IN(mx_ndarray_reshape(NULL, shape, 1, &out), MX_ERR_INVALID_ARGUMENT, "mx_ndarray_reshape",
             "NULL");
  CHECK_FAIL_IN(mx_ndarray_slice(NULL, 0, 1, &out), MX_ERR_INVALID_ARGUMENT, "mx_ndarray_slice", "NULL");
  CHECK_FAIL_IN(mx_ndarray_at(NULL, 0, &out), MX_ERR_INVALID_ARGUMENT, "mx_ndarray_at", "NULL");
  CHECK_FAIL_IN(mx_ndarray_copy(NULL, NULL), MX_ERR_INVALID_ARGUMENT, "mx_ndarray_copy", "NULL");
  CHECK_FAIL_IN(mx_ndarray_to_device(NULL, MX_CPU, 0, &out), MX_ERR_INVALID_ARGUMENT,
             "mx_ndarray_to_device", "NULL");
  CHECK_FAIL_IN(mx_ndarray_detach(NULL, &out), MX_ERR_INVALID_ARGUMENT, "mx_ndarray_detach", "NULL");
  CHECK_FAIL_IN(mx_ndarray_shares_memory(NULL, NULL, &flag), MX_ERR_INVALID_ARGUMENT,
             "mx_ndarray_shares_memory", "NULL");
  CHECK_FAIL_IN(mx_ndarray_wait_to_read(NULL), MX_ERR_INVALID_ARGUMENT, "mx_ndarray_wait_to_read", "NULL");
  CHECK(out == NULL);

  /* NULL output pointers on a valid array. */
  mx_ndarray_t a = make(1, shape, MX_FLOAT32);
  CHECK_FAIL_IN(mx_ndarray_shape(a, NULL, &shp), MX_ERR_INVALID_ARGUMENT, "mx_ndarray_shape", "NULL");
  CHECK_FAIL_IN(mx_ndarray_dtype(a, NULL), MX_ERR_INVALID_ARGUMENT, "mx_ndarray_dtype", "NULL");
  CHECK_FAIL_IN(mx_ndarray_size(a, NULL), MX_ERR_INVALID_ARGUMENT, "mx_ndarray_size", "NULL");
  CHECK_FAIL_IN(mx_ndarray_data(a, NULL), MX_ERR_INVALID_ARGUMENT, "mx_ndarray_data", "NULL");
  CHECK_FAIL_IN(mx_ndarray_reshape(a, shape, 1, NULL), MX_ERR_INVALID_ARGUMENT, "mx_ndarray_reshape",
             "NULL");
  CHECK_FAIL_IN(mx_ndarray_detach(a, NULL), MX_ERR_INVALID_ARGUMENT, "mx_ndarray_detach", "NULL");
  CHECK_FAIL_IN(mx_ndarray_copy(a, NULL), MX_ERR_INVALID_ARGUMENT, "mx_ndarray_copy", "dst");
  CHECK_FAIL_IN(mx_ndarray_copy(NULL, a), MX_ERR_INVALID_ARGUMENT, "mx_ndarray_copy", "src");
  CHECK_FAIL_IN(mx_ndarray_to_device(a, 42, 0, &out), MX_ERR_INVALID_ARGUMENT, "mx_ndarray_to_device",
             "42");
  CHECK_OK(mx_ndarray_free(a));
}

static void test_ndarray_bad_sizes(void) {
  const int64_t shape[2] = {2, 3};
  float buf[6] = {1, 2, 3, 4, 5, 6}, back[6] = {0};
  mx_ndarray_t a = make(2, shape, MX_FLOAT32), out = NULL;

  CHECK_OK(mx_ndarray_copy_from(a, buf, sizeof buf));
  CHECK_FAIL_IN(mx_ndarray_copy_to(a, back, sizeof back - 1), MX_ERR_SHAPE, "mx_ndarray_copy_to", "23");
  CHECK_FAIL_IN(mx_ndarray_copy_to(a, back, sizeof back + 4), MX_ERR_SHAPE, "mx_ndarray_copy_to", "28");
  CHECK_FAIL_IN(mx_ndarray_copy_from(a, buf, 4), MX_ERR_SHAPE, "mx_ndarray_copy_from", "24");
  CHECK_FAIL_IN(mx_ndarray_copy_to(a, NULL, sizeof back), MX_ERR_INVALID_ARGUMENT, "mx_ndarray_copy_to",
             "NULL");
  CHECK_FAIL_IN(mx_ndarray_copy_from(a, NULL, sizeof buf), MX_ERR_INVALID_ARGUMENT,
             "mx_ndarray_copy_from", "NULL");
  CHECK_OK(mx_ndarray_copy_to(a, back, sizeof back));
  CHECK(memcmp(buf, back, sizeof buf) == 0);

  const int64_t bad_size[2] = {4, 2}, two_infer[2] = {-1, -1}, neg[2] = {-2, 3};
  CHECK_FAIL_IN(mx_ndarray_reshape(a, bad_size, 2, &out), MX_ERR_SHAPE, "mx_ndarray_reshape", NULL);
  CHECK_FAIL_IN(mx_ndarray_reshape(a, two_infer, 2, &out), MX_ERR_SHAPE, "mx_ndarray_reshape", "-1");
  CHECK_FAIL_IN(mx_ndarray_reshape(a, neg, 2, &out), MX_ERR_SHAPE, "mx_ndarray_reshape", "-2");
  CHECK_FAIL_IN(mx_ndarray_reshape(a, NULL, 2, &out), MX_ERR_SHAPE, "mx_ndarray_reshape", "ndim");
  CHECK_FAIL_IN(mx_ndarray_reshape(a, bad_size, -1, &out), MX_ERR_SHAPE, "mx_ndarray_reshape", "ndim");
  CHECK(out == NULL);

  /* Rows out of range: an invalid argument (or a shape error) that names the function. */
  int rc = mx_ndarray_slice(a, 1, 5, &out);
  CHECK(rc == MX_ERR_INVALID_ARGUMENT || rc == MX_ERR_SHAPE);
  CHECK(strstr(mx_last_error(), "mx_ndarray_slice") != NULL);
  rc = mx_ndarray_at(a, 2, &out);
  CHECK(rc == MX_ERR_INVALID_ARGUMENT || rc == MX_ERR_SHAPE);
  CHECK(strstr(mx_last_error(), "mx_ndarray_at") != NULL);
  CHECK(out == NULL);

  /* Copy between arrays of different shapes. */
  const int64_t other[2] = {3, 2};
  mx_ndarray_t b = make(2, other, MX_FLOAT32);
  CHECK_FAIL_IN(mx_ndarray_copy(a, b), MX_ERR_SHAPE, "mx_ndarray_copy", NULL);

  /* The views that must work. */
  const int64_t flat[1] = {-1};
  CHECK_OK(mx_ndarray_reshape(a, flat, 1, &out));
  int flag = 0;
  CHECK_OK(mx_ndarray_shares_memory(a, out, &flag));
  CHECK(flag == 1);
  CHECK_OK(mx_ndarray_free(out));
  CHECK_OK(mx_ndarray_free(b));
  CHECK_OK(mx_ndarray_free(a));
}

/* ------------------------------------------------------------------ operator errors */
static void test_op_errors(void) {
  mx_op_t op = NULL;
  mx_params_t params = NULL;
  const char *s = NULL;
  int n = 0;

  CHECK_FAIL_IN(mx_op_find("no_such_op_xyz", &op), MX_ERR_INVALID_ARGUMENT, "mx_op_find", "no_such_op_xyz");
  CHECK_FAIL_IN(mx_op_find(NULL, &op), MX_ERR_INVALID_ARGUMENT, "mx_op_find", "name");
  CHECK_FAIL_IN(mx_op_find("elemwise_add", NULL), MX_ERR_INVALID_ARGUMENT, "mx_op_find", "out_op");
  CHECK(op == NULL);
  CHECK_FAIL_IN(mx_op_count(NULL), MX_ERR_INVALID_ARGUMENT, "mx_op_count", NULL);
  CHECK_OK(mx_op_count(&n));
  CHECK_FAIL_IN(mx_op_name(n, &s), MX_ERR_INVALID_ARGUMENT, "mx_op_name", "out of range");
  CHECK_FAIL_IN(mx_op_name(-1, &s), MX_ERR_INVALID_ARGUMENT, "mx_op_name", "-1");
  CHECK_FAIL_IN(mx_op_schema(NULL, &s), MX_ERR_INVALID_ARGUMENT, "mx_op_schema", "NULL");

  /* Parameters: unknown key, bad value, wrong op, NULL arrays. */
  mx_op_t bto = find_op("broadcast_to");
  mx_op_t add = find_op("elemwise_add");
  mx_op_t badd = find_op("broadcast_add");
  const char *k_bad[1] = {"no_such_param"}, *v_bad[1] = {"1"};
  CHECK_FAIL_IN(mx_params_new(bto, 1, k_bad, v_bad, &params), MX_ERR_INVALID_ARGUMENT, "mx_params_new",
             "no_such_param");
  const char *k_shape[1] = {"shape"}, *v_garbage[1] = {"(2,banana)"};
  CHECK_FAIL_IN(mx_params_new(bto, 1, k_shape, v_garbage, &params), MX_ERR_INVALID_ARGUMENT,
             "mx_params_new", "shape");
  CHECK_FAIL_IN(mx_params_new(bto, 1, NULL, NULL, &params), MX_ERR_INVALID_ARGUMENT, "mx_params_new", "NULL");
  CHECK_FAIL_IN(mx_params_new(bto, -1, NULL, NULL, &params), MX_ERR_INVALID_ARGUMENT, "mx_params_new", NULL);
  CHECK_FAIL_IN(mx_params_new(NULL, 0, NULL, NULL, &params), MX_ERR_INVALID_ARGUMENT, "mx_params_new", "op");
  CHECK_FAIL_IN(mx_params_new(bto, 0, NULL, NULL, NULL), MX_ERR_INVALID_ARGUMENT, "mx_params_new", NULL);
  const char *k_null[1] = {NULL};
  CHECK_FAIL_IN(mx_params_new(bto, 1, k_null, v_bad, &params), MX_ERR_INVALID_ARGUMENT, "mx_params_new",
             "NULL");
  CHECK(params == NULL);
  CHECK_FAIL_IN(mx_params_json(NULL, &s), MX_ERR_INVALID_ARGUMENT, "mx_params_json", NULL);

  const char *v_shape[1] = {"(4,2,3)"};
  CHECK_OK(mx_params_new(bto, 1, k_shape, v_shape, &params));
  CHECK_OK(mx_params_json(params, &s));
  CHECK(s != NULL && s[0] == '{' && strstr(s, "shape") != NULL);

  const int64_t s23[2] = {2, 3}, s32[2] = {3, 2}, s4[1] = {4};
  mx_ndarray_t a = make(2, s23, MX_FLOAT32), b = make(2, s32, MX_FLOAT32), c = make(1, s4, MX_FLOAT32);
  mx_ndarray_t d = make(2, s23, MX_FLOAT64);
  float ones[6] = {1, 1, 1, 1, 1, 1};
  CHECK_OK(mx_ndarray_copy_from(a, ones, sizeof ones));
  CHECK_OK(mx_ndarray_copy_from(b, ones, sizeof ones));
  mx_ndarray_t out = NULL;
  mx_ndarray_t *outs = NULL;
  mx_ndarray_t in_ab[2] = {a, b}, in_ac[2] = {a, c}, in_ad[2] = {a, d}, in_an[2] = {a, NULL};
  mx_ndarray_t in_aaa[3] = {a, a, a};

  /* params parsed for another op */
  CHECK_FAIL_IN(mx_op_invoke1(add, params, 2, in_ab, &out), MX_ERR_INVALID_ARGUMENT, "mx_op_invoke1",
             "broadcast_to");
  /* wrong input count */
  CHECK_FAIL_IN(mx_op_invoke1(add, NULL, 1, in_ab, &out), MX_ERR_INVALID_ARGUMENT, "mx_op_invoke1",
             "elemwise_add");
  CHECK_FAIL_IN(mx_op_invoke1(add, NULL, 3, in_aaa, &out), MX_ERR_INVALID_ARGUMENT, "mx_op_invoke1",
             "elemwise_add");
  CHECK_FAIL_IN(mx_op_invoke(add, NULL, 1, in_ab, 0, NULL, &n, &outs), MX_ERR_INVALID_ARGUMENT,
             "mx_op_invoke", "elemwise_add");
  CHECK_FAIL_IN(mx_op_invoke1(add, NULL, -1, in_ab, &out), MX_ERR_INVALID_ARGUMENT, "mx_op_invoke1", NULL);
  /* shape mismatch: same-shape op, and shapes that do not broadcast */
  CHECK_FAIL_IN(mx_op_invoke1(add, NULL, 2, in_ab, &out), MX_ERR_SHAPE, "mx_op_invoke1", "elemwise_add");
  CHECK_FAIL_IN(mx_op_invoke1(badd, NULL, 2, in_ac, &out), MX_ERR_SHAPE, "mx_op_invoke1", "broadcast_add");
  mx_ndarray_t in_c[1] = {c};
  CHECK_FAIL_IN(mx_op_invoke1(bto, params, 1, in_c, &out), MX_ERR_SHAPE, "mx_op_invoke1", "broadcast_to");
  /* dtype mismatch between inputs */
  CHECK_FAIL_IN(mx_op_invoke1(add, NULL, 2, in_ad, &out), MX_ERR_TYPE, "mx_op_invoke1", NULL);
  /* NULL handles */
  CHECK_FAIL_IN(mx_op_invoke1(add, NULL, 2, in_an, &out), MX_ERR_INVALID_ARGUMENT, "mx_op_invoke1",
             "inputs[1]");
  CHECK_FAIL_IN(mx_op_invoke1(add, NULL, 2, NULL, &out), MX_ERR_INVALID_ARGUMENT, "mx_op_invoke1", "NULL");
  CHECK_FAIL_IN(mx_op_invoke1(NULL, NULL, 2, in_ab, &out), MX_ERR_INVALID_ARGUMENT, "mx_op_invoke1", "op");
  CHECK_FAIL_IN(mx_op_invoke1(add, NULL, 2, in_ab, NULL), MX_ERR_INVALID_ARGUMENT, "mx_op_invoke1", "NULL");
  CHECK_FAIL_IN(mx_op_invoke(add, NULL, 2, in_ab, 0, NULL, NULL, &outs), MX_ERR_INVALID_ARGUMENT,
             "mx_op_invoke", "NULL");
  CHECK_FAIL_IN(mx_op_invoke(add, NULL, 2, in_ab, 0, NULL, &n, NULL), MX_ERR_INVALID_ARGUMENT,
             "mx_op_invoke", "NULL");
  CHECK(out == NULL);
  /* out= of the wrong shape */
  mx_ndarray_t in_aa[2] = {a, a};
  mx_ndarray_t wrong_out[1] = {b};
  CHECK_FAIL_IN(mx_op_invoke(add, NULL, 2, in_aa, 1, wrong_out, &n, &outs), MX_ERR_SHAPE, "mx_op_invoke",
             NULL);

  /* and the happy paths still work after all those failures */
  CHECK_OK(mx_op_invoke1(add, NULL, 2, in_aa, &out));
  float res[6] = {0};
  CHECK_OK(mx_ndarray_copy_to(out, res, sizeof res));
  CHECK(res[0] == 2.0f && res[5] == 2.0f);
  CHECK_OK(mx_op_invoke(add, NULL, 2, in_aa, 0, NULL, &n, &outs));
  CHECK(n == 1 && outs != NULL && outs[0] != NULL);
  if (n == 1 && outs) CHECK_OK(mx_ndarray_free(outs[0]));

  CHECK_OK(mx_params_free(params));
  mx_ndarray_t all[5] = {a, b, c, d, out};
  for (int i = 0; i < 5; ++i) CHECK_OK(mx_ndarray_free(all[i]));
}

/* ------------------------------------------------------------------ free(NULL) */
static void test_free_null(void) {
  CHECK_OK(mx_ndarray_free(NULL));
  CHECK_OK(mx_params_free(NULL));
  CHECK_OK(mx_waitall());
}

/* ------------------------------------------------------------------ thread-local errors */
struct thread_arg {
  int dtype;        /* the bad dtype code this thread uses */
  int ok;           /* 1 when the thread saw only its own messages */
  pthread_barrier_t *barrier;
};

static void *thread_main(void *p) {
  struct thread_arg *t = (struct thread_arg *)p;
  char want[32];
  const int64_t shape[1] = {1};
  mx_ndarray_t a = NULL;
  int ok = mx_last_error() != NULL && mx_last_error()[0] == '\0'; /* a fresh thread has no error */
  snprintf(want, sizeof want, "%d", t->dtype);
  for (int i = 0; i < 200 && ok; ++i) {
    ok = mx_ndarray_new(shape, 1, t->dtype, MX_CPU, 0, &a) == MX_ERR_TYPE;
    if (i == 0) pthread_barrier_wait(t->barrier); /* both threads have failed once */
    ok = ok && strstr(mx_last_error(), want) != NULL;
  }
  t->ok = ok;
  return NULL;
}

static void test_thread_local_errors(void) {
  /* Main thread's error stays put while two threads fail with their own messages. */
  CHECK_FAIL_IN(mx_op_find("main_thread_op", NULL), MX_ERR_INVALID_ARGUMENT, "mx_op_find", NULL);
  mx_op_t op = NULL;
  CHECK_FAIL_IN(mx_op_find("main_thread_op", &op), MX_ERR_INVALID_ARGUMENT, "mx_op_find", "main_thread_op");

  pthread_barrier_t barrier;
  pthread_barrier_init(&barrier, NULL, 2);
  struct thread_arg args[2] = {{77, 0, &barrier}, {88, 0, &barrier}};
  pthread_t th[2];
  for (int i = 0; i < 2; ++i) CHECK(pthread_create(&th[i], NULL, thread_main, &args[i]) == 0);
  for (int i = 0; i < 2; ++i) CHECK(pthread_join(th[i], NULL) == 0);
  pthread_barrier_destroy(&barrier);
  CHECK(args[0].ok == 1);
  CHECK(args[1].ok == 1);
  CHECK(strstr(mx_last_error(), "main_thread_op") != NULL);
}

/* ------------------------------------------------------------------ registry self-check */

/* Value of a boolean key in a compact or spaced JSON object: 1, 0, or -1 when absent. */
static int json_bool(const char *json, const char *key) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\"", key);
  const char *p = strstr(json, pat);
  if (!p) return -1;
  p += strlen(pat);
  while (*p == ' ' || *p == ':') ++p;
  if (strncmp(p, "true", 4) == 0) return 1;
  if (strncmp(p, "false", 5) == 0) return 0;
  return -1;
}

static void test_registry(void) {
  int n = 0, deep = 0, bad = 0;
  CHECK_OK(mx_op_count(&n));
  CHECK(n > 0);
  for (int i = 0; i < n; ++i) {
    const char *name = NULL, *schema = NULL;
    mx_op_t op = NULL;
    CHECK_OK(mx_op_name(i, &name));
    if (!name) continue;
    CHECK_OK(mx_op_find(name, &op));
    CHECK_OK(mx_op_schema(op, &schema));
    if (!schema) continue;
    char key[300];
    snprintf(key, sizeof key, "\"name\":\"%s\"", name);
    int well_formed = schema[0] == '{' && schema[strlen(schema) - 1] == '}' &&
                      strstr(schema, "\"name\"") != NULL && strstr(schema, "\"inputs\"") != NULL &&
                      strstr(schema, "\"params\"") != NULL;
    if (!well_formed) {
      fprintf(stderr, "op %s: malformed schema: %.200s\n", name, schema);
      ++bad;
    }
    /* The deeper facts, where the schema carries them (registry.cc's self-check keys). */
    int shape = json_bool(schema, "has_shape_inference"), cpu = json_bool(schema, "has_cpu_kernel");
    int grad = json_bool(schema, "has_gradient"), diff = json_bool(schema, "differentiable");
    if (shape >= 0 && cpu >= 0 && grad >= 0 && diff >= 0) {
      ++deep;
      if (!shape || !cpu || (diff && !grad)) {
        fprintf(stderr, "op %s: incomplete: has_shape_inference=%d has_cpu_kernel=%d "
                "differentiable=%d has_gradient=%d\n", name, shape, cpu, diff, grad);
        ++bad;
      }
    }
  }
  CHECK(bad == 0);
  printf("registry: %d ops, %d with self-check facts, %d problems\n", n, deep, bad);
}

int main(void) {
  test_version();
  test_ndarray_new_errors();
  test_ndarray_null_handles();
  test_ndarray_bad_sizes();
  test_op_errors();
  test_free_null();
  test_thread_local_errors();
  test_registry();
  return check_report("test_abi");
}
