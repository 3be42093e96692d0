# FeedForward training and prediction over the executor, and checkpoints in MXNet's format:
# prefix-symbol.json, prefix-%04d.params ("arg:<name>" / "aux:<name>"), prefix-%04d.states
# (the core's optimizer state container), so that Python, R and Julia resume each other's training.

.mx_model <- function(symbol, arg.params, aux.params, optimizer = NULL, optimizer.states = NULL) {
  structure(list(symbol = symbol, arg.params = arg.params, aux.params = aux.params,
                 optimizer = optimizer, optimizer.states = optimizer.states),
            class = "MXFeedForwardModel")
}

print.MXFeedForwardModel <- function(x, ...) {
  cat("<MXFeedForwardModel outputs: ", paste(outputs(x$symbol), collapse = ", "), "; ",
      length(x$arg.params), " parameters, ", length(x$aux.params), " auxiliary states>\n", sep = "")
  invisible(x)
}

.mx_copy_list <- function(l) lapply(l, function(a) mx.nd.array(a))

.mx_as_iter <- function(X, y, batch.size, shuffle, what) {
  if (is.mx.dataiter(X)) return(X)
  if (is.null(X)) .mx_stop(.MX_ERR_VALUE, what, ": X is missing")
  mx.io.arrayiter(X, y, batch.size = batch.size, shuffle = shuffle)
}

.mx_label_name <- function(symbol, input.names) {
  a <- setdiff(arguments(symbol), input.names)
  l <- a[endsWith(a, "label")]
  if (length(l)) l[1L] else character()
}

.mx_bind_for <- function(symbol, ctx, input.name, label.name, data.shape, label.shape, grad.req, fixed = character()) {
  shapes <- list()
  shapes[[input.name]] <- data.shape
  if (length(label.name) && !is.null(label.shape)) shapes[[label.name]] <- label.shape
  req <- list(grad.req)
  for (n in c(input.name, label.name, fixed)) req[[n]] <- "null"
  names(req)[1L] <- ""
  do.call(mx.simple.bind, c(list(symbol, ctx = ctx, grad.req = req), shapes))
}

