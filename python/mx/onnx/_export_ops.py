"""ONNX (opset 13) converters of MX's neural-network and tensor operators.

Each converter receives the Builder `b` and a ConvNode `n` and emits nodes that produce
`n.outputs`. Exported graphs are for inference: Dropout is the identity and BatchNorm uses the
moving statistics, as MXNet's own exporter does. Recurrent layers are in `_export_rnn.py`.
"""
import numpy as np

from ._export import converter

_INT64_MAX = np.iinfo(np.int64).max


def _tup(v, ndim, fill):
    v = tuple(v) if v else ()
    return v if v else (fill,) * ndim


def _ndim(n, i=0):
    s = n.in_shapes[i]
    if s is None:
        raise n.fail("the rank of input %d is unknown" % i)
    return len(s)


def _scalar(b, n, value, i=0, hint="scalar"):
    return b.const(np.array(value, dtype=n.in_dtypes[i]), "%s_%s" % (n.name, hint))


def _axis(axis, ndim):
    return axis + ndim if axis < 0 else axis


# ---------------------------------------------------------------------- layers

@converter("Convolution", "Deconvolution")
def convert_convolution(b, n):
    """Convolution -> Conv; Deconvolution -> ConvTranspose (channels-first layouts)."""
    a = n.attrs
    if a.get("layout") not in (None, "None", "NCW", "NCHW", "NCDHW"):
        raise n.fail("layout %s is not supported (channels first only)" % a["layout"])
    k = tuple(a["kernel"])
    d = len(k)
    pad = _tup(a.get("pad"), d, 0)
    attrs = dict(kernel_shape=list(k), strides=list(_tup(a.get("stride"), d, 1)),
                 dilations=list(_tup(a.get("dilate"), d, 1)), pads=list(pad) * 2,
                 group=int(a.get("num_group", 1)))
    inputs = n.inputs[:2] if a.get("no_bias") else n.inputs[:3]
    if n.op == "Deconvolution":
        if a.get("target_shape"):
            raise n.fail("target_shape is not supported; give pad and adj instead")
        adj = _tup(a.get("adj"), d, 0)
        if any(adj):
            attrs["output_padding"] = list(adj)
        b.add("ConvTranspose", inputs, n.outputs[0], **attrs)
    else:
        b.add("Conv", inputs, n.outputs[0], **attrs)


@converter("FullyConnected")
def convert_fully_connected(b, n):
    """FullyConnected -> Flatten + Gemm (flatten=True) or MatMul (+ Add) over the last axis."""
    a = n.attrs
    x, w = n.inputs[0], n.inputs[1]
    bias = None if a["no_bias"] else n.inputs[2]
    if a["flatten"]:
        if _ndim(n) != 2:
            x = b.add("Flatten", [x], hint=n.name + "_flatten", axis=1)
        b.add("Gemm", [x, w] + ([bias] if bias else []), n.outputs[0], transB=1)
        return
    wt = b.add("Transpose", [w], hint=n.name + "_wT", perm=[1, 0])
    if bias is None:
        b.add("MatMul", [x, wt], n.outputs[0])
    else:
        y = b.add("MatMul", [x, wt], hint=n.name + "_matmul")
        b.add("Add", [y, bias], n.outputs[0])


_ACT = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softrelu": "Softplus",
        "softsign": "Softsign"}


@converter("Activation")
def convert_activation(b, n):
    """Activation relu/sigmoid/tanh/softrelu/softsign -> Relu/Sigmoid/Tanh/Softplus/Softsign."""
    act = n.attrs["act_type"]
    if act not in _ACT:
        raise n.fail("act_type '%s' has no ONNX equivalent" % act)
    b.add(_ACT[act], [n.inputs[0]], n.outputs[0])


