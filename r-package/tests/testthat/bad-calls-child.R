# Child process of test-bad-calls.R: runs the cases of bad-calls-cases.R from index FROM on and
# reports each as it goes (START before, RESULT after, flushed), so that if this process dies the
# parent knows which case killed it.
#   Rscript bad-calls-child.R CASES_FILE FROM
args <- commandArgs(trailingOnly = TRUE)
suppressPackageStartupMessages(library(mx))
source(args[[1L]])
cases <- bad_call_cases()
from <- as.integer(args[[2L]])
one_line <- function(s) gsub("[\t\r\n]+", " ", paste(s, collapse = " "))
for (i in seq.int(from, length.out = max(0L, length(cases) - from + 1L))) {
  cat("START\t", i, "\n", sep = "")
  flush(stdout())
  verdict <- judge_case(cases[[i]])
  cat("RESULT\t", i, "\t", verdict$status, "\t", one_line(verdict$detail), "\n", sep = "")
  flush(stdout())
}
cat("DONE\n")
