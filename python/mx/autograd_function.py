"""mx.autograd.Function: a differentiable function whose forward and backward are Python code
(MXNet 1.x's autograd.Function).

Under record() the call is taped as one node of the core's "Custom" operator, so the core's
backward calls this Function's backward like any other op's gradient. The forward runs once,
eagerly (with recording paused); the taped node copies its results into the recorded outputs.
The core keeps the Function alive until its backward ran (or the process ends): a Function
whose outputs are never back-propagated stays referenced, as MXNet's graph references it."""
import itertools
import json

from .base import check_call, ffi, lib
from .operator import callback_dispatcher

_OP_TYPE = "_mx_autograd_function"
_live = {}            # call id -> (Function, input NDArrays' shapes, outputs)
_ids = itertools.count()
_registered = False


class Function:
    """User-defined differentiation: override ``forward(*inputs)`` and ``backward(*output_grads)``.

    forward and backward take and return NDArrays (a tuple for several); backward returns one
    gradient per forward input. ``save_for_backward(*arrays)`` keeps values for backward in
    ``self.saved_tensors``."""

    def __init__(self):
        self._saved = ()

    def save_for_backward(self, *args):
        self._saved = args

    @property
    def saved_tensors(self):
        return self._saved

    def forward(self, *inputs):
        raise NotImplementedError("autograd.Function.forward must be overridden")

    def backward(self, *output_grads):
        raise NotImplementedError("autograd.Function.backward must be overridden")

    def __call__(self, *inputs):
        from . import autograd
        from .ndarray import NDArray, op
        for i, x in enumerate(inputs):
            if not isinstance(x, NDArray):
                raise TypeError("autograd.Function: input %d must be an NDArray, got %s" % (i, type(x).__name__))
        with autograd.pause():
            outputs = self.forward(*inputs)
        single = isinstance(outputs, NDArray)
        outs = [outputs] if single else list(outputs)
        for i, o in enumerate(outs):
            if not isinstance(o, NDArray):
                raise TypeError("autograd.Function.forward: output %d must be an NDArray, got %s"
                                % (i, type(o).__name__))
        if not autograd.is_recording():
            return outputs
        _ensure_registered()
        key = str(next(_ids))
        _live[key] = (self, len(inputs), outs)
        res = op.Custom(*inputs, op_type=_OP_TYPE, call_id=key)
        res = [res] if isinstance(res, NDArray) else list(res)
        return res[0] if single else tuple(res)


def _answer(request, params, in_json, groups):
    entry = _live.get(params.get("call_id"))
    if entry is None:
        raise RuntimeError("autograd.Function: this call's backward already ran (its state is released); "
                           "record the function call again")
    fn, n_in, outs = entry
    if request == 0:   # list arguments
        return ["data%d" % i for i in range(n_in)]
    if request == 1:   # list outputs
        return ["output%d" % i for i in range(len(outs))]
    if request == 2:   # aux states
        return []
    if request == 3:   # infer shape: inputs as given, outputs as forward computed them
        return {"in": json.loads(in_json), "out": [list(o.shape) for o in outs], "aux": []}
    if request == 4:   # infer type
        from .ndarray.ndarray import dtype_code
        return {"in": json.loads(in_json), "out": [dtype_code(o.dtype) for o in outs], "aux": []}
    from . import autograd
    with autograd.pause():
        if request == 5:  # forward: the results computed eagerly in __call__
            _, out_data, _ = groups
            for dst, src in zip(out_data, outs):
                src.copyto(dst)
        else:             # backward
            out_grad, _, _, in_grad, _ = groups
            try:
                grads = fn.backward(*out_grad)
                from .ndarray import NDArray
                grads = [grads] if isinstance(grads, NDArray) else list(grads)
                if len(grads) != len(in_grad):
                    raise ValueError("autograd.Function.backward returned %d gradients for %d "
                                     "inputs" % (len(grads), len(in_grad)))
                for dst, g in zip(in_grad, grads):
                    dst[:] = g
            finally:  # a failed backward must not keep the call's arrays alive forever
                _live.pop(params.get("call_id"), None)
    return None


_dispatch = callback_dispatcher(
    lambda request, params_json, in_json, groups, is_train: _answer(request, json.loads(params_json), in_json, groups))


def _ensure_registered():
    global _registered
    if not _registered:
        check_call(lib.mx_custom_op_register(_OP_TYPE.encode(), _dispatch, ffi.NULL))
        _registered = True
