# Group generics: arithmetic and comparisons (Ops), element-wise functions (Math) and
# reductions (Summary), each mapped to registry operators. No math happens in R.

# R operator -> c(array op array (numpy broadcasting), array op scalar, scalar op array)
.mx_ops_table <- list(
  "+" = c("broadcast_add", "_plus_scalar", "_plus_scalar"),
  "-" = c("broadcast_sub", "_minus_scalar", "_rminus_scalar"),
  "*" = c("broadcast_mul", "_mul_scalar", "_mul_scalar"),
  "/" = c("broadcast_div", "_div_scalar", "_rdiv_scalar"),
  "^" = c("broadcast_power", "_power_scalar", "_rpower_scalar"),
  "%%" = c("broadcast_mod", "_mod_scalar", "_rmod_scalar"),
  "==" = c("broadcast_equal", "_equal_scalar", "_equal_scalar"),
  "!=" = c("broadcast_not_equal", "_not_equal_scalar", "_not_equal_scalar"),
  ">" = c("broadcast_greater", "_greater_scalar", "_lesser_scalar"),
  ">=" = c("broadcast_greater_equal", "_greater_equal_scalar", "_lesser_equal_scalar"),
  "<" = c("broadcast_lesser", "_lesser_scalar", "_greater_scalar"),
  "<=" = c("broadcast_lesser_equal", "_lesser_equal_scalar", "_greater_equal_scalar"),
  "&" = c("broadcast_logical_and", "_logical_and_scalar", "_logical_and_scalar"),
  "|" = c("broadcast_logical_or", "_logical_or_scalar", "_logical_or_scalar")
)

.mx_need_op <- function(op, what) {
  if (!.mx_op_exists(op))
    .mx_stop(.MX_ERR_UNSUPPORTED, what, " needs the operator '", op,
             "', which this libmx does not register")
  op
}

.mx_is_scalar <- function(v) (is.numeric(v) || is.logical(v)) && length(v) == 1L && !is.mx.ndarray(v)

# A non-scalar R operand becomes an NDArray with the dtype and device of the other operand.
.mx_as_operand <- function(v, like) {
  if (is.mx.ndarray(v)) return(v)
  if (!(is.numeric(v) || is.logical(v)))
    .mx_stop(.MX_ERR_TYPE, "cannot combine an MXNDArray with a value of class ", class(v)[1L])
  info <- .mx_call(C_mxr_nd_info, like)
  mx.nd.array(v, ctx = .mx_ctx_from_code(info[[3L]], info[[4L]]), dtype = .mx_dtype_name(info[[2L]]))
}

Ops.MXNDArray <- function(e1, e2) {
  g <- .Generic
  if (nargs() == 1L) {
    if (g == "+") return(e1)
    if (g == "-") {
      if (.mx_op_exists("negative")) return(.mx_invoke1("negative", list(e1)))
      return(.mx_invoke1("_mul_scalar", list(e1), list(scalar = -1)))
    }
    if (g == "!") {
      if (.mx_op_exists("logical_not")) return(.mx_invoke1("logical_not", list(e1)))
      return(.mx_invoke1("_equal_scalar", list(e1), list(scalar = 0)))
    }
    .mx_stop(.MX_ERR_UNSUPPORTED, "unary '", g, "' is not supported for MXNDArray")
  }
  if (g == "%/%") {
    q <- .mx_binary(.mx_ops_table[["/"]], e1, e2, "/")
    return(.mx_invoke1(.mx_need_op("floor", "'%/%'"), list(q)))
  }
  ops <- .mx_ops_table[[g]]
  if (is.null(ops)) .mx_stop(.MX_ERR_UNSUPPORTED, "'", g, "' is not supported for MXNDArray")
  .mx_binary(ops, e1, e2, g)
}


.mx_binary <- function(ops, e1, e2, g) {
  a1 <- is.mx.ndarray(e1)
  a2 <- is.mx.ndarray(e2)
  if (a1 && a2) return(.mx_invoke1(.mx_need_op(ops[1L], paste0("'", g, "'")), list(e1, e2)))
  if (a1 && .mx_is_scalar(e2))
    return(.mx_invoke1(.mx_need_op(ops[2L], paste0("'", g, "'")), list(e1), list(scalar = as.double(e2))))
  if (a2 && .mx_is_scalar(e1))
    return(.mx_invoke1(.mx_need_op(ops[3L], paste0("'", g, "'")), list(e2), list(scalar = as.double(e1))))
  if (a1) e2 <- .mx_as_operand(e2, e1) else e1 <- .mx_as_operand(e1, e2)
  .mx_invoke1(.mx_need_op(ops[1L], paste0("'", g, "'")), list(e1, e2))
}

# R function -> registry op (MXNet names); round() rounds half to even in R, as MXNet's rint.
.mx_math_table <- c(
  abs = "abs", sign = "sign", sqrt = "sqrt", floor = "floor", ceiling = "ceil", trunc = "trunc",
  round = "rint", exp = "exp", expm1 = "expm1", log = "log", log2 = "log2", log10 = "log10",
  log1p = "log1p", cos = "cos", sin = "sin", tan = "tan", acos = "arccos", asin = "arcsin",
  atan = "arctan", cosh = "cosh", sinh = "sinh", tanh = "tanh", acosh = "arccosh",
  asinh = "arcsinh", atanh = "arctanh", gamma = "gamma", lgamma = "gammaln",
  digamma = "digamma", cumsum = "cumsum"
)

Math.MXNDArray <- function(x, ...) {
  g <- .Generic
  extra <- list(...)
  if (g == "round" && length(extra) && !isTRUE(all.equal(extra[[1L]], 0)))
    .mx_stop(.MX_ERR_UNSUPPORTED, "round: only digits = 0 is supported for MXNDArray")
  op <- .mx_math_table[g]
  if (is.na(op)) .mx_stop(.MX_ERR_UNSUPPORTED, "'", g, "' is not supported for MXNDArray")
  if (g == "log" && length(extra)) {
    base <- extra[[1L]]
    if (identical(as.double(base), 2)) return(.mx_invoke1(.mx_need_op("log2", "log"), list(x)))
    if (identical(as.double(base), 10)) return(.mx_invoke1(.mx_need_op("log10", "log"), list(x)))
    y <- .mx_invoke1(.mx_need_op("log", "log"), list(x))
    return(.mx_invoke1("_div_scalar", list(y), list(scalar = log(base))))
  }
  .mx_invoke1(.mx_need_op(unname(op), paste0("'", g, "'")), list(x))
}

.mx_summary_table <- c(sum = "sum", prod = "prod", max = "max", min = "min")

Summary.MXNDArray <- function(..., na.rm = FALSE) {
  g <- .Generic
  args <- list(...)
  op <- .mx_summary_table[g]
  if (is.na(op)) .mx_stop(.MX_ERR_UNSUPPORTED, "'", g, "' is not supported for MXNDArray")
  if (length(args) != 1L || !is.mx.ndarray(args[[1L]]))
    .mx_stop(.MX_ERR_UNSUPPORTED, g, ": reduce one MXNDArray at a time")
  .mx_invoke1(.mx_need_op(unname(op), paste0("'", g, "'")), args)
}