# Train a network. X: an R array with samples along the first axis (or an mx.io.arrayiter);
# y: labels. ... goes to the optimizer (learning.rate, momentum, wd, ...).
mx.model.FeedForward.create <- function(symbol, X, y = NULL, ctx = NULL, begin.round = 1,
                                        num.round = 10, optimizer = "sgd",
                                        initializer = mx.init.uniform(0.01), eval.data = NULL,
                                        eval.metric = NULL, epoch.end.callback = NULL,
                                        batch.end.callback = NULL, array.batch.size = 128,
                                        kvstore = "local", verbose = TRUE, arg.params = NULL,
                                        aux.params = NULL, input.names = "data",
                                        fixed.param = NULL, allow.extra.params = FALSE,
                                        optimizer.states = NULL, shuffle = TRUE, ...) {
  .mx_check_sym(symbol, "mx.model.FeedForward.create")
  ctx <- .mx_ctx_of(ctx)
  # kvstore: 'local'/'device' train in this process; dist types (or an MXKVStore) reduce the
  # gradients over the workers of the job and run the optimizer on the kvstore.
  kv <- NULL
  if (inherits(kvstore, "MXKVStore")) {
    kv <- kvstore
  } else if (!is.character(kvstore) || length(kvstore) != 1L) {
    .mx_stop(.MX_ERR_VALUE, "kvstore must be a type name or an MXKVStore (mx.kv.create)")
  } else if (grepl("dist", kvstore) || kvstore == "horovod") {
    kv <- mx.kv.create(kvstore)
  } else if (!kvstore %in% c("local", "device")) {
    mx.kv.create(kvstore)  # raises, naming the bad type
  }
  it <- .mx_as_iter(X, y, array.batch.size, shuffle, "mx.model.FeedForward.create")
  if (is.null(it$provide.label())) .mx_stop(.MX_ERR_VALUE, "mx.model.FeedForward.create: training needs labels (y)")
  if (!is.null(eval.data) && !is.mx.dataiter(eval.data)) {
    if (is.list(eval.data) && !is.null(eval.data$data))
      eval.data <- mx.io.arrayiter(eval.data$data, eval.data$label, batch.size = array.batch.size)
    else .mx_stop(.MX_ERR_VALUE, "eval.data must be list(data = , label = ) or an mx.io.arrayiter")
  }
  input.name <- input.names[1L]
  label.name <- .mx_label_name(symbol, input.name)
  bs <- it$batch.size
  exec <- .mx_bind_for(symbol, ctx, input.name, label.name, it$provide.data(), it$provide.label(),
                       "write", fixed.param)
  arg.names <- arguments(symbol)
  param.names <- setdiff(arg.names, c(input.name, label.name))
  aux.names <- mx.symbol.list.auxiliary.states(symbol)
  args <- exec$arg.arrays
  auxs <- exec$aux.arrays
  grads <- exec$grad.arrays
  # parameters: given values or the initializer (MXNet's name rules and __init__ attributes)
  attrs <- mx.symbol.attributes(symbol, recursive = TRUE)
  ih <- NULL
  fill <- function(name, arr, given) {
    if (!is.null(given[[name]])) {
      src <- given[[name]]
      if (!is.mx.ndarray(src)) src <- mx.nd.array(src)
      if (!identical(as.numeric(dim(src)), as.numeric(dim(arr))))
        .mx_stop(.MX_ERR_SHAPE, "parameter '", name, "' has shape (", paste(dim(src), collapse = ", "),
                 ") but the network needs (", paste(dim(arr), collapse = ", "), ")")
      .mx_call(C_mxr_nd_copy, src, arr)
    } else {
      if (is.null(ih)) ih <<- .mx_init_handle(initializer)
      a <- attrs[[name]]
      .mx_call(C_mxr_init_apply, ih, name, if (length(a)) .mx_to_json(a) else NULL, arr)
    }
  }
  for (n in param.names) fill(n, args[[n]], arg.params)
  for (n in aux.names) fill(n, auxs[[n]], aux.params)
  # optimizer over the parameter indices 0..k-1 (Module's order)
  idx2name <- as.list(param.names)
  names(idx2name) <- as.character(seq_along(param.names) - 1L)
  # dist: gradients are summed over the workers, so they are divided by the global batch size
  nworkers <- if (!is.null(kv) && grepl("dist", kv$type) && grepl("_sync", kv$type)) kv$num.workers else 1L
  if (is.character(optimizer)) {
    optimizer <- mx.opt.create(optimizer, rescale.grad = 1 / (bs * nworkers), param_idx2name = idx2name, ...)
  } else if (inherits(optimizer, "MXOptimizer")) {
    .mx_call(C_mxr_opt_set, optimizer$handle, "idx2name", .mx_to_json(idx2name))
  } else .mx_stop(.MX_ERR_VALUE, "optimizer must be a name or an MXOptimizer (mx.opt.create)")
  if (!is.null(optimizer.states)) {
    f <- optimizer.states
    if (is.raw(f)) {
      f <- tempfile(fileext = ".states")
      on.exit(unlink(f), add = TRUE)
      writeBin(optimizer.states, f)
    }
    mx.opt.load.states(optimizer, f)
  }
  if (!is.null(kv)) {
    # every worker starts from rank 0's parameters; updates run on the kvstore
    kv$set.optimizer(optimizer)
    kv$broadcast(param.names, unname(args[param.names]), unname(args[param.names]))
  }
  upd_idx <- which(!vapply(grads[param.names], is.null, NA))
  upd_w <- unname(args[param.names][upd_idx])
  upd_g <- unname(grads[param.names][upd_idx])
  upd_i <- as.integer(upd_idx - 1L)
  metric <- if (is.null(eval.metric)) NULL else .mx_metric_handle(eval.metric)
  data_arr <- args[[input.name]]
  label_arr <- args[[label.name]]
  env <- new.env()
  env$metric <- metric
  env$symbol <- symbol
  snapshot <- function() .mx_model(symbol, .mx_copy_list(exec$arg.arrays[param.names]),
                                   .mx_copy_list(exec$aux.arrays), optimizer)
  makeActiveBinding("model", function() snapshot(), env)
  for (iteration in seq.int(begin.round, length.out = max(0, num.round - begin.round + 1))) {
    it$reset()
    if (!is.null(metric)) .mx_call(C_mxr_metric_reset, metric)
    nbatch <- 0L
    pb <- if (verbose && !is.na(it$num.batches)) .mx_progress_new(it$num.batches, sprintf("[%d]", iteration)) else NULL
    while (it$iter.next()) {
      b <- it$value()
      .mx_call(C_mxr_nd_copy, b$data, data_arr)
      .mx_call(C_mxr_nd_copy, b$label, label_arr)
      .mx_call(C_mxr_exec_forward, exec$handle, TRUE)
      .mx_call(C_mxr_exec_backward, exec$handle, NULL, TRUE)
      if (length(upd_i)) {
        if (is.null(kv)) .mx_call(C_mxr_opt_update, optimizer$handle, upd_i, upd_w, upd_g)
        # one fused allreduce + update; the gradients are reduced during backward when the
        # kvstore's overlap is on (MX_KVSTORE_OVERLAP=1 or kv$set.overlap(TRUE))
        else kv$pushpull.grads(param.names[upd_idx], upd_g, upd_w)
      }
      if (!is.null(metric))
        .mx_call(C_mxr_metric_update, metric, list(b$label), list(exec$outputs[[1L]]))
      nbatch <- nbatch + 1L
      if (!is.null(pb)) .mx_progress_update(pb)
      env$nbatch <- nbatch
      if (!is.null(batch.end.callback)) batch.end.callback(iteration, nbatch, env, verbose)
    }
    if (!is.null(pb)) .mx_progress_close(pb)
    env$train.metric <- if (is.null(metric)) NULL else .mx_metric_value(metric)
    if (verbose && !is.null(metric))
      message(sprintf("[%d] Train-%s=%s", iteration, env$train.metric$name, format(env$train.metric$value)))
    if (!is.null(eval.data) && !is.null(eval.metric)) {
      em <- .mx_metric_handle(eval.metric)
      eval.data$reset()
      while (eval.data$iter.next()) {
        b <- eval.data$value()
        .mx_call(C_mxr_nd_copy, b$data, data_arr)
        .mx_call(C_mxr_exec_forward, exec$handle, FALSE)
        k <- bs - b$pad
        .mx_call(C_mxr_metric_update, em, list(.mx_call(C_mxr_nd_slice, b$label, 0, k)),
                 list(.mx_call(C_mxr_nd_slice, exec$outputs[[1L]], 0, k)))
      }
      env$eval.metric <- .mx_metric_value(em)
      if (verbose)
        message(sprintf("[%d] Validation-%s=%s", iteration, env$eval.metric$name, format(env$eval.metric$value)))
    }
    if (!is.null(epoch.end.callback)) {
      cont <- epoch.end.callback(iteration, 0L, env, verbose)
      if (identical(cont, FALSE)) break
    }
  }
  snapshot()
}

