"""Gluon parameters (MXNet 1.x ``mxnet.gluon.parameter``): Parameter, Constant, ParameterDict.

A Parameter owns one NDArray (and one gradient buffer) per context. Shapes may be partly unknown
(0 or -1 dims); such parameters with ``allow_deferred_init`` are initialized at the first forward,
when the owning block infers the shape from the input through the core's symbolic shape inference.
"""
import re
import warnings
from collections import OrderedDict

import numpy as np

from ..base import MXError
from ..context import Context, cpu, current_context
from .. import autograd
from .. import initializer
from .. import ndarray as nd
from ..ndarray.ndarray import NDArray, dtype_code

__all__ = ["DeferredInitializationError", "Parameter", "Constant", "ParameterDict", "tensor_types"]

tensor_types = (NDArray,)


class DeferredInitializationError(MXError, RuntimeError):
    """A parameter whose initialization was deferred (unknown shape) was used before the first
    forward pass inferred its shape.

    Run the block once on data (or call ``infer_shape``) before reading the parameter.
    """


def _shape_known(shape):
    return shape is not None and all(int(d) > 0 for d in shape)


def _dtype_name(dtype):
    from ..ndarray.ndarray import _NAMES
    return _NAMES[dtype_code(dtype)]


def _ctx_list(ctx):
    if ctx is None:
        return [current_context()]
    if isinstance(ctx, Context):
        return [ctx]
    ctx = list(ctx)
    for c in ctx:
        if not isinstance(c, Context):
            raise TypeError("ctx must be a Context or a list of Contexts, got %r" % (c,))
    return ctx


class _InvalidStypeError(ValueError, AssertionError):
    """An unknown storage type: a ValueError, and an AssertionError as MXNet raises (it asserts)."""