@converter("LeakyReLU")
def convert_leaky_relu(b, n):
    """LeakyReLU leaky/prelu/elu/selu/gelu/rrelu -> LeakyRelu/PRelu/Elu/Selu/erf form."""
    a = n.attrs
    act, x, out = a["act_type"], n.inputs[0], n.outputs[0]
    if act == "leaky":
        b.add("LeakyRelu", [x], out, alpha=float(a["slope"]))
    elif act == "rrelu":  # inference: the mean slope, also the 'mask' output
        from onnx import numpy_helper
        slope = (float(a["lower_bound"]) + float(a["upper_bound"])) / 2
        b.add("LeakyRelu", [x], out, alpha=slope)
        if len(n.outputs) > 1:
            s = b.add("Shape", [x], hint=n.name + "_shape")
            b.add("ConstantOfShape", [s], n.outputs[1], value=numpy_helper.from_array(
                np.array([slope], dtype=n.in_dtypes[0])))
    elif act == "elu":
        b.add("Elu", [x], out, alpha=float(a["slope"]))
    elif act == "selu":
        b.add("Selu", [x], out, alpha=1.6732632423543772, gamma=1.0507009873554805)
    elif act == "prelu":
        gamma = n.inputs[1]
        nd = _ndim(n)
        if nd > 2:  # gamma (C,) broadcast over axis 1
            gamma = b.add("Unsqueeze", [gamma, b.ints(list(range(1, nd - 1)), n.name + "_axes")],
                          hint=n.name + "_gamma")
        b.add("PRelu", [x, gamma], out)
    elif act == "gelu":
        s = b.add("Div", [x, _scalar(b, n, np.sqrt(2.0), hint="sqrt2")], hint=n.name + "_s")
        e = b.add("Erf", [s], hint=n.name + "_erf")
        e1 = b.add("Add", [e, _scalar(b, n, 1.0, hint="one")], hint=n.name + "_e1")
        h = b.add("Mul", [x, _scalar(b, n, 0.5, hint="half")], hint=n.name + "_h")
        b.add("Mul", [h, e1], out)
    else:
        raise n.fail("act_type '%s' is not supported" % act)


@converter("BatchNorm")
def convert_batch_norm(b, n):
    """BatchNorm -> BatchNormalization with the moving statistics (fix_gamma: scale 1)."""
    a = n.attrs
    nd = _ndim(n)
    if _axis(int(a["axis"]), nd) != 1:
        raise n.fail("axis=%s is not supported (channels must be axis 1)" % a["axis"])
    gamma = n.inputs[1]
    if a["fix_gamma"]:
        shape = n.in_shapes[1]
        gamma = b.const(np.ones(shape, dtype=n.in_dtypes[1]), n.name + "_gamma_fixed")
    b.add("BatchNormalization", [n.inputs[0], gamma, n.inputs[2], n.inputs[3], n.inputs[4]],
          n.outputs[0], epsilon=float(a["eps"]), momentum=float(a["momentum"]))
    for extra in n.outputs[1:]:  # output_mean_var: the statistics used (the moving ones)
        b.add("Identity", [n.inputs[3 if extra == n.outputs[1] else 4]], extra)


@converter("InstanceNorm")
def convert_instance_norm(b, n):
    """InstanceNorm -> InstanceNormalization."""
    b.add("InstanceNormalization", n.inputs[:3], n.outputs[0], epsilon=float(n.attrs["eps"]))


@converter("LayerNorm")
def convert_layer_norm(b, n):
    """LayerNorm -> ReduceMean/Sub/Mul/Sqrt/Div (opset 13 has no LayerNormalization)."""
    a = n.attrs
    nd = _ndim(n)
    axis = _axis(int(a["axis"]), nd)
    x, gamma, beta = n.inputs[:3]
    m = b.add("ReduceMean", [x], hint=n.name + "_mean", axes=[axis], keepdims=1)
    d = b.add("Sub", [x, m], hint=n.name + "_centered")
    v = b.add("ReduceMean", [b.add("Mul", [d, d], hint=n.name + "_sq")], hint=n.name + "_var",
              axes=[axis], keepdims=1)
    s = b.add("Sqrt", [b.add("Add", [v, _scalar(b, n, float(a["eps"]), hint="eps")],
                             hint=n.name + "_veps")], hint=n.name + "_std")
    y = b.add("Div", [d, s], hint=n.name + "_norm")
    if axis != nd - 1:
        shape = [1] * nd
        shape[axis] = -1
        gamma = b.add("Reshape", [gamma, b.ints(shape, n.name + "_gshape")], hint=n.name + "_g")
        beta = b.add("Reshape", [beta, b.ints(shape, n.name + "_bshape")], hint=n.name + "_b")
    y = b.add("Mul", [y, gamma], hint=n.name + "_scaled")
    b.add("Add", [y, beta], n.outputs[0])
    if len(n.outputs) > 1:
        raise n.fail("output_mean_var=True is not supported")


