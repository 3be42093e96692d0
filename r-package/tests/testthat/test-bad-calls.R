# Bad-call sweep (issue 15): every case of bad-calls-cases.R ends in an R error with a clear
# message or a correct value — never a crash of the R process. The cases run in a child Rscript
# (helper-bad-calls.R) so a crash is recorded as a crash of that case.
test_that("bad calls end in an R error or a correct value, never a crash", {
  cases_file <- normalizePath(test_path("bad-calls-cases.R"))
  env <- new.env()
  sys.source(cases_file, envir = env)
  cases <- env$bad_call_cases()
  expect_gte(length(cases), 60L)
  if (length(env$held_back)) message("bad calls held back until the core fixes land: ", paste(env$held_back, collapse = "; "))
  results <- run_bad_calls(cases_file, length(cases))
  for (i in seq_along(cases)) {
    r <- results[[i]]
    status <- if (is.null(r)) "NO RESULT" else r$status
    expect(identical(status, "PASS"),
           sprintf("bad call '%s': %s: %s", cases[[i]]$name, status, if (is.null(r)) "" else r$detail))
  }
})
