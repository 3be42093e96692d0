# Autograd: recording scope, gradient buffers, backward. The tape and every gradient live in the
# core; R only switches state and passes handles.

.mx_grad_reqs <- c(null = 0L, write = 1L, inplace = 2L, add = 3L)

mx.autograd.is.recording <- function() .mx_call(C_mxr_ag_is_recording)
mx.autograd.is.training <- function() .mx_call(C_mxr_ag_is_training)

mx.autograd.set.recording <- function(is.recording) .mx_call(C_mxr_ag_set_recording, as.logical(is.recording))
mx.autograd.set.training <- function(is.training) .mx_call(C_mxr_ag_set_training, as.logical(is.training))

# Evaluate `expr` with recording (and training mode) switched on; the previous state is restored
# when the expression finishes or fails.
mx.autograd.record <- function(expr, train.mode = TRUE) {
  prev_rec <- .mx_call(C_mxr_ag_set_recording, TRUE)
  on.exit(.Call(C_mxr_ag_set_recording, prev_rec), add = TRUE)
  prev_train <- .mx_call(C_mxr_ag_set_training, isTRUE(train.mode))
  on.exit(.Call(C_mxr_ag_set_training, prev_train), add = TRUE)
  expr
}

mx.autograd.pause <- function(expr, train.mode = FALSE) {
  prev_rec <- .mx_call(C_mxr_ag_set_recording, FALSE)
  on.exit(.Call(C_mxr_ag_set_recording, prev_rec), add = TRUE)
  prev_train <- .mx_call(C_mxr_ag_set_training, isTRUE(train.mode))
  on.exit(.Call(C_mxr_ag_set_training, prev_train), add = TRUE)
  expr
}

.mx_nd_list <- function(x, what) {
  if (is.mx.ndarray(x)) return(list(x))
  if (is.list(x) && all(vapply(x, is.mx.ndarray, NA))) return(unname(x))
  .mx_stop(.MX_ERR_VALUE, what, ": expected an MXNDArray or a list of MXNDArrays")
}

.mx_req_codes <- function(grad.req, n) {
  codes <- .mx_grad_reqs[grad.req]
  if (anyNA(codes))
    .mx_stop(.MX_ERR_VALUE, "grad.req must be one of 'write', 'add', 'null' (got '",
             paste(grad.req, collapse = "', '"), "')")
  rep_len(unname(codes), n)
}

mx.autograd.mark.variables <- function(variables, gradients = NULL, grad.reqs = "write") {
  v <- .mx_nd_list(variables, "mx.autograd.mark.variables")
  g <- if (is.null(gradients)) NULL else .mx_nd_list(gradients, "mx.autograd.mark.variables")
  .mx_call(C_mxr_ag_mark_variables, v, .mx_req_codes(grad.reqs, length(v)), g)
  invisible()
}

mx.nd.attach.grad <- function(x, grad.req = "write") {
  if (!is.mx.ndarray(x)) .mx_stop(.MX_ERR_VALUE, "mx.nd.attach.grad: expected an MXNDArray")
  .mx_call(C_mxr_ag_mark_variables, list(x), .mx_req_codes(grad.req, 1L), NULL)
  invisible(x)
}

mx.nd.grad <- function(x) .mx_call(C_mxr_nd_grad, x)

mx.autograd.backward <- function(heads, head.grads = NULL, retain.graph = FALSE, train.mode = TRUE) {
  h <- .mx_nd_list(heads, "mx.autograd.backward")
  hg <- NULL
  if (!is.null(head.grads)) {
    hg <- if (is.mx.ndarray(head.grads)) list(head.grads) else head.grads
    if (!is.list(hg) || !all(vapply(hg, function(e) is.null(e) || is.mx.ndarray(e), NA)))
      .mx_stop(.MX_ERR_VALUE, "mx.autograd.backward: head.grads must be MXNDArrays (or NULL)")
  }
  .mx_call(C_mxr_ag_backward, h, hg, isTRUE(retain.graph), isTRUE(train.mode))
  invisible()
}

mx.autograd.grad <- function(heads, variables, head.grads = NULL, retain.graph = NULL,
                             create.graph = FALSE, train.mode = TRUE) {
  h <- .mx_nd_list(heads, "mx.autograd.grad")
  v <- .mx_nd_list(variables, "mx.autograd.grad")
  hg <- if (is.null(head.grads)) NULL else if (is.mx.ndarray(head.grads)) list(head.grads) else head.grads
  if (is.null(retain.graph)) retain.graph <- create.graph
  res <- .mx_call(C_mxr_ag_grad, h, hg, v, isTRUE(retain.graph), isTRUE(create.graph), isTRUE(train.mode))
  if (is.mx.ndarray(variables)) res[[1L]] else res
}