@converter("LRN")
def convert_lrn(b, n):
    """LRN -> LRN."""
    a = n.attrs
    b.add("LRN", [n.inputs[0]], n.outputs[0], alpha=float(a["alpha"]), beta=float(a["beta"]),
          bias=float(a["knorm"]), size=int(a["nsize"]))


@converter("Pooling")
def convert_pooling(b, n):
    """Pooling max/avg/sum/lp (global or windowed; 'full' convention as ceil_mode) -> MaxPool,
    AveragePool, LpPool or their Global forms."""
    a = n.attrs
    pt = a["pool_type"]
    x, out = n.inputs[0], n.outputs[0]
    nd = _ndim(n)
    if a.get("layout") not in (None, "None", "NCW", "NCHW", "NCDHW"):
        raise n.fail("layout %s is not supported (channels first only)" % a["layout"])
    if a["global_pool"]:
        if pt == "max":
            b.add("GlobalMaxPool", [x], out)
        elif pt == "avg":
            b.add("GlobalAveragePool", [x], out)
        elif pt == "sum":
            avg = b.add("GlobalAveragePool", [x], hint=n.name + "_avg")
            area = int(np.prod(n.in_shapes[0][2:]))
            b.add("Mul", [avg, _scalar(b, n, float(area), hint="area")], out)
        elif pt == "lp":
            b.add("GlobalLpPool", [x], out, p=int(a["p_value"] or 2))
        return
    k = tuple(a["kernel"])
    d = len(k)
    if d != nd - 2:
        raise n.fail("kernel %s does not match the %d-D input" % (k, nd))
    conv = a["pooling_convention"]
    if conv not in ("valid", "full"):
        raise n.fail("pooling_convention '%s' is not supported" % conv)
    attrs = dict(kernel_shape=list(k), strides=list(_tup(a.get("stride"), d, 1)),
                 pads=list(_tup(a.get("pad"), d, 0)) * 2)
    if conv == "full":
        attrs["ceil_mode"] = 1
    if pt == "max":
        b.add("MaxPool", [x], out, **attrs)
    elif pt in ("avg", "sum"):
        cip = a.get("count_include_pad")
        attrs["count_include_pad"] = 0 if cip is False else 1
        if pt == "avg":
            b.add("AveragePool", [x], out, **attrs)
        else:
            attrs["count_include_pad"] = 1
            avg = b.add("AveragePool", [x], hint=n.name + "_avg", **attrs)
            b.add("Mul", [avg, _scalar(b, n, float(np.prod(k)), hint="area")], out)
    elif pt == "lp":
        attrs.pop("ceil_mode", None)
        b.add("LpPool", [x], out, p=int(a["p_value"] or 2), **attrs)


@converter("Dropout")
def convert_dropout(b, n):
    """Dropout -> Identity (exported graphs are for inference)."""
    if n.attrs.get("mode") == "always":
        raise n.fail("mode='always' applies dropout at inference, which ONNX export cannot keep")
    for out in n.outputs:
        b.add("Identity", [n.inputs[0]], out)


@converter("Flatten")
def convert_flatten(b, n):
    """Flatten -> Flatten(axis=1)."""
    b.add("Flatten", [n.inputs[0]], n.outputs[0], axis=1)


@converter("Embedding")
def convert_embedding(b, n):
    """Embedding -> Cast(int64) + Gather."""
    idx = b.add("Cast", [n.inputs[0]], hint=n.name + "_idx", to=7)
    b.add("Gather", [n.inputs[1], idx], n.outputs[0], axis=0)


# ---------------------------------------------------------------------- softmax and outputs

def _softmax(b, n, op_type, axis, x=None):
    x = n.inputs[0] if x is None else x
    t = n.attrs.get("temperature")
    if t not in (None, 1, 1.0):
        x = b.add("Div", [x, _scalar(b, n, float(t), hint="temperature")], hint=n.name + "_t")
    b.add(op_type, [x], n.outputs[0], axis=int(axis))


