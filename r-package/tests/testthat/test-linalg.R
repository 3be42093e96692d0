test_that("linalg ops from the core agree with R's own linear algebra", {
  set.seed(3)
  b <- matrix(runif(16, -1, 1), 4)
  spd <- b %*% t(b) + 4 * diag(4)
  a <- mx.nd.array(spd, dtype = "float64")
  expect_equal(as.array(mx.nd.linalg_potrf(a)), t(chol(spd)), tolerance = 1e-10)
  expect_equal(as.array(mx.nd.linalg_inverse(a)), solve(spd), tolerance = 1e-10)
  expect_equal(as.vector(as.array(mx.nd.linalg_det(a))), det(spd), tolerance = 1e-10)
  sld <- mx.nd.linalg_slogdet(a)
  expect_equal(as.vector(as.array(sld[[2]])), as.numeric(determinant(spd)$modulus), tolerance = 1e-10)
  ev <- mx.nd.linalg_syevd(a)
  expect_equal(as.vector(as.array(ev[[2]])), rev(eigen(spd, symmetric = TRUE)$values), tolerance = 1e-10)
})

test_that("linalg ops report bad input as R errors", {
  expect_error(mx.nd.linalg_inverse(mx.nd.array(matrix(1, 2, 2))), "singular")
  expect_error(mx.nd.linalg_potrf(mx.nd.array(matrix(1:6, 2, 3))), "square")
})
