"""mx.sym: symbolic graphs over the core's graph layer (MXNet 1.x API)."""
import json
import numbers
import os

import numpy as np

from ..base import check_call, ffi, lib, py_str, c_str
from ..ndarray import _internal_ops as _ops
from ..name import NameManager
from ..attribute import AttrScope

__all__ = ["Symbol", "var", "Variable", "Group", "load", "load_json", "fromjson"]

_free = lib.mx_symbol_free


def _wrap(handle):
    s = Symbol.__new__(Symbol)
    s.handle = handle
    return s


def _cstrs(items):
    keep = [ffi.new("char[]", c_str(x)) for x in items]
    return keep, ffi.new("char *[]", keep)


class Symbol:
    """A symbolic graph with one or more outputs (MXNet 1.x ``mx.sym.Symbol``).

    Build graphs from variables (:func:`var`) and operators (``mx.sym.FullyConnected(...)``, every
    registry operator); arithmetic on symbols adds nodes. Inputs not given become variables named
    ``<node>_<input>`` (``fc1_weight``). ``infer_shape`` derives all shapes from some input shapes,
    ``simple_bind`` allocates an executor, ``tojson``/``save`` write MXNet's ``-symbol.json``.

    Parameters
    ----------
    handle : cdata
        An owned ``mx_symbol_t`` handle (internal).

    Example
    -------
    >>> data = mx.sym.var("data")
    >>> net = mx.sym.FullyConnected(data, num_hidden=4, name="fc1")
    >>> net.list_arguments()
    ['data', 'fc1_weight', 'fc1_bias']
    >>> arg_shapes, out_shapes, _ = net.infer_shape(data=(2, 3))
    >>> arg_shapes, out_shapes
    ([(2, 3), (4, 3), (4,)], [(2, 4)])
    """

    __slots__ = ("handle", "__weakref__")

    def __init__(self, handle):
        self.handle = handle

    def __del__(self):
        h = getattr(self, "handle", None)
        if h is not None and _free is not None:
            self.handle = ffi.NULL  # released exactly once; later use is a clear NULL-handle error
            if h != ffi.NULL:
                _free(h)

    # ------------------------------------------------------------------ structure
    def _list(self, kind):
        n = ffi.new("int *")
        names = ffi.new("const char ***")
        check_call(lib.mx_symbol_list(self.handle, kind, n, names))
        return [py_str(names[0][i]) for i in range(n[0])]

    def list_arguments(self):
        """Names of the graph's arguments (inputs and parameters), in graph order."""
        return self._list(0)

    def list_outputs(self):
        """Names of the outputs (``<node>_output``...)."""
        return self._list(1)

    def list_auxiliary_states(self):
        """Names of the auxiliary states (e.g. BatchNorm's ``moving_mean``/``moving_var``)."""
        return self._list(2)

    def list_inputs(self):
        """Names of all inputs: the arguments and the auxiliary states."""
        return self._list(3)

    @property
    def name(self):
        if len(self) != 1:
            return None
        p = ffi.new("const char **")
        check_call(lib.mx_symbol_name(self.handle, p))
        return py_str(p[0])

    def __len__(self):
        n = ffi.new("int *")
        check_call(lib.mx_symbol_num_outputs(self.handle, n))
        return n[0]

    num_outputs = property(__len__)

    def __getitem__(self, index):
        if isinstance(index, str):
            names = self.list_outputs()
            if index not in names:
                raise ValueError("no output named %r (outputs: %s)" % (index, names))
            index = names.index(index)
        if not isinstance(index, numbers.Integral):
            raise TypeError("symbol index must be an int or an output name")
        n = len(self)
        if index < -n or index >= n:
            raise IndexError("symbol output index %d is out of range for %d output(s)" % (index, n))
        if index < 0:
            index += n
        out = ffi.new("mx_symbol_t *")
        check_call(lib.mx_symbol_get_output(self.handle, int(index), out))
        return _wrap(out[0])

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def get_internals(self):
        """A grouped symbol of every node's outputs (pick one with ``internals['fc1_output']``)."""
        out = ffi.new("mx_symbol_t *")
        check_call(lib.mx_symbol_get_internals(self.handle, out))
        return _wrap(out[0])

    def get_children(self):
        """The inputs of this symbol's head node, grouped (None for a variable). For a group, the
        inputs of each output's node in turn, each node once (MXNet's order)."""
        out = ffi.new("mx_symbol_t *")
        check_call(lib.mx_symbol_get_children(self.handle, out))
        return None if out[0] == ffi.NULL else _wrap(out[0])

    def __repr__(self):
        name = self.name
        return "<Symbol %s>" % (name if name is not None else "group [%s]" % ", ".join(self.list_outputs()))

    def __copy__(self):
        return load_json(self.tojson())

    def __getstate__(self):
        return {"handle": self.tojson()}  # pickled as MXNet does: the graph JSON

    def __setstate__(self, state):
        s = load_json(state["handle"])
        self.handle = s.handle
        s.handle = None

    def __bool__(self):
        from ..base import NotImplementedForSymbol
        raise NotImplementedForSymbol(self.__bool__, "bool")

    def __abs__(self):
        from . import abs as _abs
        return _abs(self)

    def __deepcopy__(self, memo):
        return self.__copy__()

    # ------------------------------------------------------------------ attributes
    def attr(self, key):
        """The value of an attribute of this symbol's node.

        Parameters
        ----------
        key : str
            Attribute name, e.g. ``'__lr_mult__'``.

        Returns
        -------
        str or None
        """
        p = ffi.new("const char **")
        check_call(lib.mx_symbol_get_attr(self.handle, c_str(key), p))
        return None if p[0] == ffi.NULL else py_str(p[0])

    def _set_attr(self, **kwargs):
        for k, v in kwargs.items():
            check_call(lib.mx_symbol_set_attr(self.handle, c_str(k), c_str(str(v))))

    def list_attr(self, recursive=False):
        """The attributes of this node (or of every node).

        Parameters
        ----------
        recursive : bool, default False
            Include every node, with keys ``<node>$<attr>``.

        Returns
        -------
        dict of str to str
        """
        p = ffi.new("const char **")
        check_call(lib.mx_symbol_list_attr(self.handle, int(recursive), p))
        return json.loads(py_str(p[0]))

    def attr_dict(self):
        """The attributes of every node, as ``{node name: {attr: value}}``."""
        return self.list_attr(recursive=True)

    # ------------------------------------------------------------------ serialisation
    def tojson(self):
        """The graph as MXNet's JSON (the contents of a ``-symbol.json`` file)."""
        p = ffi.new("const char **")
        check_call(lib.mx_symbol_to_json(self.handle, p))
        return py_str(p[0])

    def save(self, fname, remove_amp_cast=True):
        """Write the graph as JSON (MXNet's ``-symbol.json``).

        Parameters
        ----------
        fname : str or os.PathLike
            Output path.
        remove_amp_cast : bool, default True
            Accepted for MXNet compatibility.
        """
        check_call(lib.mx_symbol_save(self.handle, c_str(os.fspath(fname), "path")))

    # ------------------------------------------------------------------ inference
    def _infer(self, fn, args, kwargs, partial, conv):
        known = {}
        if args:
            names = self.list_arguments()
            for n, v in zip(names, args):
                if v is not None:
                    known[n] = v
        for k, v in kwargs.items():
            if v is not None:
                known[k] = v
        p = ffi.new("const char **")
        check_call(fn(self.handle, c_str(json.dumps({k: conv(v) for k, v in known.items()})), int(partial), p))
        return json.loads(py_str(p[0]))

    def infer_shape(self, *args, **kwargs):
        """Infer all argument, output and auxiliary shapes from some input shapes.

        Parameters
        ----------
        *args : tuple of int
            Shapes of the arguments in ``list_arguments()`` order (None for unknown).
        **kwargs : tuple of int
            Shapes by argument name, e.g. ``data=(32, 784)``.

        Returns
        -------
        (list of tuple, list of tuple, list of tuple)
            ``(arg_shapes, out_shapes, aux_shapes)``. As in MXNet, when the given shapes do not
            determine every shape the result is ``(None, None, None)`` with a warning naming the
            unknown arguments; inconsistent shapes raise MXShapeError.
        """
        r = self._infer(lib.mx_symbol_infer_shape, args, kwargs, True, lambda s: [int(d) for d in s])
        if not r.get("complete", True):
            import warnings
            unknown = [n for n, sh in zip(self.list_arguments(), r["arg_shapes"]) if sh is None]
            warnings.warn("Cannot decide shape for the following arguments (0s in shape means unknown "
                          "dimensions). Consider providing them as input:\n\t%s" % ", ".join(unknown),
                          stacklevel=2)
            return None, None, None
        tup = lambda lst: [tuple(x) for x in lst]  # noqa: E731
        return tup(r["arg_shapes"]), tup(r["out_shapes"]), tup(r["aux_shapes"])

    def _infer_shape_strict(self, *args, **kwargs):
        """infer_shape that raises MXShapeError naming the argument whose shape is unknown (for
        callers inside MX that need every shape)."""
        r = self._infer(lib.mx_symbol_infer_shape, args, kwargs, False, lambda s: [int(d) for d in s])
        tup = lambda lst: [tuple(x) for x in lst]  # noqa: E731
        return tup(r["arg_shapes"]), tup(r["out_shapes"]), tup(r["aux_shapes"])

    def infer_shape_partial(self, *args, **kwargs):
        """Like ``infer_shape``, but unknown shapes are returned as ``()`` instead of raising.

        Parameters
        ----------
        *args, **kwargs : tuple of int
            Known shapes, by position or name.

        Returns
        -------
        (list of tuple, list of tuple, list of tuple)
        """
        r = self._infer(lib.mx_symbol_infer_shape, args, kwargs, True, lambda s: [int(d) for d in s])
        tup = lambda lst: [tuple(x) if x is not None else () for x in lst]  # noqa: E731
        return tup(r["arg_shapes"]), tup(r["out_shapes"]), tup(r["aux_shapes"])

    def infer_type_partial(self, *args, **kwargs):
        """Like infer_type, with None for types that cannot be inferred."""
        from ..ndarray.ndarray import _NAMES, dtype_code
        r = self._infer(lib.mx_symbol_infer_type, args, kwargs, True, lambda t: _NAMES[dtype_code(t)])
        conv = lambda lst: [None if t is None else np.dtype(t).type if t != "bfloat16" else t  # noqa: E731
                            for t in lst]
        return conv(r["arg_types"]), conv(r["out_types"]), conv(r["aux_types"])

    def infer_type(self, *args, **kwargs):
        """Infer the dtypes of all arguments, outputs and auxiliary states from some input dtypes.

        Parameters
        ----------
        *args, **kwargs : numpy dtype or str
            Known dtypes, by position or name.

        Returns
        -------
        (list, list, list)
            numpy dtype types, or ``(None, None, None)`` when they cannot all be inferred.
        """
        from ..ndarray.ndarray import _NAMES, dtype_code
        r = self._infer(lib.mx_symbol_infer_type, args, kwargs, True, lambda t: _NAMES[dtype_code(t)])
        if not r["complete"]:
            return None, None, None
        conv = lambda lst: [np.dtype(t).type if t != "bfloat16" else t for t in lst]  # noqa: E731
        return conv(r["arg_types"]), conv(r["out_types"]), conv(r["aux_types"])

    # ------------------------------------------------------------------ binding
    def bind(self, ctx, args, args_grad=None, grad_req="write", aux_states=None, group2ctx=None,
             shared_exec=None):
        """Bind the graph to given arrays (MXNet's ``bind``).

        Parameters
        ----------
        ctx : Context
            The device.
        args : list or dict of NDArray
            Argument arrays (in ``list_arguments()`` order, or by name).
        args_grad : list or dict of NDArray, optional
            Gradient buffers.
        grad_req : str or list or dict, default 'write'
            ``'write'``, ``'add'`` or ``'null'``, globally or per argument.
        aux_states : list or dict of NDArray, optional
            Auxiliary state arrays.
        group2ctx, shared_exec : optional
            Accepted for MXNet compatibility.

        Returns
        -------
        Executor
        """
        from .executor import Executor
        return Executor._bind(self, ctx, args, args_grad, grad_req, aux_states)

    def simple_bind(self, ctx, grad_req="write", type_dict=None, stype_dict=None, group2ctx=None,
                    shared_arg_names=None, shared_exec=None, shared_buffer=None, **kwargs):
        """Allocate arrays from input shapes and bind (MXNet's ``simple_bind``).

        Parameters
        ----------
        ctx : Context
            The device.
        grad_req : str or list or dict, default 'write'
            Gradient requirement, globally or per argument.
        type_dict : dict of str to dtype, optional
            Input dtypes.
        stype_dict : dict of str to str, optional
            Storage types of inputs ('csr', 'row_sparse'; variables made with ``var(stype=...)``
            have theirs already): those arguments are bound to sparse arrays, which the ops
            reading them take through their sparse kernels (others densify them).
        group2ctx, shared_arg_names, shared_exec, shared_buffer : optional
            Accepted for MXNet compatibility.
        **kwargs : tuple of int
            Input shapes by name, e.g. ``data=(32, 784)``.

        Returns
        -------
        Executor
            With ``arg_dict``, ``grad_dict``, ``aux_dict``, ``forward``, ``backward``, ``outputs``.
        """
        from .executor import Executor
        return Executor._simple_bind(self, ctx, grad_req, type_dict, kwargs, stype_dict)

    def eval(self, ctx=None, **kwargs):
        """Evaluate the graph once on given input arrays.

        Parameters
        ----------
        ctx : Context, optional
            The device (default: the current context).
        **kwargs : NDArray
            Every argument, by name.

        Returns
        -------
        list of NDArray
            The outputs.

        Example
        -------
        >>> a, b = mx.sym.var("a"), mx.sym.var("b")
        >>> (a + 2 * b).eval(a=mx.nd.ones((2,)), b=mx.nd.ones((2,)))[0].asnumpy()
        array([3., 3.], dtype=float32)
        """
        from ..context import current_context
        ex = self.bind(ctx or current_context(), kwargs, grad_req="null")
        return ex.forward()

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other):
        return _arith(self, other, "elemwise_add", "_plus_scalar", None)

    __radd__ = __add__

    def __sub__(self, other):
        return _arith(self, other, "elemwise_sub", "_minus_scalar", None)

    def __rsub__(self, other):
        return _arith(self, other, None, "_rminus_scalar", None)

    def __mul__(self, other):
        return _arith(self, other, "elemwise_mul", "_mul_scalar", None)

    __rmul__ = __mul__

    def __truediv__(self, other):
        return _arith(self, other, "elemwise_div", "_div_scalar", None)

    def __rtruediv__(self, other):
        return _arith(self, other, None, "_rdiv_scalar", None)

    def __pow__(self, other):
        return _arith(self, other, "_power", "_power_scalar", None)

    def __rpow__(self, other):
        return _arith(self, other, None, "_rpower_scalar", None)

    def __mod__(self, other):
        return _arith(self, other, "_mod", "_mod_scalar", None)

    def __neg__(self):
        return _arith(self, -1.0, None, "_mul_scalar", None)

    def __eq__(self, other):
        return _arith(self, other, "_equal", "_equal_scalar", None)

    def __ne__(self, other):
        return _arith(self, other, "_not_equal", "_not_equal_scalar", None)

    def __gt__(self, other):
        return _arith(self, other, "_greater", "_greater_scalar", None)

    def __ge__(self, other):
        return _arith(self, other, "_greater_equal", "_greater_equal_scalar", None)

    def __lt__(self, other):
        return _arith(self, other, "_lesser", "_lesser_scalar", None)

    def __le__(self, other):
        return _arith(self, other, "_lesser_equal", "_lesser_equal_scalar", None)

    __hash__ = object.__hash__

    def __call__(self, *args, **kwargs):
        """A copy of this graph with argument variables replaced by other symbols (MXNet's
        composition): ``net2(fc3_data=net1)`` feeds ``net1`` where ``net2`` read ``fc3_data``;
        positional symbols replace the arguments in ``list_arguments()`` order. ``name`` renames
        the node of a symbol that is a single op on variables."""
        name = kwargs.pop("name", None)
        if args and kwargs:
            raise TypeError("compose only accept input Symbols either as positional or keyword "
                            "arguments, not both")
        for a in list(args) + list(kwargs.values()):
            if not isinstance(a, Symbol):
                raise TypeError("Compose expect `Symbol` as arguments, got %s" % type(a).__name__)
        if name is not None and not isinstance(name, str):
            raise TypeError("name must be a str, got %s" % type(name).__name__)
        keys = list(kwargs)
        kkeep, knames = _cstrs(keys)
        out = ffi.new("mx_symbol_t *")
        check_call(lib.mx_symbol_substitute(
            self.handle, len(args), ffi.new("mx_symbol_t[]", [a.handle for a in args]),
            len(keys), knames, ffi.new("mx_symbol_t[]", [kwargs[k].handle for k in keys]),
            c_str(name) if name else ffi.NULL, out))
        return _wrap(out[0])


