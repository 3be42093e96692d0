# Operators: handles, parameter conversion and caching, invocation, and the generation of one
# R function per registry operator (mx.nd.<name>) from the registry's JSON schema, mirroring
# python/mx/ndarray/register.py. Names starting with "_" go to the environment mx.nd.internal.

.mx_ops <- new.env(parent = emptyenv())        # op name -> op handle
.mx_schemas <- new.env(parent = emptyenv())    # op name -> parsed schema
.mx_params_cache <- new.env(hash = TRUE, parent = emptyenv())
.mx_cache_state <- new.env(parent = emptyenv())
.mx_cache_state$n <- 0L

mx.nd.internal <- new.env(parent = emptyenv())
mx.symbol.internal <- new.env(parent = emptyenv())

mx.op.list <- function() .mx_call(C_mxr_op_names)

.mx_op_handle <- function(name) {
  h <- .mx_ops[[name]]
  if (is.null(h)) {
    h <- .mx_call(C_mxr_op_find, name)
    assign(name, h, envir = .mx_ops)
  }
  h
}

.mx_op_exists <- function(name) {
  if (!is.null(.mx_ops[[name]])) return(TRUE)
  ok <- tryCatch({
    .mx_op_handle(name)
    TRUE
  }, mx_error = function(e) FALSE)
  ok
}

mx.op.schema <- function(name) {
  s <- .mx_schemas[[name]]
  if (is.null(s)) {
    s <- .mx_json(.mx_call(C_mxr_op_schema, .mx_op_handle(name)))
    assign(name, s, envir = .mx_schemas)
  }
  s
}

# ------------------------------------------------------------------ parameter values as strings

.mx_num_str <- function(x) {
  if (is.nan(x)) return("nan")
  if (is.na(x)) return("None")
  if (is.infinite(x)) return(if (x > 0) "inf" else "-inf")
  if (x == trunc(x) && abs(x) < 1e15) return(sprintf("%.0f", x))
  s <- as.character(x)
  if (as.numeric(s) != x) s <- sprintf("%.17g", x)
  s
}

.mx_scalar_str <- function(v) {
  if (is.null(v)) return("None")
  if (is.logical(v)) return(if (is.na(v)) "None" else if (v) "True" else "False")
  if (is.numeric(v)) return(.mx_num_str(as.double(v)))
  if (is.character(v)) return(v)
  if (inherits(v, "MXContext")) return(format(v))
  .mx_stop(.MX_ERR_VALUE, "cannot pass a value of class ", class(v)[1L], " as an operator parameter")
}

# An R value as MXNet writes it in symbol JSON: TRUE -> "True", c(2, 2) -> "(2, 2)".
# `tuple` forces the tuple form for length-1 values (the parameter's type is a tuple).
.mx_param_str <- function(v, tuple = FALSE, key = "") {
  if (inherits(v, "MXContext")) return(format(v))
  if (is.list(v)) {
    items <- vapply(v, .mx_scalar_str, "")
  } else if (is.atomic(v) && (length(v) != 1L || tuple)) {
    if (is.character(v) && !tuple)
      .mx_stop(.MX_ERR_VALUE, "parameter '", key, "' must be a single string")
    items <- vapply(as.list(v), .mx_scalar_str, "")
  } else if (is.atomic(v)) {
    return(.mx_scalar_str(v))
  } else {
    .mx_stop(.MX_ERR_VALUE, "cannot pass a value of class ", class(v)[1L], " as parameter '", key, "'")
  }
  paste0("(", paste(items, collapse = ", "), if (length(items) == 1L) "," else "", ")")
}

# Parsed parameters for (op, params), parsed once by the core and cached.
.mx_params <- function(op_name, params, tuple_keys = character()) {
  if (!length(params)) return(NULL)
  keys <- names(params)
  vals <- character(length(params))
  for (i in seq_along(params)) vals[i] <- .mx_param_str(params[[i]], keys[i] %in% tuple_keys, keys[i])
  o <- order(keys)
  keys <- keys[o]
  vals <- vals[o]
  ck <- paste0(op_name, "\001", paste0(keys, "=", vals, collapse = "\001"))
  h <- .mx_params_cache[[ck]]
  if (is.null(h)) {
    h <- .mx_call(C_mxr_params_new, .mx_op_handle(op_name), keys, vals)
    if (.mx_cache_state$n > 65536L) { # unbounded distinct params (e.g. varying scalars)
      rm(list = ls(.mx_params_cache, all.names = TRUE), envir = .mx_params_cache)
      .mx_cache_state$n <- 0L
    }
    assign(ck, h, envir = .mx_params_cache)
    .mx_cache_state$n <- .mx_cache_state$n + 1L
  }
  h
}

# Invoke an op by name: inputs a list of MXNDArrays, params a named list of R values.
.mx_invoke <- function(op_name, inputs, params = list(), out = NULL) {
  h <- .mx_op_handle(op_name)
  ph <- .mx_params(op_name, params)
  if (!is.null(out)) {
    .mx_call(C_mxr_op_invoke, h, ph, inputs, if (is.mx.ndarray(out)) list(out) else out)
    return(out)
  }
  res <- .mx_call(C_mxr_op_invoke, h, ph, inputs, NULL)
  if (length(res) == 1L) res[[1L]] else res
}

