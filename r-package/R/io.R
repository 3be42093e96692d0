# mx.io.arrayiter: batches of an R array (samples along the first axis, logical shapes as in
# Python). Batches are views (mx_ndarray_slice) of one NDArray; the last batch is padded with
# rows from the start, as MXNet's NDArrayIter does (pad tells how many).

.mx_check_na <- function(x, what) {
  if (!is.mx.ndarray(x) && anyNA(x))
    .mx_stop(.MX_ERR_VALUE, what, " contains NA/NaN values (", sum(is.na(x)),
             " of ", length(x), "); remove or impute them before training")
  x
}

.mx_rows <- function(x) if (is.null(dim(x))) length(x) else dim(x)[1L]

# Rows [begin, begin + bs) of `nd` (0-based), wrapping around when past the end.
.mx_batch <- function(nd, begin, bs, n) {
  if (begin + bs <= n) return(.mx_call(C_mxr_nd_slice, nd, begin, begin + bs))
  info <- .mx_call(C_mxr_nd_info, nd)
  shp <- info[[1L]]
  shp[1L] <- bs
  out <- .mx_call(C_mxr_nd_new, as.numeric(shp), info[[2L]], info[[3L]], info[[4L]])
  filled <- 0
  pos <- begin
  while (filled < bs) {
    k <- min(bs - filled, n - pos)
    .mx_call(C_mxr_nd_copy, .mx_call(C_mxr_nd_slice, nd, pos, pos + k),
             .mx_call(C_mxr_nd_slice, out, filled, filled + k))
    filled <- filled + k
    pos <- (pos + k) %% n
  }
  out
}

mx.io.arrayiter <- function(data, label = NULL, batch.size = 128, shuffle = FALSE, ctx = NULL) {
  .mx_check_na(data, "mx.io.arrayiter: data")
  if (!is.null(label)) .mx_check_na(label, "mx.io.arrayiter: label")
  n <- .mx_rows(data)
  if (!is.null(label) && .mx_rows(label) != n)
    .mx_stop(.MX_ERR_SHAPE, "mx.io.arrayiter: data has ", n, " rows but label has ", .mx_rows(label))
  batch.size <- as.integer(batch.size)
  if (is.na(batch.size) || batch.size < 1L) .mx_stop(.MX_ERR_VALUE, "mx.io.arrayiter: batch.size must be >= 1")
  it <- new.env(parent = emptyenv())
  it$data0 <- if (is.mx.ndarray(data)) data else mx.nd.array(data, ctx)
  it$label0 <- if (is.null(label) || is.mx.ndarray(label)) label else mx.nd.array(label, ctx)
  it$data <- it$data0
  it$label <- it$label0
  it$n <- n
  it$batch.size <- batch.size
  it$shuffle <- shuffle
  it$cursor <- -batch.size
  it$num.batches <- ceiling(n / batch.size)
  it$reset <- function() {
    if (isTRUE(it$shuffle)) {
      idx <- mx.nd.array(sample.int(it$n) - 1L, dtype = "int64")
      it$data <- .mx_invoke1("take", list(it$data0, idx))
      if (!is.null(it$label0)) it$label <- .mx_invoke1("take", list(it$label0, idx))
    }
    it$cursor <- -it$batch.size
    invisible(TRUE)
  }
  it$iter.next <- function() {
    it$cursor <- it$cursor + it$batch.size
    it$cursor < it$n
  }
  it$value <- function() {
    b <- it$cursor
    list(data = .mx_batch(it$data, b, it$batch.size, it$n),
         label = if (is.null(it$label)) NULL else .mx_batch(it$label, b, it$batch.size, it$n),
         pad = max(0, b + it$batch.size - it$n))
  }
  it$provide.data <- function() c(it$batch.size, dim(it$data0)[-1L])
  it$provide.label <- function() if (is.null(it$label0)) NULL else c(it$batch.size, dim(it$label0)[-1L])
  class(it) <- "MXDataIter"
  it
}

is.mx.dataiter <- function(x) inherits(x, "MXDataIter")

# Iterators implemented in the core (mx_dataiter_*): CSVIter, MNISTIter, ImageRecordIter. They
# follow the protocol of mx.io.arrayiter ($reset(), $iter.next(), $value() with data, label and
# pad) and give the same logical shapes as Python's mx.io iterators.

.mx_iter_params <- function(args) {
  args <- args[!vapply(args, is.null, NA)]
  args <- .mx_py_names(args)
  for (k in names(args)) {
    v <- args[[k]]
    if (endsWith(k, "_shape")) args[[k]] <- I(as.numeric(v))
    else if (k %in% c("data_csv", "label_csv", "image", "label", "path_imgrec", "path_imglist", "path_imgidx"))
      args[[k]] <- path.expand(as.character(v))
  }
  .mx_to_json(args)
}

.mx_core_iter <- function(name, args) {
  if (length(args) && (is.null(names(args)) || any(names(args) == "")))
    .mx_stop(.MX_ERR_VALUE, "mx.io.", name, ": extra arguments must be named")
  h <- .mx_call(C_mxr_iter_new, name, .mx_iter_params(args))
  desc <- .mx_json(.mx_call(C_mxr_iter_provide, h))
  shp <- function(d) if (length(d)) as.numeric(unlist(d[[1L]]$shape)) else NULL
  it <- new.env(parent = emptyenv())
  it$handle <- h
  it$name <- name
  it$data.shape <- shp(desc$data)
  it$label.shape <- shp(desc$label)
  it$batch.size <- if (length(it$data.shape)) it$data.shape[1L] else NA
  it$num.batches <- NA
  it$reset <- function() {
    .mx_call(C_mxr_iter_reset, it$handle)
    invisible(TRUE)
  }
  it$iter.next <- function() .mx_call(C_mxr_iter_next, it$handle)
  it$value <- function() {
    d <- .mx_call(C_mxr_iter_arrays, it$handle, 0L)
    l <- .mx_call(C_mxr_iter_arrays, it$handle, 1L)
    list(data = if (length(d)) d[[1L]] else NULL, label = if (length(l)) l[[1L]] else NULL,
         pad = .mx_call(C_mxr_iter_pad, it$handle))
  }
  it$index <- function() .mx_call(C_mxr_iter_index, it$handle)
  it$provide.data <- function() it$data.shape
  it$provide.label <- function() it$label.shape
  class(it) <- c("MXCoreDataIter", "MXDataIter")
  it
}

mx.io.CSVIter <- function(data.csv, data.shape, label.csv = NULL, label.shape = NULL,
                          batch.size, round.batch = TRUE, ...) {
  .mx_core_iter("CSVIter", c(list(data.csv = data.csv, data.shape = data.shape, label.csv = label.csv,
                                  label.shape = label.shape, batch.size = batch.size,
                                  round.batch = round.batch), list(...)))
}

mx.io.MNISTIter <- function(image, label, batch.size, shuffle = TRUE, flat = FALSE, seed = 0, ...) {
  .mx_core_iter("MNISTIter", c(list(image = image, label = label, batch.size = batch.size,
                                    shuffle = shuffle, flat = flat, seed = seed), list(...)))
}

mx.io.ImageRecordIter <- function(path.imgrec, data.shape, batch.size, ...) {
  .mx_core_iter("ImageRecordIter", c(list(path.imgrec = path.imgrec, data.shape = data.shape,
                                          batch.size = batch.size), list(...)))
}