def _compose(op_name, args, kwargs, name=None, attr=None, hint=None):
    # MXNet: keywords written as __name__ (__layout__, __lr_mult__, ...) are node attributes
    dunder = {k: kwargs.pop(k) for k in [k for k in kwargs if k.startswith("__") and k.endswith("__")]}
    if dunder:
        attr = dict(attr or {}, **{k: str(v) for k, v in dunder.items()})
    manager = NameManager.active()
    if manager is not None:
        name = manager.get(name, (hint or op_name).lower())  # an alias names by its own name
    scope = AttrScope.active()
    if scope is not None:
        attr = scope.get(attr)
    out = ffi.new("mx_symbol_t *")
    akeep, anames = _cstrs(list((attr or {}).keys()))
    vkeep, avals = _cstrs([str(v) for v in (attr or {}).values()])
    kw_names = [k for k, v in kwargs.items() if isinstance(v, Symbol)]
    params = {k: v for k, v in kwargs.items() if not isinstance(v, Symbol)}
    kkeep, kn = _cstrs(kw_names)
    check_call(lib.mx_symbol_compose(
        _ops.op_handle(op_name), _ops.params_handle(op_name, params), c_str(name) if name else ffi.NULL,
        len(args), ffi.new("mx_symbol_t[]", [a.handle for a in args]), len(kw_names), kn,
        ffi.new("mx_symbol_t[]", [kwargs[k].handle for k in kw_names]), len(akeep), anames, avals, out))
    sym = _wrap(out[0])
    if any(k[0] == op_name for k in _INPUT_VAR_INIT):
        _set_input_var_inits(sym, op_name, len(args), kwargs)
    return sym


