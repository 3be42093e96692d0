"""mx.operator: custom operators written in Python (MXNet's CustomOp / CustomOpProp / register).

A registered op runs as the core's "Custom" operator (`mx.nd.Custom(..., op_type=name)`,
`mx.sym.Custom`): the core calls back into Python for its arguments, shapes, dtypes, forward and
backward, so custom ops work under autograd, in symbols bound to executors and in hybridized
blocks. CPU only; auxiliary states are not supported."""
import collections
import json
import threading

from .base import ffi, lib, check_call

_registry = {}   # op_type -> CustomOpProp subclass
_props = {}      # params JSON -> CustomOpProp instance
_operators = {}  # (params JSON, shapes, dtypes) -> CustomOp instance

# mx_custom_request codes (c_api.h)
_LIST_ARGUMENTS, _LIST_OUTPUTS, _LIST_AUX, _INFER_SHAPE, _INFER_TYPE, _FORWARD, _BACKWARD = range(7)


class CustomOp:
    """Base class of a custom operator's computation: override forward and backward."""

    def __init__(self):
        pass

    def forward(self, is_train, req, in_data, out_data, aux):
        """Compute out_data from in_data; write each output with self.assign(out_data[i], req[i], value)."""
        raise NotImplementedError("CustomOp.forward must be overridden")

    def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
        """Compute in_grad from out_grad (and in_data/out_data); write with self.assign."""
        raise NotImplementedError("CustomOp.backward must be overridden")

    def assign(self, dst, req, src):
        """Write src into dst as req says: 'null' (skip), 'write'/'inplace' (copy) or 'add' (accumulate)."""
        if req == "null":
            return
        if req in ("write", "inplace"):
            dst[:] = src
        elif req == "add":
            dst[:] += src
        else:
            raise ValueError("assign: unknown req %r" % (req,))


class CustomOpProp:
    """Base class of a custom operator's description: arguments, outputs, shapes and dtypes.

    Parameters given to mx.nd.Custom / mx.sym.Custom (other than op_type) reach __init__ as strings."""

    def __init__(self, need_top_grad=True):
        self.need_top_grad_ = need_top_grad

    def infer_shape(self, in_shape):
        """(input shapes, output shapes, aux shapes); by default every output has the first input's shape."""
        return in_shape, (in_shape[0],) * len(self.list_outputs()), ()

    def infer_type(self, in_type):
        """(input dtypes, output dtypes, aux dtypes); by default all are the first input's dtype."""
        return in_type, (in_type[0],) * len(self.list_outputs()), (in_type[0],) * len(self.list_auxiliary_states())

    def infer_storage_type(self, in_stype):
        return in_stype, ["default"] * len(self.list_outputs()), ["default"] * len(self.list_auxiliary_states())

    def list_outputs(self):
        return ["output"]

    def list_arguments(self):
        return ["data"]

    def list_auxiliary_states(self):
        return []

    def declare_backward_dependency(self, out_grad, in_data, out_data):
        deps = []
        if self.need_top_grad_:
            deps.extend(out_grad)
        deps.extend(in_data)
        deps.extend(out_data)
        return deps

    def create_operator(self, ctx, in_shapes, in_dtypes):
        """The CustomOp instance that runs the computation for these input shapes and dtypes."""
        return CustomOp()


def register(reg_name):
    """Class decorator registering a CustomOpProp subclass under reg_name (the op_type of mx.nd.Custom)."""
    def do_register(prop_cls):
        if not (isinstance(prop_cls, type) and issubclass(prop_cls, CustomOpProp)):
            raise TypeError("operator.register: %r is not a CustomOpProp subclass" % (prop_cls,))
        _registry[reg_name] = prop_cls
        for key in [k for k in _props if json.loads(k).get("op_type") == reg_name]:
            del _props[key]
        _operators.clear()
        check_call(lib.mx_custom_op_register(reg_name.encode(), _dispatch, ffi.NULL))
        return prop_cls
    return do_register


def get_all_registered_operators():
    """Names of every operator the core registers."""
    from .ndarray import _internal_ops
    return _internal_ops.list_ops()


OperatorArguments = collections.namedtuple("OperatorArguments", ["narg", "names", "types"])


def _argument_type(p):
    """A parameter's type as MXNet's MXSymbolGetAtomicSymbolInfo spells it."""
    if p["choices"]:
        t = "{%s}" % ", ".join("'%s'" % c for c in p["choices"])
    else:
        t = p["type"]
    if p["required"]:
        return t + ", required"
    return "%s, optional, default=%s" % (t, p["default"])