.mx_invoke1 <- function(op_name, inputs, params = list()) {
  .mx_call(C_mxr_op_invoke1, .mx_op_handle(op_name), .mx_params(op_name, params), inputs)
}

# The body of every generated op function.
.mx_op_call <- function(info, inputs, params, dots, out) {
  name <- info$name
  handles <- list()
  for (k in names(inputs)) {
    v <- inputs[[k]]
    if (is.null(v)) next
    if (!is.mx.ndarray(v))
      .mx_stop(.MX_ERR_TYPE, "mx.nd.", name, ": input '", k, "' must be an MXNDArray, got ", class(v)[1L])
    handles[[length(handles) + 1L]] <- v
  }
  if (length(dots)) {
    dn <- names(dots)
    if (is.null(dn)) dn <- character(length(dots))
    for (i in seq_along(dots)) {
      v <- dots[[i]]
      if (is.mx.ndarray(v)) {
        handles[[length(handles) + 1L]] <- v
      } else if (dn[i] == "" && is.list(v) && length(v) && all(vapply(v, is.mx.ndarray, NA))) {
        handles <- c(handles, v)
      } else if (dn[i] == "") {
        .mx_stop(.MX_ERR_TYPE, "mx.nd.", name, ": unnamed arguments must be MXNDArrays, got ",
                 class(v)[1L], " (pass parameters by name)")
      } else if (dn[i] != "name") {
        params[[dn[i]]] <- v
      }
    }
  }
  params <- params[!vapply(params, is.null, NA)]
  cp <- info$count_param
  if (nzchar(cp) && is.null(params[[cp]])) params[[cp]] <- length(handles) - info$num_aux
  h <- .mx_op_handle(name)
  ph <- .mx_params(name, params, info$tuple_params)
  if (!is.null(out)) {
    outs <- if (is.mx.ndarray(out)) list(out) else out
    .mx_call(C_mxr_op_invoke, h, ph, handles, outs)
    return(out)
  }
  if (info$single) return(.mx_call(C_mxr_op_invoke1, h, ph, handles))
  res <- .mx_call(C_mxr_op_invoke, h, ph, handles, NULL)
  if (length(res) == 1L) res[[1L]] else res
}

.mx_chr <- function(x) as.character(unlist(x))

# Formal argument names of the function for one schema: inputs, aux states, parameters, ..., out.
.mx_op_signature <- function(s) {
  inputs <- if (isTRUE(s$variadic_input)) character() else .mx_chr(s$inputs)
  aux <- .mx_chr(s$aux)
  pnames <- vapply(s$params, function(p) p$name, "")
  reserved <- c("out", "...")
  args <- unique(c(inputs, aux))
  args <- args[!args %in% reserved]
  pnames <- pnames[!pnames %in% c(args, reserved)]
  list(inputs = setdiff(unique(c(inputs, aux)), reserved), params = pnames)
}

.mx_make_op <- function(s, ns) {
  sig <- .mx_op_signature(s)
  all_args <- c(sig$inputs, sig$params)
  fmls <- c(rep(list(NULL), length(all_args)), list(quote(expr = ), NULL))
  names(fmls) <- c(all_args, "...", "out")
  # variadic ops: positional arrays go to `...`, parameters are matched by name only
  if (isTRUE(s$variadic_input)) fmls <- fmls[c(length(all_args) + 1L, seq_along(all_args), length(fmls))]
  list_call <- function(nms) {
    a <- lapply(nms, as.name)
    names(a) <- nms
    as.call(c(list(as.name("list")), a))
  }
  body <- call(".mx_op_call", as.name(".info"), list_call(sig$inputs), list_call(sig$params),
               quote(list(...)), as.name("out"))
  types <- vapply(s$params, function(p) p$type, "")
  pn <- vapply(s$params, function(p) p$name, "")
  env <- new.env(parent = ns)
  env$.info <- list(
    name = s$name,
    count_param = if (is.null(s$variadic_count_param)) "" else s$variadic_count_param,
    num_aux = length(s$aux),
    tuple_params = pn[grepl("tuple|shape", types, ignore.case = TRUE)],
    single = length(s$outputs) == 1L && !isTRUE(s$num_outputs_depend_on_params)
  )
  f <- eval(call("function", as.pairlist(fmls), body), env)
  f
}

.mx_populate_ops <- function(ns) {
  names <- .mx_call(C_mxr_op_names)
  for (name in names) {
    s <- mx.op.schema(name)
    f <- .mx_make_op(s, ns)
    sf <- .mx_make_sym_op(s, ns, environment(f)$.info)
    for (nm in c(name, .mx_chr(s$aliases))) {
      if (startsWith(nm, "_")) {
        assign(nm, f, envir = mx.nd.internal)
        assign(nm, sf, envir = mx.symbol.internal)
      } else {
        # hand-written functions win over generated ones of the same name
        rname <- paste0("mx.nd.", nm)
        if (!exists(rname, envir = ns, inherits = FALSE)) assign(rname, f, envir = ns)
        sname <- paste0("mx.symbol.", nm)
        if (!exists(sname, envir = ns, inherits = FALSE)) assign(sname, sf, envir = ns)
      }
    }
  }
  invisible()
}
