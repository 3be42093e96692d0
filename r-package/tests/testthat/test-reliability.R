# Issue 15 from R: calls that used to kill the R session now end in classed conditions or in
# defined values.

test_that("huge shapes fail before allocating, naming the shape", {
  one <- mx.nd.array(matrix(1, 1, 1))
  e <- tryCatch(mx.nd.broadcast_to(one, shape = c(2^31, 2^31)), mx_error = function(e) e)
  expect_s3_class(e, "mx_shape_error")
  expect_match(conditionMessage(e), "2147483648, 2147483648")
  e <- tryCatch(mx.nd.broadcast_to(one, shape = c(2^40, 2^40)), mx_error = function(e) e)
  expect_s3_class(e, "mx_shape_error")
  expect_match(conditionMessage(e), "64 bits")
  # the session goes on working
  expect_equal(as.array(one + 1), matrix(2, 1, 1))
})

test_that("INT_MIN %/% -1 and INT_MIN %% -1 do not trap (numpy's wrapped values)", {
  as_dbl <- function(x) as.vector(as.array(mx.nd.cast(x, dtype = "float64")))
  for (dt in c("int32", "int64")) {
    lo <- if (dt == "int32") -2^31 else -2^63  # powers of two: exact in a double
    a <- mx.nd.array(c(lo, 7), dtype = dt)
    m <- mx.nd.array(c(-1, -1), dtype = dt)
    expect_equal(as_dbl(a / m), c(lo, -7))     # numpy: INT_MIN // -1 == INT_MIN (wraps)
    expect_equal(as_dbl(a %/% m), c(lo, -7))
    expect_equal(as_dbl(a %% m), c(0, 0))      # numpy: INT_MIN % -1 == 0
    expect_equal(as_dbl(a / -1), c(lo, -7))
    expect_equal(as_dbl(a %% -1), c(0, 0))
  }
})
