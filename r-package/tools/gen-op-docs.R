# Regenerate man/mx.nd.<op>.Rd from the installed package's operator registry.
# Usage (from the repository root, after R CMD INSTALL r-package):
#   Rscript r-package/tools/gen-op-docs.R [r-package/man]
args <- commandArgs(trailingOnly = TRUE)
dir <- if (length(args)) args[1L] else "r-package/man"
n <- mx:::.mx_write_op_docs(dir)
cat("wrote", n, "operator Rd files to", dir, "\n")
