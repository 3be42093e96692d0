"""mx.util: MXNet 1.x's numpy-semantics switches as 1.x code calls them.

MX's shapes already follow numpy (a () shape is a scalar, 0 is a zero-size dimension), so the
np_shape switch is accepted and only recorded. MXNet's separate `mx.np` array type is not part of
MX: turning np arrays on raises MXNotSupportedError, and `use_np`-decorated code raises it when
called."""
import functools
import os
import threading

from .base import MXNotSupportedError

_state = threading.local()


def _get(name):
    return getattr(_state, name, False)


def set_np_shape(active):
    """Record numpy shape semantics on or off; returns the previous setting."""
    prev = _get("shape")
    _state.shape = bool(active)
    return prev


def is_np_shape():
    return _get("shape")


def is_np_array():
    """Always False: MX has no separate mx.np array type."""
    return False


def _set_np_array(active):
    if active:
        raise MXNotSupportedError("numpy array semantics (mx.np / npx.set_np) are not supported by MX; "
                                  "use mx.nd arrays")
    return False


def set_np(shape=True, array=True):
    if array:
        _set_np_array(True)
    set_np_shape(shape)


def reset_np():
    set_np_shape(False)


class _Scope:
    def __init__(self, setter, active):
        self._setter, self._active, self._prev = setter, active, None

    def __enter__(self):
        self._prev = self._setter(self._active)
        return self

    def __exit__(self, *exc):
        self._setter(self._prev)

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with _Scope(self._setter, self._active):
                return func(*args, **kwargs)
        return wrapper


def np_shape(active=True):
    """Context manager / decorator: numpy shape semantics inside (MX always has them)."""
    return _Scope(set_np_shape, active)


def np_array(active=True):
    return _Scope(_set_np_array, active)


def use_np_shape(func):
    """Decorator: run func with numpy shape semantics recorded on (classes pass through).

    Parameters
    ----------
    func : callable or class
        What to decorate.

    Returns
    -------
    callable or class
    """
    if isinstance(func, type):
        return func
    return np_shape(True)(func)


def _unsupported(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        _set_np_array(True)
    return wrapper


def use_np_array(func):
    """Classes pass through (their methods raise when they use mx.np); functions raise when called."""
    if isinstance(func, type):
        return func
    return _unsupported(func)


def use_np(func):
    return use_np_array(use_np_shape(func))


def getenv(name):
    return os.environ.get(name)


def setenv(name, value):
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = str(value)


def get_gpu_count():
    from .context import num_gpus
    return num_gpus()


def set_module(module):
    def decorate(func):
        if module is not None:
            func.__module__ = module
        return func
    return decorate
