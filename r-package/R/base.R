# Loading, ABI check, errors and small shared helpers.

.mx_error_classes <- c(
  "-1" = "mx_value_error", "-2" = "mx_shape_error", "-3" = "mx_type_error",
  "-4" = "mx_unsupported_error", "-5" = "mx_memory_error", "-6" = "mx_io_error",
  "-7" = "mx_format_error", "-8" = "mx_internal_error"
)

# Status codes (libmx's mx_status).
.MX_ERR_VALUE <- -1L
.MX_ERR_SHAPE <- -2L
.MX_ERR_TYPE <- -3L
.MX_ERR_UNSUPPORTED <- -4L

.mx_condition <- function(status, message, call = NULL) {
  cls <- .mx_error_classes[as.character(status)]
  if (is.na(cls)) cls <- "mx_internal_error"
  structure(class = c(unname(cls), "mx_error", "error", "condition"),
            list(message = message, call = call, status = as.integer(status)))
}

# Signal an mx_error of the category `status` (a negative libmx status code).
.mx_stop <- function(status, ...) {
  stop(.mx_condition(status, paste0(...)))
}

# Call a .Call entry point; a returned mxr_failure becomes a classed condition.
.mx_call <- function(fn, ...) {
  r <- .Call(fn, ...)
  if (inherits(r, "mxr_failure")) stop(.mx_condition(r[[1L]], r[[2L]]))
  r
}

.mx_dtypes <- c(float32 = 0L, float64 = 1L, float16 = 2L, uint8 = 3L, int32 = 4L, int8 = 5L,
                int64 = 6L, bool = 7L, bfloat16 = 12L)

.mx_dtype_code <- function(dtype, what = "dtype") {
  if (is.null(dtype)) return(0L)
  if (!is.character(dtype) || length(dtype) != 1L || is.na(dtype))
    .mx_stop(.MX_ERR_TYPE, what, ": dtype must be one of ", paste(names(.mx_dtypes), collapse = ", "))
  if (dtype == "float") dtype <- "float32"
  if (dtype == "double") dtype <- "float64"
  if (dtype == "integer") dtype <- "int32"
  if (dtype == "logical") dtype <- "bool"
  code <- .mx_dtypes[dtype]
  if (is.na(code))
    .mx_stop(.MX_ERR_TYPE, what, ": unknown dtype '", dtype, "' (one of ",
             paste(names(.mx_dtypes), collapse = ", "), ")")
  unname(code)
}

.mx_dtype_name <- function(code) names(.mx_dtypes)[match(code, .mx_dtypes)]


.onLoad <- function(libname, pkgname) {
  lib_abi <- .Call(C_mxr_abi_version)
  pkg_abi <- .Call(C_mxr_header_abi_version)
  if (!identical(lib_abi, pkg_abi))
    stop(sprintf(paste0("mx: the loaded libmx has ABI version %d but this R package was built for ",
                        "ABI version %d; reinstall the package against this libmx ",
                        "(R CMD INSTALL with MX_HOME set) or load the matching libmx"),
                 lib_abi, pkg_abi), call. = FALSE)
  .mx_populate_ops(parent.env(environment()))
  invisible()
}

mx.version <- function() {
  v <- .Call(C_mxr_version)
  list(version = paste(v, collapse = "."), abi = .Call(C_mxr_abi_version))
}

mx.features <- function() .mx_json(.mx_call(C_mxr_features))
