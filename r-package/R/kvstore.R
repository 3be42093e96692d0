# KVStore (MXNet's mx.kv.create): values pushed under one key are summed over arrays and, for
# 'dist_sync' / 'dist_device_sync' / 'horovod', over the workers of an mpirun job (allreduce in
# the core). The object is an environment of methods, as MXNet R's kvstore:
#   kv <- mx.kv.create("dist_sync"); kv$rank; kv$num.workers; kv$type
#   kv$init(keys, values); kv$push(keys, values); kv$pull(keys, out.values)
#   kv$pushpull(keys, values, out.values); kv$broadcast(keys, values, out.values)
#   kv$pushpull.grads(keys, grads, out.values); kv$set.overlap(TRUE); kv$set.timeline(path)
#   kv$set.optimizer(opt); kv$barrier(); kv$save.optimizer.states(f); kv$load.optimizer.states(f)
#   kv$set.gradient.compression(list(type = "2bit", threshold = 0.5))
# keys: numbers or strings; values: one MXNDArray per key, or a list of MXNDArrays per key.

.mx_kv_flatten <- function(keys, values, what) {
  if (is.mx.ndarray(values)) values <- list(values)
  # one key with a list of arrays: they are all pushed under (or pulled into) that key
  if (length(keys) == 1L && is.list(values) && length(values) > 1L &&
      all(vapply(values, is.mx.ndarray, NA))) values <- list(values)
  if (!is.list(values) || length(values) != length(keys))
    .mx_stop(.MX_ERR_VALUE, "kvstore ", what, ": need one value (or a list of values) per key; ",
             length(keys), " keys, ", length(values), " values")
  ks <- character(0)
  vs <- list()
  for (i in seq_along(keys)) {
    v <- values[[i]]
    if (is.mx.ndarray(v)) v <- list(v)
    if (!is.list(v) || !all(vapply(v, is.mx.ndarray, NA)))
      .mx_stop(.MX_ERR_VALUE, "kvstore ", what, ": values must be MXNDArrays")
    ks <- c(ks, rep(as.character(keys[[i]]), length(v)))
    vs <- c(vs, v)
  }
  list(keys = ks, values = vs)
}

mx.kv.create <- function(type = "local") {
  h <- .mx_call(C_mxr_kv_new, type)
  info <- .mx_json(.mx_call(C_mxr_kv_config, h))
  kv <- new.env(parent = emptyenv())
  kv$handle <- h
  kv$type <- info$type
  kv$rank <- as.integer(info$rank)
  kv$num.workers <- as.integer(info$num_workers)
  call <- function(op, keys, values, out = NULL) {
    a <- .mx_kv_flatten(keys, values, op)
    b <- if (is.null(out)) list(keys = character(0), values = NULL) else .mx_kv_flatten(keys, out, op)
    .mx_call(C_mxr_kv_call, h, op, a$keys, a$values, b$keys, b$values)
    invisible(kv)
  }
  kv$init <- function(keys, values) call("init", keys, values)
  kv$push <- function(keys, values, priority = 0) call("push", keys, values)
  kv$pull <- function(keys, out.values, priority = 0) call("pull", keys, out.values)
  kv$pushpull <- function(keys, values, out.values = NULL, priority = 0)
    call("pushpull", keys, values, if (is.null(out.values)) values else out.values)
  kv$broadcast <- function(keys, values, out.values) call("broadcast", keys, values, out.values)
  # pushpull of the gradient arrays an executor's backward writes: with overlap on, the next
  # backward reduces them bucket by bucket while it runs (same results as pushpull).
  kv$pushpull.grads <- function(keys, values, out.values = NULL, priority = 0)
    call("pushpull_grads", keys, values, if (is.null(out.values)) values else out.values)
  kv$overlap.sync <- function() invisible(.mx_call(C_mxr_kv_ctl, h, "overlap_sync", NULL))
  kv$set.overlap <- function(flag)
    invisible(.mx_call(C_mxr_kv_ctl, h, "overlap", if (isTRUE(flag)) "true" else "false"))
  # A Chrome trace of the reduction (backward, each bucket's ready/send/done); NULL closes it.
  kv$set.timeline <- function(path)
    invisible(.mx_call(C_mxr_kv_ctl, h, "timeline", .mx_to_json(if (is.null(path)) "" else path.expand(path))))
  kv$set.optimizer <- function(optimizer) {
    if (!inherits(optimizer, "MXOptimizer")) .mx_stop(.MX_ERR_VALUE, "set.optimizer: expected an MXOptimizer")
    .mx_call(C_mxr_kv_set_optimizer, h, optimizer$handle)
    invisible(kv)
  }
  kv$barrier <- function() invisible(.mx_call(C_mxr_kv_ctl, h, "barrier", NULL))
  kv$save.optimizer.states <- function(filename)
    invisible(.mx_call(C_mxr_kv_ctl, h, "save", path.expand(filename)))
  kv$load.optimizer.states <- function(filename)
    invisible(.mx_call(C_mxr_kv_ctl, h, "load", path.expand(filename)))
  kv$set.gradient.compression <- function(params)
    invisible(.mx_call(C_mxr_kv_ctl, h, "compression", .mx_to_json(params)))
  kv$set.bucket.size <- function(bytes)
    invisible(.mx_call(C_mxr_kv_ctl, h, "bucket_bytes", as.character(as.integer(bytes))))
  class(kv) <- "MXKVStore"
  kv
}

print.MXKVStore <- function(x, ...) {
  cat("<MXKVStore ", x$type, " rank ", x$rank, " of ", x$num.workers, ">\n", sep = "")
  invisible(x)
}

# Rank and size of this worker in a job started by mx.tools.launch / mpirun (0 and 1 outside).
mx.kv.worker.rank <- function() {
  for (v in c("MX_RANK", "OMPI_COMM_WORLD_RANK", "PMI_RANK")) {
    s <- Sys.getenv(v)
    if (nzchar(s)) return(as.integer(s))
  }
  0L
}
mx.kv.worker.count <- function() {
  for (v in c("MX_NUM_WORKERS", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE")) {
    s <- Sys.getenv(v)
    if (nzchar(s)) return(as.integer(s))
  }
  1L
}
