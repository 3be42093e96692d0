# KVStore in one process (the multi-worker checks run in tests/dist on mpirun).

test_that("a device kvstore sums pushed arrays and pulls into several outputs", {
  kv <- mx.kv.create("device")
  expect_equal(kv$type, "device")
  expect_equal(kv$num.workers, 1L)
  kv$init(c(3, 4), list(mx.nd.zeros(c(2, 2)), mx.nd.zeros(3)))
  a <- matrix(c(1, 2, 3, 4), 2)
  kv$push(3, list(mx.nd.array(a), mx.nd.array(2 * a)))
  o1 <- mx.nd.zeros(c(2, 2)); o2 <- mx.nd.zeros(c(2, 2))
  kv$pull(3, list(o1, o2))
  expect_equal(as.array(o1), 3 * a)
  expect_equal(as.array(o2), 3 * a)
})

test_that("an optimizer set on the kvstore updates the stored weight (numeric SGD)", {
  kv <- mx.kv.create("local")
  kv$init("w", mx.nd.array(c(1, 2, 3)))
  kv$set.optimizer(mx.opt.sgd(learning.rate = 0.5))
  out <- mx.nd.zeros(3)
  kv$pushpull("w", mx.nd.array(c(1, 1, 2)), out)
  expect_equal(as.array(out), array(c(1, 2, 3) - 0.5 * c(1, 1, 2)))
})

test_that("kvstore errors are clear", {
  expect_s3_class(tryCatch(mx.kv.create("dist_async"), error = identity), "mx_error")
  kv <- mx.kv.create("local")
  kv$init(1, mx.nd.zeros(2))
  e <- tryCatch(kv$push(1, mx.nd.zeros(3)), error = identity)
  expect_match(conditionMessage(e), "key '1' was initialised as \\(2,\\) float32")
})
