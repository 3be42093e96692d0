# `[` and `[<-` with R's 1-based indices, one index per dimension. R only translates indices;
# the data moves through views (first axis), the registry's slice/take/_slice_assign operators
# when they are registered, or (outside autograd recording) a copy through R.

# The index arguments of a `[` call: NULL for a missing (empty) index.
.mx_index_args <- function(dots, env) {
  lapply(dots, function(d) {
    if (is.symbol(d) && !nzchar(as.character(d))) NULL else eval(d, env)
  })
}

# One R index for a dimension of size n -> 0-based positions (NULL = everything).
.mx_index0 <- function(i, n, axis) {
  if (is.null(i)) return(NULL)
  if (is.mx.ndarray(i)) i <- as.array(i)
  if (is.logical(i)) {
    if (anyNA(i)) .mx_stop(.MX_ERR_VALUE, "index for dimension ", axis, " has NA")
    if (length(i) > n) .mx_stop(.MX_ERR_VALUE, "logical index for dimension ", axis, " is longer than its extent ", n)
    return(which(rep_len(i, n)) - 1L)
  }
  if (!is.numeric(i)) .mx_stop(.MX_ERR_VALUE, "index for dimension ", axis, " must be numeric or logical (MXNDArrays have no dimnames)")
  if (anyNA(i)) .mx_stop(.MX_ERR_VALUE, "index for dimension ", axis, " has NA")
  i <- trunc(i)
  i <- i[i != 0] # as in R, 0 selects nothing (x[0, 1] is empty, not everything)
  if (length(i) == 0L) return(integer(0))
  if (all(i < 0)) {
    keep <- setdiff(seq_len(n), -i)
    return(as.integer(keep) - 1L)
  }
  if (any(i < 0)) .mx_stop(.MX_ERR_VALUE, "can't mix positive and negative indices (dimension ", axis, ")")
  i <- i[i != 0]
  if (any(i > n)) .mx_stop(.MX_ERR_VALUE, "index ", max(i), " is out of bounds for dimension ", axis, " of extent ", n)
  as.integer(i) - 1L
}

# c(begin, end, step) when 0-based positions form an arithmetic progression, else NULL.
.mx_progression <- function(p) {
  if (length(p) == 0L) return(NULL)
  if (length(p) == 1L) return(c(p, p + 1L, 1L))
  d <- unique(diff(p))
  if (length(d) != 1L || d == 0L) return(NULL)
  c(p[1L], p[length(p)] + sign(d), d)
}

.mx_norm_index <- function(x, dots, env, what) {
  shp <- dim.MXNDArray(x)
  args <- .mx_index_args(dots, env)
  nd <- length(shp)
  if (length(args) == 0L || (length(args) == 1L && is.null(args[[1L]]))) args <- rep(list(NULL), nd)
  if (length(args) != nd)
    .mx_stop(.MX_ERR_VALUE, what, ": an MXNDArray with ", nd, " dimension(s) needs ", nd,
             " indices (x[i, j, ...]), got ", length(args))
  idx <- vector("list", nd)
  for (k in seq_len(nd)) {
    p <- .mx_index0(args[[k]], shp[k], k)
    if (!is.null(p) && length(p) == shp[k] && all(p == seq_len(shp[k]) - 1L)) p <- NULL
    if (!is.null(p)) idx[[k]] <- p
  }
  list(shape = shp, idx = idx)
}

.mx_reshape <- function(x, shape) {
  if (!mx.autograd.is.recording()) return(.mx_call(C_mxr_nd_reshape, x, shape))
  for (op in c("reshape", "Reshape"))
    if (.mx_op_exists(op)) return(.mx_invoke1(op, list(x), list(shape = as.list(shape))))
  .mx_stop(.MX_ERR_UNSUPPORTED, "dropping dimensions while recording needs the 'reshape' operator (use drop = FALSE)")
}

