# Progress bars of mx.model.FeedForward.create: throttled redraws, decile lines in logs, and a
# rate measured from the first update (checked with a fake clock).

fake_clock <- function() {
  t <- 0
  list(now = function() t, advance = function(dt) t <<- t + dt)
}

test_that("in-place bars redraw at most every min.interval, plus the final state", {
  clk <- fake_clock()
  lines <- character(0)
  p <- mx:::.mx_progress_new(100, inplace = TRUE, min.interval = 0.25, clock = clk$now,
                             out = function(x) lines <<- c(lines, x))
  for (i in 1:100) {
    clk$advance(0.01)          # 100 batches a second: 1 s in all
    mx:::.mx_progress_update(p)
  }
  # the first update draws, then one draw per 0.25 s of batches (at 0.26, 0.51, 0.76), then 100/100
  expect_equal(p$draws, 5L)
  expect_true(all(startsWith(lines, "\r")))
  expect_match(lines[length(lines)], "100% 100/100")
})

test_that("the rate counts batches after the first over the time since it", {
  clk <- fake_clock()
  p <- mx:::.mx_progress_new(10, inplace = TRUE, clock = clk$now, out = function(x) NULL)
  clk$advance(2)               # a slow first batch (binding, allocation)
  mx:::.mx_progress_update(p)
  expect_equal(mx:::.mx_progress_rate(p), 0.5)   # first update: that batch's own rate
  for (i in 1:4) {
    clk$advance(0.1)
    mx:::.mx_progress_update(p)
  }
  expect_equal(mx:::.mx_progress_rate(p), 4 / 0.4)
})

test_that("logs get one line per 10 % without carriage returns", {
  clk <- fake_clock()
  lines <- character(0)
  p <- mx:::.mx_progress_new(37, inplace = FALSE, clock = clk$now, out = function(x) lines <<- c(lines, x))
  for (i in 1:37) {
    clk$advance(0.05)
    mx:::.mx_progress_update(p)
  }
  expect_equal(length(lines), 11L)   # deciles 0..9 each once (0: the first batch), then 100 %
  expect_false(any(grepl("\r", lines, fixed = TRUE)))
  pct <- as.integer(sub(".*\\] +([0-9]+)%.*", "\\1", lines))
  expect_true(all(diff(pct) > 0))
  expect_equal(pct[length(pct)], 100L)
})

test_that("FeedForward.create with verbose = TRUE reports progress per epoch", {
  set.seed(1)
  X <- matrix(runif(64 * 4), 64, 4)
  y <- as.numeric(X[, 1] > 0.5)
  data <- mx.symbol.Variable("data")
  net <- mx.symbol.SoftmaxOutput(mx.symbol.FullyConnected(data, num_hidden = 2), name = "softmax")
  msgs <- capture.output(
    m <- mx.model.FeedForward.create(net, X = X, y = y, num.round = 2, array.batch.size = 16,
                                     learning.rate = 0.1, verbose = TRUE),
    type = "message")
  bars <- grep("batch/s", msgs, value = TRUE)
  expect_true(length(bars) >= 2)
  expect_true(any(grepl("^\\[1\\] .*100% 4/4", bars)))
  expect_true(any(grepl("^\\[2\\] .*100% 4/4", bars)))
})
