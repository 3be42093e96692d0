# R half of `make demo`: load the checkpoint Python trained and predict the same samples.
#   Rscript examples/demo_predict.R PREFIX EPOCH DEMO_IO.nd
suppressMessages(library(mx))
a <- commandArgs(trailingOnly = TRUE)
model <- mx.model.load(a[1], as.integer(a[2]))
io <- mx.nd.load(a[3])
pred <- predict(model, as.array(io$data), array.batch.size = 5)
ref <- as.array(io$pred)
classes <- c("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
             "Ankle boot")
cat("R loaded ", a[1], " (epoch ", a[2], ") and predicts:\n", sep = "")
for (i in seq_len(nrow(pred))) {
  k <- which.max(pred[i, ])
  cat(sprintf("  sample %d: predicted %-12s (p=%.3f)\n", i - 1, classes[k], pred[i, k]))
}
diff <- max(abs(pred - ref))
cat(sprintf("R: largest difference from Python's probabilities: %.2g\n", diff))
if (diff > 1e-5) stop("R predicts differently from Python")
