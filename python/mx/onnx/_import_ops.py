"""ONNX -> MX importers, one per ONNX operator that export_model emits.

Each importer gets the Context, the ONNX node and its attributes, and returns the MX symbol(s)
of the node's outputs. Static operands (shapes, axes, pads, bounds, scalars) must be constant
initializers; they become MX attributes.
"""
import numpy as np

from ..base import MXNotSupportedError
from ._import import importer

_BIG = 2 ** 62


def _fail(node, what):
    return MXNotSupportedError("ONNX import: operator '%s' (node '%s'): %s"
                               % (node.op_type, node.name, what))


def _nm(node):
    return node.output[0] or node.name or None


def _ints(ctx, name, what):
    return [int(v) for v in np.asarray(ctx.const(name, what)).reshape(-1)]


def _scalar_const(ctx, name):
    """The value of a one-element constant, else None."""
    v = ctx.consts.get(name)
    if v is not None and np.asarray(v).size == 1:
        return float(np.asarray(v).reshape(-1)[0])
    return None


def _sym_pads(node, pads, d):
    pads = list(pads or [0] * (2 * d))
    if pads[:d] != pads[d:]:
        raise _fail(node, "asymmetric pads %s are not supported" % pads)
    return tuple(pads[:d])


# ---------------------------------------------------------------------- layers

@importer("Conv", "ConvTranspose")
def _conv(ctx, node, a):
    S = ctx.S
    w = ctx.consts.get(node.input[1])
    wshape = w.shape if w is not None else ctx.shape(node.input[1])
    if wshape is None:
        raise _fail(node, "the weight's shape is unknown")
    k = tuple(a.get("kernel_shape") or wshape[2:])
    d = len(k)
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise _fail(node, "auto_pad is not supported")
    group = int(a.get("group", 1))
    kw = dict(kernel=k, stride=tuple(a.get("strides") or (1,) * d),
              dilate=tuple(a.get("dilations") or (1,) * d), pad=_sym_pads(node, a.get("pads"), d),
              num_group=group, no_bias=len(node.input) < 3 or not node.input[2], name=_nm(node))
    args = [ctx.sym(node.input[0]), ctx.sym(node.input[1])]
    if not kw["no_bias"]:
        args.append(ctx.sym(node.input[2]))
    if node.op_type == "Conv":
        return S.Convolution(*args, num_filter=int(wshape[0]), **kw)
    if a.get("output_shape"):
        raise _fail(node, "output_shape is not supported")
    adj = tuple(a.get("output_padding") or (0,) * d)
    return S.Deconvolution(*args, num_filter=int(wshape[1]) * group, adj=adj, **kw)


@importer("Gemm")
def _gemm(ctx, node, a):
    S = ctx.S
    if float(a.get("alpha", 1.0)) != 1.0 or float(a.get("beta", 1.0)) != 1.0 or a.get("transA"):
        raise _fail(node, "only alpha=beta=1, transA=0 is supported")
    wname = node.input[1]
    if not a.get("transB"):
        if wname not in ctx.consts:
            raise _fail(node, "transB=0 needs a constant weight")
        ctx.consts[wname + "_T"] = np.ascontiguousarray(ctx.consts[wname].T)  # layout only
        wname = wname + "_T"
    wshape = ctx.consts[wname].shape if wname in ctx.consts else ctx.shape(wname)
    args = [ctx.sym(node.input[0]), ctx.sym(wname)]
    has_bias = len(node.input) > 2 and node.input[2]
    if has_bias:
        args.append(ctx.sym(node.input[2]))
    return S.FullyConnected(*args, num_hidden=int(wshape[0]), no_bias=not has_bias, flatten=True,
                            name=_nm(node))


@importer("MatMul")
def _matmul(ctx, node, a):
    S = ctx.S
    ra, rb = ctx.rank(node.input[0]), ctx.rank(node.input[1])
    x, y = ctx.sym(node.input[0]), ctx.sym(node.input[1])
    if rb == 2 and ra is not None and ra >= 2:  # dot contracts lhs's last axis with rhs's first
        return S.dot(x, y, name=_nm(node))
    if ra == rb == 3:
        return S.batch_dot(x, y, name=_nm(node))
    raise _fail(node, "operand ranks %s and %s are not supported" % (ra, rb))


