test_that("bad input raises classed conditions", {
  expect_error(mx.nd.array(c(1L, NA)), class = "mx_value_error")
  expect_error(mx.nd.array(c(TRUE, NA)), class = "mx_value_error")
  expect_error(mx.nd.array(c(1, NaN), dtype = "int32"), class = "mx_value_error")
  expect_error(mx.nd.array("a"), class = "mx_type_error")
  expect_error(mx.nd.array(1, dtype = "complex"), class = "mx_type_error")
  a <- mx.nd.array(matrix(1:6, 2))
  expect_error(a + mx.nd.array(c(1, 2)), class = "mx_shape_error")
  expect_error(mx.nd.broadcast_to(a, shape = c(5, 5)), class = "mx_shape_error")
  expect_error(mx.nd.broadcast_to(a, no_such_param = 1), class = "mx_value_error")
  expect_error(mx.nd.broadcast_to(a, shape = "garbage"), class = "mx_value_error")
  expect_error(mx:::.mx_invoke("NoSuchOp", list(a)), class = "mx_value_error")
  expect_error(mx.nd.broadcast_add(a, 1), class = "mx_type_error")
  e <- tryCatch(mx.nd.array(c(1L, NA)), mx_error = function(e) e)
  expect_s3_class(e, "mx_error")
  expect_match(conditionMessage(e), "NA")
  expect_equal(e$status, -1L)
})

test_that("GPU requests fail clearly without a GPU", {
  n <- .Call(mx:::C_mxr_device_count, 2L)
  if (n == 0L) expect_error(mx.ctx.gpu(), class = "mx_unsupported_error")
  else expect_s3_class(mx.ctx.gpu(), "MXContext")
})

test_that("seeding works", {
  expect_silent(mx.set.seed(42))
  expect_error(mx.set.seed(-1), class = "mx_value_error")
})

test_that("ABI version of the library matches the package", {
  expect_identical(.Call(mx:::C_mxr_abi_version), .Call(mx:::C_mxr_header_abi_version))
})

test_that("save/load round-trips or reports that the core lacks it", {
  f <- tempfile(fileext = ".params")
  a <- mx.nd.array(matrix(1:6, 2))
  r <- tryCatch({
    mx.nd.save(list(w = a), f)
    mx.nd.load(f)
  }, mx_unsupported_error = function(e) e)
  if (inherits(r, "mx_unsupported_error")) {
    expect_match(conditionMessage(r), "not implemented")
  } else {
    expect_equal(names(r), "w")
    expect_equal(as.array(r$w), as.array(a))
  }
  expect_error(mx.nd.load(file.path(tempdir(), "does-not-exist.params")), class = "mx_error")
})