def get_operator_arguments(op_name):
    """(number, names, types) of an operator's arguments, as MXNet lists them: the inputs
    ('NDArray-or-Symbol'; variadic ones as 'NDArray-or-Symbol[]') then the parameters."""
    from .ndarray import _internal_ops
    s = _internal_ops.op_schema(op_name)
    names = list(s["inputs"]) + list(s["aux"])
    types = ["NDArray-or-Symbol"] * len(names)
    if s["variadic_input"]:
        names.append("data")
        types.append("NDArray-or-Symbol[]")
    names += [p["name"] for p in s["params"]]
    types += [_argument_type(p) for p in s["params"]]
    return OperatorArguments(len(names), names, types)


def _prop_for(params_json):
    prop = _props.get(params_json)
    if prop is None:
        params = json.loads(params_json)
        op_type = params.pop("op_type")
        if op_type not in _registry:
            raise ValueError("op_type %r is not registered (registered: %s)" % (op_type, sorted(_registry)))
        prop = _registry[op_type](**params)
        _props[params_json] = prop
    return prop


def _operator_for(params_json, prop, in_data):
    from .context import cpu
    shapes = tuple(a.shape for a in in_data)
    dtypes = tuple(str(a.dtype) for a in in_data)
    key = (params_json, shapes, dtypes)
    op = _operators.get(key)
    if op is None:
        op = prop.create_operator(cpu(), [list(s) for s in shapes], [a.dtype for a in in_data])
        _operators[key] = op
    return op


def _answer(request, params_json, in_json, groups, is_train):
    prop = _prop_for(params_json)
    if request == _LIST_ARGUMENTS:
        return list(prop.list_arguments())
    if request == _LIST_OUTPUTS:
        return list(prop.list_outputs())
    if request == _LIST_AUX:
        return list(prop.list_auxiliary_states())
    if request == _INFER_SHAPE:
        ins, outs, aux = prop.infer_shape([list(s) for s in json.loads(in_json)])[:3]
        return {"in": [list(s) for s in ins], "out": [list(s) for s in outs], "aux": [list(s) for s in aux]}
    if request == _INFER_TYPE:
        from .ndarray.ndarray import dtype_code, dtype_np
        given = [dtype_np(c) if c >= 0 else None for c in json.loads(in_json)]
        known = next(t for t in given if t is not None)
        ins, outs, aux = prop.infer_type([t if t is not None else known for t in given])[:3]
        return {"in": [dtype_code(t) for t in ins], "out": [dtype_code(t) for t in outs],
                "aux": [dtype_code(t) for t in aux]}
    from . import autograd
    with autograd.pause(train_mode=bool(is_train)):
        if request == _FORWARD:
            in_data, out_data, aux = groups
            _operator_for(params_json, prop, in_data).forward(is_train=bool(is_train), req=["write"] * len(out_data),
                                                              in_data=in_data, out_data=out_data, aux=aux)
        else:
            out_grad, in_data, out_data, in_grad, aux = groups
            _operator_for(params_json, prop, in_data).backward(req=["write"] * len(in_grad), out_grad=out_grad,
                                                               in_data=in_data, out_data=out_data, in_grad=in_grad,
                                                               aux=aux)
    return None


def callback_dispatcher(answer):
    """The C callback the core calls for a Python-defined op: it wraps the arrays it is handed
    (every handle is ours to free), calls ``answer(request, params_json, in_json, groups,
    is_train)`` and returns its answer as JSON, or the exception as the message (the core turns
    it into an MXNetError naming the op). Keep the result alive as long as the op is registered."""
    answers = threading.local()  # the last answer of each thread stays alive for the core

    @ffi.callback("int(void *, int, const char *, const char *, int, const int *, mx_ndarray_t *, int, const char **)")
    def dispatch(user_data, request, params_json, in_json, num_groups, counts, arrays, is_train, out_json):
        from .ndarray import NDArray
        try:
            groups, k = [], 0
            for g in range(num_groups):  # wrap every handle first: each one is ours to free
                groups.append([NDArray(arrays[k + i]) for i in range(counts[g])])
                k += counts[g]
            result = answer(request, ffi.string(params_json).decode(), ffi.string(in_json).decode(), groups,
                            is_train)
            text, status = ("null" if result is None else json.dumps(result)), 0
        except BaseException as e:
            text, status = "%s: %s" % (type(e).__name__, e), 1
        answers.buf = ffi.new("char[]", text.encode())
        out_json[0] = answers.buf
        return status
    return dispatch


_dispatch = callback_dispatcher(_answer)


def nd_custom(*inputs, **kwargs):
    """mx.nd.Custom: the core's Custom op (kept under this name for code that binds it explicitly)."""
    from .ndarray import op
    return op.Custom(*inputs, **kwargs)


def sym_custom(*inputs, **kwargs):
    """mx.sym.Custom: the core's Custom op as a symbol."""
    from .ndarray import _internal_ops
    from .symbol.symbol import make_symbol_function
    return make_symbol_function("Custom", _internal_ops.op_schema("Custom"))(*inputs, **kwargs)