# Initialisers MXNet attaches to inputs it creates as variables (FSetInputVarAttrOnCompose):
# PReLU's slope starts at 0.25, not at the default initialiser's value for *_gamma.
_INPUT_VAR_INIT = {("LeakyReLU", "gamma", 1): '["Constant", {"value": 0.25}]'}


def _set_input_var_inits(sym, op_name, n_positional, kwargs):
    for (op, input_name, index), init in _INPUT_VAR_INIT.items():
        if op != op_name or input_name in kwargs or n_positional > index:
            continue
        node = sym.name or (sym.list_outputs()[0].rsplit("_output", 1)[0] if len(sym) else None)
        internals = sym.get_internals()
        names = internals.list_outputs()
        var_name = "%s_%s" % (node, input_name)
        if var_name in names:
            var = internals[names.index(var_name)]
            if var.attr("__init__") is None:
                var._set_attr(__init__=init)


def _arith(lhs, rhs, op_array, op_scalar, _):
    if isinstance(rhs, Symbol):
        if op_array is None:
            return NotImplemented
        return _compose(op_array, [lhs, rhs], {})
    if isinstance(rhs, numbers.Number):
        return _compose(op_scalar, [lhs], {"scalar": float(rhs)})
    return NotImplemented


def var(name, attr=None, shape=None, lr_mult=None, wd_mult=None, dtype=None, init=None, stype=None, **kwargs):
    """A graph input (MXNet's ``mx.sym.var`` / ``mx.sym.Variable``).

    Parameters
    ----------
    name : str
        The variable's name.
    attr : dict of str to str, optional
        Extra attributes.
    shape : tuple of int, optional
        Shape hint (``__shape__``) for shape inference.
    lr_mult, wd_mult : float, optional
        Per-parameter learning-rate and weight-decay multipliers.
    dtype : str or numpy dtype, optional
        Dtype hint.
    init : Initializer or str, optional
        Initializer of this parameter (``__init__``).
    stype : str, optional
        Storage type of the input ('default', 'csr', 'row_sparse'; attribute ``__storage_type__``):
        ``simple_bind`` binds it to a sparse array.
    **kwargs
        Further attributes spelled ``__name__``.

    Returns
    -------
    Symbol
    """
    if not isinstance(name, str):
        raise TypeError("Variable name must be a str")
    scope = AttrScope.active()
    attrs = scope.get(attr) if scope is not None else dict(attr or {})
    if shape is not None:
        if isinstance(shape, numbers.Integral):  # MXNet accepts shape=(1) (an int)
            shape = (shape,)
        attrs["__shape__"] = str(tuple(shape))
    if lr_mult is not None:
        attrs["__lr_mult__"] = str(lr_mult)
    if wd_mult is not None:
        attrs["__wd_mult__"] = str(wd_mult)
    if dtype is not None:
        from ..ndarray.ndarray import _NAMES, dtype_code
        attrs["__dtype__"] = str(dtype_code(dtype))
    if init is not None:
        attrs["__init__"] = init if isinstance(init, str) else init.dumps()
    if stype is not None:
        codes = {"default": 0, "row_sparse": 1, "csr": 2}  # MXNet's storage type numbers
        if stype not in codes:
            raise ValueError("Variable '%s': stype must be 'default', 'row_sparse' or 'csr', got %r"
                             % (name, stype))
        attrs["__storage_type__"] = str(codes[stype])
    for k, v in kwargs.items():
        if k.startswith("__") and k.endswith("__"):
            attrs[k] = str(v)
        else:
            raise ValueError("Variable: unknown argument %r (attributes are spelled __name__)" % k)
    keys, vals = list(attrs), [attrs[k] for k in attrs]
    kk, ka = _cstrs(keys)
    vk, va = _cstrs(vals)
    out = ffi.new("mx_symbol_t *")
    check_call(lib.mx_symbol_variable(c_str(name), len(keys), ka, va, out))
    return _wrap(out[0])


