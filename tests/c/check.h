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

#define CHECK_DONE()                                                                \
  (fprintf(stderr, "%d checks, %d failed\n", check_count, check_failures),          \
   check_failures ? 1 : 0)

#endif /* MX_TESTS_CHECK_H_ */