def _act(op):
    return lambda ctx, node, a: ctx.S.Activation(ctx.sym(node.input[0]), act_type=op,
                                                 name=_nm(node))


for _t, _o in (("Relu", "relu"), ("Sigmoid", "sigmoid"), ("Tanh", "tanh"),
               ("Softplus", "softrelu")):
    importer(_t)(_act(_o))


@importer("LeakyRelu", "Elu", "Selu")
def _leaky(ctx, node, a):
    x = ctx.sym(node.input[0])
    if node.op_type == "LeakyRelu":
        return ctx.S.LeakyReLU(x, act_type="leaky", slope=float(a.get("alpha", 0.01)), name=_nm(node))
    if node.op_type == "Elu":
        return ctx.S.LeakyReLU(x, act_type="elu", slope=float(a.get("alpha", 1.0)), name=_nm(node))
    if abs(a.get("alpha", 1.6732632) - 1.6732632) > 1e-6 or abs(a.get("gamma", 1.0507) - 1.0507) > 1e-4:
        raise _fail(node, "only the standard SELU constants are supported")
    return ctx.S.LeakyReLU(x, act_type="selu", name=_nm(node))


@importer("PRelu")
def _prelu(ctx, node, a):
    slope = ctx.S.reshape(ctx.sym(node.input[1]), shape=(-1,))
    return ctx.S.LeakyReLU(ctx.sym(node.input[0]), slope, act_type="prelu", name=_nm(node))


@importer("BatchNormalization")
def _batch_norm(ctx, node, a):
    if len([o for o in node.output if o]) > 1:
        raise _fail(node, "training-mode outputs are not supported")
    ins = [ctx.sym(i) for i in node.input[:5]]
    return ctx.S.BatchNorm(*ins, eps=float(a.get("epsilon", 1e-5)),
                           momentum=float(a.get("momentum", 0.9)), fix_gamma=False,
                           name=_nm(node))


@importer("InstanceNormalization")
def _instance_norm(ctx, node, a):
    return ctx.S.InstanceNorm(*[ctx.sym(i) for i in node.input[:3]],
                              eps=float(a.get("epsilon", 1e-5)), name=_nm(node))


@importer("LRN")
def _lrn(ctx, node, a):
    return ctx.S.LRN(ctx.sym(node.input[0]), nsize=int(a["size"]), alpha=float(a.get("alpha", 1e-4)),
                     beta=float(a.get("beta", 0.75)), knorm=float(a.get("bias", 1.0)),
                     name=_nm(node))


@importer("MaxPool", "AveragePool", "LpPool")
def _pool(ctx, node, a):
    k = tuple(a["kernel_shape"])
    d = len(k)
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET") or a.get("dilations"):
        raise _fail(node, "auto_pad and dilations are not supported")
    kw = dict(kernel=k, stride=tuple(a.get("strides") or (1,) * d),
              pad=_sym_pads(node, a.get("pads"), d),
              pooling_convention="full" if a.get("ceil_mode") else "valid", name=_nm(node))
    if node.op_type == "MaxPool":
        kw["pool_type"] = "max"
    elif node.op_type == "AveragePool":
        kw.update(pool_type="avg", count_include_pad=bool(a.get("count_include_pad", 0)))
    else:
        kw.update(pool_type="lp", p_value=int(a.get("p", 2)))
    return ctx.S.Pooling(ctx.sym(node.input[0]), **kw)


@importer("GlobalMaxPool", "GlobalAveragePool", "GlobalLpPool")
def _global_pool(ctx, node, a):
    kw = {"GlobalMaxPool": {"pool_type": "max"}, "GlobalAveragePool": {"pool_type": "avg"},
          "GlobalLpPool": {"pool_type": "lp", "p_value": int(a.get("p", 2))}}[node.op_type]
    return ctx.S.Pooling(ctx.sym(node.input[0]), global_pool=True, kernel=(1, 1), name=_nm(node),
                         **kw)


@importer("Identity", "Dropout")
def _identity(ctx, node, a):
    return ctx.S.identity(ctx.sym(node.input[0]), name=_nm(node))


