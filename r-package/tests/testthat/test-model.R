# Symbols, executors, optimizers, initializers, metrics, training and checkpoints.

toy_net <- function() {
  data <- mx.symbol.Variable("data")
  fc1 <- mx.symbol.FullyConnected(data = data, num_hidden = 8, name = "fc1")
  act <- mx.symbol.Activation(data = fc1, act_type = "relu", name = "relu1")
  fc2 <- mx.symbol.FullyConnected(data = act, num_hidden = 3, name = "fc2")
  mx.symbol.SoftmaxOutput(data = fc2, name = "softmax")
}

toy_data <- function(n = 120) {
  set.seed(1)
  X <- matrix(rnorm(n * 4), n, 4)
  y <- as.integer(X[, 1] > 0) + as.integer(X[, 2] > 0)
  list(X = X, y = y)
}

test_that("symbols list arguments, infer logical shapes and round-trip through JSON", {
  net <- toy_net()
  expect_true(is.mx.symbol(net))
  expect_equal(arguments(net), c("data", "fc1_weight", "fc1_bias", "fc2_weight", "fc2_bias", "softmax_label"))
  expect_equal(outputs(net), "softmax_output")
  s <- mx.symbol.infer.shape(net, data = c(5, 4))
  expect_equal(s$arg.shapes$fc1_weight, c(8L, 4L))
  expect_equal(s$out.shapes$softmax_output, c(5L, 3L))
  net2 <- mx.symbol.load.json(mx.symbol.as.json(net))
  expect_equal(arguments(net2), arguments(net))
  f <- tempfile(fileext = ".json")
  mx.symbol.save(net, f)
  expect_equal(outputs(mx.symbol.load(f)), "softmax_output")
  g <- mx.symbol.Group(net, mx.symbol.get.output(mx.symbol.get.internals(net), "fc1_output"))
  expect_true(mx.symbol.num.outputs(g) >= 2L)
  expect_s3_class(tryCatch(mx.symbol.FullyConnected(data = 1, num_hidden = 2), error = identity), "mx_type_error")
})

test_that("executors run forward and backward", {
  net <- mx.symbol.FullyConnected(data = mx.symbol.Variable("data"), num_hidden = 2, name = "fc", no_bias = TRUE)
  ex <- mx.simple.bind(net, grad.req = list("write", data = "null"), data = c(3, 2))
  expect_null(ex$grad.arrays$data)
  mx.exec.update.arg.arrays(ex, list(data = matrix(1:6, 3), fc_weight = diag(2)))
  mx.exec.forward(ex, is.train = TRUE)
  expect_equal(as.array(ex$outputs[[1]]), matrix(as.double(1:6), 3))
  mx.exec.backward(ex, list(mx.nd.ones(c(3, 2))))
  expect_equal(as.array(ex$grad.arrays$fc_weight), matrix(c(6, 6, 15, 15), 2))
})

test_that("optimizers update in the core", {
  opt <- mx.opt.sgd(learning.rate = 0.5)
  w <- mx.nd.array(c(1, 2))
  mx.opt.get.updater(opt)(list(w), list(mx.nd.array(c(1, 1))))
  expect_equal(as.array(w), array(c(0.5, 1.5)))
  expect_s3_class(tryCatch(mx.opt.create("nosuch"), error = identity), "mx_error")
})

test_that("metrics and initializers", {
  expect_equal(mx.metric.eval(mx.metric.accuracy, c(0, 1), matrix(c(0.9, 0.2, 0.1, 0.8), 2))$value, 1)
  expect_equal(mx.metric.eval(mx.metric.mae, c(1, 2), c(2, 2))$value, 0.5)
  mx.set.seed(3)
  a <- mx.init.create(mx.init.Xavier(), list(fc_weight = c(4, 3), fc_bias = 4, data = c(2, 3)))
  expect_equal(names(a), c("fc_weight", "fc_bias"))
  expect_equal(as.array(a$fc_bias), array(0, 4))
  mx.set.seed(3)
  b <- mx.init.create(mx.init.Xavier(), list(fc_weight = c(4, 3)))
  expect_identical(as.array(a$fc_weight), as.array(b$fc_weight))
})