`[.MXNDArray` <- function(x, ..., drop = TRUE) {
  ni <- .mx_norm_index(x, match.call(expand.dots = FALSE)$..., parent.frame(), "[")
  shp <- ni$shape
  idx <- ni$idx
  nd <- length(shp)
  active <- which(!vapply(idx, is.null, NA))
  prog <- lapply(idx, .mx_progression)
  recording <- mx.autograd.is.recording()
  y <- x
  if (length(active) == 0L) {
    y <- x
  } else if (identical(active, 1L) && !recording && !is.null(prog[[1L]]) && prog[[1L]][3L] == 1L) {
    y <- .mx_call(C_mxr_nd_slice, x, prog[[1L]][1L], prog[[1L]][2L]) # a view, as MXNet
  } else if (all(!vapply(prog[active], is.null, NA)) && .mx_op_exists("slice")) {
    b <- e <- s <- rep(list(NULL), nd)
    for (k in active) {
      b[[k]] <- prog[[k]][1L]
      e[[k]] <- if (prog[[k]][2L] < 0) NULL else prog[[k]][2L]
      s[[k]] <- prog[[k]][3L]
    }
    y <- .mx_invoke1("slice", list(x), list(begin = b, end = e, step = s))
  } else if (.mx_op_exists("take")) {
    for (k in active) {
      ind <- mx.nd.array(idx[[k]], ctx = mx.nd.context(x), dtype = "int64")
      y <- .mx_invoke1("take", list(y, ind), list(axis = k - 1L))
    }
  } else {
    if (recording)
      .mx_stop(.MX_ERR_UNSUPPORTED, "indexing while recording needs the registry operators 'slice' and 'take'")
    a <- as.array.MXNDArray(x)
    sel <- lapply(seq_len(nd), function(k) if (is.null(idx[[k]])) seq_len(shp[k]) else idx[[k]] + 1L)
    a <- do.call(`[`, c(list(a), sel, list(drop = FALSE)))
    y <- mx.nd.array(a, ctx = mx.nd.context(x), dtype = mx.nd.dtype(x))
  }
  if (drop) {
    ys <- dim.MXNDArray(y)
    keep <- ys[ys != 1L]
    if (length(keep) == 0L) keep <- 1L
    if (length(keep) != length(ys)) y <- .mx_reshape(y, keep)
  }
  y
}

`[<-.MXNDArray` <- function(x, ..., value) {
  ni <- .mx_norm_index(x, match.call(expand.dots = FALSE)$..., parent.frame(), "[<-")
  shp <- ni$shape
  idx <- ni$idx
  nd <- length(shp)
  active <- which(!vapply(idx, is.null, NA))
  prog <- lapply(idx, .mx_progression)
  info <- .mx_call(C_mxr_nd_info, x)
  ctx <- .mx_ctx_from_code(info[[3L]], info[[4L]])
  dtype <- .mx_dtype_name(info[[2L]])
  region <- shp
  for (k in active) region[k] <- length(idx[[k]])
  if (any(region == 0L)) return(x) # an empty selection (x[0, ] <- v) assigns nothing, as in R
  if (length(active) == 0L || (identical(active, 1L) && !is.null(prog[[1L]]) && prog[[1L]][3L] == 1L)) {
    target <- if (length(active) == 0L) x else .mx_call(C_mxr_nd_slice, x, prog[[1L]][1L], prog[[1L]][2L])
    .mx_call(C_mxr_nd_copy, .mx_fill_value(value, region, ctx, dtype), target)
    return(x)
  }
  if (all(!vapply(prog[active], is.null, NA)) && .mx_op_exists("_slice_assign")) {
    b <- e <- s <- rep(list(NULL), nd)
    for (k in active) {
      b[[k]] <- prog[[k]][1L]
      e[[k]] <- if (prog[[k]][2L] < 0) NULL else prog[[k]][2L]
      s[[k]] <- prog[[k]][3L]
    }
    v <- .mx_fill_value(value, region, ctx, dtype)
    .mx_invoke("_slice_assign", list(x, v), list(begin = b, end = e, step = s), out = x)
    return(x)
  }
  # Through R: read, assign, write back into the same array (x keeps its identity).
  a <- as.array.MXNDArray(x)
  sel <- lapply(seq_len(nd), function(k) if (is.null(idx[[k]])) seq_len(shp[k]) else idx[[k]] + 1L)
  v <- if (is.mx.ndarray(value)) as.array.MXNDArray(value) else value
  a <- do.call(`[<-`, c(list(a), sel, list(value = v)))
  .mx_call(C_mxr_nd_copy, mx.nd.array(a, ctx = ctx, dtype = dtype), x)
  x
}

# `value` as an NDArray of shape `region` (R values are recycled as R does; NDArrays broadcast).
.mx_fill_value <- function(value, region, ctx, dtype) {
  if (is.mx.ndarray(value)) {
    vs <- dim.MXNDArray(value)
    if (identical(as.integer(vs), as.integer(region))) return(value)
    if (length(value) == prod(region)) return(.mx_call(C_mxr_nd_reshape, value, region))
    return(.mx_invoke1("broadcast_to", list(value), list(shape = as.list(region))))
  }
  if (!(is.numeric(value) || is.logical(value)))
    .mx_stop(.MX_ERR_TYPE, "[<-: value must be numeric, logical or an MXNDArray")
  n <- prod(region)
  if (length(value) == 0L || n %% length(value) != 0L)
    .mx_stop(.MX_ERR_SHAPE, "[<-: ", length(value), " value(s) do not fill a region of ", n, " elements")
  mx.nd.array(array(value, dim = region), ctx = ctx, dtype = dtype)
}
