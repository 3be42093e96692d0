# Symbols: graph construction over mx_symbol_*. One R function mx.symbol.<op> per registry
# operator is generated at load time (see .mx_populate_ops), taking symbol inputs by name or
# position, operator parameters by name, and `name`.

is.mx.symbol <- function(x) inherits(x, "MXSymbol")

.mx_check_sym <- function(x, what) {
  if (!is.mx.symbol(x)) .mx_stop(.MX_ERR_VALUE, what, ": expected an MXSymbol, got ", class(x)[1L])
  x
}

mx.symbol.Variable <- function(name, attr = NULL, shape = NULL, lr.mult = NULL, wd.mult = NULL,
                               dtype = NULL, init = NULL) {
  a <- as.list(attr)
  if (!is.null(shape)) a[["__shape__"]] <- .mx_param_str(shape, TRUE, "shape")
  if (!is.null(lr.mult)) a[["__lr_mult__"]] <- .mx_scalar_str(lr.mult)
  if (!is.null(wd.mult)) a[["__wd_mult__"]] <- .mx_scalar_str(wd.mult)
  if (!is.null(dtype)) a[["__dtype__"]] <- as.character(.mx_dtype_code(dtype))
  if (!is.null(init)) a[["__init__"]] <- .mx_init_json(init)
  keys <- as.character(names(a))
  vals <- vapply(a, as.character, "")
  .mx_call(C_mxr_sym_variable, as.character(name), keys, unname(vals))
}

# The body of every generated mx.symbol.<op>.
.mx_sym_call <- function(info, inputs, params, dots, name) {
  op <- info$name
  args <- list()
  kw <- list()
  attr <- NULL
  for (k in names(inputs)) {
    v <- inputs[[k]]
    if (is.null(v)) next
    if (!is.mx.symbol(v))
      .mx_stop(.MX_ERR_TYPE, "mx.symbol.", op, ": input '", k, "' must be an MXSymbol, got ", class(v)[1L])
    kw[[k]] <- v
  }
  if (length(dots)) {
    dn <- names(dots)
    if (is.null(dn)) dn <- character(length(dots))
    for (i in seq_along(dots)) {
      v <- dots[[i]]
      if (is.mx.symbol(v)) {
        if (dn[i] == "") args[[length(args) + 1L]] <- v else kw[[dn[i]]] <- v
      } else if (dn[i] == "" && is.list(v) && length(v) && all(vapply(v, is.mx.symbol, NA))) {
        args <- c(args, unname(v))
      } else if (dn[i] == "") {
        .mx_stop(.MX_ERR_TYPE, "mx.symbol.", op, ": unnamed arguments must be MXSymbols, got ",
                 class(v)[1L], " (pass parameters by name)")
      } else if (dn[i] == "attr") {
        attr <- v
      } else {
        params[[dn[i]]] <- v
      }
    }
  }
  params <- params[!vapply(params, is.null, NA)]
  cp <- info$count_param
  if (nzchar(cp) && is.null(params[[cp]])) params[[cp]] <- length(args) + length(kw)
  ph <- .mx_params(op, params, info$tuple_params)
  akeys <- as.character(names(attr))
  avals <- unname(vapply(as.list(attr), as.character, ""))
  .mx_call(C_mxr_sym_compose, .mx_op_handle(op), ph, if (is.null(name)) NULL else as.character(name),
           unname(args), as.character(names(kw)), unname(kw), akeys, avals)
}

.mx_make_sym_op <- function(s, ns, info) {
  sig <- .mx_op_signature(s)
  ins <- setdiff(sig$inputs, "name")
  prm <- setdiff(sig$params, "name")
  all_args <- c(ins, prm)
  fmls <- c(rep(list(NULL), length(all_args)), list(quote(expr = ), NULL))
  names(fmls) <- c(all_args, "...", "name")
  if (isTRUE(s$variadic_input)) fmls <- fmls[c(length(all_args) + 1L, seq_along(all_args), length(fmls))]
  list_call <- function(nms) {
    a <- lapply(nms, as.name)
    names(a) <- nms
    as.call(c(list(as.name("list")), a))
  }
  body <- call(".mx_sym_call", as.name(".info"), list_call(ins), list_call(prm),
               quote(list(...)), as.name("name"))
  env <- new.env(parent = ns)
  env$.info <- info
  eval(call("function", as.pairlist(fmls), body), env)
}

mx.symbol.Group <- function(...) {
  s <- list(...)
  if (length(s) == 1L && is.list(s[[1L]]) && !is.mx.symbol(s[[1L]])) s <- s[[1L]]
  for (x in s) .mx_check_sym(x, "mx.symbol.Group")
  .mx_call(C_mxr_sym_group, unname(s))
}

.mx_sym_list <- function(x, kind) .mx_call(C_mxr_sym_list, .mx_check_sym(x, "MXSymbol"), kind)

arguments <- function(x) .mx_sym_list(x, 0L)
outputs <- function(x) .mx_sym_list(x, 1L)
mx.symbol.list.auxiliary.states <- function(x) .mx_sym_list(x, 2L)
mx.symbol.list.inputs <- function(x) .mx_sym_list(x, 3L)

