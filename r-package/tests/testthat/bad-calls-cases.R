# Cases of the R bad-call sweep (issue 15), run by test-bad-calls.R in a child Rscript (see
# helper-bad-calls.R). A case either must end in an R error of class `error` (mx's classes:
# mx_value_error, mx_shape_error, ...; or base R's own where R refuses first) whose message
# matches `msg`, or return a value that `check` accepts (compared with plain R computations).
bad <- function(name, expr, error = "mx_error", msg = ".") {
  list(name = name, expr = substitute(expr), error = error, msg = msg, check = NULL)
}
good <- function(name, expr, check) {
  list(name = name, expr = substitute(expr), error = NULL, msg = NULL, check = check)
}

judge_case <- function(case) {
  res <- tryCatch(list(value = eval(case$expr, new.env(parent = globalenv()))),
                  error = function(e) list(error = e))
  if (!is.null(res$error)) {
    e <- res$error
    m <- conditionMessage(e)
    if (is.null(case$error))
      return(list(status = "FAIL", detail = paste0("raised ", class(e)[1L], ": ", m)))
    if (!inherits(e, case$error))
      return(list(status = "FAIL", detail = paste0("raised ", class(e)[1L], " (expected ", case$error, "): ", m)))
    if (inherits(e, "mx_internal_error"))
      return(list(status = "FAIL", detail = paste0("bad input reported as an internal error: ", m)))
    if (!grepl(case$msg, m, perl = TRUE))
      return(list(status = "FAIL", detail = paste0("message does not match /", case$msg, "/: ", m)))
    return(list(status = "PASS", detail = m))
  }
  if (!is.null(case$error))
    return(list(status = "FAIL", detail = paste0("returned a ", class(res$value)[1L], " instead of raising ", case$error)))
  ok <- tryCatch(isTRUE(case$check(res$value)), error = function(e) FALSE)
  list(status = if (ok) "PASS" else "FAIL",
       detail = if (ok) "value ok" else paste("wrong value:", paste(utils::capture.output(str(res$value)), collapse = " ")))
}

# helpers the cases use (defined in the child's global environment by source())
m23 <- function() mx.nd.array(matrix(c(1, 4, 2, 5, 3, 6), 2))   # [[1, 2, 3], [4, 5, 6]]
i32 <- function(v) mx.nd.array(v, dtype = "int32")
i64 <- function(v) mx.nd.array(v, dtype = "int64")
fc_sym <- function() mx.symbol.FullyConnected(mx.symbol.Variable("x"), num_hidden = 3, name = "fc")
tmpfile <- function(ext, content = NULL) {
  f <- tempfile(fileext = ext)
  if (is.raw(content)) writeBin(content, f) else if (!is.null(content)) writeLines(content, f)
  f
}
internal <- function(op, ...) get(op, envir = mx.nd.internal)(...)

# Cases held back (not run; test-bad-calls.R names them): none today.
held_back <- character(0)

bad_call_cases <- function() Filter(function(case) !(case$name %in% held_back), all_bad_call_cases())