@importer("Flatten")
def _flatten(ctx, node, a):
    axis = int(a.get("axis", 1))
    x = ctx.sym(node.input[0])
    if axis == 1:
        return ctx.S.Flatten(x, name=_nm(node))
    if axis == 0:
        return ctx.S.reshape(x, shape=(1, -1), name=_nm(node))
    raise _fail(node, "axis=%d is not supported" % axis)


@importer("Softmax", "LogSoftmax")
def _softmax(ctx, node, a):
    fn = ctx.S.softmax if node.op_type == "Softmax" else ctx.S.log_softmax
    return fn(ctx.sym(node.input[0]), axis=int(a.get("axis", -1)), name=_nm(node))


# ---------------------------------------------------------------------- elementwise

_BIN = {"Add": ("broadcast_add", "_plus_scalar", "_plus_scalar"),
        "Sub": ("broadcast_sub", "_minus_scalar", "_rminus_scalar"),
        "Mul": ("broadcast_mul", "_mul_scalar", "_mul_scalar"),
        "Div": ("broadcast_div", "_div_scalar", "_rdiv_scalar"),
        "Pow": ("broadcast_power", "_power_scalar", "_rpower_scalar"),
        "Max": ("broadcast_maximum", "_maximum_scalar", "_maximum_scalar"),
        "Min": ("broadcast_minimum", "_minimum_scalar", "_minimum_scalar"),
        "Mod": ("broadcast_mod", "_mod_scalar", "_rmod_scalar"),
        "Equal": ("broadcast_equal", "_equal_scalar", "_equal_scalar"),
        "Greater": ("broadcast_greater", "_greater_scalar", "_lesser_scalar"),
        "Less": ("broadcast_lesser", "_lesser_scalar", "_greater_scalar"),
        "GreaterOrEqual": ("broadcast_greater_equal", "_greater_equal_scalar",
                           "_lesser_equal_scalar"),
        "LessOrEqual": ("broadcast_lesser_equal", "_lesser_equal_scalar",
                        "_greater_equal_scalar")}


def _op(ctx, name):
    return getattr(ctx.S, name) if hasattr(ctx.S, name) else getattr(ctx.S._internal, name)


@importer(*_BIN)
def _binary(ctx, node, a):
    if node.op_type in ("Max", "Min") and len(node.input) != 2:
        raise _fail(node, "only two operands are supported")
    full, scalar, rscalar = _BIN[node.op_type]
    lhs, rhs = node.input[0], node.input[1]
    c_r, c_l = _scalar_const(ctx, rhs), _scalar_const(ctx, lhs)
    if c_r is not None and lhs not in ctx.consts:
        return _op(ctx, scalar)(ctx.sym(lhs), scalar=c_r, name=_nm(node))
    if c_l is not None and rhs not in ctx.consts:
        return _op(ctx, rscalar)(ctx.sym(rhs), scalar=c_l, name=_nm(node))
    return _op(ctx, full)(ctx.sym(lhs), ctx.sym(rhs), name=_nm(node))


@importer("Sum")
def _sum(ctx, node, a):
    ins = [ctx.sym(i) for i in node.input]
    return ins[0] if len(ins) == 1 else ctx.S.add_n(*ins, name=_nm(node))


_UN = {"Exp": "exp", "Log": "log", "Sqrt": "sqrt", "Abs": "abs", "Neg": "negative",
       "Reciprocal": "reciprocal", "Floor": "floor", "Ceil": "ceil", "Sin": "sin", "Cos": "cos",
       "Tan": "tan", "Asin": "arcsin", "Acos": "arccos", "Atan": "arctan", "Sinh": "sinh",
       "Cosh": "cosh", "Asinh": "arcsinh", "Acosh": "arccosh", "Atanh": "arctanh", "Erf": "erf",
       "Sign": "sign", "Softsign": "softsign", "Not": "logical_not"}


@importer(*_UN)
def _unary(ctx, node, a):
    return getattr(ctx.S, _UN[node.op_type])(ctx.sym(node.input[0]), name=_nm(node))


