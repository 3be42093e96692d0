# Crash-proof runner for the bad-call sweep (test-bad-calls.R): the cases run in a child Rscript;
# when the child dies (signal, abort) or hangs, the case it had started is recorded as a crash and
# a new child goes on with the next case.
run_bad_calls <- function(cases_file, n, timeout = 300) {
  rscript <- file.path(R.home("bin"), "Rscript")
  child <- normalizePath(test_path("bad-calls-child.R"))
  env <- c(paste0("R_LIBS=", paste(.libPaths(), collapse = .Platform$path.sep)),
           "OMP_NUM_THREADS=1")
  results <- rep(list(NULL), n)
  from <- 1L
  while (from <= n) {
    err <- tempfile()
    out <- suppressWarnings(system2(rscript, c("--vanilla", shQuote(child), shQuote(cases_file), from),
                                    stdout = TRUE, stderr = err, env = env, timeout = timeout))
    started <- NA_integer_
    for (line in out) {
      f <- strsplit(line, "\t", fixed = TRUE)[[1L]]
      if (f[1L] == "START") started <- as.integer(f[2L])
      if (f[1L] == "RESULT") {
        results[[as.integer(f[2L])]] <- list(status = f[3L], detail = if (length(f) > 3L) f[4L] else "")
        started <- NA_integer_
      }
    }
    if ("DONE" %in% out) break
    # the child died: blame the case it had started (or the start-up, if none)
    status <- attr(out, "status")
    tail_err <- paste(utils::tail(readLines(err, warn = FALSE), 5L), collapse = " | ")
    if (is.na(started)) {
      last <- max(c(0L, which(!vapply(results, is.null, logical(1)))))
      if (last < from) stop("bad-calls child failed before its first case (exit ", status, "): ", tail_err)
      started <- last + 1L
      if (started > n) break
    }
    results[[started]] <- list(status = "CRASH",
                               detail = paste0("the R process died (exit status ", status, "): ", tail_err))
    from <- started + 1L
  }
  results
}