predict.MXFeedForwardModel <- function(object, X, ctx = NULL, array.batch.size = 128,
                                       array.layout = "rowmajor", allow.extra.params = FALSE, ...) {
  ctx <- .mx_ctx_of(ctx)
  it <- if (is.mx.dataiter(X)) X else mx.io.arrayiter(.mx_check_na(X, "predict: X"), NULL,
                                                      batch.size = min(array.batch.size, .mx_rows(X)))
  symbol <- object$symbol
  input.name <- "data"
  label.name <- .mx_label_name(symbol, input.name)
  dshape <- it$provide.data()
  shapes <- list()
  shapes[[input.name]] <- dshape
  inf <- mx.symbol.infer.shape(symbol, shapes, partial = TRUE)
  lshape <- if (length(label.name)) inf$arg.shapes[[label.name]] else NULL
  exec <- .mx_bind_for(symbol, ctx, input.name, label.name, dshape, lshape, "null")
  mx.exec.update.arg.arrays(exec, object$arg.params, match.name = TRUE)
  mx.exec.update.aux.arrays(exec, object$aux.params, match.name = TRUE)
  data_arr <- exec$arg.arrays[[input.name]]
  it$reset()
  parts <- list()
  rest <- NULL
  while (it$iter.next()) {
    b <- it$value()
    .mx_call(C_mxr_nd_copy, b$data, data_arr)
    .mx_call(C_mxr_exec_forward, exec$handle, FALSE)
    out <- as.array(exec$outputs[[1L]])
    d <- dim(out)
    rest <- d[-1L]
    k <- d[1L] - b$pad
    parts[[length(parts) + 1L]] <- matrix(out, nrow = d[1L])[seq_len(k), , drop = FALSE]
  }
  res <- do.call(rbind, parts)
  if (length(rest) != 1L) dim(res) <- c(nrow(res), rest)
  res
}

# ------------------------------------------------------------------ checkpoints

mx.model.save <- function(model, prefix, iteration) {
  if (!inherits(model, "MXFeedForwardModel")) .mx_stop(.MX_ERR_VALUE, "mx.model.save: expected an MXFeedForwardModel")
  mx.symbol.save(model$symbol, sprintf("%s-symbol.json", prefix))
  arrs <- c(model$arg.params, model$aux.params)
  pre <- function(p, l) if (length(l)) paste0(p, names(l)) else character()
  names(arrs) <- c(pre("arg:", model$arg.params), pre("aux:", model$aux.params))
  mx.nd.save(arrs, sprintf("%s-%04d.params", prefix, as.integer(iteration)))
  sf <- sprintf("%s-%04d.states", prefix, as.integer(iteration))
  if (inherits(model$optimizer, "MXOptimizer")) {
    mx.opt.save.states(model$optimizer, sf)
  } else if (is.raw(model$optimizer.states)) {
    writeBin(model$optimizer.states, sf)
  }
  invisible()
}