@importer("Clip")
def _clip(ctx, node, a):
    lo = _scalar_const(ctx, node.input[1]) if len(node.input) > 1 and node.input[1] else -3.4e38
    hi = _scalar_const(ctx, node.input[2]) if len(node.input) > 2 and node.input[2] else 3.4e38
    if lo is None or hi is None:
        raise _fail(node, "bounds must be constants")
    return ctx.S.clip(ctx.sym(node.input[0]), a_min=lo, a_max=hi, name=_nm(node))


@importer("HardSigmoid")
def _hard_sigmoid(ctx, node, a):
    return ctx.S.hard_sigmoid(ctx.sym(node.input[0]), alpha=float(a.get("alpha", 0.2)),
                              beta=float(a.get("beta", 0.5)), name=_nm(node))


@importer("Cast")
def _cast(ctx, node, a):
    from onnx import helper
    dt = np.dtype(helper.tensor_dtype_to_np_dtype(int(a["to"])))
    return ctx.S.Cast(ctx.sym(node.input[0]), dtype=dt.name, name=_nm(node))


@importer("Where")
def _where(ctx, node, a):
    return ctx.S.where(*[ctx.sym(i) for i in node.input[:3]], name=_nm(node))


@importer("Shape")
def _shape(ctx, node, a):
    ctx.shape_of[node.output[0]] = node.input[0]
    return ctx.S.shape_array(ctx.sym(node.input[0]), name=_nm(node))


@importer("ConstantOfShape")
def _constant_of_shape(ctx, node, a):
    from onnx import numpy_helper
    src = ctx.shape_of.get(node.input[0])
    if src is None:
        raise _fail(node, "only ConstantOfShape(Shape(x)) is supported")
    value = float(numpy_helper.to_array(a["value"]).reshape(-1)[0]) if "value" in a else 0.0
    z = ctx.S.zeros_like(ctx.sym(src), name=_nm(node) if value == 0 else None)
    if value == 0:
        return z
    if value == 1:
        return ctx.S.ones_like(ctx.sym(src), name=_nm(node))
    return ctx.S._internal._plus_scalar(z, scalar=value, name=_nm(node))


# ---------------------------------------------------------------------- reductions

_RED = {"ReduceMean": "mean", "ReduceSum": "sum", "ReduceMax": "max", "ReduceMin": "min",
        "ReduceProd": "prod"}


@importer(*_RED)
def _reduce(ctx, node, a):
    axes = a.get("axes")
    if axes is None and len(node.input) > 1 and node.input[1]:
        axes = _ints(ctx, node.input[1], "axes")
    kw = dict(keepdims=bool(a.get("keepdims", 1)), name=_nm(node))
    if axes:
        kw["axis"] = tuple(int(x) for x in axes)
    return getattr(ctx.S, _RED[node.op_type])(ctx.sym(node.input[0]), **kw)


# ---------------------------------------------------------------------- shapes

@importer("Concat")
def _concat(ctx, node, a):
    return ctx.S.Concat(*[ctx.sym(i) for i in node.input], dim=int(a["axis"]), name=_nm(node))


@importer("Reshape")
def _reshape(ctx, node, a):
    if a.get("allowzero"):
        raise _fail(node, "allowzero=1 is not supported")
    shape = _ints(ctx, node.input[1], "the target shape")
    return ctx.S.reshape(ctx.sym(node.input[0]), shape=tuple(shape), name=_nm(node))


@importer("Transpose")
def _transpose(ctx, node, a):
    perm = a.get("perm")
    kw = {"axes": tuple(perm)} if perm is not None else {}
    return ctx.S.transpose(ctx.sym(node.input[0]), name=_nm(node), **kw)


@importer("Unsqueeze")
def _unsqueeze(ctx, node, a):
    axes = a.get("axes") or _ints(ctx, node.input[1], "axes")
    x = ctx.sym(node.input[0])
    r = ctx.rank(node.input[0])
    out_rank = None if r is None else r + len(axes)
    axes = sorted(ax + out_rank if ax < 0 and out_rank is not None else ax for ax in axes)
    for i, ax in enumerate(axes):
        x = ctx.S.expand_dims(x, axis=int(ax), name=_nm(node) if i == len(axes) - 1 else None)
    return x