Variable = var


def Group(symbols):
    """One symbol with the outputs of several symbols.

    Parameters
    ----------
    symbols : list of Symbol
        The symbols (non-empty).

    Returns
    -------
    Symbol

    Example
    -------
    >>> x = mx.sym.var("x")
    >>> g = mx.sym.Group([mx.sym.exp(x, name="e"), mx.sym.log(x, name="l")])
    >>> g.list_outputs()
    ['e_output', 'l_output']
    """
    symbols = list(symbols)
    if not symbols or not all(isinstance(s, Symbol) for s in symbols):
        raise TypeError("Group expects a non-empty list of Symbols")
    out = ffi.new("mx_symbol_t *")
    check_call(lib.mx_symbol_group(len(symbols), ffi.new("mx_symbol_t[]", [s.handle for s in symbols]), out))
    return _wrap(out[0])


def load_json(json_str):
    """A symbol from MXNet's JSON (e.g. the contents of a ``-symbol.json`` file).

    Parameters
    ----------
    json_str : str
        The JSON text.

    Returns
    -------
    Symbol
    """
    out = ffi.new("mx_symbol_t *")
    check_call(lib.mx_symbol_from_json(c_str(json_str), out))
    return _wrap(out[0])


fromjson = load_json


def load(fname):
    """A symbol from a ``-symbol.json`` file written by MX or MXNet.

    Parameters
    ----------
    fname : str or os.PathLike
        The file.

    Returns
    -------
    Symbol
    """
    out = ffi.new("mx_symbol_t *")
    check_call(lib.mx_symbol_load(c_str(os.fspath(fname), "path"), out))
    return _wrap(out[0])


