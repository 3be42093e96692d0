"""Learning-rate schedulers (MXNet 1.x ``mxnet.lr_scheduler``).

Each scheduler is a handle to the core's scheduler; ``sched(num_update)`` returns the learning
rate at that update count. FactorScheduler and MultiFactorScheduler are stateful exactly like
MXNet's. Passing a scheduler to an optimizer hands its configuration to the optimizer, which
from then on owns the scheduler state; the Python object stays bound to that optimizer, so
calling it or reading its attributes sees the optimizer's scheduler.
"""
import json

from .base import check_call, ffi, lib, py_str, c_str

# Looked up once: a lookup on the library from __del__ can run inside cffi's own lock (ABI
# mode, MX_LIBRARY) when the garbage collector fires there, and deadlock.
_mx_lr_scheduler_free = lib.mx_lr_scheduler_free

__all__ = ["LRScheduler", "FactorScheduler", "MultiFactorScheduler", "PolyScheduler",
           "CosineScheduler"]


class LRScheduler:
    """Base class of the learning-rate schedulers (computed in the core): ``scheduler(num_update)``
    returns the learning rate for that update count.

    During the first ``warmup_steps`` updates the rate rises from ``warmup_begin_lr`` to
    ``base_lr`` (linearly, or stays constant with ``warmup_mode='constant'``).

    Parameters
    ----------
    base_lr : float, default 0.01
        The rate after warm-up (an optimizer's ``learning_rate`` overrides it).
    warmup_steps : int, default 0
        Number of warm-up updates.
    warmup_begin_lr : float, default 0
        Rate at the start of warm-up.
    warmup_mode : {'linear', 'constant'}, default 'linear'
        Shape of the warm-up.
    """

    _type = None

    def __init__(self, base_lr=0.01, warmup_steps=0, warmup_begin_lr=0, warmup_mode='linear'):
        if type(self) is LRScheduler or self._type is None:
            raise NotImplementedError(
                "LRScheduler is abstract: use FactorScheduler, MultiFactorScheduler, "
                "PolyScheduler or CosineScheduler (custom Python schedulers are not supported "
                "because the schedule runs in the core)")
        self._init_cfg = {"base_lr": base_lr, "warmup_steps": warmup_steps,
                          "warmup_begin_lr": warmup_begin_lr, "warmup_mode": warmup_mode}

    # -- core handle management
    def _make(self, cfg):
        cfg = dict(cfg)
        cfg["type"] = self._type
        h = ffi.new("mx_lr_scheduler_t *")
        check_call(lib.mx_lr_scheduler_new(c_str(json.dumps(cfg)), h))
        object.__setattr__(self, "_handle", h[0])
        object.__setattr__(self, "_opt", None)

    def __del__(self):
        h = self.__dict__.get("_handle")
        if h is not None:
            _mx_lr_scheduler_free(h)
            self.__dict__["_handle"] = None

    def _own_config(self):
        out = ffi.new("const char **")
        check_call(lib.mx_lr_scheduler_json(self._handle, out))
        return json.loads(py_str(out[0]))

    def _config(self):
        """The scheduler's full JSON configuration and state."""
        opt = self.__dict__.get("_opt")
        if opt is not None:
            cfg = opt._core_json().get("lr_scheduler")
            if cfg is not None:
                return cfg
        return self._own_config()

    def _bind(self, opt):
        """Called by an optimizer that took this scheduler's configuration."""
        object.__setattr__(self, "_opt", opt)

    def _unbind(self):
        opt = self.__dict__.get("_opt")
        if opt is not None:
            cfg = opt._core_json().get("lr_scheduler")
            if cfg is not None:
                self._make(cfg)
        object.__setattr__(self, "_opt", None)

    def __call__(self, num_update):
        opt = self.__dict__.get("_opt")
        if opt is not None:
            # Run the optimizer's scheduler state through this handle and hand it back.
            self._make(self._config())
            object.__setattr__(self, "_opt", opt)
        lr = ffi.new("double *")
        check_call(lib.mx_lr_scheduler_get(self._handle, int(num_update), lr))
        if opt is not None:
            opt._set_core("lr_scheduler", self._own_config())
        return lr[0]

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        cfg = self._config()
        key = {"power": "pwr"}.get(name, name)
        if key in cfg:
            return cfg[key]
        if name == "max_steps" and "max_update" in cfg:
            return cfg["max_update"] - cfg["warmup_steps"]
        raise AttributeError("%s has no attribute '%s'" % (type(self).__name__, name))

    def __setattr__(self, name, value):
        if name.startswith("_"):
            object.__setattr__(self, name, value)
            return
        cfg = self._config()
        key = {"power": "pwr"}.get(name, name)
        if key not in cfg:
            raise AttributeError("%s has no attribute '%s'" % (type(self).__name__, name))
        cfg[key] = value
        opt = self.__dict__.get("_opt")
        self._make(cfg)
        if opt is not None:
            object.__setattr__(self, "_opt", opt)
            opt._set_core("lr_scheduler", self._own_config())

    def get_warmup_lr(self, num_update):
        cfg = self._config()
        assert num_update < cfg["warmup_steps"]
        return LRScheduler.__call__(self, num_update)

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, json.dumps(self._config()))