@converter("softmax")
def convert_softmax(b, n):
    """softmax(axis, temperature) -> Softmax."""
    if n.attrs.get("use_length"):
        raise n.fail("use_length=True is not supported")
    _softmax(b, n, "Softmax", n.attrs["axis"])


@converter("log_softmax")
def convert_log_softmax(b, n):
    """log_softmax(axis, temperature) -> LogSoftmax."""
    if n.attrs.get("use_length"):
        raise n.fail("use_length=True is not supported")
    _softmax(b, n, "LogSoftmax", n.attrs["axis"])


@converter("SoftmaxOutput")
def convert_softmax_output(b, n):
    """SoftmaxOutput -> Softmax over axis 1 (the label input is dropped)."""
    a = n.attrs
    nd = _ndim(n)
    if nd > 2 and not (a.get("multi_output") or a.get("preserve_shape")):
        x = b.add("Flatten", [n.inputs[0]], hint=n.name + "_flat", axis=1)
        y = b.add("Softmax", [x], hint=n.name + "_sm", axis=1)
        shape = b.ints(list(n.in_shapes[0]), n.name + "_shape")
        b.add("Reshape", [y, shape], n.outputs[0])
        return
    axis = -1 if a.get("preserve_shape") else 1
    b.add("Softmax", [n.inputs[0]], n.outputs[0], axis=axis)


@converter("SoftmaxActivation")
def convert_softmax_activation(b, n):
    """SoftmaxActivation instance/channel -> Softmax over the last axis of a 2-D view / axis 1."""
    if n.attrs["mode"] == "channel":
        b.add("Softmax", [n.inputs[0]], n.outputs[0], axis=1)
    else:
        x = b.add("Flatten", [n.inputs[0]], hint=n.name + "_flat", axis=1)
        y = b.add("Softmax", [x], hint=n.name + "_sm", axis=1)
        b.add("Reshape", [y, b.ints(list(n.in_shapes[0]), n.name + "_shape")], n.outputs[0])


@converter("LinearRegressionOutput", "MAERegressionOutput", "MakeLoss", "make_loss",
           "BlockGrad", "identity", "stop_gradient", "_copy")
def convert_identity(b, n):
    """Identity-like operators (regression outputs, gradient blocks) -> Identity."""
    b.add("Identity", [n.inputs[0]], n.outputs[0])


@converter("LogisticRegressionOutput")
def convert_logistic_output(b, n):
    """LogisticRegressionOutput -> Sigmoid."""
    b.add("Sigmoid", [n.inputs[0]], n.outputs[0])


# ---------------------------------------------------------------------- elementwise

_BINARY = {"elemwise_add": "Add", "broadcast_add": "Add", "broadcast_plus": "Add",
           "elemwise_sub": "Sub", "broadcast_sub": "Sub", "broadcast_minus": "Sub",
           "elemwise_mul": "Mul", "broadcast_mul": "Mul", "elemwise_div": "Div",
           "broadcast_div": "Div", "_power": "Pow", "broadcast_power": "Pow",
           "_maximum": "Max", "broadcast_maximum": "Max", "_minimum": "Min",
           "broadcast_minimum": "Min", "_plus": "Add", "_add": "Add", "_sub": "Sub",
           "_minus": "Sub", "_mul": "Mul", "_div": "Div"}


@converter(*_BINARY)
def convert_binary(b, n):
    """Elementwise and broadcast add/sub/mul/div/power/maximum/minimum -> Add/Sub/Mul/Div/Pow/
    Max/Min (numpy broadcasting covers MXNet's)."""
    b.add(_BINARY[n.op], n.inputs[:2], n.outputs[0])


_COMPARE = {"_equal": "Equal", "broadcast_equal": "Equal", "_greater": "Greater",
            "broadcast_greater": "Greater", "_lesser": "Less", "broadcast_lesser": "Less",
            "_greater_equal": "GreaterOrEqual", "broadcast_greater_equal": "GreaterOrEqual",
            "_lesser_equal": "LessOrEqual", "broadcast_lesser_equal": "LessOrEqual"}


