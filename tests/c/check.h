/* Tiny assertion helpers for the C tests: CHECK counts failures and goes on, so one run reports
 * every broken expectation; CHECK_DONE() returns main's exit status. */
#ifndef MX_TESTS_CHECK_H_
#define MX_TESTS_CHECK_H_

#include <stdio.h>
#include <string.h>

#include "mx/c_api.h"

static int check_failures = 0;
static int check_count = 0;

#define CHECK(cond)                                                                 \
  do {                                                                              \
    ++check_count;                                                                  \
    if (!(cond)) {                                                                  \
      ++check_failures;                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);      \
    }                                                                               \
  } while (0)

/* A libmx call that must succeed. */
#define CHECK_OK(call)                                                              \
  do {                                                                              \
    int rc_ = (call);                                                               \
    ++check_count;                                                                  \
    if (rc_ != MX_OK) {                                                             \
      ++check_failures;                                                             \
      fprintf(stderr, "%s:%d: %s returned %d: %s\n", __FILE__, __LINE__, #call, rc_, \
              mx_last_error());                                                     \
    }                                                                               \
  } while (0)

/* A libmx call that must fail with `status` and a message containing `word` (if not NULL). */
#define CHECK_FAIL(call, status, word)                                              \
  do {                                                                              \
    int rc_ = (call);                                                               \
    const char *w_ = (word);                                                        \
    ++check_count;                                                                  \
    if (rc_ != (status) || (w_ && !strstr(mx_last_error(), w_))) {                  \
      ++check_failures;                                                             \
      fprintf(stderr, "%s:%d: %s returned %d (expected %d, message with '%s'): %s\n", \
              __FILE__, __LINE__, #call, rc_, (int)(status), w_ ? w_ : "",          \
              mx_last_error());                                                     \
    }                                                                               \
  } while (0)

/* Like CHECK_FAIL, and the message must also name `func` (the C function that failed). */
static int check_fail_in(int rc, int status, const char *func, const char *word, const char *expr,
                         const char *file, int line) {
  const char *msg = mx_last_error();
  ++check_count;
  if (rc != status || msg == NULL || msg[0] == '\0' || strstr(msg, func) == NULL ||
      (word != NULL && strstr(msg, word) == NULL)) {
    ++check_failures;
    fprintf(stderr, "%s:%d: %s: expected status %d naming '%s'%s%s%s, got %d with message \"%s\"\n",
            file, line, expr, status, func, word ? " and mentioning '" : "", word ? word : "",
            word ? "'" : "", rc, msg ? msg : "(null)");
    return 0;
  }
  return 1;
}
#define CHECK_FAIL_IN(call, status, func, word) \
  check_fail_in((call), (status), (func), (word), #call, __FILE__, __LINE__)

/* Summary line and main's exit status. */
static int check_report(const char *name) {
  if (check_failures) {
    fprintf(stderr, "%s: %d of %d checks FAILED\n", name, check_failures, check_count);
    return 1;
  }
  printf("%s: all %d checks passed\n", name, check_count);
  return 0;
}

#define CHECK_DONE()                                                                \
  (fprintf(stderr, "%d checks, %d failed\n", check_count, check_failures),          \
   check_failures ? 1 : 0)

#endif /* MX_TESTS_CHECK_H_ */
