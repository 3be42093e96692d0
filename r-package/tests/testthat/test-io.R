# Core data iterators (mx.io.CSVIter, mx.io.MNISTIter, mx.io.ImageRecordIter) against MXNet
# 1.9.1's fixtures in tests/data/mxnet-1.9.1 (skipped when the package is checked outside the
# repository).

.fixture_dir <- function(...) {
  for (root in c(Sys.getenv("MX_TEST_DATA"), "../../../tests/data/mxnet-1.9.1",
                 "../../../../tests/data/mxnet-1.9.1", "../../../../../tests/data/mxnet-1.9.1")) {
    if (nzchar(root) && dir.exists(file.path(root, ...))) return(normalizePath(file.path(root, ...)))
  }
  NULL
}

csv_dir <- function() {
  d <- .fixture_dir("csv")
  if (is.null(d)) skip("MXNet 1.9.1 CSV fixtures not found (set MX_TEST_DATA)")
  d
}

collect <- function(it) {
  out <- list()
  while (it$iter.next()) {
    v <- it$value()
    out[[length(out) + 1L]] <- list(data = as.array(v$data), label = as.array(v$label), pad = v$pad)
  }
  out
}

# Rows of each batch, as MXNet 1.9.1's CSVIter gives them (csviter_round_batch_*.npz).
csv_expected <- list(
  "TRUE" = list(list(rows = 0:3, pad = 0), list(rows = 4:7, pad = 0), list(rows = c(8, 9, 0, 1), pad = 2)),
  "TRUE1" = list(list(rows = 2:5, pad = 0), list(rows = 6:9, pad = 0)),
  "FALSE" = list(list(rows = 0:3, pad = 0), list(rows = 4:7, pad = 0), list(rows = c(8, 9, 6, 7), pad = 2)),
  "FALSE1" = list(list(rows = 0:3, pad = 0), list(rows = 4:7, pad = 0), list(rows = c(8, 9, 6, 7), pad = 2)))

for (rb in c(TRUE, FALSE)) {
  test_that(sprintf("CSVIter matches MXNet's batches (round.batch = %s)", rb), {
    d <- csv_dir()
    X <- as.matrix(utils::read.csv(file.path(d, "data.csv"), header = FALSE))
    y <- utils::read.csv(file.path(d, "label.csv"), header = FALSE)[[1L]]
    it <- mx.io.CSVIter(data.csv = file.path(d, "data.csv"), data.shape = 3,
                        label.csv = file.path(d, "label.csv"), label.shape = 1, batch.size = 4,
                        round.batch = rb)
    expect_true(is.mx.dataiter(it))
    expect_equal(it$provide.data(), c(4, 3))
    expect_equal(it$provide.label(), 4)
    expect_equal(it$batch.size, 4)
    for (epoch in 0:1) {
      exp <- csv_expected[[paste0(rb, if (epoch) "1" else "")]]
      got <- collect(it)
      expect_length(got, length(exp))
      for (b in seq_along(exp)) {
        r <- exp[[b]]$rows + 1
        expect_equal(dim(got[[b]]$data), c(4L, 3L))
        expect_equal(got[[b]]$data, unname(X[r, , drop = FALSE]), tolerance = 1e-6)
        expect_equal(as.numeric(got[[b]]$label), y[r])
        expect_equal(got[[b]]$pad, exp[[b]]$pad)
      }
      it$reset()
    }
  })
}

test_that("CSVIter batches are fresh arrays and labels default to zeros", {
  d <- csv_dir()
  it <- mx.io.CSVIter(data.csv = file.path(d, "data.csv"), data.shape = c(3), batch.size = 4)
  expect_true(it$iter.next())
  b0 <- it$value()
  first <- as.array(b0$data)
  expect_true(it$iter.next())
  it$value()
  expect_equal(as.array(b0$data), first)
  expect_equal(as.numeric(as.array(b0$label)), rep(0, 4))
  expect_length(it$index(), 4L)
})

test_that("CSVIter errors are classed", {
  d <- csv_dir()
  expect_s3_class(tryCatch(mx.io.CSVIter(data.csv = file.path(tempdir(), "missing.csv"), data.shape = 3,
                                         batch.size = 2), error = identity), "mx_io_error")
  expect_s3_class(tryCatch(mx.io.CSVIter(data.csv = file.path(d, "data.csv"), data.shape = 4, batch.size = 2),
                           error = identity), "mx_shape_error")
  expect_error(mx.io.CSVIter(data.csv = file.path(d, "data.csv"), data.shape = 3, batch.size = 2, bogus = 1),
               "bogus", class = "mx_value_error")
})

