test_that("arithmetic matches R", {
  x <- matrix(c(1, 2, 3, 4, 5, 6), 2)
  y <- matrix(c(2, 1, 4, 3, 6, 5), 2)
  a <- mx.nd.array(x, dtype = "float64")
  b <- mx.nd.array(y, dtype = "float64")
  expect_equal(as.array(a + b), x + y)
  expect_equal(as.array(a - b), x - y)
  expect_equal(as.array(a * b), x * y)
  expect_equal(as.array(a / b), x / y)
  expect_equal(as.array(a ^ b), x ^ y)
  expect_equal(as.array(a %% b), x %% y)
  expect_equal(as.array(-a), -x)
  expect_equal(as.array(a + 2), x + 2)
  expect_equal(as.array(2 - a), 2 - x)
  expect_equal(as.array(a - 2), x - 2)
  expect_equal(as.array(3 / a), 3 / x)
  expect_equal(as.array(a ^ 2), x ^ 2)
  expect_equal(as.array(2 ^ a), 2 ^ x)
  expect_equal(as.array(a %% 4), x %% 4)
  expect_equal(as.array(a + y), x + y) # R array operand
})

test_that("comparisons give 1/0 in the input dtype", {
  x <- matrix(c(1, 2, 3, 4, 5, 6), 2)
  a <- mx.nd.array(x)
  expect_equal(as.array(a > 3), (x > 3) + 0)
  expect_equal(as.array(3 > a), (3 > x) + 0)
  expect_equal(as.array(a <= 2), (x <= 2) + 0)
  expect_equal(as.array(a == 4), (x == 4) + 0)
  expect_equal(as.array(a != a), (x != x) + 0)
})

test_that("broadcasting follows numpy (trailing dimensions)", {
  x <- matrix(1:6, 2, 3)
  row <- matrix(c(10, 20, 30), 1, 3)
  col <- matrix(c(100, 200), 2, 1)
  a <- mx.nd.array(x)
  expect_equal(as.array(a + mx.nd.array(row)), x + row[rep(1, 2), ])
  expect_equal(as.array(a * mx.nd.array(col)), x * col[, rep(1, 3)])
  expect_equal(as.array(a + mx.nd.array(c(10, 20, 30))), x + matrix(c(10, 20, 30), 2, 3, byrow = TRUE))
})

test_that("generated op functions take named inputs and parameters", {
  a <- mx.nd.array(matrix(1:3, 1))
  b <- mx.nd.broadcast_to(a, shape = c(2, 3))
  expect_equal(dim(b), c(2L, 3L))
  expect_equal(as.array(b), matrix(1:3, 2, 3, byrow = TRUE) + 0)
  expect_equal(as.array(mx.nd.broadcast_add(lhs = a, rhs = a)), 2 * matrix(1:3, 1))
  expect_equal(as.array(mx.nd.broadcast_plus(a, a)), 2 * matrix(1:3, 1))  # alias
  expect_equal(as.array(mx.nd.internal[["_plus_scalar"]](a, scalar = 1)), matrix(2:4, 1) + 0)
  out <- mx.nd.zeros(c(1, 3))
  r <- mx.nd.broadcast_mul(a, a, out = out)
  expect_identical(r, out)
  expect_equal(as.array(out), matrix(c(1, 4, 9), 1))
  expect_true("broadcast_add" %in% mx.op.list())
  expect_equal(mx.op.schema("broadcast_add")$name, "broadcast_add")
})

test_that("parameter values are converted to MXNet strings", {
  expect_equal(mx:::.mx_param_str(TRUE), "True")
  expect_equal(mx:::.mx_param_str(FALSE), "False")
  expect_equal(mx:::.mx_param_str(c(2, 2)), "(2, 2)")
  expect_equal(mx:::.mx_param_str(3, tuple = TRUE), "(3,)")
  expect_equal(mx:::.mx_param_str(10), "10")
  expect_equal(mx:::.mx_param_str(0.5), "0.5")
  expect_equal(mx:::.mx_param_str(list(NULL, 2)), "(None, 2)")
  expect_equal(mx:::.mx_param_str("relu"), "relu")
  expect_equal(mx:::.mx_param_str(mx.ctx.cpu()), "cpu(0)")
  expect_equal(as.numeric(mx:::.mx_param_str(1 / 3)), 1 / 3)
})

test_that("parsed parameters are cached", {
  a <- mx.nd.array(matrix(1:3, 1))
  h1 <- mx:::.mx_params("broadcast_to", list(shape = c(2, 3)))
  h2 <- mx:::.mx_params("broadcast_to", list(shape = c(2, 3)))
  expect_identical(h1, h2)
})

test_that("Math functions map to registry ops when registered", {
  x <- c(0.5, 1, 2)
  a <- mx.nd.array(x, dtype = "float64")
  for (f in c("exp", "log", "sqrt", "abs", "sin", "cos", "tanh")) {
    op <- mx:::.mx_math_table[[f]]
    if (op %in% mx.op.list()) {
      expect_equal(as.vector(as.array(get(f)(a))), get(f)(x), tolerance = 1e-12)
    } else {
      expect_error(get(f)(a), class = "mx_unsupported_error")
    }
  }
})