@converter(*_COMPARE)
def convert_compare(b, n):
    """Comparisons -> Equal/Greater/Less/... then Cast back to the input dtype (MXNet returns
    0/1 in the input's dtype)."""
    from onnx import helper
    r = b.add(_COMPARE[n.op], n.inputs[:2], hint=n.name + "_bool")
    b.add("Cast", [r], n.outputs[0], to=helper.np_dtype_to_tensor_dtype(n.out_dtypes[0]))


_SCALAR = {"_plus_scalar": ("Add", False), "_minus_scalar": ("Sub", False),
           "_rminus_scalar": ("Sub", True), "_mul_scalar": ("Mul", False),
           "_div_scalar": ("Div", False), "_rdiv_scalar": ("Div", True),
           "_power_scalar": ("Pow", False), "_rpower_scalar": ("Pow", True),
           "_maximum_scalar": ("Max", False), "_minimum_scalar": ("Min", False)}


@converter(*_SCALAR)
def convert_scalar(b, n):
    """Operators with a scalar operand -> the binary ONNX op with a constant."""
    op_type, reverse = _SCALAR[n.op]
    c = _scalar(b, n, float(n.attrs["scalar"]))
    b.add(op_type, [c, n.inputs[0]] if reverse else [n.inputs[0], c], n.outputs[0])


@converter("add_n", "ElementWiseSum")
def convert_add_n(b, n):
    """add_n -> Sum."""
    b.add("Sum", n.inputs, n.outputs[0])


_UNARY = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "exp": "Exp", "log": "Log",
          "sqrt": "Sqrt", "abs": "Abs", "negative": "Neg", "reciprocal": "Reciprocal",
          "floor": "Floor", "ceil": "Ceil", "sin": "Sin", "cos": "Cos", "tan": "Tan",
          "arcsin": "Asin", "arccos": "Acos", "arctan": "Atan", "sinh": "Sinh", "cosh": "Cosh",
          "arcsinh": "Asinh", "arccosh": "Acosh", "arctanh": "Atanh", "erf": "Erf",
          "sign": "Sign", "softsign": "Softsign", "logical_not": "Not"}


@converter(*[k for k in _UNARY if k != "logical_not"])
def convert_unary(b, n):
    """Unary math -> the ONNX op of the same meaning."""
    b.add(_UNARY[n.op], [n.inputs[0]], n.outputs[0])


@converter("round")
def convert_round(b, n):
    """round (halves away from zero) -> Sign(x) * Floor(Abs(x) + 0.5) (ONNX Round rounds halves
    to even)."""
    x = n.inputs[0]
    a = b.add("Add", [b.add("Abs", [x], hint=n.name + "_abs"), _scalar(b, n, 0.5, hint="half")],
              hint=n.name + "_shifted")
    f = b.add("Floor", [a], hint=n.name + "_floor")
    b.add("Mul", [b.add("Sign", [x], hint=n.name + "_sign"), f], n.outputs[0])


@converter("square")
def convert_square(b, n):
    """square -> Mul(x, x)."""
    b.add("Mul", [n.inputs[0], n.inputs[0]], n.outputs[0])


@converter("rsqrt")
def convert_rsqrt(b, n):
    """rsqrt -> Reciprocal(Sqrt)."""
    b.add("Reciprocal", [b.add("Sqrt", [n.inputs[0]], hint=n.name + "_sqrt")], n.outputs[0])


@converter("clip")
def convert_clip(b, n):
    """clip(a_min, a_max) -> Clip with constant bounds."""
    lo = _scalar(b, n, float(n.attrs["a_min"]), hint="min")
    hi = _scalar(b, n, float(n.attrs["a_max"]), hint="max")
    b.add("Clip", [n.inputs[0], lo, hi], n.outputs[0])


@converter("hard_sigmoid")
def convert_hard_sigmoid(b, n):
    """hard_sigmoid(alpha, beta) -> HardSigmoid."""
    b.add("HardSigmoid", [n.inputs[0]], n.outputs[0], alpha=float(n.attrs["alpha"]),
          beta=float(n.attrs["beta"]))


@converter("Cast")
def convert_cast(b, n):
    """Cast(dtype) -> Cast."""
    from onnx import helper
    b.add("Cast", [n.inputs[0]], n.outputs[0],
          to=helper.np_dtype_to_tensor_dtype(np.dtype(n.attrs["dtype"])))