class Parameter:
    """A weight of a Block: one array per context, a gradient buffer, and how to initialize it
    (MXNet 1.x ``gluon.Parameter``).

    Parameters
    ----------
    name : str
        Full name (prefix included), e.g. ``'dense0_weight'``.
    grad_req : {'write', 'add', 'null'}, default 'write'
        How gradients are stored ('null': not trained).
    shape : tuple of int, optional
        The shape; 0 (or -1) marks dimensions inferred at the first forward.
    dtype : numpy dtype, default float32
        Element type.
    lr_mult, wd_mult : float, default 1.0
        Multipliers of the learning rate and weight decay for this parameter.
    init : Initializer or str, optional
        Its initializer (default: the one given to ``initialize``).
    allow_deferred_init : bool, default False
        Allow ``initialize`` before the shape is known.
    differentiable : bool, default True
        False sets ``grad_req='null'``.
    stype : str, default 'default'
        Storage of the value: 'default' or 'row_sparse' (the value then lives in the Trainer's
        kvstore: read it with ``row_sparse_data(row_ids)``; 'csr' raises MXNotSupportedError).
    grad_stype : str, default 'default'
        Storage of the gradient: 'default', 'row_sparse' (e.g. Embedding(sparse_grad=True)) or
        'csr'. Optimizers update only a row_sparse gradient's rows when lazy_update is set.

    Example
    -------
    >>> p = mx.gluon.Parameter("w", shape=(2, 3), init=mx.init.One())
    >>> p.initialize()
    >>> float(p.data().asnumpy().sum()), p.grad().shape
    (6.0, (2, 3))
    """

    def __init__(self, name, grad_req="write", shape=None, dtype=np.float32, lr_mult=1.0,
                 wd_mult=1.0, init=None, allow_deferred_init=False, differentiable=True,
                 stype="default", grad_stype="default"):
        self._var = None
        self._data = None
        self._grad = None
        self._ctx_list = None
        self._deferred_init = ()
        self._differentiable = differentiable
        self._allow_deferred_init = allow_deferred_init
        self._grad_req = None
        if isinstance(shape, int):
            shape = (shape,)
        self._shape = None if shape is None else tuple(int(d) for d in shape)
        self.name = name
        self._dtype = dtype
        self.lr_mult = lr_mult
        self.wd_mult = wd_mult
        self.grad_req = grad_req
        self.init = init
        for what, st in (("stype", stype), ("grad_stype", grad_stype)):
            if st not in ("default", "row_sparse", "csr"):
                raise _InvalidStypeError("Parameter '%s': %s must be 'default', 'row_sparse' or 'csr', got %r"
                                 % (name, what, st))
        if stype == "csr":
            from ..base import MXNotSupportedError
            raise MXNotSupportedError("Parameter '%s': stype='csr': parameter values are dense or "
                                      "row_sparse" % name)
        self._stype = stype
        self._grad_stype = grad_stype
        self._trainer = None  # a row_sparse parameter's rows come from its Trainer's kvstore

    def __repr__(self):
        return "Parameter %s (shape=%s, dtype=%s)" % (self.name, self.shape, _dtype_name(self.dtype)
                                                       if self.dtype is not None else None)

    # ------------------------------------------------------------------ attributes
    @property
    def grad_req(self):
        return self._grad_req

    @grad_req.setter
    def grad_req(self, req):
        if req not in ("write", "add", "null"):
            raise ValueError("grad_req must be one of 'write', 'add', or 'null', but got '%s'" % (req,))
        if not self._differentiable:
            req = "null"
        if self._grad_req == req:
            return
        self._grad_req = req
        if req == "null" and self._grad is not None:
            self._grad = None
            self._data = [d.detach() for d in self._data]
        elif self._data is not None:
            self._init_grad()

    @property
    def dtype(self):
        return self._dtype

    @dtype.setter
    def dtype(self, dtype):
        self._dtype = dtype

    @property
    def shape(self):
        return self._shape

    @shape.setter
    def shape(self, new_shape):
        if new_shape is None:
            self._shape = None
            return
        new_shape = tuple(int(d) for d in new_shape)
        if self._shape is None:
            self._shape = new_shape
            return
        ok = len(self._shape) == len(new_shape) and all(
            i <= 0 or i == j for i, j in zip(self._shape, new_shape))
        if not ok:
            raise ValueError("Expected shape %s is incompatible with given shape %s for Parameter '%s'"
                             % (self._shape, new_shape, self.name))
        self._shape = new_shape

    @property
    def stype(self):
        return self._stype

    @property
    def grad_stype(self):
        return self._grad_stype

    # ------------------------------------------------------------------ access
    def _check_and_get(self, arr_list, ctx):
        if arr_list is not None:
            if ctx is list:
                return arr_list
            if ctx is None:
                if len(arr_list) == 1:
                    return arr_list[0]
                ctx = current_context()
            for c, a in zip(self._ctx_list, arr_list):
                if c == ctx:
                    return a
            raise RuntimeError("Parameter '%s' was not initialized on context %s. It was only "
                               "initialized on %s." % (self.name, ctx, self._ctx_list))
        if self._deferred_init:
            raise DeferredInitializationError(
                "Parameter '%s' has not been initialized yet because initialization was deferred. "
                "Actual initialization happens during the first forward pass. Please pass one batch "
                "of data through the network before accessing Parameters. You can also avoid "
                "deferred initialization by specifying in_units, num_features, etc., for network "
                "layers." % self.name)
        raise RuntimeError(
            "Parameter '%s' has not been initialized. Note that you should initialize parameters "
            "and create Trainer with Block.collect_params() instead of Block.params because the "
            "later does not include Parameters of nested child Blocks" % self.name)

    def _check_dense(self, what):
        if self._stype != "default":
            raise RuntimeError("Cannot return a copy of Parameter '%s' via %s() because its storage "
                               "type is %s. Please use row_sparse_data() instead."
                               % (self.name, what, self._stype))

    def data(self, ctx=None):
        """The array on ctx (the only one when ctx is None and there is one context)."""
        self._check_dense("data")
        return self._check_and_get(self._data, ctx)

    def list_data(self):
        self._check_dense("list_data")
        return self._check_and_get(self._data, list)

    def _set_trainer(self, trainer):
        if self._stype != "default" and self._trainer is not None and trainer is not None \
                and self._trainer is not trainer:
            raise RuntimeError("Failed to set the trainer for Parameter '%s' because it was already "
                               "set. More than one trainers for a %s Parameter is not supported."
                               % (self.name, self._stype))
        self._trainer = trainer

    def _row_sparse_pull(self, ctx, row_id, full_idx=False):
        if self._trainer is None:
            raise RuntimeError("Cannot get row_sparse data for Parameter '%s' when no Trainer is "
                               "created with it." % self.name)
        out = self._check_and_get(self._data, ctx)
        self._trainer._row_sparse_pull(self, out, row_id, full_idx)
        return out

    def row_sparse_data(self, row_id):
        """The rows `row_id` (an NDArray of row indices) of a row_sparse parameter, pulled from
        its Trainer's kvstore into the array on row_id's context (a RowSparseNDArray holding only
        those rows: MXNet's SparseEmbedding reads its weight this way)."""
        if self._stype != "row_sparse":
            raise RuntimeError("Cannot return copies of Parameter '%s' on all contexts via "
                               "row_sparse_data() because its storage type is %s. Please use "
                               "data() instead." % (self.name, self._stype))
        return self._row_sparse_pull(row_id.context, row_id)

    def list_row_sparse_data(self, row_id):
        """row_sparse_data on every context."""
        if self._stype != "row_sparse":
            raise RuntimeError("Cannot return copies of Parameter '%s' on all contexts via "
                               "list_row_sparse_data() because its storage type is %s. Please use "
                               "data() instead." % (self.name, self._stype))
        return [self._row_sparse_pull(c, row_id) for c in self.list_ctx()]

    def _finish_overlap(self):
        # A dist Trainer may be reducing this gradient while backward runs: never hand out a
        # half-reduced array (the reductions of this step complete first).
        if self._trainer is not None and self._trainer._kvstore is not None:
            self._trainer._overlap_sync()

    def grad(self, ctx=None):
        if self._data is not None and self._grad is None:
            raise RuntimeError("Cannot get gradient array for Parameter '%s' because grad_req='null'"
                               % self.name)
        self._finish_overlap()
        return self._check_and_get(self._grad, ctx)

    def list_grad(self):
        if self._data is not None and self._grad is None:
            raise RuntimeError("Cannot get gradient array for Parameter '%s' because grad_req='null'"
                               % self.name)
        self._finish_overlap()
        return self._check_and_get(self._grad, list)

    def list_ctx(self):
        if self._data is None:
            if self._deferred_init:
                return self._deferred_init[1]
            raise RuntimeError("Parameter '%s' has not been initialized" % self.name)
        return list(self._ctx_list)

    # ------------------------------------------------------------------ initialization
    def initialize(self, init=None, ctx=None, default_init=None, force_reinit=False):
        """Allocate and initialize the arrays on ctx (deferred when the shape is unknown)."""
        if default_init is None:
            default_init = initializer.Uniform()
        if self._data is not None and not force_reinit:
            warnings.warn("Parameter '%s' is already initialized, ignoring. Set force_reinit=True to "
                          "re-initialize." % self.name, stacklevel=2)
            return
        self._data = self._grad = None
        ctx = _ctx_list(ctx)
        if init is None:
            init = default_init if self.init is None else self.init
        if not _shape_known(self.shape):
            if self._allow_deferred_init:
                self._deferred_init = (init, ctx, default_init, None)
                return
            raise ValueError("Cannot initialize Parameter '%s' because it has invalid shape: %s."
                             % (self.name, self.shape))
        self._deferred_init = (init, ctx, default_init, None)
        self._finish_deferred_init()

    def _finish_deferred_init(self):
        if not self._deferred_init:
            return
        init, ctx, default_init, data = self._deferred_init
        self._deferred_init = ()
        if not _shape_known(self.shape):
            self._deferred_init = (init, ctx, default_init, data)
            raise ValueError("Cannot initialize Parameter '%s' because it has invalid shape: %s. "
                             "Please specify in_units, in_channels, etc for `Block`s."
                             % (self.name, self.shape))
        with autograd.pause():
            if data is None:
                data = nd.zeros(self.shape, ctx=cpu(), dtype=self.dtype)
                initializer.create(default_init)(
                    initializer.InitDesc(self.name, {"__init__": init}), data)
            self._init_impl(data, ctx)

    def _init_impl(self, data, ctx_list):
        self._ctx_list = list(ctx_list)
        if self._stype != "default" and data.stype != self._stype:
            data = data.tostype(self._stype)
        self._data = [data.copyto(c) for c in self._ctx_list]
        self._init_grad()

    def _init_grad(self):
        if self.grad_req == "null":
            self._grad = None
            return
        if self._grad_stype == "default":
            self._grad = [nd.zeros(d.shape, ctx=d.context, dtype=d.dtype) for d in self._data]
        else:
            self._grad = [nd.sparse.zeros(self._grad_stype, d.shape, ctx=d.context, dtype=d.dtype)
                          for d in self._data]
        autograd.mark_variables(self._data, self._grad, self.grad_req)

    def _reduce(self):
        """The value as one array on cpu (the mean over contexts, as MXNet)."""
        if self._stype != "default":
            # The whole value lives in the Trainer's kvstore (row_sparse_data pulls rows of it).
            ctx = self._ctx_list[0]
            if self._trainer is not None:
                all_rows = nd.arange(self.shape[0], ctx=ctx, dtype="int64")
                return self._row_sparse_pull(ctx, all_rows, full_idx=True).copyto(cpu())
            return self._check_and_get(self._data, ctx).copyto(cpu())
        data = self.list_data()
        if len(data) == 1:
            return data[0].copyto(cpu())
        total = nd.add_n(*[d.copyto(cpu()) for d in data])
        return total / len(data)

    def _load_init(self, data, ctx, cast_dtype=False, dtype_source="current"):
        # new values while a kvstore runs the optimizer on the old ones: the Trainer drops the
        # store and rebuilds it from the loaded values at its next step (as MXNet)
        trainer = self._trainer
        if trainer is not None and trainer._kv_initialized and trainer._update_on_kvstore:
            trainer._reset_kvstore()
        if self.shape is not None:
            ok = len(self.shape) == len(data.shape) and all(
                s <= 0 or s == d for s, d in zip(self.shape, data.shape))
            if not ok:
                raise ValueError("Failed loading Parameter '%s' from saved params: shape incompatible "
                                 "expected %s vs saved %s" % (self.name, self.shape, data.shape))
            self.shape = data.shape
        else:
            self.shape = data.shape
        if self.dtype is not None and dtype_code(self.dtype) != data._code():
            if cast_dtype:
                if dtype_source == "current":
                    data = data.astype(self.dtype)
                elif dtype_source == "saved":
                    self.dtype = data.dtype
                else:
                    raise ValueError("dtype_source must be 'current' or 'saved', got %r" % (dtype_source,))
            else:
                raise ValueError("Failed loading Parameter '%s' from saved params: dtype incompatible "
                                 "expected %s vs saved %s. Set cast_dtype=True to cast the dtype of "
                                 "saved params." % (self.name, _dtype_name(self.dtype),
                                                    _dtype_name(data.dtype)))
        if isinstance(ctx, Context):
            ctx = [ctx]
        if self._data is None:
            if self._deferred_init:
                if ctx is None:
                    ctx = self._deferred_init[1]
                self._deferred_init = ()
            elif ctx is None:
                ctx = [cpu()]
            with autograd.pause():
                self._init_impl(data, ctx)
        else:
            if ctx is not None and set(ctx) != set(self.list_ctx()):
                raise ValueError("Failed to load Parameter '%s' on %s because it was previously "
                                 "initialized on %s." % (self.name, ctx, self.list_ctx()))
            self.set_data(data)
        self._deferred_init = ()

    def set_data(self, data):
        """Set the value on every context (in place, so bound executors see it)."""
        if not isinstance(data, NDArray):
            data = nd.array(data, dtype=self.dtype)
        self.shape = data.shape
        if self._data is None:
            if not self._deferred_init:
                raise RuntimeError("Parameter '%s' has not been initialized" % self.name)
            self._deferred_init = self._deferred_init[:3] + (data,)
            return
        if self._stype != "default" and self._trainer is not None and self._trainer._kv_initialized:
            raise RuntimeError("Cannot set the value of row_sparse Parameter '%s' after its Trainer "
                               "initialised the kvstore with it (the kvstore holds the value)" % self.name)
        for arr in self._data:
            if arr.shape != data.shape:
                raise ValueError("Parameter '%s': set_data got shape %s, the parameter has %s"
                                 % (self.name, data.shape, arr.shape))
            with autograd.pause():
                data.copyto(arr)

    def zero_grad(self):
        if self._grad is None:
            return
        self._finish_overlap()
        with autograd.pause():
            for g in self._grad:
                g[:] = 0

    def reset_ctx(self, ctx):
        """Move the parameter (value kept) to other contexts."""
        ctx = _ctx_list(ctx)
        if self._data is not None:
            data = self._reduce()
            with autograd.pause():
                self._init_impl(data, ctx)
        elif self._deferred_init:
            init, _, default_init, data = self._deferred_init
            self._deferred_init = (init, ctx, default_init, data)
        else:
            raise ValueError("Cannot reset context for Parameter '%s' because it has not been "
                             "initialized." % self.name)

    def cast(self, dtype):
        """Cast value and gradient to dtype."""
        self._dtype = dtype
        if self._data is None:
            return
        with autograd.pause():
            self._data = [d.astype(dtype) for d in self._data]
            if self._grad is None:
                return
            self._init_grad()

    def var(self):
        """The symbol variable of this parameter (name, shape, dtype, multipliers, init)."""
        if self._var is None:
            from .. import symbol
            init = self.init
            if init is not None and not isinstance(init, (str, initializer.Initializer)):
                init = None
            self._var = symbol.var(self.name, shape=self.shape, dtype=self.dtype, lr_mult=self.lr_mult,
                                   wd_mult=self.wd_mult, init=init)
        return self._var



