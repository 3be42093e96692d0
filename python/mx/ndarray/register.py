"""Generate a Python function for every registered operator from its registry schema."""
import keyword

from ..base import check_call, ffi, lib
from . import _internal_ops as _ops
from .ndarray import NDArray, _wrap, _wrap_any
from .op_args import split_args


def _is_nd(x):
    return isinstance(x, NDArray)

_TYPE_DOC = {"int": "int", "float": "float", "boolean": "boolean", "string": "str"}


def _docstring(s):
    lines = [s.get("doc") or s["name"], "", "Parameters", "----------"]
    for name in s["inputs"]:
        lines.append("%s : NDArray" % name)
        lines.append("    Input '%s'." % name)
    if s["variadic_input"]:
        lines.append("*data : NDArray")
        lines.append("    Any number of inputs.")
    for a in s["aux"]:
        lines.append("%s : NDArray" % a)
        lines.append("    Auxiliary state '%s', updated in place." % a)
    for p in s["params"]:
        t = p["type"]
        if p["choices"]:
            t = "{%s}" % ", ".join("'%s'" % c for c in p["choices"])
        req = "required" if p["required"] else "optional, default=%s" % p["default"]
        lines.append("%s : %s, %s" % (p["name"], t, req))
        if p["doc"]:
            lines.append("    " + p["doc"])
    lines.append("out : NDArray, optional")
    lines.append("    The output array(s) to write into.")
    lines += ["", "Returns", "-------", "NDArray or list of NDArrays"]
    return "\n".join(lines)


def make_op_function(name, schema=None):
    """The function mx.nd.<name>(*inputs, out=None, **params_and_named_inputs)."""
    s = schema or _ops.op_schema(name)
    handle = _ops.op_handle(name)
    input_names = list(s["inputs"])
    aux_names = list(s["aux"])
    named = input_names + aux_names
    named_set = frozenset(named)
    variadic = s["variadic_input"]
    count_param = s["variadic_count_param"]
    param_names = [p["name"] for p in s["params"]]
    params_of = _ops.params_handle
    invoke = _ops.invoke
    single_output = len(s["outputs"]) == 1 and not s["num_outputs_depend_on_params"]
    call_ab = lib.mx_op_invoke_ab
    tls = _ops._tls
    null = ffi.NULL

    def op_function(*args, **kwargs):
        # Hot path: one or two array inputs, no parameters, one output.
        if single_output and not kwargs and 0 < len(args) <= 2 and not variadic:
            a = args[0]
            b = args[1] if len(args) == 2 else None
            if type(a) is NDArray and (b is None or type(b) is NDArray):
                try:
                    out = tls.out
                except AttributeError:
                    out = _ops.out_slot()
                status = call_ab(handle, null, a.handle, null if b is None else b.handle, out)
                if status:
                    check_call(status)
                return _wrap(out[0])
        out = kwargs.pop("out", None)
        kwargs.pop("name", None)
        if variadic:
            keep = []
            for a in args:
                if isinstance(a, NDArray):
                    keep.append(a)
                elif isinstance(a, (list, tuple)) and all(isinstance(x, NDArray) for x in a):
                    keep.extend(a)
                else:
                    raise TypeError("%s: positional arguments must be NDArrays, got %s (pass parameters "
                                    "by keyword)" % (name, type(a).__name__))
            if kwargs and not named_set.isdisjoint(kwargs):
                keep.extend(split_args(name, named, (), (), kwargs, _is_nd))
        else:
            # `keep` holds every input NDArray until the call returns: an array passed only by
            # keyword has no other reference once popped from kwargs, and freeing it would leave
            # a dangling handle in the call.
            keep = split_args(name, named, param_names, args, kwargs, _is_nd)
        handles = [a.handle for a in keep]
        if kwargs and not param_names:
            kwargs = {}  # MXNet ignores keywords given to an op without parameters
        if variadic and count_param and count_param not in kwargs:
            kwargs[count_param] = len(handles) - len(aux_names)
        params = params_of(name, kwargs)
        if out is not None:
            outs = out if isinstance(out, (list, tuple)) else [out]
            invoke(handle, params, handles, [o.handle for o in outs])
            return out
        res = invoke(handle, params, handles)
        if len(res) == 1:
            return _wrap_any(res[0])
        return [_wrap_any(h) for h in res]

    pyname = name if not keyword.iskeyword(name) else name + "_"
    op_function.__name__ = pyname
    op_function.__qualname__ = pyname
    op_function.__doc__ = _docstring(s)
    return op_function


def populate(module_dict, internal_dict):
    """Fill mx.nd.op (public names) and mx.nd._internal (names starting with '_')."""
    for name in _ops.list_ops():
        s = _ops.op_schema(name)
        f = make_op_function(name, s)
        target = internal_dict if name.startswith("_") else module_dict
        target[f.__name__] = f
        for alias in s["aliases"]:
            (internal_dict if alias.startswith("_") else module_dict)[alias] = f
