# Rscript seed_streams.R PY.nd: the same seed, initializers and dropout as the Python side.
suppressMessages(library(mx))
a <- commandArgs(trailingOnly = TRUE)
py <- mx.nd.load(a[1])
mx.set.seed(7)
w <- mx.nd.zeros(c(64, 784))
mx.init.apply(mx.init.Xavier(), "fc1_weight", w)
u <- mx.nd.zeros(c(10, 64))
mx.init.apply(mx.init.uniform(0.07), "fc2_weight", u)
x <- mx.nd.ones(c(8, 50))
d <- mx.autograd.record(mx.nd.Dropout(data = x, p = 0.5))
for (k in c("xavier", "uniform", "dropout")) {
  r <- as.array(list(xavier = w, uniform = u, dropout = d)[[k]])
  p <- as.array(py[[k]])
  cat("RESULT ", k, "_diff=", max(abs(r - p)), "\n", sep = "")
  cat("RESULT ", k, "_identical=", identical(r, p), "\n", sep = "")
}