.mx_split_params <- function(p, fname) {
  if (is.null(names(p))) .mx_stop(.MX_ERR_VALUE, fname, " holds an unnamed list of arrays, not a checkpoint")
  tp <- sub(":.*$", "", names(p))
  nm <- sub("^[^:]*:", "", names(p))
  bad <- !(tp %in% c("arg", "aux")) | !grepl(":", names(p), fixed = TRUE)
  if (any(bad)) .mx_stop(.MX_ERR_VALUE, fname, ": key '", names(p)[bad][1L], "' is neither 'arg:<name>' nor 'aux:<name>'")
  a <- p[tp == "arg"]
  names(a) <- nm[tp == "arg"]
  x <- p[tp == "aux"]
  names(x) <- nm[tp == "aux"]
  list(arg = a, aux = x)
}

# Load a checkpoint written by MX (any language) or Apache MXNet. The optimizer state file, when
# present, is kept (as bytes) for mx.model.FeedForward.create(optimizer.states = ).
mx.model.load <- function(prefix, iteration) {
  symbol <- mx.symbol.load(sprintf("%s-symbol.json", prefix))
  fname <- sprintf("%s-%04d.params", prefix, as.integer(iteration))
  p <- .mx_split_params(mx.nd.load(fname), fname)
  sf <- sprintf("%s-%04d.states", prefix, as.integer(iteration))
  st <- if (file.exists(sf)) readBin(sf, "raw", file.info(sf)$size) else NULL
  .mx_model(symbol, p$arg, p$aux, NULL, st)
}

mx.serialize <- function(model) {
  f <- tempfile()
  on.exit(unlink(paste0(f, c("-symbol.json", "-0000.params", "-0000.states"))), add = TRUE)
  mx.model.save(model, f, 0)
  rd <- function(x) if (file.exists(x)) readBin(x, "raw", file.info(x)$size) else NULL
  structure(list(symbol_json = mx.symbol.as.json(model$symbol), params = rd(paste0(f, "-0000.params")),
                 states = rd(paste0(f, "-0000.states"))), class = "MXSerializedModel")
}

mx.unserialize <- function(model) {
  if (!inherits(model, "MXSerializedModel")) .mx_stop(.MX_ERR_VALUE, "mx.unserialize: expected the result of mx.serialize")
  f <- tempfile(fileext = ".params")
  on.exit(unlink(f), add = TRUE)
  writeBin(model$params, f)
  p <- .mx_split_params(mx.nd.load(f), "serialized model")
  .mx_model(mx.symbol.load.json(model$symbol_json), p$arg, p$aux, NULL, model$states)
}

# ------------------------------------------------------------------ callbacks, mlp

mx.metric.logger <- function() {
  e <- new.env()
  e$train <- numeric()
  e$eval <- numeric()
  e
}

mx.callback.log.train.metric <- function(period, logger = NULL) {
  function(iteration, nbatch, env, verbose = TRUE) {
    if (nbatch %% period == 0 && !is.null(env$metric)) {
      r <- .mx_metric_value(env$metric)
      if (verbose) message(sprintf("Batch [%d] Train-%s=%s", nbatch, r$name, format(r$value)))
      if (!is.null(logger)) {
        logger$train <- c(logger$train, r$value)
        if (!is.null(env$eval.metric)) logger$eval <- c(logger$eval, env$eval.metric$value)
      }
    }
    TRUE
  }
}

mx.callback.save.checkpoint <- function(prefix, period = 1) {
  function(iteration, nbatch, env, verbose = TRUE) {
    if (iteration %% period == 0) {
      mx.model.save(env$model, prefix, iteration)
      if (verbose) message(sprintf("Model checkpoint saved to %s-%04d.params", prefix, as.integer(iteration)))
    }
    TRUE
  }
}

mx.mlp <- function(data, label, hidden_node = 1, out_node, dropout = NULL, activation = "tanh",
                   out_activation = "softmax", ...) {
  act <- rep_len(activation, length(hidden_node))
  net <- mx.symbol.Variable("data")
  for (i in seq_along(hidden_node)) {
    net <- mx.symbol.FullyConnected(data = net, num_hidden = hidden_node[i], name = paste0("fc", i))
    net <- mx.symbol.Activation(data = net, act_type = act[i], name = paste0("activation", i))
    if (!is.null(dropout)) net <- mx.symbol.Dropout(data = net, p = dropout, name = paste0("dropout", i))
  }
  net <- mx.symbol.FullyConnected(data = net, num_hidden = out_node, name = paste0("fc", length(hidden_node) + 1L))
  net <- switch(out_activation,
                softmax = mx.symbol.SoftmaxOutput(data = net, name = "softmax"),
                logistic = mx.symbol.LogisticRegressionOutput(data = net, name = "logistic"),
                rmse = mx.symbol.LinearRegressionOutput(data = net, name = "linreg"),
                .mx_stop(.MX_ERR_VALUE, "mx.mlp: out_activation must be softmax, logistic or rmse"))
  mx.model.FeedForward.create(net, X = data, y = label, ...)
}