test_that("FeedForward trains, predicts, checkpoints and resumes", {
  d <- toy_data()
  mx.set.seed(1)
  logger <- mx.metric.logger()
  m <- mx.model.FeedForward.create(toy_net(), X = d$X, y = d$y, num.round = 4, array.batch.size = 20,
                                   learning.rate = 0.1, momentum = 0.9, eval.metric = mx.metric.accuracy,
                                   initializer = mx.init.Xavier(), shuffle = FALSE, verbose = FALSE,
                                   eval.data = list(data = d$X, label = d$y),
                                   epoch.end.callback = mx.callback.log.train.metric(1, logger))
  expect_length(logger$train, 4)
  p <- predict(m, d$X, array.batch.size = 50)
  expect_equal(dim(p), c(120L, 3L))
  expect_gt(mean(max.col(p) - 1 == d$y), 0.7)
  prefix <- file.path(tempdir(), "ff")
  mx.model.save(m, prefix, 4)
  expect_true(file.exists(sprintf("%s-0004.states", prefix)))
  m2 <- mx.model.load(prefix, 4)
  expect_identical(predict(m2, d$X), predict(m, d$X))
  m3 <- mx.unserialize(mx.serialize(m))
  expect_identical(predict(m3, d$X), predict(m, d$X))
  r <- mx.model.FeedForward.create(m2$symbol, X = d$X, y = d$y, begin.round = 5, num.round = 5,
                                   array.batch.size = 20, learning.rate = 0.1, momentum = 0.9,
                                   arg.params = m2$arg.params, optimizer.states = m2$optimizer.states,
                                   shuffle = FALSE, verbose = FALSE)
  expect_equal(names(r$arg.params), names(m$arg.params))
})

test_that("NA in input data is a clear error", {
  d <- toy_data()
  d$X[3, 2] <- NA
  e <- tryCatch(mx.model.FeedForward.create(toy_net(), X = d$X, y = d$y, num.round = 1, verbose = FALSE),
                error = identity)
  expect_s3_class(e, "mx_value_error")
  expect_match(conditionMessage(e), "NA")
})

test_that("mx.mlp trains", {
  d <- toy_data()
  mx.set.seed(2)
  m <- mx.mlp(d$X, d$y, hidden_node = 8, out_node = 3, num.round = 2, array.batch.size = 20,
              learning.rate = 0.1, verbose = FALSE, shuffle = FALSE)
  expect_equal(dim(predict(m, d$X)), c(120L, 3L))
})

test_that("variadic operators take positional inputs (symbols and arrays)", {
  a <- mx.symbol.Variable("a")
  b <- mx.symbol.Variable("b")
  cc <- mx.symbol.Concat(a, b, dim = 1, name = "cc")
  expect_equal(mx.symbol.infer.shape(cc, a = c(2, 3), b = c(2, 5))$out.shapes$cc_output, c(2L, 8L))
  expect_s3_class(tryCatch(mx.symbol.infer.shape(cc, a = c(2, 3), b = c(4, 5)), error = identity), "mx_shape_error")
  expect_equal(dim(mx.nd.Concat(mx.nd.ones(c(2, 3)), mx.nd.ones(c(2, 3)), dim = 1)), c(2L, 6L))
  s <- mx.symbol.Variable("x") * 2 + mx.symbol.Variable("y")
  ex <- mx.simple.bind(s, x = c(2, 2), y = c(2, 2))
  mx.exec.update.arg.arrays(ex, list(x = matrix(1:4, 2), y = matrix(1, 2, 2)))
  mx.exec.forward(ex, is.train = FALSE)
  expect_equal(as.array(ex$outputs[[1]]), matrix(c(3, 5, 7, 9), 2))
})