@converter("where")
def convert_where(b, n):
    """where(cond, x, y) -> Where(Cast(cond, bool), x, y)."""
    c = b.add("Cast", [n.inputs[0]], hint=n.name + "_cond", to=9)
    b.add("Where", [c, n.inputs[1], n.inputs[2]], n.outputs[0])


@converter("zeros_like", "ones_like")
def convert_fill_like(b, n):
    """zeros_like/ones_like -> ConstantOfShape(Shape(x)) (keeps a dynamic batch dynamic)."""
    from onnx import numpy_helper
    s = b.add("Shape", [n.inputs[0]], hint=n.name + "_shape")
    value = numpy_helper.from_array(np.array([0 if n.op == "zeros_like" else 1],
                                             dtype=n.in_dtypes[0]))
    b.add("ConstantOfShape", [s], n.outputs[0], value=value)


# ---------------------------------------------------------------------- reductions and products

_REDUCE = {"mean": "ReduceMean", "sum": "ReduceSum", "max": "ReduceMax", "min": "ReduceMin",
           "prod": "ReduceProd"}


@converter(*_REDUCE)
def convert_reduce(b, n):
    """mean/sum/max/min/prod(axis, keepdims, exclude) -> ReduceMean/ReduceSum/... ."""
    a = n.attrs
    nd = _ndim(n)
    axis = a.get("axis")
    axes = list(range(nd)) if axis in (None, ()) else (
        [axis] if isinstance(axis, int) else list(axis))
    axes = [_axis(int(x), nd) for x in axes]
    if a.get("exclude"):
        axes = [i for i in range(nd) if i not in axes]
    keep = 1 if a.get("keepdims") else 0
    # MXNet keeps a 1-element result of a full reduction 1-D: reshape ONNX's scalar to that
    scalar = not keep and len(axes) == nd
    out = n.name + "_scalar" if scalar else n.outputs[0]
    if n.op == "sum":  # opset 13 ReduceSum takes its axes as an input
        out = b.add("ReduceSum", [n.inputs[0], b.ints(axes, n.name + "_axes")],
                    None if scalar else out, hint=out, keepdims=keep)
    else:
        out = b.add(_REDUCE[n.op], [n.inputs[0]], None if scalar else out, hint=out, axes=axes,
                    keepdims=keep)
    if scalar:
        b.add("Reshape", [out, b.ints([1], n.name + "_shape")], n.outputs[0])


@converter("dot", "batch_dot")
def convert_dot(b, n):
    """dot / batch_dot (transpose_a/b) -> MatMul (dot of rank-2 operands only)."""
    a = n.attrs
    lhs, rhs = n.inputs[0], n.inputs[1]
    if n.op == "dot" and (_ndim(n, 0) != 2 or _ndim(n, 1) != 2):
        raise n.fail("dot is exported for 2-D operands only (got ranks %d and %d)"
                     % (_ndim(n, 0), _ndim(n, 1)))

    def t(x, i):
        nd = _ndim(n, i)
        perm = list(range(nd - 2)) + [nd - 1, nd - 2]
        return b.add("Transpose", [x], hint=n.name + "_T%d" % i, perm=perm)
    if a.get("transpose_a"):
        lhs = t(lhs, 0)
    if a.get("transpose_b"):
        rhs = t(rhs, 1)
    b.add("MatMul", [lhs, rhs], n.outputs[0])


# ---------------------------------------------------------------------- shapes

@converter("Concat")
def convert_concat(b, n):
    """Concat(dim) -> Concat(axis)."""
    b.add("Concat", n.inputs, n.outputs[0], axis=int(n.attrs["dim"]))


@converter("stack")
def convert_stack(b, n):
    """stack(axis) -> Unsqueeze each input + Concat."""
    nd = _ndim(n) + 1
    axis = _axis(int(n.attrs["axis"]), nd)
    axes = b.ints([axis], n.name + "_axis")
    parts = [b.add("Unsqueeze", [x, axes], hint="%s_u%d" % (n.name, i))
             for i, x in enumerate(n.inputs)]
    b.add("Concat", parts, n.outputs[0], axis=axis)


