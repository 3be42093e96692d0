"""mx.nd.CachedOp: a symbol called like a function on NDArrays (MXNet 1.x's CachedOp).

Inputs are given positionally in the symbol's list_inputs() order (arguments and auxiliary
states). Each call runs one of the core's executors, bound once per input signature; under
autograd.record() the run is taped as a single node whose backward is the executor's, as
hybridized Gluon blocks do."""
from .. import autograd
from . import ndarray as _nd
from .utils import zeros as _zeros


class CachedOp:
    """A symbol compiled once and called on NDArrays.

    Parameters
    ----------
    sym : Symbol
        The graph.
    flags : sequence of (str, str), optional
        MXNet's CachedOp flags; accepted (static_alloc etc. are what MX's executors always do).
    """

    def __init__(self, sym, flags=()):
        self._sym = sym
        self._inputs = sym.list_inputs()
        self._args = sym.list_arguments()
        self._aux = sym.list_auxiliary_states()
        self._pool = {}

    def __call__(self, *args, out=None, **kwargs):
        if len(args) != len(self._inputs):
            raise ValueError("CachedOp: expected %d inputs %s, got %d" % (len(self._inputs), self._inputs, len(args)))
        for i, a in enumerate(args):
            if not isinstance(a, _nd.NDArray):
                raise TypeError("CachedOp: input %d (%s) must be an NDArray, got %s"
                                % (i, self._inputs[i], type(a).__name__))
        given = dict(zip(self._inputs, args))
        arg_vals = [given[n] for n in self._args]
        aux_vals = [given[n] for n in self._aux]
        ctx = args[0].context
        recording = autograd.is_recording()
        tracked = tuple(recording and autograd._is_tracked(a) for a in arg_vals)
        key = (ctx, tuple((a.shape, str(a.dtype)) for a in arg_vals), tracked, tuple(id(a) for a in aux_vals))
        pool = self._pool.setdefault(key, [])
        ex = next((e for e in pool if not e.busy), None)
        if ex is None:  # a binding is busy until its taped call is back-propagated
            arrays = [_zeros(a.shape, ctx=ctx, dtype=a.dtype) for a in arg_vals]
            grads = [_zeros(a.shape, ctx=ctx, dtype=a.dtype) if t else None for a, t in zip(arg_vals, tracked)]
            reqs = ["write" if t else "null" for t in tracked]
            ex = self._sym.bind(ctx, arrays, args_grad=grads, grad_req=reqs, aux_states=aux_vals)
            pool.append(ex)
        outs = ex.forward_taped(autograd.is_training(), arg_vals, range(len(arg_vals)))
        if out is not None:
            outs_list = out if isinstance(out, (list, tuple)) else [out]
            if len(outs_list) != len(outs):
                raise ValueError("CachedOp: out has %d arrays for %d outputs" % (len(outs_list), len(outs)))
            for src, dst in zip(outs, outs_list):
                src.copyto(dst)
            return out
        return outs[0] if len(outs) == 1 else outs
