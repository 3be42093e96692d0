"""The operators MXNet 1.x lists in mx.nd.sparse / mx.sym.sparse (those with sparse kernels or
sparse inputs); both namespaces expose them from the same list."""

SPARSE_OPS = ["ElementWiseSum", "Embedding", "FullyConnected", "LinearRegressionOutput", "LogisticRegressionOutput",
        "MAERegressionOutput", "abs", "adagrad_update", "adam_update", "add_n", "arccos", "arccosh", "arcsin",
        "arcsinh", "arctan", "arctanh", "broadcast_add", "broadcast_div", "broadcast_minus", "broadcast_mul",
        "broadcast_plus", "broadcast_sub", "cast_storage", "cbrt", "ceil", "clip", "concat", "cos", "cosh",
        "degrees", "dot", "elemwise_add", "elemwise_div", "elemwise_mul", "elemwise_sub", "exp", "expm1", "fix",
        "floor", "ftrl_update", "gamma", "gammaln", "log", "log10", "log1p", "log2", "make_loss", "mean",
        "negative", "norm", "radians", "relu", "rint", "round", "rsqrt", "sgd_mom_update", "sgd_update",
        "sigmoid", "sign", "sin", "sinh", "slice", "sqrt", "square", "stop_gradient", "sum", "tan", "tanh",
        "trunc", "where", "zeros_like"]


def install(namespace, ops, internal):
    """Put the listed ops that `ops` has (and `retain`, MXNet's name for _sparse_retain) into
    `namespace` (a module's globals)."""
    for name in SPARSE_OPS:
        if hasattr(ops, name):
            namespace[name] = getattr(ops, name)
    if hasattr(internal, "_sparse_retain"):
        namespace["retain"] = internal._sparse_retain