@importer("Squeeze")
def _squeeze(ctx, node, a):
    axes = a.get("axes")
    if axes is None and len(node.input) > 1 and node.input[1]:
        axes = _ints(ctx, node.input[1], "axes")
    kw = {"axis": tuple(int(x) for x in axes)} if axes else {}
    return ctx.S.squeeze(ctx.sym(node.input[0]), name=_nm(node), **kw)


@importer("Slice")
def _slice(ctx, node, a):
    starts = _ints(ctx, node.input[1], "starts")
    ends = _ints(ctx, node.input[2], "ends")
    axes = _ints(ctx, node.input[3], "axes") if len(node.input) > 3 and node.input[3] \
        else list(range(len(starts)))
    steps = _ints(ctx, node.input[4], "steps") if len(node.input) > 4 and node.input[4] \
        else [1] * len(starts)
    x = ctx.sym(node.input[0])
    r = ctx.rank(node.input[0])
    axes = [ax + r if ax < 0 and r is not None else ax for ax in axes]
    if any(ax < 0 for ax in axes):
        raise _fail(node, "negative axes need a known input rank")

    def end_of(e, st):
        return None if (st > 0 and e >= _BIG) or (st < 0 and e <= -_BIG) else e
    if len(axes) == 1 and steps[0] == 1:
        return ctx.S.slice_axis(x, axis=axes[0], begin=starts[0], end=end_of(ends[0], 1),
                                name=_nm(node))
    n = max(axes) + 1
    begin, end, step = [None] * n, [None] * n, [1] * n
    for ax, s, e, st in zip(axes, starts, ends, steps):
        begin[ax], end[ax], step[ax] = s, end_of(e, st), st
        if st < 0 and s == -1:
            begin[ax] = None
    return ctx.S.slice(x, begin=tuple(begin), end=tuple(end), step=tuple(step), name=_nm(node))


@importer("Split")
def _split(ctx, node, a):
    axis = int(a.get("axis", 0))
    k = len(node.output)
    sizes = a.get("split")
    if sizes is None and len(node.input) > 1 and node.input[1]:
        sizes = _ints(ctx, node.input[1], "split")
    x = ctx.sym(node.input[0])
    if not sizes or len(set(sizes)) == 1:
        out = ctx.S.split(x, num_outputs=k, axis=axis, name=_nm(node))
        return [out[i] for i in range(k)] if k > 1 else [out]
    outs, start = [], 0
    for s in sizes:
        outs.append(ctx.S.slice_axis(x, axis=axis, begin=start, end=start + s))
        start += s
    return outs


@importer("Expand")
def _expand(ctx, node, a):
    src = ctx.shape_of.get(node.input[1])
    x = ctx.sym(node.input[0])
    if src is not None:
        return ctx.S.broadcast_like(x, ctx.sym(src), name=_nm(node))
    shape = _ints(ctx, node.input[1], "the target shape")
    return ctx.S.broadcast_to(x, shape=tuple(0 if s == 1 else s for s in shape), name=_nm(node))


@importer("Tile")
def _tile(ctx, node, a):
    return ctx.S.tile(ctx.sym(node.input[0]), reps=tuple(_ints(ctx, node.input[1], "repeats")),
                      name=_nm(node))


@importer("Pad")
def _pad(ctx, node, a):
    pads = _ints(ctx, node.input[1], "pads")
    d = len(pads) // 2
    width = tuple(v for i in range(d) for v in (pads[i], pads[d + i]))
    mode = a.get("mode", b"constant")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    value = 0.0
    if len(node.input) > 2 and node.input[2]:
        value = _scalar_const(ctx, node.input[2])
    return ctx.S.Pad(ctx.sym(node.input[0]), mode=mode, pad_width=width, constant_value=value,
                     name=_nm(node))


@importer("Gather")
def _gather(ctx, node, a):
    return ctx.S.take(ctx.sym(node.input[0]), ctx.sym(node.input[1]), axis=int(a.get("axis", 0)),
                      mode="clip", name=_nm(node))


from . import _import_rnn  # noqa: E402,F401 - registers LSTM, GRU, RNN
