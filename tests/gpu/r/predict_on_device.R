# Rscript predict_on_device.R PREFIX EPOCH IO.nd BATCH DEVICE
# Loads a checkpoint, predicts io.nd's "data" on DEVICE ("gpu": mx.ctx.gpu(0); "cpu") and
# compares with its "pred" (Python's prediction on the GPU).
suppressMessages(library(mx))
a <- commandArgs(trailingOnly = TRUE)
ctx <- if (a[5] == "gpu") mx.ctx.gpu(0) else mx.ctx.cpu()
model <- mx.model.load(a[1], as.integer(a[2]))
io <- mx.nd.load(a[3])
X <- as.array(io$data)
ref <- as.array(io$pred)
pred <- predict(model, X, ctx = ctx, array.batch.size = as.integer(a[4]))
stopifnot(identical(dim(pred), dim(ref)))
cat("RESULT device=", a[5], "\n", sep = "")
cat("RESULT max_abs_diff=", format(max(abs(pred - ref)), digits = 6), "\n", sep = "")
