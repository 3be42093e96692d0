test_that("gradient of a small expression matches the analytic gradient", {
  xv <- c(0.5, -1, 2)
  x <- mx.nd.array(xv, dtype = "float64")
  mx.nd.attach.grad(x)
  y <- mx.autograd.record(x * x * 3 + x / 2 - 1)
  expect_false(mx.autograd.is.recording())
  mx.autograd.backward(y)
  expect_equal(as.vector(as.array(mx.nd.grad(x))), 6 * xv + 0.5)
})

test_that("broadcasting gradients reduce to the input shape", {
  a <- mx.nd.array(matrix(1:6, 2, 3), dtype = "float64")
  b <- mx.nd.array(matrix(c(1, 2, 3), 1), dtype = "float64")
  mx.nd.attach.grad(a)
  mx.nd.attach.grad(b)
  y <- mx.autograd.record(a * b)
  mx.autograd.backward(y)
  expect_equal(as.array(mx.nd.grad(a)), matrix(c(1, 2, 3), 2, 3, byrow = TRUE))
  expect_equal(as.array(mx.nd.grad(b)), matrix(colSums(matrix(1:6, 2, 3)), 1))
})

test_that("record restores the state after an error", {
  expect_false(mx.autograd.is.recording())
  expect_error(mx.autograd.record(stop("boom")), "boom")
  expect_false(mx.autograd.is.recording())
  expect_true(mx.autograd.record(mx.autograd.is.recording()))
  expect_true(mx.autograd.record(mx.autograd.is.training()))
})

test_that("mx.autograd.grad returns new arrays", {
  x <- mx.nd.array(c(1, 2), dtype = "float64")
  mx.nd.attach.grad(x)
  y <- mx.autograd.record(x * x)
  g <- mx.autograd.grad(y, x)
  expect_equal(as.vector(as.array(g)), c(2, 4))
})

test_that("an array without gradient buffer has NULL grad", {
  expect_null(mx.nd.grad(mx.nd.array(1)))
})
