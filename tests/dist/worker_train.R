# Data-parallel MLP or LeNet-like CNN training from R, run by tests/dist/test_dist_r_julia.py:
#   Rscript worker_train.R <optimizer> <kvstore> <parts> <out> [mlp|lenet]
# kvstore dist_sync under mpirun: worker r trains on part r (contiguous rows) with batch 12/N.
# kvstore local with parts P: one process on the same data reordered so that its batch t is
# the P workers' batches t concatenated. Each worker starts from its own random parameters
# (seed 100 + rank); FeedForward.create broadcasts rank 0's. Writes <out>.<rank>.params.
library(mx)
a <- commandArgs(trailingOnly = TRUE)
opt <- a[1]; kvstore <- a[2]; parts <- as.integer(a[3]); out <- a[4]
model_kind <- if (length(a) >= 5) a[5] else "mlp"
dist <- grepl("dist", kvstore)
rank <- if (dist) mx.kv.worker.rank() else 0L
nw <- if (dist) mx.kv.worker.count() else 1L
G <- 12L; steps <- 20L; n <- G * steps
set.seed(42)
X <- if (model_kind == "lenet") array(runif(n * 64, -1, 1), c(n, 1, 8, 8)) else matrix(runif(n * 8, -1, 1), n, 8)
rows_of <- function(X, idx) if (length(dim(X)) == 2) X[idx, , drop = FALSE] else X[idx, , , , drop = FALSE]
y <- sample(0:3, n, replace = TRUE)
b <- G %/% max(nw, parts)
if (!dist && parts > 1) {
  ord <- unlist(lapply(seq_len(steps) - 1L, function(t)
    unlist(lapply(seq_len(parts) - 1L, function(r) r * n %/% parts + t * b + seq_len(b)))))
  X <- rows_of(X, ord); y <- y[ord]
  b <- G
} else if (dist) {
  rows <- (rank * n %/% nw + 1L):((rank + 1L) * n %/% nw)
  X <- rows_of(X, rows); y <- y[rows]
}
data <- mx.symbol.Variable("data")
if (model_kind == "lenet") {  # convolution, relu, max-pool, then the classifier
  conv <- mx.symbol.Convolution(data = data, kernel = c(3, 3), num_filter = 4, name = "conv1")
  pool <- mx.symbol.Pooling(data = mx.symbol.Activation(data = conv, act_type = "relu"), kernel = c(2, 2),
                            stride = c(2, 2), pool_type = "max")
  data <- mx.symbol.Flatten(data = pool)
}
fc1 <- mx.symbol.FullyConnected(data = data, num_hidden = 16, name = "fc1")
act <- mx.symbol.Activation(data = fc1, act_type = "relu", name = "relu1")
fc2 <- mx.symbol.FullyConnected(data = act, num_hidden = 4, name = "fc2")
net <- mx.symbol.SoftmaxOutput(data = fc2, name = "softmax")
mx.set.seed(100 + rank)
hp <- if (opt == "sgd") list(learning.rate = 0.05, momentum = 0.9, wd = 0.001) else
  list(learning.rate = 0.01, wd = 0.001)
# With a timeline asked for (MX_KVSTORE_TIMELINE), the kvstore is made here so it can be closed.
kvs <- if (dist && nzchar(Sys.getenv("MX_KVSTORE_TIMELINE"))) mx.kv.create(kvstore) else kvstore
model <- do.call(mx.model.FeedForward.create,
                 c(list(net, X = X, y = y, num.round = 1, array.batch.size = b, shuffle = FALSE,
                        optimizer = opt, initializer = mx.init.Xavier(), kvstore = kvs,
                        verbose = FALSE), hp))
if (inherits(kvs, "MXKVStore")) kvs$set.timeline(NULL)  # writes the trace
mx.nd.save(model$arg.params, sprintf("%s.%d.params", out, rank))
cat(sprintf("WORKER-OK %d\n", rank))