test_that("CSVIter feeds mx.model.FeedForward.create and predict", {
  d <- csv_dir()
  it <- mx.io.CSVIter(data.csv = file.path(d, "data.csv"), data.shape = 3,
                      label.csv = file.path(d, "label.csv"), batch.size = 5)
  net <- mx.symbol.SoftmaxOutput(data = mx.symbol.FullyConnected(data = mx.symbol.Variable("data"),
                                                                 num_hidden = 10, name = "fc"), name = "sm")
  model <- mx.model.FeedForward.create(net, X = it, num.round = 2, learning.rate = 0.01,
                                       eval.metric = mx.metric.accuracy, verbose = FALSE)
  expect_equal(dim(as.array(model$arg.params$fc_weight)), c(10L, 3L))
  p <- predict(model, it)
  expect_equal(dim(p), c(10L, 10L))
})

test_that("MNISTIter reads Fashion-MNIST t10k", {
  fm <- "/usr/share/datasets/fashion-mnist"
  if (!dir.exists(fm)) skip("Fashion-MNIST not installed (Debian dataset-fashion-mnist)")
  ip <- file.path(fm, "t10k-images-idx3-ubyte.gz")
  lp <- file.path(fm, "t10k-labels-idx1-ubyte.gz")
  con <- gzfile(lp, "rb")
  lab <- as.integer(readBin(con, "raw", 10008))[-(1:8)]
  close(con)
  con <- gzfile(ip, "rb")
  raw <- readBin(con, "raw", 16 + 1001 * 784)
  close(con)
  px <- matrix(as.integer(raw[-(1:16)]), ncol = 784, byrow = TRUE)
  it <- tryCatch(mx.io.MNISTIter(image = ip, label = lp, batch.size = 1000, shuffle = FALSE, flat = TRUE),
                 mx_unsupported_error = function(e) skip(paste("libmx built without zlib:", conditionMessage(e))))
  expect_equal(it$provide.data(), c(1000, 784))
  expect_equal(it$provide.label(), 1000)
  n <- 0
  while (it$iter.next()) {
    v <- it$value()
    n <- n + 1
    if (n == 1) {
      x <- as.array(v$data)
      expect_equal(dim(x), c(1000L, 784L))
      expect_equal(x, px[1:1000, ] / 255, tolerance = 1e-6)
      expect_equal(v$pad, 0)
    }
    if (n == 10) expect_equal(as.numeric(as.array(v$label)), lab[9001:10000])
  }
  expect_equal(n, 10)
  it2 <- mx.io.MNISTIter(image = ip, label = lp, batch.size = 8, shuffle = FALSE)
  expect_equal(it2$provide.data(), c(8, 1, 28, 28))
  it2$reset()
  expect_true(it2$iter.next())
  x <- as.array(it2$value()$data)
  expect_equal(dim(x), c(8L, 1L, 28L, 28L))
  expect_equal(x[2, 1, , ], matrix(px[2, ], 28, 28, byrow = TRUE) / 255, tolerance = 1e-6)
})

test_that("ImageRecordIter reads MXNet's RecordIO fixture", {
  d <- .fixture_dir("recordio")
  if (is.null(d)) skip("MXNet 1.9.1 RecordIO fixtures not found (set MX_TEST_DATA)")
  it <- tryCatch(mx.io.ImageRecordIter(path.imgrec = file.path(d, "images_png.rec"), data.shape = c(3, 8, 8),
                                       batch.size = 4, shuffle = FALSE),
                 mx_unsupported_error = function(e) skip(paste("no PNG codec:", conditionMessage(e))))
  expect_equal(it$provide.data(), c(4, 3, 8, 8))
  expect_equal(it$provide.label(), 4)
  for (epoch in 1:2) {
    it$reset()
    expect_true(it$iter.next())
    v <- it$value()
    x <- as.array(v$data)
    expect_equal(dim(x), c(4L, 3L, 8L, 8L))
    expect_true(all(x >= 0 & x <= 255))
    expect_equal(min(x), 0)
    expect_equal(max(x), 255)
    expect_equal(sum(x), 97699)
    expect_equal(x[1, 1, 1, ], c(0, 32, 64, 96, 128, 160, 192, 224))
    expect_equal(as.numeric(as.array(v$label)), c(0, 1, 2, 3))
    expect_equal(v$pad, 0)
    expect_false(it$iter.next())
  }
})
