"""Executor: a symbol bound to arrays, run by the core's graph executor."""
import json

import numpy as np

from ..base import check_call, ffi, lib, c_str
from ..context import Context
from ..ndarray.ndarray import NDArray, _wrap, _wrap_any, dtype_code, _NAMES

_GRAD_REQ = {"null": 0, "write": 1, "inplace": 2, "add": 3}
_free = lib.mx_executor_free


class Executor:
    """A symbol bound to arrays on a device: runs the graph forward and backward.

    Created by ``Symbol.simple_bind`` / ``Symbol.bind``. ``arg_dict``, ``grad_dict`` and ``aux_dict``
    map names to the bound arrays (write inputs into them), ``forward(is_train=False, **inputs)``
    returns ``outputs``, ``backward(out_grads=None)`` fills the gradient arrays. Memory is planned
    once at bind (in-place where safe); ``reshape`` rebinds for new input shapes.

    Parameters
    ----------
    handle : cdata
        An owned ``mx_executor_t`` (internal).
    symbol : Symbol
        The bound graph.
    ctx : Context
        The device.

    Example
    -------
    >>> x = mx.sym.var("x")
    >>> ex = (x * x).simple_bind(mx.cpu(), x=(2,))
    >>> ex.arg_dict["x"][:] = mx.nd.array([1.0, 3.0])
    >>> ex.forward(is_train=True)[0].asnumpy()
    array([1., 9.], dtype=float32)
    >>> ex.backward(mx.nd.ones((2,)))
    >>> ex.grad_dict["x"].asnumpy()
    array([2., 6.], dtype=float32)
    """

    def __init__(self, handle, symbol, ctx):
        self.handle = handle
        self._symbol = symbol
        self._ctx = ctx
        self._arg_names = symbol.list_arguments()
        self._aux_names = symbol.list_auxiliary_states()
        self.arg_arrays = self._arrays(1)
        self.grad_arrays = self._arrays(2)
        self.aux_arrays = self._arrays(3)
        self._outputs = None       # the core's outputs after a forward (same memory every run)
        self._placeholders = None  # outputs handed out before the first forward (MXNet allocates at bind)
        self._share_with = None    # reshape()d executors write the original's output arrays too
        self._monitor = None

    def __del__(self):
        h = getattr(self, "handle", None)
        if h is not None and _free is not None:
            self.handle = ffi.NULL  # released exactly once; later use is a clear NULL-handle error
            if h != ffi.NULL:
                _free(h)

    def _arrays(self, kind):
        n = ffi.new("int *")
        arr = ffi.new("mx_ndarray_t **")
        check_call(lib.mx_executor_arrays(self.handle, kind, n, arr))
        return [None if arr[0][i] == ffi.NULL else _wrap_any(arr[0][i]) for i in range(n[0])]

    @staticmethod
    def _reqs(grad_req, names):
        if isinstance(grad_req, str):
            reqs = [grad_req] * len(names)
        elif isinstance(grad_req, dict):
            reqs = [grad_req.get(n, "null") for n in names]
        else:
            reqs = list(grad_req)
        try:
            return [_GRAD_REQ[r] for r in reqs]
        except KeyError as e:
            raise ValueError("grad_req must be 'write', 'add' or 'null', got %s" % e) from None

    @classmethod
    def _bind(cls, symbol, ctx, args, args_grad, grad_req, aux_states):
        ctx = Context(ctx)
        arg_names = symbol.list_arguments()
        aux_names = symbol.list_auxiliary_states()

        def as_list(x, names, what, required=True):
            if x is None:
                return [None] * len(names)
            if isinstance(x, dict):
                missing = [n for n in names if n not in x]
                if missing and required:
                    raise ValueError("bind: %s missing for %s" % (what, missing))
                return [x.get(n) for n in names]
            x = list(x)
            if len(x) != len(names):
                raise ValueError("bind: %d %s given for %d names %s" % (len(x), what, len(names), names))
            return x
        args = as_list(args, arg_names, "arguments")
        grads = as_list(args_grad, arg_names, "gradients", required=False)
        aux = as_list(aux_states, aux_names, "auxiliary states")
        for n, a in zip(arg_names, args):
            if not isinstance(a, NDArray):
                raise TypeError("bind: argument '%s' must be an NDArray" % n)
        reqs = cls._reqs(grad_req, arg_names) if args_grad is not None else [0] * len(arg_names)
        reqs = [r if g is not None else 0 for r, g in zip(reqs, grads)]
        out = ffi.new("mx_executor_t *")
        check_call(lib.mx_executor_bind(
            symbol.handle, ctx.device_typeid, ctx.device_id, len(args), ffi.new("mx_ndarray_t[]", [a.handle for a in args]),
            ffi.new("mx_ndarray_t[]", [g.handle if g is not None else ffi.NULL for g in grads]),
            ffi.new("int[]", reqs), len(aux), ffi.new("mx_ndarray_t[]", [a.handle for a in aux]), out))
        return cls(out[0], symbol, ctx)

    @classmethod
    def _simple_bind(cls, symbol, ctx, grad_req, type_dict, shapes, stype_dict=None):
        ctx = Context(ctx)
        arg_names = symbol.list_arguments()
        overrides = {}
        if isinstance(grad_req, dict):  # MXNet: names not in the dict get no gradient
            overrides = {n: grad_req.get(n, "null") for n in arg_names}
            grad_req = "null"
        elif isinstance(grad_req, (list, tuple)):
            overrides = dict(zip(arg_names, grad_req))
            grad_req = "null"
        req = _GRAD_REQ.get(grad_req)
        if req is None:
            raise ValueError("grad_req must be 'write', 'add' or 'null', got %r" % (grad_req,))
        types = {k: _NAMES[dtype_code(v)] for k, v in (type_dict or {}).items()}
        # MXNet reads only tuple values as input shapes; other keywords (simple_bind(ctx, a=(2, 3),
        # axis=0, ...)) are ignored
        shapes = {k: v for k, v in shapes.items() if isinstance(v, (tuple, list))}
        out = ffi.new("mx_executor_t *")
        check_call(lib.mx_executor_simple_bind(
            symbol.handle, ctx.device_typeid, ctx.device_id,
            c_str(json.dumps({k: [int(d) for d in v] for k, v in shapes.items()})),
            c_str(json.dumps(types)), req, c_str(json.dumps(overrides)), out))
        ex = cls(out[0], symbol, ctx)
        stypes = _arg_stypes(symbol, arg_names, stype_dict)
        from ..ndarray import sparse as _sp
        reqs = [overrides.get(n, grad_req) if g is not None else "null" for n, g in zip(arg_names, ex.grad_arrays)]
        reqs = [r if isinstance(r, str) else {v: k for k, v in _GRAD_REQ.items()}[r] for r in reqs]
        if stypes:
            # Sparse inputs (stype_dict or sym.var(stype=...)): rebind with sparse arrays there, so
            # the ops reading them run their sparse kernels (the others densify, as MXNet's fallback).
            args = [_sp.zeros(stypes[n], a.shape, ctx=ctx, dtype=a.dtype) if n in stypes else a
                    for n, a in zip(arg_names, ex.arg_arrays)]
            ex = cls._bind(symbol, ctx, args, ex.grad_arrays, reqs, ex.aux_arrays)
        return ex._with_sparse_grads(reqs)

    def _with_sparse_grads(self, reqs):
        """This executor, or a rebinding of it whose gradient arrays have the storage types the
        core inferred (w of dot(csr, w), Embedding(sparse_grad=True), ...: row_sparse), as
        MXNet's simple_bind and Module allocate them. reqs: grad_req per argument."""
        from ..ndarray import sparse as _sp
        gst = self._grad_stypes()
        names = {1: "row_sparse", 2: "csr"}
        if not any(t in names and g is not None and g.stype == "default" for t, g in zip(gst, self.grad_arrays)):
            return self
        grads = [_sp.zeros(names[t], g.shape, ctx=self._ctx, dtype=g.dtype) if t in names and g is not None else g
                 for t, g in zip(gst, self.grad_arrays)]
        return type(self)._bind(self._symbol, self._ctx, self.arg_arrays, grads, reqs, self.aux_arrays)

    def _grad_stypes(self):
        """Per argument: the storage type code the core inferred for its gradient (-1: none)."""
        n = ffi.new("int *")
        arr = ffi.new("int **")
        check_call(lib.mx_executor_grad_stypes(self.handle, n, arr))
        return [arr[0][i] for i in range(n[0])]

    @property
    def arg_dict(self):
        return dict(zip(self._arg_names, self.arg_arrays))

    @property
    def grad_dict(self):
        return dict(zip(self._arg_names, self.grad_arrays))

    @property
    def aux_dict(self):
        return dict(zip(self._aux_names, self.aux_arrays))

    @property
    def output_dict(self):
        return dict(zip(self._symbol.list_outputs(), self.outputs))

    @property
    def outputs(self):
        """The output arrays. As in MXNet they exist from bind on (zeros before the first
        forward) and every forward writes the same arrays."""
        if self._placeholders is not None:
            return self._placeholders
        if self._outputs is not None:
            return self._outputs
        self._placeholders = self._allocate_outputs()
        return self._placeholders

    @outputs.setter
    def outputs(self, value):
        self._outputs = list(value)

    def _allocate_outputs(self):
        from ..ndarray import zeros
        args = {n: a.shape for n, a in zip(self._arg_names, self.arg_arrays)}
        types = {n: a.dtype for n, a in zip(self._arg_names, self.arg_arrays)}
        _, out_shapes, _ = self._symbol._infer_shape_strict(**args)
        _, out_types, _ = self._symbol.infer_type(**types)
        out_types = out_types or [None] * len(out_shapes)
        return [zeros(s, ctx=self._ctx, dtype=t) for s, t in zip(out_shapes, out_types)]

    def set_monitor_callback(self, callback, monitor_all=False):
        """After each forward, callback(name, array) for every node output of the graph
        ('<node>_output' names; monitor_all adds the arguments and auxiliary states)."""
        self._monitor = None if callback is None else (callback, bool(monitor_all))

    def _run_monitor(self, is_train):
        callback, monitor_all = self._monitor
        internals = self._symbol.get_internals()
        args = dict(zip(self._arg_names, self.arg_arrays))
        aux = {k: v.copy() for k, v in zip(self._aux_names, self.aux_arrays)}  # not updated twice
        ex = internals.bind(self._ctx, args={k: v for k, v in args.items() if k in internals.list_arguments()},
                            aux_states={k: v for k, v in aux.items() if k in internals.list_auxiliary_states()},
                            grad_req="null")
        outs = ex.forward(is_train=is_train)
        # MXNet's order and names: per operator, with monitor_all each input (under its source's
        # name, then as '<node>_<input>'), then its outputs (symbol/_monitor.py)
        from ._monitor import report
        report(internals, outs, lambda name, op, arr: callback(name, arr), monitor_all, sources=True)

    def forward(self, is_train=False, **kwargs):
        arg_dict = self.arg_dict
        for k, v in kwargs.items():
            if k not in arg_dict:
                raise ValueError("forward: unknown argument '%s'" % k)
            src = v if isinstance(v, NDArray) else None
            if src is None:
                from ..ndarray import array
                src = array(v, ctx=self._ctx, dtype=arg_dict[k].dtype)
            if src.shape != arg_dict[k].shape:
                raise ValueError("forward: '%s' has shape %s but the executor was bound with %s" % (
                    k, src.shape, arg_dict[k].shape))
            src.copyto(arg_dict[k])
        check_call(lib.mx_executor_forward(self.handle, int(bool(is_train))))
        self._outputs = self._arrays(0)
        if self._placeholders is not None:
            for src, dst in zip(self._outputs, self._placeholders):
                src.copyto(dst)
        if self._share_with is not None:
            # MXNet's reshaped executor writes into the original's output memory
            for src, dst in zip(self._outputs, self._share_with):
                n = src.size
                if n <= dst.size and src.dtype == dst.dtype:
                    src.reshape(-1).copyto(dst.reshape(-1)[0:n])
        if self._monitor is not None:
            self._run_monitor(is_train)
        return self.outputs

    def forward_taped(self, is_train, inputs, arg_index):
        """Forward from `inputs` (copied into arguments `arg_index`); under autograd.record() the
        run is taped as one node whose backward is this executor's. Returns output copies."""
        n = ffi.new("int *")
        arr = ffi.new("mx_ndarray_t **")
        check_call(lib.mx_executor_forward_taped(
            self.handle, int(bool(is_train)), len(inputs), ffi.new("mx_ndarray_t[]", [a.handle for a in inputs]),
            ffi.new("int[]", list(arg_index)), n, arr))
        return [_wrap(arr[0][i]) for i in range(n[0])]

    @property
    def busy(self):
        """True while a taped forward waits for its backward."""
        f = ffi.new("int *")
        check_call(lib.mx_executor_busy(self.handle, f))
        return bool(f[0])

    def backward(self, out_grads=None, is_train=True):
        if out_grads is None:
            check_call(lib.mx_executor_backward(self.handle, 0, ffi.NULL, int(is_train)))
            return
        if isinstance(out_grads, NDArray):
            out_grads = [out_grads]
        check_call(lib.mx_executor_backward(
            self.handle, len(out_grads),
            ffi.new("mx_ndarray_t[]", [g.handle if g is not None else ffi.NULL for g in out_grads]), int(is_train)))

    def copy_params_from(self, arg_params, aux_params=None, allow_extra_params=False):
        arg_dict, aux_dict = self.arg_dict, self.aux_dict
        for name, arr in (arg_params or {}).items():
            if name in arg_dict:
                arr.copyto(arg_dict[name])
            elif not allow_extra_params:
                raise ValueError("copy_params_from: '%s' is not an argument of the symbol" % name)
        for name, arr in (aux_params or {}).items():
            if name in aux_dict:
                arr.copyto(aux_dict[name])
            elif not allow_extra_params:
                raise ValueError("copy_params_from: '%s' is not an auxiliary state of the symbol" % name)

    def reshape(self, partial_shaping=False, allow_up_sizing=False, _share_outputs=True, **kwargs):
        """A new executor for new input shapes. Arrays whose shapes are unchanged are shared; a
        smaller array is a view of the original's memory (as MXNet's), a larger one needs
        allow_up_sizing=True. Unless partial_shaping, only the arguments named may change shape.
        The new executor's outputs are written into the original's output memory as well."""
        shapes = {n: a.shape for n, a in self.arg_dict.items() if n not in kwargs}
        shapes.update({k: tuple(v) for k, v in kwargs.items()})
        unknown = [k for k in kwargs if k not in self._arg_names]
        if unknown:
            raise ValueError("reshape: %s are not arguments of the symbol (%s)" % (unknown, self._arg_names))
        known = {k: tuple(v) for k, v in kwargs.items()}
        arg_shapes, _, aux_shapes = self._symbol.infer_shape_partial(**known)
        arg_shapes = [tuple(s) if s else shapes[n] for n, s in zip(self._arg_names, arg_shapes)]
        aux_shapes = [tuple(s) if s else a.shape for s, a in zip(aux_shapes, self.aux_arrays)]

        def fit(name, arr, shape):
            if arr is None:
                return None
            if arr.shape == tuple(shape):
                return arr
            if name not in kwargs and not partial_shaping:
                raise ValueError("reshape: the shape of '%s' changes from %s to %s; pass partial_shaping=True "
                                 "to allow arguments not named to change" % (name, arr.shape, tuple(shape)))
            n = int(np.prod(shape))
            if n <= arr.size:
                return arr.reshape(-1)[0:n].reshape(tuple(shape))
            if not allow_up_sizing:
                raise ValueError("reshape: '%s' needs %d elements but has %d; pass allow_up_sizing=True to "
                                 "allocate a new array" % (name, n, arr.size))
            from ..ndarray import zeros
            return zeros(shape, ctx=self._ctx, dtype=arr.dtype)
        args = [fit(n, a, s) for n, a, s in zip(self._arg_names, self.arg_arrays, arg_shapes)]
        grads = [fit(n, g, s) for n, g, s in zip(self._arg_names, self.grad_arrays, arg_shapes)]
        aux = [fit(n, a, s) for n, a, s in zip(self._aux_names, self.aux_arrays, aux_shapes)]
        reqs = ["write" if g is not None else "null" for g in grads]
        new = Executor._bind(self._symbol, self._ctx, args, grads if any(g is not None for g in grads) else None,
                             reqs, aux)
        if _share_outputs:
            new._share_with = list(self.outputs)  # the arrays, not this executor: no chain of executors
        return new

    def debug_str(self):
        """A readable summary of the bound graph (nodes in order, memory planned)."""
        planned, unplanned = self.memory_bytes()
        lines = ["Symbol outputs: %s" % ", ".join(self._symbol.list_outputs())]
        for n, a in zip(self._arg_names, self.arg_arrays):
            lines.append("Variable:%s %s" % (n, a.shape))
        for op, backward in self.step_ops():
            lines.append("%s:%s" % ("Backward" if backward else "Op", op))
        lines.append("Total %d MB allocated (%d MB without memory planning)" % (planned >> 20, unplanned >> 20))
        return "\n".join(lines)

    def step_ops(self):
        """[(op name, is_backward)] of the bound graph's steps in run order, after the bind-time
        graph passes (e.g. Convolution + relu fused into one '_fused_Convolution_relu' step)."""
        out = ffi.new("const char **")
        check_call(lib.mx_executor_steps(self.handle, out))
        return [(s["op"], s["backward"]) for s in json.loads(ffi.string(out[0]).decode("utf-8"))]

    def memory_bytes(self):
        """(planned, unplanned): bytes the memory plan allocates vs one buffer per value."""
        p = ffi.new("int64_t[2]")
        check_call(lib.mx_executor_memory(self.handle, p, p + 1))
        return p[0], p[1]


_STYPE_NAMES = {0: "default", 1: "row_sparse", 2: "csr"}


def _arg_stypes(symbol, arg_names, stype_dict):
    """{argument: 'csr' | 'row_sparse'} from stype_dict and the variables' __storage_type__."""
    out = {}
    attrs = symbol.attr_dict()
    for n in arg_names:
        code = attrs.get(n, {}).get("__storage_type__")
        if code is not None and _STYPE_NAMES.get(int(code), "default") != "default":
            out[n] = _STYPE_NAMES[int(code)]
    for n, st in (stype_dict or {}).items():
        if st not in ("default", "row_sparse", "csr"):
            raise ValueError("simple_bind: stype_dict['%s'] must be 'default', 'row_sparse' or 'csr', "
                             "got %r" % (n, st))
        if n not in arg_names:
            raise ValueError("simple_bind: stype_dict names '%s', which is not an argument" % n)
        if st == "default":
            out.pop(n, None)
        else:
            out[n] = st
    return out