class _ConstantInit(initializer.Initializer):
    """Copies a fixed value (used by Constant)."""

    def __init__(self, value):
        super().__init__(value=value.asnumpy().tolist())
        self._value = value

    def _init_weight(self, _, arr):
        self._value.copyto(arr)


class Constant(Parameter):
    """A parameter holding a fixed value that is never updated (``grad_req='null'``).

    Parameters
    ----------
    name : str
        Its name.
    value : NDArray or array_like
        The value (its shape and dtype become the parameter's).
    """

    def __init__(self, name, value):
        if not isinstance(value, NDArray):
            value = nd.array(value)
        self.value = value
        super().__init__(name, grad_req="null", shape=value.shape, dtype=value.dtype,
                         init=_ConstantInit(value))

    def __repr__(self):
        return "Constant %s (shape=%s, dtype=%s)" % (self.name, self.shape, _dtype_name(self.dtype))

    @property
    def grad_req(self):
        return "null"

    @grad_req.setter
    def grad_req(self, req):
        if req != "null":
            warnings.warn("Constant parameter '%s' does not support grad_req other than 'null', and "
                          "new value '%s' is ignored." % (self.name, req))
        self._grad_req = "null"


class ParameterDict:
    """An ordered dict of Parameters sharing a name prefix (MXNet 1.x ``gluon.ParameterDict``);
    ``block.collect_params()`` returns one.

    ``get(name, **kwargs)`` creates or retrieves ``prefix + name``; ``initialize``, ``zero_grad``,
    ``reset_ctx``, ``setattr``, ``save`` and ``load`` act on all parameters.

    Parameters
    ----------
    prefix : str, default ''
        Prefix of the names created by ``get``.
    shared : ParameterDict, optional
        Look names up here first (parameter sharing).
    """

    def __init__(self, prefix="", shared=None):
        self._prefix = prefix
        self._params = OrderedDict()
        self._shared = shared

    def __repr__(self):
        body = "\n".join("  %r" % p for p in self.values())
        return "%s(\n%s\n)" % (self._prefix + " " if self._prefix else "", body)

    def __getitem__(self, key):
        return self._params[key]

    def __iter__(self):
        return iter(self._params)

    def __len__(self):
        return len(self._params)

    def __contains__(self, key):
        return key in self._params

    def items(self):
        return self._params.items()

    def keys(self):
        return self._params.keys()

    def values(self):
        return self._params.values()

    @property
    def prefix(self):
        return self._prefix

    def _get_impl(self, name):
        if name in self._params:
            return self._params[name]
        if self._shared is not None and name in self._shared._params:
            self._params[name] = self._shared._params[name]
            return self._shared._params[name]
        return None

    def get(self, name, **kwargs):
        """The Parameter prefix+name, created with kwargs if it does not exist yet (an existing one
        must agree with kwargs; unknown shape dims are filled in)."""
        name = self._prefix + name
        param = self._get_impl(name)
        if param is None:
            param = Parameter(name, **kwargs)
            self._params[name] = param
            return param
        for k, v in kwargs.items():
            if not hasattr(param, k) or getattr(param, k) is None:
                setattr(param, k, v)
                continue
            existing = getattr(param, k)
            if v is None:
                continue
            if k == "shape" and existing is not None:
                v = tuple(v) if not isinstance(v, int) else (v,)
                if len(v) == len(existing):
                    merged = []
                    ok = True
                    for a, b in zip(v, existing):
                        if a > 0 and b > 0 and a != b:
                            ok = False
                        merged.append(a if a > 0 else b)
                    if ok:
                        param._shape = tuple(merged)
                        continue
            elif k == "dtype" and dtype_code(v) == dtype_code(existing):
                continue
            if k == "init":
                continue
            if existing != v:
                raise ValueError("Cannot retrieve Parameter '%s' because desired attribute does not "
                                 "match with stored for attribute '%s': desired '%s' vs stored '%s'."
                                 % (name, k, v, existing))
        return param

    def get_constant(self, name, value=None):
        name = self._prefix + name
        param = self._get_impl(name)
        if param is None:
            if value is None:
                raise KeyError("No constant named '%s'. Please specify value if you want to create a "
                               "new constant." % name)
            param = Constant(name, value)
            self._params[name] = param
        elif value is not None:
            if not isinstance(param, Constant):
                raise TypeError("Parameter '%s' already exists but it is not a constant." % name)
        return param

    def update(self, other, select=None):
        """Copy the Parameters of another ParameterDict (names must not clash with different ones)."""
        pattern = re.compile(select) if select is not None else None
        for k, v in other.items():
            if pattern is not None and not pattern.match(k):
                continue
            if k in self._params:
                if self._params[k] is not v:
                    raise ValueError("Cannot update self with other because they have different "
                                     "Parameters with the same name '%s'" % k)
            else:
                self._params[k] = v

    def initialize(self, init=None, ctx=None, verbose=False, force_reinit=False):
        """Initialize every parameter (init is the default for those without their own)."""
        if init is None:
            init = initializer.Uniform()
        if verbose and hasattr(init, "set_verbosity"):
            init.set_verbosity(verbose=verbose)
        for v in self.values():
            v.initialize(None, ctx, init, force_reinit=force_reinit)

    def zero_grad(self):
        for v in self.values():
            v.zero_grad()

    def reset_ctx(self, ctx):
        for v in self.values():
            v.reset_ctx(ctx)

    def list_ctx(self):
        s = []
        for p in self.values():
            for c in p.list_ctx():
                if c not in s:
                    s.append(c)
        return s

    def setattr(self, name, value):
        """Set an attribute (e.g. grad_req, lr_mult) on every parameter."""
        for p in self.values():
            setattr(p, name, value)

    def save(self, filename, strip_prefix=""):
        arg_dict = {}
        for param in self.values():
            if not param.name.startswith(strip_prefix):
                raise ValueError("Prefix '%s' is to be striped before saving, but Parameter's name '%s' "
                                 "does not start with '%s'. this may be due to your Block shares "
                                 "parameters from other Blocks or you forgot to use 'with name_scope()' "
                                 "when creating child blocks." % (strip_prefix, param.name, strip_prefix))
            arg_dict[param.name[len(strip_prefix):]] = param._reduce()
        nd.save(filename, arg_dict)

    def load(self, filename, ctx=None, allow_missing=False, ignore_extra=False, restore_prefix="",
             cast_dtype=False, dtype_source="current"):
        """Load what save wrote (or an MXNet checkpoint: 'arg:'/'aux:' are stripped)."""
        if restore_prefix:
            for name in self.keys():
                if not name.startswith(restore_prefix):
                    raise ValueError("restore_prefix is '%s' but Parameters name '%s' does not start "
                                     "with '%s'" % (restore_prefix, name, restore_prefix))
        loaded = nd.load(filename)
        if not isinstance(loaded, dict):
            raise ValueError("%s holds an unnamed list of arrays, not named parameters" % filename)
        arg_dict = {}
        for k, v in loaded.items():
            if k.startswith("arg:") or k.startswith("aux:"):
                k = k[4:]
            arg_dict[restore_prefix + k] = v
        if not allow_missing:
            for name in self.keys():
                if name not in arg_dict:
                    raise ValueError("Parameter '%s' is missing in file '%s', which contains parameters: "
                                     "%s. Please make sure source and target networks have the same "
                                     "prefix. Set allow_missing=True to ignore missing parameters."
                                     % (name[len(restore_prefix):], filename,
                                        _brief_names(arg_dict.keys())))
        for name, v in arg_dict.items():
            if name not in self._params:
                if not ignore_extra:
                    raise ValueError("Parameter '%s' loaded from file '%s' is not present in "
                                     "ParameterDict, choices are: %s. Set ignore_extra to True to "
                                     "ignore. Please make sure source and target networks have the same "
                                     "prefix." % (name[len(restore_prefix):], filename,
                                                  _brief_names(self._params.keys())))
                continue
            self[name]._load_init(v, ctx, cast_dtype=cast_dtype, dtype_source=dtype_source)


def _brief_names(names):
    names = list(names)
    s = ", ".join(names[:10])
    if len(names) > 10:
        s += ", ... (%d in all)" % len(names)
    return s
