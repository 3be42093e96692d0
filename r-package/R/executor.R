# Executors: a symbol bound to arrays (mx_executor_*). exec$arg.arrays, exec$grad.arrays,
# exec$aux.arrays and exec$outputs are named lists of MXNDArrays sharing the executor's memory.

.mx_req_code1 <- function(r) {
  code <- .mx_grad_reqs[r]
  if (anyNA(code)) .mx_stop(.MX_ERR_VALUE, "grad.req must be one of 'write', 'add', 'null' (got '", r, "')")
  unname(code)
}

.mx_new_executor <- function(handle, symbol, ctx) {
  structure(list(handle = handle, symbol = symbol, ctx = ctx,
                 arg.names = arguments(symbol), aux.names = mx.symbol.list.auxiliary.states(symbol),
                 out.names = outputs(symbol)), class = "MXExecutor")
}

# grad.req: one of "null", "write", "add", or a named vector/list of per-argument overrides
# plus an unnamed default.
mx.simple.bind <- function(symbol, ctx = NULL, grad.req = "null", type.dict = NULL, ...) {
  .mx_check_sym(symbol, "mx.simple.bind")
  ctx <- .mx_ctx_of(ctx)
  shapes <- list(...)
  if (length(shapes) == 1L && is.null(names(shapes)) && is.list(shapes[[1L]])) shapes <- shapes[[1L]]
  if (!length(shapes) || is.null(names(shapes)) || any(names(shapes) == ""))
    .mx_stop(.MX_ERR_VALUE, "mx.simple.bind: give input shapes by name, e.g. data = c(32, 784)")
  js <- .mx_to_json(lapply(shapes, function(s) I(as.numeric(s))))
  tjs <- if (is.null(type.dict)) NULL else .mx_to_json(as.list(type.dict))
  gr <- as.list(grad.req)
  gn <- names(gr)
  if (is.null(gn)) gn <- character(length(gr))
  default <- if (any(gn == "")) gr[[which(gn == "")[1L]]] else "null"
  over <- gr[gn != ""]
  for (r in c(default, unlist(over))) .mx_req_code1(r)
  ojs <- if (length(over)) .mx_to_json(lapply(over, as.character)) else NULL
  h <- .mx_call(C_mxr_exec_simple_bind, symbol, ctx$device_typeid, ctx$device_id, js, tjs,
                .mx_req_code1(default), ojs)
  .mx_new_executor(h, symbol, ctx)
}

# Bind given arrays (named lists in argument order or by name).
mx.exec.bind <- function(symbol, ctx = NULL, arg.arrays, aux.arrays = list(), grad.arrays = NULL,
                         grad.reqs = "null") {
  .mx_check_sym(symbol, "mx.exec.bind")
  ctx <- .mx_ctx_of(ctx)
  an <- arguments(symbol)
  xn <- mx.symbol.list.auxiliary.states(symbol)
  order_by <- function(l, nms, what) {
    if (!is.null(names(l))) {
      miss <- setdiff(nms, names(l))
      if (length(miss)) .mx_stop(.MX_ERR_VALUE, "mx.exec.bind: ", what, " missing: ", paste(miss, collapse = ", "))
      l <- l[nms]
    }
    if (length(l) != length(nms)) .mx_stop(.MX_ERR_VALUE, "mx.exec.bind: ", length(nms), " ", what, " expected")
    unname(l)
  }
  a <- order_by(arg.arrays, an, "arguments")
  x <- order_by(aux.arrays, xn, "auxiliary states")
  g <- if (is.null(grad.arrays)) NULL else order_by(grad.arrays, an, "gradients")
  reqs <- if (!is.null(names(grad.reqs))) vapply(an, function(n) {
    r <- grad.reqs[[n]]
    if (is.null(r)) 0L else .mx_req_code1(r)
  }, 0L) else rep_len(vapply(grad.reqs, .mx_req_code1, 0L), length(an))
  h <- .mx_call(C_mxr_exec_bind, symbol, ctx$device_typeid, ctx$device_id, a, g, as.integer(reqs), x)
  .mx_new_executor(h, symbol, ctx)
}

.mx_exec_arrays <- function(exec, kind, nms) {
  r <- .mx_call(C_mxr_exec_arrays, .subset2(exec, "handle"), kind)
  names(r) <- nms
  r
}

`$.MXExecutor` <- function(x, name) {
  switch(name,
         arg.arrays = .mx_exec_arrays(x, 1L, .subset2(x, "arg.names")),
         grad.arrays = .mx_exec_arrays(x, 2L, .subset2(x, "arg.names")),
         aux.arrays = .mx_exec_arrays(x, 3L, .subset2(x, "aux.names")),
         outputs = .mx_exec_arrays(x, 0L, .subset2(x, "out.names")),
         ref.arg.arrays = .mx_exec_arrays(x, 1L, .subset2(x, "arg.names")),
         .subset2(x, name))
}

print.MXExecutor <- function(x, ...) {
  cat("<MXExecutor outputs: ", paste(.subset2(x, "out.names"), collapse = ", "), ">\n", sep = "")
  invisible(x)
}

mx.exec.forward <- function(exec, is.train = TRUE) {
  .mx_call(C_mxr_exec_forward, .subset2(exec, "handle"), isTRUE(is.train))
  invisible(exec)
}

mx.exec.backward <- function(exec, out.grads = NULL) {
  g <- if (is.null(out.grads)) NULL else if (is.mx.ndarray(out.grads)) list(out.grads) else unname(out.grads)
  .mx_call(C_mxr_exec_backward, .subset2(exec, "handle"), g, TRUE)
  invisible(exec)
}

# Copy values (MXNDArrays or R arrays) into the executor's arrays, by name.
.mx_exec_update <- function(exec, arrays, kind, nms, match.name, skip.null) {
  cur <- .mx_exec_arrays(exec, kind, nms)
  for (n in names(arrays)) {
    v <- arrays[[n]]
    if (is.null(v)) { if (skip.null) next }
    if (!n %in% nms) {
      if (match.name) next
      .mx_stop(.MX_ERR_VALUE, "no array named '", n, "' in the executor")
    }
    if (!is.mx.ndarray(v)) v <- mx.nd.array(v)
    if (!identical(as.numeric(dim(v)), as.numeric(dim(cur[[n]]))))
      .mx_stop(.MX_ERR_SHAPE, "'", n, "' has shape (", paste(dim(v), collapse = ", "),
               ") but the executor holds (", paste(dim(cur[[n]]), collapse = ", "), ")")
    .mx_call(C_mxr_nd_copy, v, cur[[n]])
  }
  invisible(exec)
}

mx.exec.update.arg.arrays <- function(exec, arg.arrays, match.name = FALSE, skip.null = FALSE)
  .mx_exec_update(exec, arg.arrays, 1L, .subset2(exec, "arg.names"), match.name, skip.null)

mx.exec.update.aux.arrays <- function(exec, arg.arrays, match.name = FALSE, skip.null = FALSE)
  .mx_exec_update(exec, arg.arrays, 3L, .subset2(exec, "aux.names"), match.name, skip.null)

mx.exec.update.grad.arrays <- function(exec, arg.arrays, match.name = FALSE, skip.null = FALSE)
  .mx_exec_update(exec, arg.arrays, 2L, .subset2(exec, "arg.names"), match.name, skip.null)
