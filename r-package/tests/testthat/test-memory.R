test_that("many arrays are freed by finalizers without crashing", {
  for (i in 1:2000) {
    a <- mx.nd.array(matrix(runif(20), 4, 5))
    b <- a * 2 + 1
  }
  gc()
  gc()
  expect_equal(dim(b), c(4L, 5L))
})

test_that("a restored (NULL) handle gives an error, not a crash", {
  a <- mx.nd.array(1:3)
  b <- unserialize(serialize(a, NULL))
  expect_error(as.array(b), class = "mx_value_error")
  expect_output(print(b), "invalid handle")
})

test_that("views keep their storage alive", {
  a <- mx.nd.array(matrix(1:6, 2, 3))
  v <- a[1:1, , drop = FALSE]
  rm(a)
  gc()
  expect_equal(as.array(v), matrix(c(1, 3, 5), 1))
})
