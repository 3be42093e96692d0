"""Recording and back-propagation (mx.autograd), over the core's tape."""
from contextlib import contextmanager

from .base import check_call, ffi, lib

__all__ = ["record", "pause", "train_mode", "predict_mode", "is_recording", "is_training",
           "set_recording", "set_training", "mark_variables", "backward", "grad"]

_GRAD_REQ = {"null": 0, "write": 1, "inplace": 2, "add": 3}


def set_recording(is_recording):
    prev = ffi.new("int *")
    check_call(lib.mx_autograd_set_recording(int(bool(is_recording)), prev))
    return bool(prev[0])


def set_training(train_mode):
    prev = ffi.new("int *")
    check_call(lib.mx_autograd_set_training(int(bool(train_mode)), prev))
    return bool(prev[0])


def is_recording():
    f = ffi.new("int *")
    check_call(lib.mx_autograd_is_recording(f))
    return bool(f[0])


def is_training():
    f = ffi.new("int *")
    check_call(lib.mx_autograd_is_training(f))
    return bool(f[0])


class _Scope:
    """Sets recording/training on entry and restores the previous state on exit."""

    def __init__(self, recording, training):
        self._rec, self._train = recording, training
        self._prev = None

    def __enter__(self):
        rec = set_recording(self._rec) if self._rec is not None else None
        train = set_training(self._train) if self._train is not None else None
        self._prev = (rec, train)
        return self

    def __exit__(self, *exc):
        rec, train = self._prev
        if self._rec is not None and rec != self._rec:
            set_recording(rec)
        if self._train is not None and train != self._train:
            set_training(train)


def record(train_mode=True):
    """Record operations for gradients: `with mx.autograd.record(): ...`."""
    return _Scope(True, train_mode)


def pause(train_mode=False):
    """Stop recording inside a record() block."""
    return _Scope(False, train_mode)


def train_mode():
    return _Scope(None, True)


def predict_mode():
    return _Scope(None, False)


def _handles(arrays, what):
    from .ndarray import NDArray
    if isinstance(arrays, NDArray):
        arrays = [arrays]
    for a in arrays:
        if not isinstance(a, NDArray):
            raise TypeError("%s must be NDArrays, got %s" % (what, type(a).__name__))
    return list(arrays), ffi.new("mx_ndarray_t[]", [a.handle for a in arrays])


def _is_tracked(arr):
    """Whether autograd follows `arr` (a marked variable, or computed from one while recording)."""
    f = ffi.new("int *")
    check_call(lib.mx_autograd_is_tracked(arr.handle, f))
    return bool(f[0])


def mark_variables(variables, gradients, grad_reqs="write"):
    variables, vh = _handles(variables, "variables")
    gradients, gh = _handles(gradients, "gradients")
    if len(variables) != len(gradients):
        raise ValueError("mark_variables: %d variables but %d gradients" % (len(variables), len(gradients)))
    if isinstance(grad_reqs, str):
        grad_reqs = [grad_reqs] * len(variables)
    try:
        reqs = [_GRAD_REQ[r] for r in grad_reqs]
    except KeyError as e:
        raise ValueError("grad_req must be 'write', 'add' or 'null', got %s" % e) from None
    check_call(lib.mx_autograd_mark_variables(len(variables), vh, ffi.new("int[]", reqs), gh))


def _head_grads(heads, head_grads):
    if head_grads is None:
        return ffi.NULL
    from .ndarray import NDArray
    if isinstance(head_grads, NDArray):
        head_grads = [head_grads]
    if len(head_grads) != len(heads):
        raise ValueError("got %d head gradients for %d heads" % (len(head_grads), len(heads)))
    return ffi.new("mx_ndarray_t[]", [ffi.NULL if g is None else g.handle for g in head_grads])


def backward(heads, head_grads=None, retain_graph=False, train_mode=True):
    """Back-propagate from heads into the .grad of marked variables."""
    heads, hh = _handles(heads, "heads")
    check_call(lib.mx_autograd_backward(len(heads), hh, _head_grads(heads, head_grads),
                                        int(retain_graph), int(train_mode)))


def grad(heads, variables, head_grads=None, retain_graph=None, create_graph=False, train_mode=True):
    """Gradients of heads with respect to variables, returned (not written to .grad)."""
    from .ndarray.ndarray import _wrap, NDArray
    single = isinstance(variables, NDArray)
    heads, hh = _handles(heads, "heads")
    variables, vh = _handles(variables, "variables")
    if retain_graph is None:
        retain_graph = create_graph
    out = ffi.new("mx_ndarray_t[]", len(variables))
    check_call(lib.mx_autograd_grad(len(heads), hh, _head_grads(heads, head_grads), len(variables), vh,
                                    int(retain_graph), int(create_graph), int(train_mode), out))
    res = [_wrap(out[i]) for i in range(len(variables))]
    return res[0] if single and False else res