all_bad_call_cases <- function() list(
  # ---- creation
  bad("zeros with a negative dimension", mx.nd.zeros(c(2, -1)), "error", "negative"),
  bad("zeros of 2^62 elements (R)", mx.nd.zeros(2^62), "error", "large|memory|allocate|negative length"),
  bad("core _zeros of 2^62 elements", internal("_zeros", shape = 2^62), "mx_error", "(?i)memory|large|too"),
  bad("core _ones of 2^31 x 2^31", internal("_ones", shape = c(2^31, 2^31)), "mx_error", "(?i)memory|large|too"),
  bad("core _zeros of 2^40 x 2^40 (count wraps)", internal("_zeros", shape = c(2^40, 2^40)), "mx_error", "(?i)memory|large|too"),
  bad("core _zeros with a negative dimension", internal("_zeros", shape = c(2, -3)), "mx_error", "-3"),
  bad("_eye(2^31)", internal("_eye", N = 2^31), "mx_error", "(?i)memory|large|too"),
  bad("array of strings", mx.nd.array("a"), "mx_type_error", "character"),
  bad("array of a list", mx.nd.array(list(1, 2)), "mx_type_error", "list"),
  bad("array of complex numbers", mx.nd.array(1i), "mx_type_error", "complex"),
  bad("array with an unknown dtype", mx.nd.array(1, dtype = "float128"), "mx_type_error", "float128"),
  bad("int32 array with NA", mx.nd.array(c(1L, NA)), "mx_value_error", "NA"),
  bad("int32 array from NaN", mx.nd.array(c(1, NaN), dtype = "int32"), "mx_value_error", "NaN|NA"),
  good("zero-size array", dim(mx.nd.array(matrix(0, 0, 3))), function(v) identical(as.integer(v), c(0L, 3L))),
  good("NaN survives a round trip", as.array(mx.nd.array(c(NaN, 1))), function(v) is.nan(v[1]) && v[2] == 1),
  # ---- shapes
  bad("add of incompatible shapes", m23() + mx.nd.ones(c(3, 2)), "mx_shape_error", "\\(2, 3\\).*\\(3, 2\\)"),
  bad("reshape to a different size", mx.nd.reshape(m23(), shape = c(4, 2)), "mx_shape_error", "size 6"),
  bad("dot of (2,3) and (2,3)", mx.nd.dot(m23(), m23()), "mx_shape_error"),
  bad("concat of mismatched shapes", mx.nd.concat(m23(), mx.nd.ones(c(3, 2)), dim = 0), "mx_shape_error"),
  bad("transpose with repeated axes", mx.nd.transpose(m23(), axes = c(0, 0)), "mx_error", "axes"),
  bad("broadcast_to a negative shape", mx.nd.broadcast_to(mx.nd.ones(c(1, 1)), shape = c(2, -5)), "mx_error", "-5"),
  bad("broadcast_to (2^31, 2^31)", mx.nd.broadcast_to(mx.nd.ones(c(1, 1)), shape = c(2^31, 2^31)), "mx_error", "(?i)memory|large|too"),
  good("reshape keeps row-major order", as.array(mx.nd.reshape(m23(), shape = c(3, 2))),
       function(v) identical(v, matrix(c(1, 3, 5, 2, 4, 6), 3))),
  # ---- dtypes and integer arithmetic (INT_MIN / -1 wraps as numpy does, INT_MIN %% -1 is 0)
  good("int32 INT_MIN / -1", as.array(i32(c(-2^31, 7)) / i32(c(-1, 2))),
       function(v) identical(as.numeric(v), c(-2147483648, 3))),
  good("int32 INT_MIN %% -1", as.array(i32(-2^31) %% i32(-1)), function(v) all(v == 0)),
  good("int64 INT_MIN / -1", as.character(as.array(internal("_div_scalar", i64(-2^62) * 2, scalar = -1) == i64(-2^62) * 2)),
       function(v) all(v == "1")),
  good("int32 division by a scalar -1", as.array(i32(-2^31) / -1), function(v) v == -2147483648),
  bad("Convolution on int32", mx.nd.Convolution(i32(array(1L, c(1, 1, 3, 3))), i32(array(1L, c(1, 1, 1, 1))),
                                                kernel = c(1, 1), num_filter = 1, no_bias = TRUE), "mx_type_error", "int32"),
  bad("cast to an unknown dtype", mx.nd.cast(m23(), dtype = "float128"), "mx_error", "float128"),
  # ---- operators with bad parameters
  bad("sum over axis 5 of a 2-d array", mx.nd.sum(m23(), axis = 5), "mx_value_error", "axis.*5"),
  bad("FullyConnected with num_hidden -1", mx.nd.FullyConnected(m23(), mx.nd.ones(c(1, 3)), num_hidden = -1, no_bias = TRUE),
      "mx_value_error", "num_hidden"),
  bad("Convolution with a 0x0 kernel", mx.nd.Convolution(mx.nd.ones(c(1, 1, 3, 3)), mx.nd.ones(c(1, 1, 1, 1)),
                                                         kernel = c(0, 0), num_filter = 1, no_bias = TRUE), "mx_error", "kernel"),
  bad("Pooling with an unknown pool_type", mx.nd.Pooling(mx.nd.ones(c(1, 1, 4, 4)), kernel = c(2, 2), pool_type = "median"),
      "mx_value_error", "median"),
  bad("Activation with an unknown act_type", mx.nd.Activation(m23(), act_type = "bogus"), "mx_value_error", "bogus"),
  bad("unknown parameter", mx.nd.broadcast_to(m23(), no_such_param = 1), "mx_value_error", "no_such_param"),
  bad("softmax over axis 10", mx.nd.softmax(m23(), axis = 10), "mx_error", "axis"),
  bad("one_hot with depth -1", mx.nd.one_hot(mx.nd.array(c(0, 1)), depth = -1), "mx_error", "depth"),
  bad("_arange with step 0", internal("_arange", start = 0, stop = 10, step = 0), "mx_error", "step"),
  bad("non-array input", mx.nd.sum("abc"), "mx_type_error", "MXNDArray"),
  bad("unknown operator", mx:::.mx_invoke("NoSuchOp", list(m23())), "mx_value_error", "NoSuchOp"),
  good("sort puts NaN last", as.array(mx.nd.sort(mx.nd.array(c(3, NaN, 1)))),
       function(v) identical(as.vector(v[1:2]), c(1, 3)) && is.nan(v[3])),
  good("int32 INT_MIN reads back exactly (R's NA is INT_MIN)", as.array(i32(c(-2^31, 5))),
       function(v) is.double(v) && identical(as.vector(v), c(-2147483648, 5))),
  good("int32 without INT_MIN stays integer", as.array(i32(c(-2^31 + 1, 5))),
       function(v) is.integer(v) && identical(as.vector(v), c(-2147483647L, 5L))),
  good("topk of 3 values", as.array(mx.nd.topk(mx.nd.array(c(3, 1, 2)), k = 2, ret_typ = "value")),
       function(v) identical(as.numeric(v), c(3, 2))),
  # ---- indexing
  bad("row index past the end", m23()[3, 1], "mx_value_error", "out of bounds"),
  bad("NA index", m23()[NA, 1], "mx_value_error", "NA"),
  bad("mixed positive and negative indices", m23()[c(-1, 2), 1], "mx_value_error", "mix"),
  bad("too few indices", m23()[1], "mx_value_error", "2 indices"),
  bad("character index", m23()["a", 1], "mx_value_error", "numeric"),
  bad("logical index longer than the extent", m23()[c(TRUE, TRUE, TRUE), 1], "mx_value_error", "longer"),
  bad("assignment past the end", { b <- m23(); b[3, 1] <- 1; b }, "mx_value_error", "out of bounds"),
  bad("assignment of a string", { b <- m23(); b[1, 1] <- "a"; b }, "mx_type_error", "numeric"),
  good("element [2, 3]", as.array(m23()[2, 3]), function(v) v == 6),
  good("index 0 selects nothing (as in R)", dim(m23()[0, 1, drop = FALSE]), function(v) v[1] == 0),
  good("negative index drops a row", as.array(m23()[-1, ]), function(v) identical(as.numeric(v), c(4, 5, 6))),
  good("logical column index", as.array(m23()[, c(TRUE, FALSE, TRUE)]),
       function(v) identical(v, matrix(c(1, 4, 3, 6), 2))),
  # ---- autograd misuse
  bad("backward of an unrecorded array", mx.autograd.backward(list(m23())), "mx_value_error", "recorded"),
  bad("backward twice without retain.graph", {
    x <- m23(); mx.nd.attach.grad(x)
    y <- mx.autograd.record(x * x)
    mx.autograd.backward(list(y)); mx.autograd.backward(list(y))
  }, "mx_error", "(?i)retain|again|graph"),
  bad("attach.grad with an unknown grad.req", mx.nd.attach.grad(m23(), grad.req = "bogus"), "error", "bogus"),
  bad("head gradient of the wrong shape", {
    x <- m23(); mx.nd.attach.grad(x)
    y <- mx.autograd.record(x * 2)
    mx.autograd.backward(list(y), head.grads = list(mx.nd.ones(c(3, 3))))
  }, "mx_shape_error"),
  good("grad without attach.grad is NULL", mx.nd.grad(m23()), is.null),
  good("gradient of x*x is 2x", {
    x <- m23(); mx.nd.attach.grad(x)
    y <- mx.autograd.record(x * x)
    mx.autograd.backward(list(y))
    as.array(mx.nd.grad(x))
  }, function(v) identical(v, 2 * matrix(c(1, 4, 2, 5, 3, 6), 2))),
  # ---- symbols
  bad("symbol from malformed JSON", mx.symbol.load.json("{bad"), "mx_format_error", "(?i)offset|parse error"),
  bad("symbol JSON with an unknown op", mx.symbol.load.json(
    '{"nodes": [{"op": "NoSuchOp", "name": "n", "inputs": []}], "arg_nodes": [], "heads": [[0, 0, 0]]}'),
    "mx_error", "NoSuchOp"),
  bad("symbol JSON without nodes", mx.symbol.load.json("{}"), "mx_error", "nodes"),
  bad("infer.shape with a negative dimension", mx.symbol.infer.shape(fc_sym(), x = c(5, -1)), "mx_shape_error", "-1"),
  bad("infer.shape of an unknown argument", mx.symbol.infer.shape(fc_sym(), nope = c(2, 3)), "mx_error", "nope"),
  bad("malformed __shape__ attribute", mx.symbol.infer.shape(mx.symbol.Variable("x", attr = list("__shape__" = "(4, 3.5)")),
                                                             partial = TRUE), "mx_error", "3\\.5"),
  bad("symbol plus a string", mx.symbol.Variable("x") + "a", "mx_type_error", "character"),
  bad("output index past the end", mx.symbol.get.output(fc_sym(), 5), "mx_error", "5"),
  bad("load of a missing symbol file", mx.symbol.load("/nonexistent/dir/net-symbol.json"), "mx_io_error", "nonexistent"),
  good("infer.shape of FullyConnected", mx.symbol.infer.shape(fc_sym(), x = c(5, 2))$out.shapes[[1]],
       function(v) identical(as.integer(v), c(3L, 5L)) || identical(as.integer(v), c(5L, 3L))),
  # ---- executors
  bad("simple.bind with a negative shape", mx.simple.bind(fc_sym(), x = c(5, -1)), "mx_shape_error", "-1"),
  bad("simple.bind without the input shape", mx.simple.bind(fc_sym()), "mx_error", "x|shape"),
  bad("forward with an input of the wrong shape", {
    e <- mx.simple.bind(fc_sym(), x = c(5, 2))
    mx.exec.update.arg.arrays(e, list(x = mx.nd.ones(c(3, 3))), match.name = TRUE)
    mx.exec.forward(e)
  }, "mx_error", "shape|\\(3, 3\\)"),
  # MXNet allows backward before forward (MX runs the forward pass first): bias gradient = batch size
  good("backward before forward", {
    e <- mx.simple.bind(fc_sym(), x = c(5, 2), grad.req = "write")
    mx.exec.backward(e, list(mx.nd.ones(c(5, 3))))
    as.array(e$grad.arrays$fc_bias)
  }, function(v) length(v) == 3 && all(v == 5)),
  # ---- data iterators
  bad("CSVIter of a missing file", mx.io.CSVIter(data.csv = "/nonexistent.csv", data.shape = 3, batch.size = 2), "mx_io_error", "nonexistent"),
  bad("CSVIter with batch.size 0", mx.io.CSVIter(data.csv = tmpfile(".csv", "1,2,3"), data.shape = 3, batch.size = 0),
      "mx_value_error", "batch_size"),
  bad("CSVIter with batch.size 2^40", mx.io.CSVIter(data.csv = tmpfile(".csv", "1,2,3"), data.shape = 3, batch.size = 2^40),
      "mx_value_error", "^(?!.*must be positive).*batch_size"),
  bad("CSVIter on /dev/zero", mx.io.CSVIter(data.csv = "/dev/zero", data.shape = 3, batch.size = 2), "mx_error", "^(?!.*Success)"),
  bad("CSVIter with a non-number", mx.io.CSVIter(data.csv = tmpfile(".csv", "1,x,3"), data.shape = 3, batch.size = 1),
      "mx_format_error", "x"),
  bad("MNISTIter of a missing file", mx.io.MNISTIter(image = "/nonexistent-img", label = "/nonexistent-lab", batch.size = 2),
      "mx_io_error", "nonexistent"),
  bad("MNISTIter of random bytes", mx.io.MNISTIter(image = tmpfile(".idx", as.raw(1:100)), label = tmpfile(".idx", as.raw(1:100)),
                                                   batch.size = 2), "mx_format_error", "magic"),
  bad("ImageRecordIter of a text file", mx.io.ImageRecordIter(path.imgrec = tmpfile(".rec", "not a record file"),
                                                             data.shape = c(3, 8, 8), batch.size = 1), "mx_format_error"),
  bad("arrayiter with batch.size 0", mx.io.arrayiter(matrix(1, 4, 2), batch.size = 0), "mx_value_error", "batch.size"),
  bad("arrayiter with fewer labels than rows", mx.io.arrayiter(matrix(1, 4, 2), label = 1:3, batch.size = 2),
      "mx_shape_error", "label"),
  # ---- files
  bad("load of a missing file", mx.nd.load("/nonexistent/x.params"), "mx_io_error", "nonexistent"),
  bad("load of random bytes", mx.nd.load(tmpfile(".params", as.raw(c(0x12, 0x01, 0, 0, 0, 0, 0, 0, 0xff, 0xff)))),
      "mx_format_error"),
  bad("load of a truncated file", {
    f <- tmpfile(".params"); mx.nd.save(list(w = m23()), f)
    b <- readBin(f, "raw", 1e4); writeBin(b[seq_len(length(b) - 5L)], f)
    mx.nd.load(f)
  }, "mx_format_error", "(?i)offset|truncated"),
  bad("load of a directory", mx.nd.load(tempdir()), "mx_error"),
  bad("save to a path with a NUL", mx.nd.save(list(a = m23()), rawToChar(as.raw(c(0x61, 0, 0x62)))), "error", "nul"),
  bad("save into a missing directory", mx.nd.save(list(a = m23()), "/nonexistent/dir/x.params"), "mx_io_error", "nonexistent"),
  bad("save of a non-array", mx.nd.save(list(a = 1), tmpfile(".params")), "error", "MXNDArray"),
  good("save and load round trip", {
    f <- tmpfile(".params"); mx.nd.save(list(w = m23()), f)
    as.array(mx.nd.load(f)$w)
  }, function(v) identical(v, matrix(c(1, 4, 2, 5, 3, 6), 2))),
  # ---- optimizers, initializers, metrics
  bad("unknown optimizer", mx.opt.create("nosuchopt"), "mx_value_error", "nosuchopt"),
  bad("Xavier with an unknown rnd_type", mx.init.apply(mx.init.Xavier(rnd_type = "bogus"), "fc_weight", mx.nd.zeros(c(2, 2))),
      "mx_value_error", "bogus"),
  bad("unknown metric", mx.metric.eval(mx.metric.create("bogus"), mx.nd.array(c(0, 1)), mx.nd.array(c(0, 1))),
      "mx_value_error", "bogus"),
  bad("load.states of a missing file", mx.opt.load.states(mx.opt.create("sgd"), "/nonexistent/opt.states"), "mx_io_error", "nonexistent")
)
