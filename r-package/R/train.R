# Initializers, optimizers and metrics: R objects describing them, over the core's
# mx_initializer_*, mx_optimizer_* and mx_metric_* (sampling, update rules and metric arithmetic
# all run in libmx).

# ------------------------------------------------------------------ initializers

.mx_initializer <- function(name, args = list()) {
  structure(list(name = name, args = args), class = "MXInitializer")
}

.mx_init_json <- function(init) {
  if (is.character(init)) return(init)
  if (!inherits(init, "MXInitializer"))
    .mx_stop(.MX_ERR_VALUE, "expected an initializer such as mx.init.uniform(0.01), got ", class(init)[1L])
  args <- init$args
  if (!length(args)) args <- structure(list(), names = character())
  paste0("[", .mx_json_str(init$name), ", ", .mx_to_json(args), "]")
}

mx.init.uniform <- function(scale = 0.07) .mx_initializer("uniform", list(scale = scale))
mx.init.normal <- function(sd = 0.01) .mx_initializer("normal", list(sigma = sd))
mx.init.Xavier <- function(rnd_type = "uniform", factor_type = "avg", magnitude = 3)
  .mx_initializer("xavier", list(rnd_type = rnd_type, factor_type = factor_type, magnitude = magnitude))
mx.init.constant <- function(value) .mx_initializer("constant", list(value = value))
mx.init.zero <- function() .mx_initializer("zero")
mx.init.one <- function() .mx_initializer("one")

format.MXInitializer <- function(x, ...) .mx_init_json(x)
print.MXInitializer <- function(x, ...) {
  cat("<MXInitializer ", .mx_init_json(x), ">\n", sep = "")
  invisible(x)
}

.mx_init_handle <- function(init) .mx_call(C_mxr_init_new, .mx_init_json(init))

# Fill `arr` for the parameter `name` (MXNet's name rules; attrs: the variable's attributes).
mx.init.apply <- function(initializer, name, arr, attrs = NULL) {
  h <- if (inherits(initializer, "mx_init_handle")) initializer else .mx_init_handle(initializer)
  aj <- if (length(attrs)) .mx_to_json(as.list(attrs)) else NULL
  .mx_call(C_mxr_init_apply, h, name, aj, arr)
  invisible(arr)
}

# Named list of new arrays, one per named shape (logical shapes). Names that are not parameters
# (data, labels) are skipped when skip.unknown.
mx.init.create <- function(initializer, shape.array, ctx = NULL, skip.unknown = TRUE) {
  ctx <- .mx_ctx_of(ctx)
  h <- .mx_init_handle(initializer)
  out <- list()
  for (n in names(shape.array)) {
    arr <- .mx_call(C_mxr_nd_new, as.numeric(shape.array[[n]]), 0L, ctx$device_typeid, ctx$device_id)
    ok <- tryCatch({
      .mx_call(C_mxr_init_apply, h, n, NULL, arr)
      TRUE
    }, mx_value_error = function(e) if (skip.unknown) FALSE else stop(e))
    if (ok) out[[n]] <- arr
  }
  out
}

# ------------------------------------------------------------------ optimizers

mx.opt.create <- function(name, ...) {
  if (!is.character(name) || length(name) != 1L) .mx_stop(.MX_ERR_VALUE, "mx.opt.create: name must be a string")
  hp <- .mx_py_names(list(...))
  hp <- hp[!vapply(hp, is.null, NA)]
  if (inherits(hp$lr_scheduler, "mx_json_obj")) hp$lr_scheduler <- unclass(hp$lr_scheduler)
  if (!is.null(hp$param_idx2name)) hp$param_idx2name <- as.list(hp$param_idx2name)
  js <- if (length(hp)) .mx_to_json(hp) else "{}"
  h <- .mx_call(C_mxr_opt_new, tolower(name), js)
  structure(list(handle = h, name = tolower(name)), class = "MXOptimizer")
}

mx.opt.sgd <- function(learning.rate = 0.01, momentum = 0, wd = 0, rescale.grad = 1,
                       clip_gradient = NULL, lr_scheduler = NULL)
  mx.opt.create("sgd", learning.rate = learning.rate, momentum = momentum, wd = wd,
                rescale.grad = rescale.grad, clip_gradient = clip_gradient, lr_scheduler = lr_scheduler)