@converter("Reshape")
def convert_reshape(b, n):
    """Reshape -> Reshape; MXNet's special codes -2/-3/-4 and reverse are resolved from the
    inferred output shape (0 and -1 pass through, keeping a dynamic batch)."""
    a = n.attrs
    shape = tuple(a.get("shape") or a.get("target_shape") or ())
    if shape and all(s >= -1 for s in shape) and not a.get("reverse"):
        target = list(shape)
    else:
        target = list(n.out_shapes[0])
        if n.in_shapes[0] and target and target[0] == n.in_shapes[0][0]:
            target[0] = 0  # keep the batch dimension from the input
    b.add("Reshape", [n.inputs[0], b.ints(target, n.name + "_shape")], n.outputs[0])


@converter("expand_dims")
def convert_expand_dims(b, n):
    """expand_dims(axis) -> Unsqueeze."""
    axis = _axis(int(n.attrs["axis"]), _ndim(n) + 1)
    b.add("Unsqueeze", [n.inputs[0], b.ints([axis], n.name + "_axes")], n.outputs[0])


@converter("squeeze")
def convert_squeeze(b, n):
    """squeeze(axis) -> Squeeze."""
    axis = n.attrs.get("axis")
    if axis in (None, ()):
        axes = [i for i, s in enumerate(n.in_shapes[0]) if s == 1]
    else:
        axes = [axis] if isinstance(axis, int) else list(axis)
    nd = _ndim(n)
    b.add("Squeeze", [n.inputs[0], b.ints([_axis(int(x), nd) for x in axes], n.name + "_axes")],
          n.outputs[0])


@converter("transpose")
def convert_transpose(b, n):
    """transpose(axes) -> Transpose (no axes: reversed)."""
    axes = n.attrs.get("axes")
    nd = _ndim(n)
    perm = list(axes) if axes else list(range(nd))[::-1]
    b.add("Transpose", [n.inputs[0]], n.outputs[0], perm=[_axis(int(p), nd) for p in perm])


@converter("SwapAxis")
def convert_swap_axis(b, n):
    """SwapAxis(dim1, dim2) -> Transpose."""
    nd = _ndim(n)
    perm = list(range(nd))
    d1, d2 = _axis(int(n.attrs["dim1"]), nd), _axis(int(n.attrs["dim2"]), nd)
    perm[d1], perm[d2] = perm[d2], perm[d1]
    b.add("Transpose", [n.inputs[0]], n.outputs[0], perm=perm)


@converter("slice_axis")
def convert_slice_axis(b, n):
    """slice_axis(axis, begin, end) -> Slice."""
    a = n.attrs
    end = a.get("end")
    end = _INT64_MAX if end is None else int(end)
    axis = _axis(int(a["axis"]), _ndim(n))
    b.add("Slice", [n.inputs[0], b.ints([int(a["begin"])], n.name + "_starts"),
                    b.ints([end], n.name + "_ends"), b.ints([axis], n.name + "_axes")],
          n.outputs[0])


@converter("slice")
def convert_slice(b, n):
    """slice(begin, end, step) -> Slice (None bounds are open)."""
    a = n.attrs
    begin, end = list(a["begin"]), list(a["end"])
    step = list(a.get("step") or ()) or [1] * len(begin)
    step = [1 if s is None else int(s) for s in step]
    starts = [(0 if st > 0 else -1) if v is None else int(v) for v, st in zip(begin, step)]
    ends = [(_INT64_MAX if st > 0 else -_INT64_MAX) if v is None else int(v)
            for v, st in zip(end, step)]
    b.add("Slice", [n.inputs[0], b.ints(starts, n.name + "_starts"),
                    b.ints(ends, n.name + "_ends"), b.ints(list(range(len(starts))), n.name + "_axes"),
                    b.ints(step, n.name + "_steps")], n.outputs[0])