class FactorScheduler(LRScheduler):
    """Multiplies the rate by ``factor`` every ``step`` updates:
    ``lr = base_lr * factor**floor((num_update - 1) / step)``, never below ``stop_factor_lr``.

    Parameters
    ----------
    step : int
        Updates between two reductions.
    factor : float, default 1
        Multiplier (< 1 to decay).
    stop_factor_lr : float, default 1e-8
        Lower bound of the rate.
    base_lr, warmup_steps, warmup_begin_lr, warmup_mode
        As in :class:`LRScheduler`.

    Example
    -------
    >>> s = mx.lr_scheduler.FactorScheduler(step=10, factor=0.5, base_lr=1.0)
    >>> [s(n) for n in (1, 11, 21)]
    [1.0, 0.5, 0.25]
    """
    _type = "factor"

    def __init__(self, step, factor=1, stop_factor_lr=1e-8, base_lr=0.01, warmup_steps=0,
                 warmup_begin_lr=0, warmup_mode='linear'):
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
        cfg = dict(self._init_cfg, step=step, factor=factor, stop_factor_lr=stop_factor_lr)
        self._make(cfg)


class MultiFactorScheduler(LRScheduler):
    """Multiplies the rate by ``factor`` each time the update count passes one of ``step``.

    Parameters
    ----------
    step : list of int
        Increasing update counts.
    factor : float, default 1
        Multiplier.
    base_lr, warmup_steps, warmup_begin_lr, warmup_mode
        As in :class:`LRScheduler`.
    """
    _type = "multifactor"

    def __init__(self, step, factor=1, base_lr=0.01, warmup_steps=0, warmup_begin_lr=0,
                 warmup_mode='linear'):
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
        if not isinstance(step, (list, tuple)) or len(step) < 1:
            raise ValueError("MultiFactorScheduler: step must be a non-empty list of integers")
        cfg = dict(self._init_cfg, step=list(step), factor=factor)
        self._make(cfg)


class PolyScheduler(LRScheduler):
    """Polynomial decay to ``final_lr`` at ``max_update``:
    ``final_lr + (base_lr - final_lr) * (1 - (n - warmup) / (max_update - warmup))**pwr``.

    Parameters
    ----------
    max_update : int
        Update count at which ``final_lr`` is reached.
    base_lr : float, default 0.01
        Initial rate.
    pwr : float, default 2
        Power of the decay.
    final_lr : float, default 0
        Final rate.
    warmup_steps, warmup_begin_lr, warmup_mode
        As in :class:`LRScheduler`.
    """
    _type = "poly"

    def __init__(self, max_update, base_lr=0.01, pwr=2, final_lr=0, warmup_steps=0,
                 warmup_begin_lr=0, warmup_mode='linear'):
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
        cfg = dict(self._init_cfg, max_update=max_update, pwr=pwr, final_lr=final_lr)
        self._make(cfg)


class CosineScheduler(LRScheduler):
    """Cosine decay to ``final_lr`` at ``max_update``:
    ``final_lr + (base_lr - final_lr) * (1 + cos(pi * (n - warmup) / (max_update - warmup))) / 2``.

    Parameters
    ----------
    max_update : int
        Update count at which ``final_lr`` is reached.
    base_lr : float, default 0.01
        Initial rate.
    final_lr : float, default 0
        Final rate.
    warmup_steps, warmup_begin_lr, warmup_mode
        As in :class:`LRScheduler`.
    """
    _type = "cosine"

    def __init__(self, max_update, base_lr=0.01, final_lr=0, warmup_steps=0, warmup_begin_lr=0,
                 warmup_mode='linear'):
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
        cfg = dict(self._init_cfg, max_update=max_update, final_lr=final_lr)
        self._make(cfg)
