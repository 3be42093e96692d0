test_that("vectors keep length and values", {
  a <- mx.nd.array(c(1.5, -2, 3))
  expect_equal(dim(a), 3L)
  expect_equal(length(a), 3L)
  expect_equal(mx.nd.dtype(a), "float32")
  expect_equal(as.vector(as.array(a)), c(1.5, -2, 3))
})

test_that("matrices keep their logical shape", {
  m <- matrix(1:6, 2, 3)
  a <- mx.nd.array(m)
  expect_equal(dim(a), c(2L, 3L))
  expect_equal(as.array(a), m + 0)
  # row-major storage: the first row of the NDArray is m[1, ]
  expect_equal(as.vector(as.array(a[1, ])), m[1, ] + 0)
})

test_that("3-D and 4-D arrays round-trip", {
  x <- array(rnorm(24), c(2, 3, 4))
  a <- mx.nd.array(x, dtype = "float64")
  expect_equal(dim(a), c(2L, 3L, 4L))
  expect_identical(as.array(a), x)
  y <- array(seq_len(120), c(2, 3, 4, 5))
  b <- mx.nd.array(y, dtype = "int32")
  expect_identical(as.array(b), y)
  expect_equal(as.vector(as.array(b[2, 3, 4, ])), y[2, 3, 4, ])
})

test_that("dtypes", {
  expect_equal(mx.nd.dtype(mx.nd.array(1:3, dtype = "int32")), "int32")
  expect_type(as.array(mx.nd.array(1:3, dtype = "int32")), "integer")
  expect_equal(as.vector(as.array(mx.nd.array(c(1.25, 2.5), dtype = "float64"))), c(1.25, 2.5))
  # float32 rounding, as the core stores it
  expect_equal(as.vector(as.array(mx.nd.array(0.1))), 0.1, tolerance = 1e-7)
  expect_false(as.vector(as.array(mx.nd.array(0.1))) == 0.1)
  expect_equal(as.vector(as.array(mx.nd.array(c(-3, 4), dtype = "int64"))), c(-3, 4))
  expect_equal(as.vector(as.array(mx.nd.array(c(TRUE, FALSE), dtype = "bool"))), c(TRUE, FALSE))
  expect_equal(as.vector(as.array(mx.nd.array(c(1, 2), dtype = "float16"))), c(1, 2))
  expect_equal(as.vector(as.array(mx.nd.astype(mx.nd.array(c(1.5, 2)), "float64"))), c(1.5, 2))
  expect_equal(as.vector(as.array(mx.nd.array(c(TRUE, FALSE)))), c(1, 0))
})

test_that("NDArray to NDArray copies", {
  a <- mx.nd.array(1:4)
  b <- mx.nd.array(a, dtype = "float64")
  expect_equal(mx.nd.dtype(b), "float64")
  expect_equal(as.array(b), as.array(a))
  expect_equal(format(mx.nd.context(a)), "cpu(0)")
})

test_that("print shows shape, dtype and values", {
  a <- mx.nd.array(matrix(1:4, 2))
  out <- capture.output(print(a))
  expect_true(any(grepl("<MXNDArray 2x2 float32 @cpu(0)>", out, fixed = TRUE)))
})
