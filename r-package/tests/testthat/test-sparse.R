# Sparse MXNDArrays (csr, row_sparse) against base R and the Matrix package.

test_that("csr from parts: dense values, parts and storage type", {
  x <- mx.nd.sparse.csr(c(1.5, -2, 3, 4), indptr = c(0, 2, 2, 3, 4), indices = c(1, 4, 0, 4), shape = c(4, 5))
  expect_equal(mx.nd.stype(x), "csr")
  expect_equal(dim(x), c(4L, 5L))
  want <- matrix(0, 4, 5)
  want[1, 2] <- 1.5; want[1, 5] <- -2; want[3, 1] <- 3; want[4, 5] <- 4
  expect_equal(as.array(x), want)
  p <- mx.nd.sparse.parts(x)
  expect_equal(as.vector(p$indptr), c(0, 2, 2, 3, 4))
  expect_equal(as.vector(p$indices), c(1, 4, 0, 4))
  expect_equal(as.vector(p$data), c(1.5, -2, 3, 4))
  expect_equal(as.vector(as.array(mx.nd.sum(x, axis = 1))), rowSums(want))   # an op on csr
})

test_that("row_sparse keeps the non-zero rows; casts round-trip", {
  d <- matrix(c(0, 0, 2, 1, 0, 0, 0, 0, 3), 3)   # rows 1 and 3 non-zero
  r <- mx.nd.tostype(mx.nd.array(d), "row_sparse")
  expect_equal(mx.nd.stype(r), "row_sparse")
  expect_equal(as.vector(mx.nd.sparse.parts(r)$indices), c(0, 2))
  expect_equal(as.array(r), d)
  expect_equal(as.array(mx.nd.tostype(r, "default")), d)
  rs <- mx.nd.sparse.row_sparse(matrix(c(1, 3, 2, 4), 2), indices = c(1, 3), shape = c(5, 2))
  expect_equal(as.array(rs), matrix(c(0, 1, 0, 3, 0, 0, 2, 0, 4, 0), 5))
})

test_that("Matrix sparse matrices convert both ways with their shape", {
  skip_if_not_installed("Matrix")
  m <- Matrix::sparseMatrix(i = c(1, 1, 3, 4), j = c(2, 5, 1, 5), x = c(1.5, -2, 3, 4), dims = c(4, 5))
  x <- mx.nd.sparse.array(m)
  expect_equal(mx.nd.stype(x), "csr")
  expect_equal(as.array(x), as.matrix(m))
  back <- mx.nd.as.sparseMatrix(x)
  expect_s4_class(back, "dgCMatrix")
  expect_equal(as.matrix(back), as.matrix(m))
  expect_equal(as.matrix(mx.nd.as.sparseMatrix(mx.nd.array(diag(3)))), diag(3))
})

test_that("bad sparse input ends in a classed R error", {
  expect_error(mx.nd.tostype(mx.nd.array(diag(2)), "coo"), class = "mx_value_error")
  expect_error(mx.nd.sparse.csr(1, indptr = c(0, 1), indices = 7, shape = c(1, 3)), class = "mx_error")
  expect_error(mx.nd.sparse.parts(mx.nd.array(diag(2))), class = "mx_value_error")
  expect_error(mx.nd.sparse.array(list(1)), class = "mx_type_error")
})