def _is_sym(x):
    return isinstance(x, Symbol)


def make_symbol_function(name, schema, alias=None):
    input_names = list(schema["inputs"]) + list(schema["aux"])
    param_names = [p["name"] for p in schema["params"]]
    variadic = schema["variadic_input"]
    count_param = schema["variadic_count_param"]
    key_var_num_args = "num_args" if (not variadic and "num_args" in param_names) else None

    def sym_function(*args, **kwargs):
        sym_name = kwargs.pop("name", None)
        attr = kwargs.pop("attr", None)
        if variadic:
            args = list(args)
            if len(args) == 1 and isinstance(args[0], (list, tuple)):
                args = list(args[0])
            for a in args:
                if not isinstance(a, Symbol):
                    raise TypeError("%s: positional arguments must be Symbols, got %s" % (name, type(a).__name__))
            if variadic and count_param and count_param not in kwargs:
                kwargs[count_param] = len(args)
            return _compose(name, args, kwargs, sym_name, attr, alias)
        # inputs positionally or by name, then parameters positionally in registry order;
        # named inputs stay keywords so the core binds them by name
        n_pos = 0
        # inputs named only at call time (UpSampling, BilinearResize2D): leading Symbols are inputs
        max_in = len(input_names) if input_names else len(args)
        # ops whose input count is the parameter num_args (UpSampling): as MXNet, num_args
        # defaults to the number of Symbols given
        count_inputs = key_var_num_args and key_var_num_args not in kwargs
        if count_inputs:
            max_in = len(args)
        while n_pos < len(args) and n_pos < max_in and (args[n_pos] is None or _is_sym(args[n_pos])):
            n_pos += 1
        if count_inputs and n_pos > 0:
            kwargs[key_var_num_args] = n_pos
        positional = [a for a in args[:n_pos]]
        if n_pos < len(args):
            if any(_is_sym(a) for a in args[n_pos:]):
                raise TypeError("%s: takes %d inputs %s, got more Symbols" % (name, len(input_names), input_names))
            from ..ndarray.op_args import split_args
            split_args(name, [], param_names, args[n_pos:], kwargs, _is_sym)
        while positional and positional[-1] is None:
            positional.pop()
        if any(a is None for a in positional):
            # a None in the middle: pass what follows by name
            named = {input_names[i]: a for i, a in enumerate(positional) if a is not None}
            positional = []
            for k, v in named.items():
                if k in kwargs:
                    raise TypeError("%s: got multiple values for input '%s'" % (name, k))
                kwargs[k] = v
        for k, v in list(kwargs.items()):
            if k in input_names:
                if v is None:
                    del kwargs[k]
                elif not isinstance(v, Symbol):
                    raise TypeError("%s: input '%s' must be a Symbol, got %s" % (name, k, type(v).__name__))
            elif not param_names and not isinstance(v, Symbol):
                del kwargs[k]  # MXNet ignores keywords given to an op without parameters
        return _compose(name, positional, kwargs, sym_name, attr, alias)

    sym_function.__name__ = alias or name
    from ..ndarray.register import _docstring
    sym_function.__doc__ = _docstring(schema).replace("NDArray", "Symbol")
    return sym_function


def populate(module_dict, internal_dict):
    for name in _ops.list_ops():
        s = _ops.op_schema(name)
        f = make_symbol_function(name, s)
        target = internal_dict if name.startswith("_") else module_dict
        target[name] = f
        for alias in s["aliases"]:
            (internal_dict if alias.startswith("_") else module_dict)[alias] = \
                make_symbol_function(name, s, alias)
