"""Recording and back-propagation (mx.autograd), over the core's tape."""
from contextlib import contextmanager

from .base import check_call, ffi, lib

__all__ = ["record", "pause", "train_mode", "predict_mode", "is_recording", "is_training",
           "set_recording", "set_training", "mark_variables", "backward", "grad"]

_GRAD_REQ = {"null": 0, "write": 1, "inplace": 2, "add": 3}


def set_recording(is_recording):
    """Turn recording on or off for this thread.

    Parameters
    ----------
    is_recording : bool
        Whether operations are recorded for gradient computation.

    Returns
    -------
    bool
        The previous state.
    """
    prev = ffi.new("int *")
    check_call(lib.mx_autograd_set_recording(int(bool(is_recording)), prev))
    return bool(prev[0])


def set_training(train_mode):
    """Turn training mode on or off for this thread (affects Dropout and BatchNorm).

    Parameters
    ----------
    train_mode : bool
        Whether operators run in training mode.

    Returns
    -------
    bool
        The previous state.
    """
    prev = ffi.new("int *")
    check_call(lib.mx_autograd_set_training(int(bool(train_mode)), prev))
    return bool(prev[0])


def is_recording():
    """Whether operations are being recorded on this thread (inside ``record()``)."""
    f = ffi.new("int *")
    check_call(lib.mx_autograd_is_recording(f))
    return bool(f[0])


def is_training():
    """Whether operators run in training mode on this thread."""
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
    """Scope in which operations are recorded for gradients: ``with mx.autograd.record(): ...``.

    Parameters
    ----------
    train_mode : bool, default True
        Run operators in training mode inside the scope (Dropout active, BatchNorm uses batch
        statistics).

    Example
    -------
    >>> x = mx.nd.array([1.0, 2.0])
    >>> x.attach_grad()
    >>> with mx.autograd.record():
    ...     y = (x * x).sum()
    >>> y.backward()
    >>> x.grad.asnumpy()
    array([2., 4.], dtype=float32)
    """
    return _Scope(True, train_mode)


def pause(train_mode=False):
    """Scope inside ``record()`` in which operations are not recorded.

    Parameters
    ----------
    train_mode : bool, default False
        Training mode inside the scope.
    """
    return _Scope(False, train_mode)


def train_mode():
    """Scope in which operators run in training mode, without changing recording."""
    return _Scope(None, True)


def predict_mode():
    """Scope in which operators run in inference mode, without changing recording."""
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
    """Mark arrays as variables whose gradients are computed, with given gradient buffers.

    ``x.attach_grad()`` is the usual shortcut (it allocates the buffer).

    Parameters
    ----------
    variables : NDArray or list of NDArray
        The variables.
    gradients : NDArray or list of NDArray
        Buffers of the same shapes that receive the gradients.
    grad_reqs : str or list of str, default 'write'
        ``'write'`` (overwrite), ``'add'`` (accumulate) or ``'null'`` (no gradient), per variable.
    """
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
    """Back-propagate from ``heads`` into the ``.grad`` buffers of the marked variables.

    Parameters
    ----------
    heads : NDArray or list of NDArray
        Outputs recorded inside ``record()``.
    head_grads : NDArray or list of NDArray, optional
        Gradients of some loss with respect to each head (default: ones).
    retain_graph : bool, default False
        Keep the recorded graph for another backward pass.
    train_mode : bool, default True
        Run the backward pass in training mode.
    """
    heads, hh = _handles(heads, "heads")
    check_call(lib.mx_autograd_backward(len(heads), hh, _head_grads(heads, head_grads),
                                        int(retain_graph), int(train_mode)))


def grad(heads, variables, head_grads=None, retain_graph=None, create_graph=False, train_mode=True):
    """Gradients of ``heads`` with respect to ``variables``, returned instead of written to ``.grad``.

    Parameters
    ----------
    heads : NDArray or list of NDArray
        Recorded outputs.
    variables : NDArray or list of NDArray
        Marked variables to differentiate with respect to.
    head_grads : NDArray or list of NDArray, optional
        Head gradients (default: ones).
    retain_graph : bool, optional
        Keep the graph (default: same as ``create_graph``).
    create_graph : bool, default False
        Record the gradient computation too, for higher-order gradients.
    train_mode : bool, default True
        Run the backward pass in training mode.

    Returns
    -------
    list of NDArray
        One gradient per variable (a list even for a single variable, as in MXNet).

    Example
    -------
    >>> x = mx.nd.array([1.0, 2.0])
    >>> x.attach_grad()
    >>> with mx.autograd.record():
    ...     y = (x ** 3).sum()
    >>> mx.autograd.grad(y, [x])[0].asnumpy()
    array([ 3., 12.], dtype=float32)
    """
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


def get_symbol(x):
    """The recorded computation that produced `x`, as a Symbol (MXNet's ``autograd.get_symbol``).

    Variables marked with ``attach_grad`` appear as arguments ``var0, var1, ...``; arrays used
    without being recorded (constants) as ``null0, ...``; op nodes are ``node_0, ...``.

    Parameters
    ----------
    x : NDArray
        An array computed inside ``autograd.record()``.

    Returns
    -------
    Symbol
    """
    from .symbol.symbol import _wrap
    from .ndarray import NDArray
    if not isinstance(x, NDArray):
        raise TypeError("get_symbol: expected an NDArray, got %s" % type(x).__name__)
    out = ffi.new("mx_symbol_t *")
    check_call(lib.mx_autograd_get_symbol(x.handle, out))
    return _wrap(out[0])


__all__.append("get_symbol")

from .autograd_function import Function  # noqa: E402,F401  (MXNet's mx.autograd.Function)
__all__.append("Function")
