# NDArray: conversion between R arrays and libmx arrays, and basic methods.
# Logical shapes are the same as in Python: an R matrix with dim c(2, 3) becomes an NDArray of
# shape (2, 3) holding the same elements (the C glue permutes column-major <-> row-major).

is.mx.ndarray <- function(x) inherits(x, "MXNDArray")

mx.nd.array <- function(src.array, ctx = NULL, dtype = NULL) {
  ctx <- .mx_ctx_of(ctx)
  if (is.mx.ndarray(src.array)) {
    info <- .mx_call(C_mxr_nd_info, src.array)
    code <- if (is.null(dtype)) info[[2L]] else .mx_dtype_code(dtype, "mx.nd.array")
    out <- .mx_call(C_mxr_nd_new, info[[1L]], code, ctx$device_typeid, ctx$device_id)
    return(.mx_call(C_mxr_nd_copy, src.array, out))
  }
  code <- .mx_dtype_code(if (is.null(dtype)) "float32" else dtype, "mx.nd.array")
  x <- src.array
  if (is.data.frame(x)) x <- as.matrix(x)
  if (is.factor(x) || !(is.numeric(x) || is.logical(x)) || is.complex(x))
    .mx_stop(.MX_ERR_TYPE, "mx.nd.array: expected a numeric, integer or logical vector, matrix or ",
             "array, got ", class(x)[1L])
  d <- dim(x)
  if (is.null(d)) d <- length(x)
  if (!is.double(x) && !is.integer(x) && !is.logical(x)) storage.mode(x) <- "double"
  .mx_call(C_mxr_nd_from_r, x, d, code, ctx$device_typeid, ctx$device_id)
}

mx.nd.zeros <- function(shape, ctx = NULL, dtype = NULL) mx.nd.array(array(0, dim = shape), ctx, dtype)
mx.nd.ones <- function(shape, ctx = NULL, dtype = NULL) mx.nd.array(array(1, dim = shape), ctx, dtype)

as.array.MXNDArray <- function(x, ...) {
  r <- .mx_call(C_mxr_nd_to_r, x)
  if (is.null(dim(r))) dim(r) <- length(r) # 0-d arrays come back as length-1 arrays
  r
}

as.double.MXNDArray <- function(x, ...) as.double(.mx_call(C_mxr_nd_to_r, x))

dim.MXNDArray <- function(x) .mx_call(C_mxr_nd_shape, x)

length.MXNDArray <- function(x) {
  n <- .mx_call(C_mxr_nd_size, x)
  if (n <= .Machine$integer.max) as.integer(n) else n
}

mx.nd.dtype <- function(x) .mx_dtype_name(.mx_call(C_mxr_nd_info, x)[[2L]])

mx.nd.context <- function(x) {
  info <- .mx_call(C_mxr_nd_info, x)
  .mx_ctx_from_code(info[[3L]], info[[4L]])
}

mx.nd.copyto <- function(src, ctx) {
  ctx <- .mx_ctx_of(ctx)
  .mx_call(C_mxr_nd_to_device, src, ctx$device_typeid, ctx$device_id)
}

mx.nd.astype <- function(x, dtype) {
  info <- .mx_call(C_mxr_nd_info, x)
  out <- .mx_call(C_mxr_nd_new, info[[1L]], .mx_dtype_code(dtype, "mx.nd.astype"), info[[3L]], info[[4L]])
  .mx_call(C_mxr_nd_copy, x, out)
}

mx.nd.detach <- function(x) .mx_call(C_mxr_nd_detach, x)

mx.nd.waitall <- function() invisible(.mx_call(C_mxr_waitall))

format.MXNDArray <- function(x, ...) {
  info <- .mx_call(C_mxr_nd_info, x)
  shp <- if (length(info[[1L]])) paste(info[[1L]], collapse = "x") else "scalar"
  sprintf("<MXNDArray %s %s @%s>", shp, .mx_dtype_name(info[[2L]]),
          format(.mx_ctx_from_code(info[[3L]], info[[4L]])))
}

print.MXNDArray <- function(x, ...) {
  if (!.Call(C_mxr_nd_is_valid, x)) {
    cat("<MXNDArray: invalid handle (NDArrays do not survive saving the R session)>\n")
    return(invisible(x))
  }
  a <- as.array.MXNDArray(x)
  if (length(dim(a)) == 1L) a <- as.vector(a)
  print(a, ...)
  cat(format.MXNDArray(x), "\n", sep = "")
  invisible(x)
}

# Saving and loading NDArrays (MXNet's .params format, or safetensors by extension).
mx.nd.save <- function(ndarray, filename, format = c("auto", "mxnet", "safetensors")) {
  format <- match.arg(format)
  fcode <- match(format, c("auto", "mxnet", "safetensors")) - 1L
  if (is.mx.ndarray(ndarray)) ndarray <- list(ndarray)
  if (!is.list(ndarray) || !all(vapply(ndarray, is.mx.ndarray, NA)))
    .mx_stop(.MX_ERR_VALUE, "mx.nd.save: expected an MXNDArray or a list of MXNDArrays")
  nm <- names(ndarray)
  if (!is.null(nm) && (anyNA(nm) || any(nm == "")))
    .mx_stop(.MX_ERR_VALUE, "mx.nd.save: either name every array or none")
  .mx_call(C_mxr_nd_save, path.expand(filename), unname(ndarray), nm, fcode)
  invisible()
}

mx.nd.load <- function(filename) .mx_call(C_mxr_nd_load, path.expand(filename))
