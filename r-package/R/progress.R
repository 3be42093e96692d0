# Training progress for mx.model.FeedForward.create (the same behaviour as Python's mx.progress):
# - interactive sessions redraw one line in place with "\r", at most every `min.interval` seconds
#   (a few times a second however fast batches come) plus the final state;
# - elsewhere (Rscript, R CMD check, knitr) one line per 10 %, so logs stay short.
# The rate is measured from the first update: the first batch carries one-off costs (binding,
# allocation), so later rates count the batches after it over the time since it ended.

.mx_progress_new <- function(total, prefix = "", width = 30L, inplace = interactive(),
                             min.interval = 0.25, clock = function() proc.time()[["elapsed"]],
                             out = function(text) cat(text, file = stderr())) {
  p <- new.env(parent = emptyenv())
  p$total <- max(as.integer(total), 1L)
  p$prefix <- prefix
  p$width <- as.integer(width)
  p$inplace <- isTRUE(inplace)
  p$min.interval <- min.interval
  p$clock <- clock
  p$out <- out
  p$count <- 0L
  p$start <- clock()
  p$first <- NULL        # c(time, count) at the first update
  p$last.draw <- NULL
  p$last.decile <- -1L
  p$draws <- 0L
  p
}

# Items per second, measured from the first update (see above).
.mx_progress_rate <- function(p, now = p$clock()) {
  if (is.null(p$first)) return(0)
  t0 <- p$first[[1L]]
  c0 <- p$first[[2L]]
  if (p$count > c0 && now > t0) return((p$count - c0) / (now - t0))
  if (t0 > p$start) c0 / (t0 - p$start) else 0
}

.mx_progress_update <- function(p, n = 1L, metrics = NULL) {
  p$count <- min(p$count + as.integer(n), p$total)
  now <- p$clock()
  if (is.null(p$first)) p$first <- c(now, p$count)
  done <- p$count >= p$total
  if (p$inplace) {
    if (!done && !is.null(p$last.draw) && now - p$last.draw < p$min.interval) return(invisible(FALSE))
  } else {
    decile <- as.integer(p$count * 10 / p$total)
    if (decile == p$last.decile) return(invisible(FALSE))
    p$last.decile <- decile
  }
  p$last.draw <- now
  frac <- p$count / p$total
  filled <- as.integer(p$width * frac)
  bar <- paste0(strrep("#", filled), strrep("-", p$width - filled))
  extra <- if (length(metrics)) paste(sprintf("%s=%.4f", names(metrics), unlist(metrics)), collapse = " ") else ""
  line <- sprintf("%s [%s] %3d%% %d/%d %.1f batch/s %s", p$prefix, bar, as.integer(frac * 100), p$count,
                  p$total, .mx_progress_rate(p, now), extra)
  p$draws <- p$draws + 1L
  p$out(if (p$inplace) paste0("\r", line) else paste0(sub("\\s+$", "", line), "\n"))
  invisible(TRUE)
}

.mx_progress_close <- function(p) if (p$inplace) p$out("\n")
