test_that("`[` slices with 1-based indices like R", {
  x <- array(seq_len(24), c(2, 3, 4))
  a <- mx.nd.array(x)
  expect_equal(as.array(a[2, , ]), x[2, , ] + 0)
  expect_equal(as.array(a[, 2:3, ]), x[, 2:3, ] + 0)
  expect_equal(as.array(a[, , c(1, 3)]), x[, , c(1, 3)] + 0)
  expect_equal(as.array(a[1, 2, ]), array(x[1, 2, ] + 0))
  expect_equal(as.array(a[-1, , 4]), array(x[-1, , 4] + 0))
  expect_equal(as.array(a[, c(TRUE, FALSE, TRUE), 1]), x[, c(TRUE, FALSE, TRUE), 1] + 0)
  expect_equal(dim(a[1, 1:2, 2, drop = FALSE]), c(1L, 2L, 1L))
  expect_equal(as.array(a[]), x + 0)
})

test_that("`[<-` assigns in place", {
  x <- matrix(1:6, 2, 3) + 0
  a <- mx.nd.array(x)
  a[1, ] <- 0
  x[1, ] <- 0
  expect_equal(as.array(a), x)
  a[, 2] <- c(7, 8)
  x[, 2] <- c(7, 8)
  expect_equal(as.array(a), x)
  a[2, 3] <- mx.nd.array(-1)
  x[2, 3] <- -1
  expect_equal(as.array(a), x)
})

test_that("bad indices are mx_value_errors", {
  a <- mx.nd.array(matrix(1:6, 2, 3))
  expect_error(a[3, 1], class = "mx_value_error")
  expect_error(a[1], class = "mx_value_error")
  expect_error(a[NA, 1], class = "mx_value_error")
})