mx.opt.adam <- function(learning.rate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, wd = 0,
                        rescale.grad = 1, clip_gradient = NULL, lr_scheduler = NULL)
  mx.opt.create("adam", learning.rate = learning.rate, beta1 = beta1, beta2 = beta2, epsilon = epsilon,
                wd = wd, rescale.grad = rescale.grad, clip_gradient = clip_gradient, lr_scheduler = lr_scheduler)

# Learning-rate scheduler description for lr_scheduler = (MXNet's arguments, R spelling allowed).
mx.lr_scheduler.FactorScheduler <- function(step, factor = 1, base_lr = 0.01, stop_factor_lr = 1e-8)
  structure(list(type = "factor", step = step, factor = factor, base_lr = base_lr,
                 stop_factor_lr = stop_factor_lr), class = "mx_json_obj")

print.MXOptimizer <- function(x, ...) {
  cat("<MXOptimizer ", x$name, " lr=", .mx_call(C_mxr_opt_lr, x$handle), ">\n", sep = "")
  invisible(x)
}

mx.opt.json <- function(optimizer) .mx_json(.mx_call(C_mxr_opt_json, optimizer$handle))
mx.opt.save.states <- function(optimizer, filename) {
  .mx_call(C_mxr_opt_save, optimizer$handle, path.expand(filename))
  invisible()
}
mx.opt.load.states <- function(optimizer, filename) {
  .mx_call(C_mxr_opt_load, optimizer$handle, path.expand(filename))
  invisible(optimizer)
}

# An updater: function(weights, grads) updating the weights in place (the core's rule). Index i
# of the lists is the optimizer's index i - 1; NULL gradients are skipped.
mx.opt.get.updater <- function(optimizer, weights = NULL) {
  if (!inherits(optimizer, "MXOptimizer")) .mx_stop(.MX_ERR_VALUE, "mx.opt.get.updater: expected an MXOptimizer")
  function(weights, grads) {
    keep <- which(!vapply(grads, is.null, NA))
    if (length(keep))
      .mx_call(C_mxr_opt_update, optimizer$handle, as.integer(keep - 1L), unname(weights[keep]), unname(grads[keep]))
    invisible(weights)
  }
}

# ------------------------------------------------------------------ metrics

mx.metric.create <- function(name, ...) {
  args <- .mx_py_names(list(...))
  structure(list(name = name, args = args), class = "MXMetric")
}

mx.metric.accuracy <- mx.metric.create("acc")
mx.metric.rmse <- mx.metric.create("rmse")
mx.metric.mae <- mx.metric.create("mae")
mx.metric.mse <- mx.metric.create("mse")
mx.metric.logloss <- mx.metric.create("ce")
mx.metric.top_k_accuracy <- function(top_k = 5) mx.metric.create("top_k_accuracy", top_k = top_k)

.mx_metric_handle <- function(m) {
  if (!inherits(m, "MXMetric")) .mx_stop(.MX_ERR_VALUE, "expected a metric such as mx.metric.accuracy")
  args <- m$args
  js <- if (length(args)) .mx_to_json(args) else "{}"
  .mx_call(C_mxr_metric_new, m$name, js)
}

# Evaluate a metric on (label, pred): R arrays or MXNDArrays (logical shapes).
mx.metric.eval <- function(metric, label, pred) {
  h <- .mx_metric_handle(metric)
  if (!is.mx.ndarray(label)) label <- mx.nd.array(label)
  if (!is.mx.ndarray(pred)) pred <- mx.nd.array(pred)
  .mx_call(C_mxr_metric_update, h, list(label), list(pred))
  r <- .mx_call(C_mxr_metric_get, h, FALSE)
  list(name = r[[1L]], value = r[[2L]])
}

.mx_metric_value <- function(h, global = FALSE) {
  r <- .mx_call(C_mxr_metric_get, h, global)
  list(name = r[[1L]], value = r[[2L]], num.inst = r[[3L]])
}