@converter("SliceChannel")
def convert_split(b, n):
    """SliceChannel/split(num_outputs, axis, squeeze_axis) -> Split (+ Squeeze)."""
    a = n.attrs
    nd = _ndim(n)
    axis = _axis(int(a["axis"]), nd)
    k = int(a["num_outputs"])
    size = n.in_shapes[0][axis]
    sizes = b.ints([size // k] * k, n.name + "_split")
    if not a.get("squeeze_axis"):
        b.add("Split", [n.inputs[0], sizes], n.outputs, axis=axis)
        return
    parts = b.add("Split", [n.inputs[0], sizes], hint=n.name + "_part", n_out=k, axis=axis)
    parts = parts if isinstance(parts, list) else [parts]
    axes = b.ints([axis], n.name + "_axes")
    for p, out in zip(parts, n.outputs):
        b.add("Squeeze", [p, axes], out)


@converter("broadcast_axis")
def convert_broadcast_axis(b, n):
    """broadcast_axis(axis, size) -> Expand."""
    a = n.attrs
    nd = _ndim(n)
    axes = a["axis"] if isinstance(a["axis"], tuple) else (a["axis"],)
    sizes = a["size"] if isinstance(a["size"], tuple) else (a["size"],)
    shape = [1] * nd
    for ax, s in zip(axes, sizes):
        shape[_axis(int(ax), nd)] = int(s)
    b.add("Expand", [n.inputs[0], b.ints(shape, n.name + "_shape")], n.outputs[0])


@converter("broadcast_to")
def convert_broadcast_to(b, n):
    """broadcast_to(shape) -> Expand (0 keeps the input's size)."""
    shape = [1 if int(s) == 0 else int(s) for s in n.attrs["shape"]]
    b.add("Expand", [n.inputs[0], b.ints(shape, n.name + "_shape")], n.outputs[0])


@converter("broadcast_like")
def convert_broadcast_like(b, n):
    """broadcast_like (all axes) -> Expand(x, Shape(like))."""
    if n.attrs.get("lhs_axes") or n.attrs.get("rhs_axes"):
        raise n.fail("lhs_axes/rhs_axes are not supported")
    s = b.add("Shape", [n.inputs[1]], hint=n.name + "_shape")
    b.add("Expand", [n.inputs[0], s], n.outputs[0])


@converter("Pad")
def convert_pad(b, n):
    """Pad(mode, pad_width, constant_value) -> Pad (MXNet's (b0, e0, b1, e1, ...) reordered to
    ONNX's (b0, b1, ..., e0, e1, ...))."""
    a = n.attrs
    pw = [int(p) for p in a["pad_width"]]
    pads = pw[0::2] + pw[1::2]
    inputs = [n.inputs[0], b.ints(pads, n.name + "_pads")]
    if a["mode"] == "constant":
        inputs.append(_scalar(b, n, float(a["constant_value"]), hint="value"))
    b.add("Pad", inputs, n.outputs[0], mode=a["mode"])


@converter("tile")
def convert_tile(b, n):
    """tile(reps) -> Tile (reps and input padded to the same rank)."""
    reps = [int(r) for r in n.attrs["reps"]]
    nd = _ndim(n)
    x = n.inputs[0]
    if len(reps) < nd:
        reps = [1] * (nd - len(reps)) + reps
    elif len(reps) > nd:  # numpy semantics: leading axes of size 1 are added to the input
        x = b.add("Unsqueeze", [x, b.ints(list(range(len(reps) - nd)), n.name + "_axes")],
                  hint=n.name + "_expanded")
    b.add("Tile", [x, b.ints(reps, n.name + "_reps")], n.outputs[0])


@converter("take")
def convert_take(b, n):
    """take(axis, mode='clip') -> Clip of the indices + Gather."""
    a = n.attrs
    nd = _ndim(n)
    axis = _axis(int(a["axis"]), nd)
    idx = b.add("Cast", [n.inputs[1]], hint=n.name + "_idx", to=7)
    if a["mode"] == "clip":
        hi = b.ints(n.in_shapes[0][axis] - 1, n.name + "_hi")
        idx = b.add("Clip", [idx, b.ints(0, n.name + "_lo"), hi], hint=n.name + "_clipped")
    elif a["mode"] == "wrap":
        idx = b.add("Mod", [idx, b.ints(n.in_shapes[0][axis], n.name + "_n")],
                    hint=n.name + "_wrapped")
    b.add("Gather", [n.inputs[0], idx], n.outputs[0], axis=axis)


from . import _export_rnn  # noqa: E402,F401 - registers RNN
