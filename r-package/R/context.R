# Devices (MXNet's Context).

.mx_ctx <- function(type, typeid, dev.id) {
  if (!is.numeric(dev.id) || length(dev.id) != 1L || is.na(dev.id) || dev.id < 0 || dev.id != round(dev.id))
    .mx_stop(.MX_ERR_VALUE, "mx.ctx.", type, ": dev.id must be a whole number >= 0")
  structure(list(device = type, device_id = as.integer(dev.id), device_typeid = typeid), class = "MXContext")
}

mx.ctx.cpu <- function(dev.id = 0L) .mx_ctx("cpu", 1L, dev.id)

mx.ctx.gpu <- function(dev.id = 0L) {
  ctx <- .mx_ctx("gpu", 2L, dev.id)
  n <- .mx_call(C_mxr_device_count, 2L)
  if (ctx$device_id >= n)
    .mx_stop(.MX_ERR_UNSUPPORTED, "mx.ctx.gpu: GPU ", ctx$device_id, " is not available (",
             if (n == 0L) "this libmx was built without CUDA or the machine has no GPU" else
               paste0("only ", n, " GPU(s) found"), ")")
  ctx
}

mx.cpu <- mx.ctx.cpu
mx.gpu <- mx.ctx.gpu

.mx_state <- new.env(parent = emptyenv())
.mx_state$ctx <- NULL

mx.ctx.default <- function(new = NULL) {
  if (!is.null(new)) {
    if (!inherits(new, "MXContext")) .mx_stop(.MX_ERR_VALUE, "mx.ctx.default: expected an MXContext")
    .mx_state$ctx <- new
  }
  if (is.null(.mx_state$ctx)) mx.ctx.cpu() else .mx_state$ctx
}

.mx_ctx_of <- function(ctx) {
  if (is.null(ctx)) return(mx.ctx.default())
  if (!inherits(ctx, "MXContext"))
    .mx_stop(.MX_ERR_VALUE, "ctx must be an MXContext such as mx.ctx.cpu() or mx.ctx.gpu(0)")
  ctx
}

.mx_ctx_from_code <- function(type, id) {
  switch(as.character(type), "1" = .mx_ctx("cpu", 1L, id), "2" = .mx_ctx("gpu", 2L, id),
         "3" = .mx_ctx("cpu_pinned", 3L, id), .mx_ctx(paste0("device", type), type, id))
}

format.MXContext <- function(x, ...) paste0(x$device, "(", x$device_id, ")")
as.character.MXContext <- function(x, ...) format.MXContext(x)
print.MXContext <- function(x, ...) {
  cat(format.MXContext(x), "\n", sep = "")
  invisible(x)
}

mx.set.seed <- function(seed, ctx = NULL) {
  dev <- if (is.null(ctx)) -1L else .mx_ctx_of(ctx)$device_typeid
  .mx_call(C_mxr_random_seed, as.double(seed), dev)
  invisible()
}
