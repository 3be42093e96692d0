# Sparse storage (csr, row_sparse) held by libmx, and conversion to and from the Matrix package's
# sparse matrices. A sparse MXNDArray has its logical dense dim(); the core keeps its parts and
# runs the ops (as.array densifies in the core). Indices are 0-based, as MXNet stores them.

.mx_stypes <- c(default = 0L, row_sparse = 1L, csr = 2L)

.mx_stype_code <- function(stype) {
  if (!is.character(stype) || length(stype) != 1L || !(stype %in% names(.mx_stypes)))
    .mx_stop(.MX_ERR_VALUE, "unknown storage type ", deparse(stype), " (use \"default\", \"row_sparse\" or \"csr\")")
  .mx_stypes[[stype]]
}

mx.nd.stype <- function(x) names(.mx_stypes)[.mx_call(C_mxr_nd_stype, x) + 1L]

mx.nd.tostype <- function(x, stype) .mx_call(C_mxr_nd_cast_storage, x, .mx_stype_code(stype))

mx.nd.sparse.parts <- function(x) {
  part <- function(k) as.array(.mx_call(C_mxr_nd_sparse_part, x, k))
  switch(mx.nd.stype(x),
         csr = list(data = part(0L), indices = part(1L), indptr = part(2L)),
         row_sparse = list(data = part(0L), indices = part(1L)),
         .mx_stop(.MX_ERR_VALUE, "mx.nd.sparse.parts: the array is dense (storage type \"default\")"))
}

.mx_int64 <- function(v) mx.nd.array(as.numeric(v), dtype = "int64")

mx.nd.sparse.csr <- function(data, indptr, indices, shape, dtype = NULL)
  .mx_call(C_mxr_nd_sparse_new, 2L, as.numeric(shape),
           list(mx.nd.array(as.vector(data), dtype = dtype), .mx_int64(indptr), .mx_int64(indices)))

mx.nd.sparse.row_sparse <- function(data, indices, shape, dtype = NULL) {
  d <- if (is.null(dim(data))) array(data, dim = c(length(indices), length(data) %/% max(length(indices), 1L))) else data
  .mx_call(C_mxr_nd_sparse_new, 1L, as.numeric(shape), list(mx.nd.array(d, dtype = dtype), .mx_int64(indices)))
}

.mx_need_matrix <- function(what) {
  if (!requireNamespace("Matrix", quietly = TRUE))
    .mx_stop(.MX_ERR_UNSUPPORTED, what, " needs the Matrix package (Debian r-cran-matrix)")
}

mx.nd.sparse.array <- function(x, dtype = NULL) {
  if (is.mx.ndarray(x)) return(mx.nd.tostype(x, "csr"))
  if (is.matrix(x)) return(mx.nd.tostype(mx.nd.array(x, dtype = dtype), "csr"))
  .mx_need_matrix("mx.nd.sparse.array")
  if (!methods::is(x, "sparseMatrix"))
    .mx_stop(.MX_ERR_TYPE, "mx.nd.sparse.array: expected a matrix or a Matrix sparse matrix, got ", class(x)[1L])
  r <- methods::as(methods::as(methods::as(x, "generalMatrix"), "RsparseMatrix"), "dMatrix")
  mx.nd.sparse.csr(r@x, r@p, r@j, dim(r), dtype = if (is.null(dtype)) "float32" else dtype)
}

mx.nd.as.sparseMatrix <- function(x) {
  .mx_need_matrix("mx.nd.as.sparseMatrix")
  d <- dim(x)
  if (length(d) != 2L) .mx_stop(.MX_ERR_SHAPE, "mx.nd.as.sparseMatrix: needs a 2-d array, got dim ", paste(d, collapse = "x"))
  p <- mx.nd.sparse.parts(if (mx.nd.stype(x) == "csr") x else mx.nd.tostype(x, "csr"))
  r <- methods::new("dgRMatrix", p = as.integer(p$indptr), j = as.integer(p$indices),
                    x = as.numeric(p$data), Dim = as.integer(d))
  methods::as(r, "CsparseMatrix")
}
