# Rscript predict_checkpoint.R PREFIX EPOCH IO.nd BATCH [RTOL ATOL]
# Loads a checkpoint, predicts io.nd's "data" and compares with its "pred".
suppressMessages(library(mx))
a <- commandArgs(trailingOnly = TRUE)
model <- mx.model.load(a[1], as.integer(a[2]))
io <- mx.nd.load(a[3])
X <- as.array(io$data)
ref <- as.array(io$pred)
pred <- predict(model, X, array.batch.size = as.integer(a[4]))
stopifnot(identical(dim(pred), dim(ref)))
rtol <- if (length(a) >= 5) as.numeric(a[5]) else 0
atol <- if (length(a) >= 6) as.numeric(a[6]) else 1e-6
cat("RESULT max_abs_diff=", format(max(abs(pred - ref)), digits = 6), "\n", sep = "")
cat("RESULT identical=", identical(pred, ref), "\n", sep = "")
cat("RESULT allclose=", all(abs(pred - ref) <= atol + rtol * abs(ref)), "\n", sep = "")