mx.symbol.get.internals <- function(x) .mx_call(C_mxr_sym_internals, .mx_check_sym(x, "mx.symbol.get.internals"))
mx.symbol.get.output <- function(x, index) {
  if (is.character(index)) {
    i <- match(index, outputs(x))
    if (is.na(i)) .mx_stop(.MX_ERR_VALUE, "mx.symbol.get.output: no output named '", index, "'")
    index <- i
  }
  # R indices are 1-based: check here so the message names the index the caller gave
  n <- mx.symbol.num.outputs(x)
  if (!is.numeric(index) || length(index) != 1L || is.na(index) || index < 1 || index > n)
    .mx_stop(.MX_ERR_VALUE, "mx.symbol.get.output: index ", format(index), " is out of range (the symbol has ", n,
             " output", if (n == 1L) "" else "s", "; indices are 1..", n, ")")
  .mx_call(C_mxr_sym_get_output, .mx_check_sym(x, "mx.symbol.get.output"), as.integer(index) - 1L)
}
mx.symbol.num.outputs <- function(x) .mx_call(C_mxr_sym_num_outputs, .mx_check_sym(x, "MXSymbol"))
mx.symbol.name <- function(x) .mx_call(C_mxr_sym_name, .mx_check_sym(x, "MXSymbol"))
mx.symbol.attributes <- function(x, recursive = FALSE) .mx_json(.mx_call(C_mxr_sym_list_attr, .mx_check_sym(x, "MXSymbol"), recursive))

mx.symbol.as.json <- function(symbol) .mx_call(C_mxr_sym_to_json, .mx_check_sym(symbol, "mx.symbol.as.json"))
mx.symbol.load.json <- function(str) .mx_call(C_mxr_sym_from_json, paste(str, collapse = "\n"))
mx.symbol.save <- function(symbol, filename) {
  .mx_call(C_mxr_sym_save, .mx_check_sym(symbol, "mx.symbol.save"), path.expand(filename))
  invisible()
}
mx.symbol.load <- function(filename) .mx_call(C_mxr_sym_load, path.expand(filename))

# Shapes as named arguments (logical shapes, as in Python): mx.symbol.infer.shape(net, data = c(32, 784)).
mx.symbol.infer.shape <- function(symbol, ..., partial = FALSE) {
  shapes <- list(...)
  if (length(shapes) == 1L && is.null(names(shapes)) && is.list(shapes[[1L]])) shapes <- shapes[[1L]]
  if (length(shapes) && (is.null(names(shapes)) || any(names(shapes) == "")))
    .mx_stop(.MX_ERR_VALUE, "mx.symbol.infer.shape: shapes must be named (data = c(32, 784))")
  js <- .mx_to_json(lapply(shapes, function(s) I(as.numeric(s))))
  if (!length(shapes)) js <- "{}"
  r <- .mx_json(.mx_call(C_mxr_sym_infer_shape, .mx_check_sym(symbol, "mx.symbol.infer.shape"), js, partial))
  shp <- function(l, nms) {
    out <- lapply(l, function(v) if (is.null(v)) NULL else as.integer(unlist(v)))
    names(out) <- nms
    out
  }
  list(arg.shapes = shp(r$arg_shapes, arguments(symbol)),
       out.shapes = shp(r$out_shapes, outputs(symbol)),
       aux.shapes = shp(r$aux_shapes, mx.symbol.list.auxiliary.states(symbol)),
       complete = isTRUE(r$complete))
}

format.MXSymbol <- function(x, ...) {
  paste0("<MXSymbol ", paste(outputs(x), collapse = ", "), ">")
}
print.MXSymbol <- function(x, ...) {
  cat(format(x), "\n", sep = "")
  invisible(x)
}

# Arithmetic on symbols (registry ops; no math in R).
Ops.MXSymbol <- function(e1, e2) {
  g <- .Generic
  ops <- .mx_ops_table[[g]]
  if (is.null(ops) || nargs() == 1L) .mx_stop(.MX_ERR_UNSUPPORTED, "'", g, "' is not supported for MXSymbol")
  f <- function(op, ...) .mx_sym_call(list(name = op, count_param = "", tuple_params = character()),
                                       list(), list(), list(...), NULL)
  if (is.mx.symbol(e1) && is.mx.symbol(e2)) return(f(ops[1L], e1, e2))
  other <- if (is.mx.symbol(e1)) e2 else e1
  if (!(is.numeric(other) || is.logical(other)) || length(other) != 1L || is.na(other))
    .mx_stop(.MX_ERR_TYPE, "MXSymbol ", g, " ", class(other)[1L], ": the other operand must be an MXSymbol or ",
             "one number, got ", if (is.character(other)) "character" else class(other)[1L],
             if (length(other) != 1L) paste0(" of length ", length(other)) else "")
  if (is.mx.symbol(e1)) return(f(ops[2L], e1, scalar = as.double(e2)))
  f(ops[3L], e2, scalar = as.double(e1))
}
