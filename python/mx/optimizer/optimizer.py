"""Optimizers (MXNet 1.x ``mxnet.optimizer``). The update rules, their states, the update
counters and the learning-rate schedule all live in the core (libmx); these classes only carry
hyperparameters and pass indices, weights and gradients."""
import json
import math
import os
import tempfile

from ..base import check_call, ffi, lib, py_str, c_str, MXNotSupportedError
from .. import lr_scheduler as _lrs

# Looked up once: a lookup on the library from __del__ can run inside cffi's own lock (ABI
# mode, MX_LIBRARY) when the garbage collector fires there, and deadlock.
_mx_optimizer_free = lib.mx_optimizer_free

__all__ = ["Optimizer", "SGD", "NAG", "Adam", "AdamW", "RMSProp", "AdaGrad", "AdaDelta", "Ftrl",
           "Signum", "SignSGD", "LAMB", "Adamax", "Nadam", "FTML", "Updater", "get_updater",
           "create", "register", "opt_registry"]

_STATE_JSON = "__optimizer_state_json__"


def _dumps(v):
    return json.dumps(v, allow_nan=False)


class Optimizer:
    """Base class of the optimizers (MXNet 1.x ``mx.optimizer.Optimizer``).

    Subclasses name an update rule implemented in the core; use ``mx.optimizer.create(name)`` or
    a subclass (``SGD``, ``Adam``, ...). The gradient is first multiplied by ``rescale_grad``,
    clipped to ``[-clip_gradient, clip_gradient]`` and ``wd * weight`` is added, then the rule
    updates the weight and its state.

    Parameters
    ----------
    rescale_grad : float, default 1.0
        Multiplies the gradient (Trainer/Module set it to ``1 / batch_size``).
    param_idx2name : dict of int to str, optional
        Parameter names by index (for ``lr_mult``/``wd_mult`` and the no-decay rule for biases).
    wd : float, default 0.0
        L2 weight decay.
    clip_gradient : float, optional
        Clip gradients to this magnitude.
    learning_rate : float, optional
        Step size (default depends on the optimizer, 0.01 for the base class).
    lr_scheduler : LRScheduler, optional
        Changes the learning rate with the number of updates.
    sym : Symbol, optional
        Accepted for MXNet compatibility (attributes are read from ``param_dict``).
    begin_num_update : int, default 0
        Initial update count (for schedulers when resuming).
    multi_precision : bool, default False
        Keep float32 master weights for float16 parameters.
    param_dict : dict, optional
        Gluon Parameters by index (their ``lr_mult``/``wd_mult``).
    **kwargs
        Optimizer-specific arguments.
    """

    opt_registry = {}
    _core_name = None

    def __init__(self, rescale_grad=1., param_idx2name=None, wd=0., clip_gradient=None,
                 learning_rate=None, lr_scheduler=None, sym=None, begin_num_update=0,
                 multi_precision=False, param_dict=None, **kwargs):
        if self._core_name is None:
            # a Python optimizer (a user subclass registered with @register): its own
            # create_state/update run; the core rules stay the fast path for built-in ones
            _python_init(self, rescale_grad, param_idx2name, wd, clip_gradient, learning_rate,
                         lr_scheduler, begin_num_update, multi_precision, param_dict, kwargs)
            return
        hp = dict(kwargs)
        hp.update(rescale_grad=rescale_grad, wd=wd, clip_gradient=clip_gradient,
                  begin_num_update=begin_num_update, multi_precision=bool(multi_precision))
        if learning_rate is not None:
            hp["learning_rate"] = learning_rate
        if lr_scheduler is not None:
            if not isinstance(lr_scheduler, _lrs.LRScheduler):
                raise TypeError("lr_scheduler must be an mx.lr_scheduler.LRScheduler, got %r"
                                % (lr_scheduler,))
            hp["lr_scheduler"] = lr_scheduler._config()
        if param_idx2name is None:
            param_idx2name = {}
        if not isinstance(param_idx2name, dict):
            raise TypeError("param_idx2name must be a dict of int -> str")
        hp["param_idx2name"] = {str(int(k)): str(v) for k, v in param_idx2name.items()}
        h = ffi.new("mx_optimizer_t *")
        check_call(lib.mx_optimizer_new(c_str(self._core_name), c_str(_dumps(hp)), h))
        d = self.__dict__
        d["_handle"] = h[0]
        d["_hp_keys"] = set(self._core_json()["hparams"])
        d["idx2name"] = dict(param_idx2name)
        d["lr_mult"] = {}
        d["wd_mult"] = {}
        d["param_dict"] = param_dict if param_dict else {}
        d["sym_info"] = None
        d["_lr_scheduler"] = lr_scheduler
        if lr_scheduler is not None:
            lr_scheduler._bind(self)
        for i, p in d["param_dict"].items():
            self._push_index(i, getattr(p, "name", None), getattr(p, "lr_mult", 1.0),
                             getattr(p, "wd_mult", 1.0))
        d["wd_mult"] = self._name_rule_wd()

    # ------------------------------------------------------------------ core plumbing
    def __del__(self):
        h = self.__dict__.get("_handle")
        if h is not None:
            _mx_optimizer_free(h)
            self.__dict__["_handle"] = None

    def _core_json(self):
        out = ffi.new("const char **")
        check_call(lib.mx_optimizer_json(self._handle, out))
        return json.loads(py_str(out[0]))

    def _set_core(self, key, value):
        check_call(lib.mx_optimizer_set(self._handle, c_str(key), c_str(_dumps(value))))

    def _push_index(self, index, name, lr_mult, wd_mult):
        check_call(lib.mx_optimizer_set_index(self._handle, int(index), c_str(name or ""),
                                              float(lr_mult), float(wd_mult)))

    def _name_rule_wd(self):
        return {n: 0.0 for n in self.idx2name.values()
                if not (n.endswith("_weight") or n.endswith("_gamma"))}

    def __getattr__(self, name):
        if name.startswith("_") or self.__dict__.get("_handle") is None:
            raise AttributeError(name)
        hp = self._core_json()["hparams"]
        if name in hp:
            return hp[name]
        if name == "float_stable_eps" and "eps" in hp:
            return hp["eps"]
        if name == "aggregate_num":  # MXNet's chunk size of aggregated updates (SGD: 4 or the env var)
            return self._core_json()["aggregate_num"]
        raise AttributeError("%s has no attribute '%s'" % (type(self).__name__, name))

    def __setattr__(self, name, value):
        if self.__dict__.get("_handle") is None and name not in ("learning_rate", "lr", "lr_scheduler"):
            object.__setattr__(self, name, value)
        elif name in ("learning_rate", "lr", "lr_scheduler", "num_update", "begin_num_update"):
            object.__setattr__(self, name, value)  # properties below
        elif name in self.__dict__.get("_hp_keys", ()) and name != "learning_rate":
            self._set_core(name, value)
        elif name == "float_stable_eps":
            self._set_core("eps", value)
        elif name == "aggregate_num":
            self._set_core("aggregate_num", int(value))
        elif name == "idx2name":
            self.__dict__["idx2name"] = dict(value)
            self._set_core("idx2name", {str(int(k)): str(v) for k, v in value.items()})
        else:
            object.__setattr__(self, name, value)

    # ------------------------------------------------------------------ MXNet API
    @staticmethod
    def register(klass):
        """Register an optimizer class under its lower-case name (class decorator).

        Parameters
        ----------
        klass : type
            An Optimizer subclass.

        Returns
        -------
        type
            ``klass``, so ``mx.optimizer.create(klass.__name__.lower())`` finds it.
        """
        name = klass.__name__.lower()
        Optimizer.opt_registry[name] = klass
        return klass

    @staticmethod
    def create_optimizer(name, **kwargs):
        """Create an optimizer by its registered name.

        Parameters
        ----------
        name : str
            Case-insensitive name: ``'sgd'``, ``'adam'``, ``'rmsprop'``, ``'nag'``, ...
        **kwargs
            Arguments of the optimizer.

        Returns
        -------
        Optimizer

        Example
        -------
        >>> opt = mx.optimizer.create("sgd", learning_rate=0.5, momentum=0.9)
        >>> type(opt).__name__, opt.learning_rate
        ('SGD', 0.5)
        """
        if not isinstance(name, str):
            raise TypeError("optimizer name must be a string, got %r" % (name,))
        key = name.lower()
        if key not in Optimizer.opt_registry:
            raise ValueError("Cannot find optimizer %s (registered: %s)"
                             % (name, ", ".join(sorted(Optimizer.opt_registry))))
        return Optimizer.opt_registry[key](**kwargs)

    @property
    def learning_rate(self):
        if self._handle is None:
            sched = self.lr_scheduler
            return sched(self.num_update) if sched is not None else self.__dict__["_py_lr"]
        out = ffi.new("double *")
        check_call(lib.mx_optimizer_learning_rate(self._handle, out))
        return out[0]

    @learning_rate.setter
    def learning_rate(self, lr):
        self.set_learning_rate(lr)

    @property
    def lr(self):
        if self._handle is None:
            return self.__dict__["_py_lr"]
        return self._core_json()["hparams"]["learning_rate"]

    @lr.setter
    def lr(self, value):
        self.set_learning_rate(value)

    def set_learning_rate(self, lr):
        if self.lr_scheduler is not None:
            raise UserWarning("LRScheduler of the optimizer has already been defined. Note that "
                              "set_learning_rate can mutate the value of the learning rate of "
                              "the optimizer only when the LRScheduler of the optimizer is "
                              "undefined.")
        if self._handle is None:
            self.__dict__["_py_lr"] = float(lr)
            return
        self._set_core("learning_rate", lr)

    @property
    def lr_scheduler(self):
        return self.__dict__.get("_lr_scheduler")

    @lr_scheduler.setter
    def lr_scheduler(self, sched):
        old = self.__dict__.get("_lr_scheduler")
        if self._handle is None:
            self.__dict__["_lr_scheduler"] = sched
            return
        if old is not None and old is not sched:
            old._unbind()
        if sched is None:
            self._set_core("lr_scheduler", None)
        else:
            if not isinstance(sched, _lrs.LRScheduler):
                raise TypeError("lr_scheduler must be an mx.lr_scheduler.LRScheduler")
            self._set_core("lr_scheduler", sched._config())
            sched._bind(self)
        self.__dict__["_lr_scheduler"] = sched

    @property
    def num_update(self):
        if self._handle is None:
            return self.__dict__["_py_num_update"]
        return self._core_json()["num_update"]

    @num_update.setter
    def num_update(self, n):
        if self._handle is None:
            self.__dict__["_py_num_update"] = int(n)
            return
        self._set_core("num_update", int(n))

    @property
    def begin_num_update(self):
        if self._handle is None:
            return self.__dict__["_py_begin"]
        return self._core_json()["begin_num_update"]

    @begin_num_update.setter
    def begin_num_update(self, n):
        if self._handle is None:
            self.__dict__["_py_begin"] = int(n)
            return
        self._set_core("begin_num_update", int(n))

    @property
    def _index_update_count(self):
        if self._handle is None:
            return self.__dict__["_py_counts"]
        return {int(k): v for k, v in self._core_json()["index_update_count"].items()}

    def set_lr_mult(self, args_lr_mult):
        """Learning-rate multipliers keyed by parameter index or name (replaces earlier ones)."""
        self.__dict__["lr_mult"] = dict(args_lr_mult)
        if self._handle is None:
            return
        self._set_core("lr_mult", [[k if isinstance(k, str) else int(k), float(v)]
                                   for k, v in args_lr_mult.items()])

    def set_wd_mult(self, args_wd_mult):
        """Weight-decay multipliers keyed by index or name. As in MXNet, parameters whose names
        end neither in _weight nor _gamma get wd_mult 0 unless given here."""
        d = self._name_rule_wd()
        d.update(args_wd_mult)
        self.__dict__["wd_mult"] = d
        if self._handle is None:
            return
        self._set_core("wd_mult", [[k if isinstance(k, str) else int(k), float(v)]
                                   for k, v in args_wd_mult.items()])

    def create_state(self, index, weight):
        """States live in the core and are created on the first update; returns None."""
        return None

    def create_state_multi_precision(self, index, weight):
        if not _runs_python(self):
            return None
        if self.multi_precision and _is_f16(weight):
            master = weight.astype("float32")
            return (master, self.create_state(index, master))
        return self.create_state(index, weight)

    def _sync_param_dict(self, indices):
        pd = self.param_dict
        if not pd or self._handle is None:
            return
        for i in indices:
            p = pd.get(i)
            if p is not None:
                self._push_index(i, getattr(p, "name", None), getattr(p, "lr_mult", 1.0),
                                 getattr(p, "wd_mult", 1.0))

    def update(self, index, weight, grad, state=None):
        """Update weight(s) in place from grad(s); index may be an int or a list."""
        if self._handle is None:
            raise NotImplementedError("%s.update: a Python optimizer must define update(index, weight, grad, "
                                      "state)" % type(self).__name__)
        if isinstance(index, (list, tuple)):
            indices, weights, grads = list(index), list(weight), list(grad)
        else:
            indices, weights, grads = [index], [weight], [grad]
        if not (len(indices) == len(weights) == len(grads)):
            raise ValueError("update: %d indices, %d weights and %d gradients differ in number"
                             % (len(indices), len(weights), len(grads)))
        self._sync_param_dict(indices)
        n = len(indices)
        if n == 0:
            return
        check_call(lib.mx_optimizer_update(
            self._handle, n, ffi.new("int[]", [int(i) for i in indices]),
            ffi.new("mx_ndarray_t[]", [_handle_of(w, "weight") for w in weights]),
            ffi.new("mx_ndarray_t[]", [_handle_of(g, "grad") for g in grads])))

    def update_multi_precision(self, index, weight, grad, state=None):
        if _runs_python(self) and self.multi_precision and _is_f16(weight):
            # state is (float32 master weight, own state): update the master, copy it back
            master, own = state
            self.update(index, master, grad.astype("float32"), own)
            master.copyto(weight)
            return
        self.update(index, weight, grad, state)

    # -- helpers Python optimizers call (MXNet 1.x names)
    def _update_count(self, index):
        if self._handle is not None:
            return
        counts = self.__dict__["_py_counts"]
        for i in index if isinstance(index, (list, tuple)) else [index]:
            counts[i] = counts.get(i, self.begin_num_update) + 1
            self.__dict__["_py_num_update"] = max(counts[i], self.__dict__["_py_num_update"])

    def _mult(self, table, index, attr):
        p = self.param_dict.get(index) if self.param_dict else None
        if p is not None:
            return getattr(p, attr, 1.0)
        if index in table:
            return table[index]
        name = self.idx2name.get(index)
        return table.get(name, 1.0) if name is not None else 1.0

    def _get_lr(self, index):
        return self.learning_rate * self._mult(self.lr_mult, index, "lr_mult")

    def _get_lrs(self, indices):
        return [self._get_lr(i) for i in indices]

    def _get_wd(self, index):
        return self.wd * self._mult(self.wd_mult, index, "wd_mult")

    def _get_wds(self, indices):
        return [self._get_wd(i) for i in indices]

    # ------------------------------------------------------------------ states
    def _save_states_file(self, path):
        check_call(lib.mx_optimizer_save_states(self._handle, c_str(os.fspath(path), "path")))

    def _load_states_file(self, path):
        check_call(lib.mx_optimizer_load_states(self._handle, c_str(os.fspath(path), "path")))

    def _states_bytes(self):
        fd, path = tempfile.mkstemp(suffix=".states")
        os.close(fd)
        try:
            self._save_states_file(path)
            with open(path, "rb") as f:
                return f.read()
        finally:
            os.unlink(path)

    def _load_states_bytes(self, data):
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("optimizer states must be bytes (from Updater.get_states), got %s"
                            % type(data).__name__)
        fd, path = tempfile.mkstemp(suffix=".states")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(bytes(data))
            self._load_states_file(path)
        finally:
            os.unlink(path)

    def export_states(self):
        """(dict "<index>:<state>" -> NDArray, JSON dict) of the core states."""
        from ..ndarray.ndarray import _wrap
        n = ffi.new("int *")
        names = ffi.new("const char ***")
        arrs = ffi.new("mx_ndarray_t **")
        js = ffi.new("const char **")
        check_call(lib.mx_optimizer_export_states(self._handle, n, names, arrs, js))
        out = {py_str(names[0][i]): _wrap(arrs[0][i]) for i in range(n[0])}
        return out, json.loads(py_str(js[0]))

    def __repr__(self):
        if self._handle is None:
            return "%s(learning_rate=%s)" % (type(self).__name__, self.lr)
        return "%s(%s)" % (type(self).__name__, json.dumps(self._core_json()["hparams"]))


def _python_init(self, rescale_grad, param_idx2name, wd, clip_gradient, learning_rate, lr_scheduler,
                 begin_num_update, multi_precision, param_dict, kwargs):
    if kwargs:
        raise TypeError("%s: unexpected arguments %s" % (type(self).__name__, sorted(kwargs)))
    if param_idx2name is not None and not isinstance(param_idx2name, dict):
        raise TypeError("param_idx2name must be a dict of int -> str")
    d = self.__dict__
    d["_handle"] = None
    d["_hp_keys"] = set()
    d["_py_lr"] = 0.01 if learning_rate is None else float(learning_rate)
    d["_lr_scheduler"] = lr_scheduler
    if lr_scheduler is not None and learning_rate is not None:
        lr_scheduler.base_lr = learning_rate
    d["_py_begin"] = int(begin_num_update)
    d["_py_num_update"] = int(begin_num_update)
    d["_py_counts"] = {}
    d["rescale_grad"] = rescale_grad
    d["wd"] = wd
    d["clip_gradient"] = clip_gradient
    d["multi_precision"] = bool(multi_precision)
    d["idx2name"] = dict(param_idx2name or {})
    d["lr_mult"] = {}
    d["wd_mult"] = {}
    d["param_dict"] = param_dict if param_dict else {}
    d["sym_info"] = None
    d["aggregate_num"] = 0
    d["wd_mult"] = self._name_rule_wd()


def _runs_python(opt):
    """True when the optimizer's own Python create_state/update must run (a Python optimizer, or
    a subclass of a built-in one overriding them)."""
    t = type(opt)
    return opt.__dict__.get("_handle") is None or t.update is not Optimizer.update or \
        t.create_state is not Optimizer.create_state


def _is_f16(a):
    import numpy as np
    return getattr(a, "dtype", None) == np.float16


def _handle_of(a, what):
    h = getattr(a, "handle", None)
    if h is None:
        raise TypeError("%s must be an mx.nd.NDArray, got %s" % (what, type(a).__name__))
    return h


register = Optimizer.register
create = Optimizer.create_optimizer
opt_registry = Optimizer.opt_registry


def _make_class(cls_name, core, signature, doc):
    """A subclass whose __init__ takes MXNet's keyword arguments (with MXNet's defaults) and
    passes them to the core."""
    def __init__(self, *args, **kwargs):
        if len(args) > len(signature):
            raise TypeError("%s takes at most %d positional arguments" % (cls_name, len(signature)))
        own = {}
        for (k, default), v in zip(signature, args):
            if k in kwargs:
                raise TypeError("%s got multiple values for argument '%s'" % (cls_name, k))
            own[k] = v
        for k, default in signature:
            if k not in own:
                if k in kwargs:
                    own[k] = kwargs.pop(k)
                elif default is not _NODEFAULT:
                    own[k] = default
        own.update(kwargs)
        Optimizer.__init__(self, **own)
    cls = type(cls_name, (Optimizer,), {"__init__": __init__, "_core_name": core,
                                         "__doc__": _optimizer_doc(cls_name, core, signature, doc)})
    return register(cls)


# What each optimizer-specific argument means (for the generated docstrings).
_ARG_DOCS = {
    "momentum": "Momentum factor (0 disables momentum).",
    "lazy_update": "With a row_sparse gradient (sgd, adam), update only the rows it holds, as MXNet does "
                   "(adagrad and ftrl always do).",
    "learning_rate": "Step size.",
    "beta1": "Decay rate of the first-moment (mean) estimate.",
    "beta2": "Decay rate of the second-moment estimate.",
    "epsilon": "Added to the denominator for numerical stability.",
    "eps": "Added to the denominator for numerical stability.",
    "correct_bias": "Apply Adam's bias correction.",
    "gamma1": "Decay rate of the mean of squared gradients.",
    "gamma2": "Momentum factor (centered variant only).",
    "centered": "Use Graves' centered variant (also tracks the mean gradient).",
    "clip_weights": "Clip weights to [-clip_weights, clip_weights] after each update (None: no clipping).",
    "rho": "Decay rate of the accumulated squared gradients and updates.",
    "lamda1": "L1 regularization strength.",
    "beta": "FTRL's per-coordinate learning-rate parameter.",
    "wd_lh": "Decoupled weight decay (applied to the weight directly).",
    "lower_bound": "Lower bound of the trust ratio (None: unbounded).",
    "upper_bound": "Upper bound of the trust ratio (None: unbounded).",
    "bias_correction": "Apply Adam-style bias correction to the moments.",
    "schedule_decay": "Decay of the momentum schedule.",
}


def _optimizer_doc(cls_name, core, signature, summary):
    lines = [summary, "",
             "The update runs in the core (optimizer ``%s``), so R and Julia train with the same rule and "
             "``.states`` files are shared. Create it directly or with "
             "``mx.optimizer.create('%s', ...)``." % (core, cls_name.lower()), "",
             "Parameters", "----------"]
    for k, default in signature:
        lines += ["%s : %s, default %r" % (k, type(default).__name__ if default is not None else "float, optional",
                                           default), "    " + _ARG_DOCS[k]]
    lines += ["**kwargs", "    The arguments every optimizer takes (see :class:`Optimizer`): ``learning_rate``, "
              "``wd``, ``rescale_grad``, ``clip_gradient``, ``lr_scheduler``, ``begin_num_update``, "
              "``multi_precision``, ``param_idx2name``, ``param_dict``.", "",
              "Example", "-------",
              ">>> opt = mx.optimizer.%s(learning_rate=0.1)" % cls_name,
              ">>> opt.learning_rate", "0.1"]
    return "\n".join(lines) + "\n"


_NODEFAULT = object()

SGD = _make_class("SGD", "sgd", [("momentum", 0.0), ("lazy_update", True)],
                  "SGD with optional momentum: mom = momentum*mom - lr*(clip(rescale*g) + wd*w); "
                  "w += mom.")
NAG = _make_class("NAG", "nag", [("momentum", 0.0)], "Nesterov accelerated SGD.")
Adam = _make_class("Adam", "adam", [("learning_rate", 0.001), ("beta1", 0.9), ("beta2", 0.999),
                                    ("epsilon", 1e-8), ("lazy_update", True)],
                   "Adam; bias correction folded into the learning rate as in MXNet.")
AdamW = _make_class("AdamW", "adamw", [("learning_rate", 0.001), ("beta1", 0.9),
                                       ("beta2", 0.999), ("epsilon", 1e-6),
                                       ("correct_bias", True)],
                    "AdamW (decoupled weight decay): w -= lr*(m_hat/(sqrt(v_hat)+eps) + wd*w).")
RMSProp = _make_class("RMSProp", "rmsprop", [("learning_rate", 0.001), ("gamma1", 0.9),
                                             ("gamma2", 0.9), ("epsilon", 1e-8),
                                             ("centered", False), ("clip_weights", None)],
                      "RMSProp (Tieleman & Hinton), centered=True: Graves' variant.")
AdaGrad = _make_class("AdaGrad", "adagrad", [("eps", 1e-7)], "AdaGrad.")
AdaDelta = _make_class("AdaDelta", "adadelta", [("rho", 0.90), ("epsilon", 1e-5)],
                       "AdaDelta (ignores learning_rate, as MXNet's).")
Ftrl = _make_class("Ftrl", "ftrl", [("lamda1", 0.01), ("learning_rate", 0.1), ("beta", 1)],
                   "FTRL-Proximal.")
Signum = _make_class("Signum", "signum", [("learning_rate", 0.01), ("momentum", 0.9),
                                          ("wd_lh", 0.0)], "Signum (signSGD with momentum).")
SignSGD = _make_class("SignSGD", "signsgd", [("learning_rate", 0.01)],
                      "signSGD (Signum without momentum).")
LAMB = _make_class("LAMB", "lamb", [("learning_rate", 0.001), ("beta1", 0.9), ("beta2", 0.999),
                                    ("epsilon", 1e-6), ("lower_bound", None),
                                    ("upper_bound", None), ("bias_correction", True)],
                   "LAMB (layer-wise adaptive moments).")
Adamax = _make_class("Adamax", "adamax", [("learning_rate", 0.002), ("beta1", 0.9),
                                          ("beta2", 0.999)], "AdaMax (Adam with infinity norm).")
Nadam = _make_class("Nadam", "nadam", [("learning_rate", 0.001), ("beta1", 0.9),
                                       ("beta2", 0.999), ("epsilon", 1e-8),
                                       ("schedule_decay", 0.004)], "Nesterov Adam.")
FTML = _make_class("FTML", "ftml", [("beta1", 0.6), ("beta2", 0.999), ("epsilon", 1e-8)],
                   "Follow the Moving Leader.")
ccSGD = SGD  # MXNet's deprecated alias


class Updater:
    """Applies an optimizer to weights: ``updater(index, grad, weight)``.

    As in MXNet, ``index``, ``grad`` and ``weight`` may be single values or lists (Module and
    gluon.Trainer pass lists). The per-index states live in the core; ``get_states`` /
    ``set_states`` and ``save`` / ``load`` serialize them in MXNet's ``.states`` format.

    Parameters
    ----------
    optimizer : Optimizer
        The update rule.

    Example
    -------
    >>> upd = mx.optimizer.get_updater(mx.optimizer.SGD(learning_rate=0.1))
    >>> w, g = mx.nd.ones((2,)), mx.nd.ones((2,))
    >>> upd(0, g, w)
    >>> w.asnumpy()
    array([0.9, 0.9], dtype=float32)
    """

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self._py_states = {}  # index -> state: Python optimizers' states, or None for core ones
        self.states_synced = {}
        self.aggregate_updates = False

    @property
    def states(self):
        """index -> state, as MXNet's ``Updater.states``: an NDArray for one-state rules (sgd
        momentum), a tuple for several (adam's mean and var), None for stateless ones. For core
        optimizers these are copies of the core's states at the time of reading (assign through
        ``set_states``/``load``, not into these arrays)."""
        if getattr(self.optimizer, "_handle", None) is None:
            return self._py_states
        arrays, js = self.optimizer.export_states()

        def key(idx):
            return int(idx) if idx.lstrip("-").isdigit() else idx
        grouped = {key(k): [] for k in js.get("state_names", {})}
        for name, arr in arrays.items():
            idx, _, _ = name.partition(":")
            grouped.setdefault(key(idx), []).append(arr)
        for k in self._py_states:
            grouped.setdefault(k, [])
        return {k: (None if not v else v[0] if len(v) == 1 else tuple(v)) for k, v in grouped.items()}

    @states.setter
    def states(self, value):
        self._py_states = dict(value)

    def __call__(self, index, grad, weight):
        if isinstance(index, (list, tuple)):
            indices, grads, weights = list(index), list(grad), list(weight)
        else:
            indices, grads, weights = [index], [grad], [weight]
        opt = self.optimizer
        if _runs_python(opt):
            for i, g, w in zip(indices, grads, weights):
                if i not in self._py_states:
                    self._py_states[i] = opt.create_state_multi_precision(i, w)
                    self.states_synced[i] = True
                opt.update_multi_precision(i, w, g, self._py_states[i])
            return
        for i in indices:
            if i not in self._py_states:
                self._py_states[i] = None
                self.states_synced[i] = True
        opt.update_multi_precision(indices, weights, grads, None)

    def sync_state_context(self, state, context):
        return state

    def set_states(self, states):
        """Restore states from the bytes of get_states() (an MX optimizer state file)."""
        self.optimizer._load_states_bytes(states)
        _, js = self.optimizer.export_states()
        self.states = {int(k): None for k in js.get("state_names", {})}
        self.states_synced = {k: True for k in self._py_states}

    def get_states(self, dump_optimizer=False):
        """The states as bytes of an MX optimizer state file (an NDArray container holding
        "<index>:<state>" arrays and the optimizer JSON: name, hyperparameters, counters,
        scheduler). The optimizer configuration is always included, so dump_optimizer is only
        accepted for compatibility."""
        if self.optimizer._handle is None:
            raise MXNotSupportedError("get_states: the states of a Python optimizer (%s) cannot be saved "
                                      "(MX never pickles)" % type(self.optimizer).__name__)
        return self.optimizer._states_bytes()

    def save(self, fname):
        self.optimizer._save_states_file(fname)

    def load(self, fname):
        self.optimizer._load_states_file(fname)
        _, js = self.optimizer.export_states()
        self.states = {int(k): None for k in js.get("state_names", {})}
        self.states_synced = {k: True for k in self._py_states}


def get_updater(optimizer):
    """An Updater for the optimizer (MXNet's ``mx.optimizer.get_updater``).

    Parameters
    ----------
    optimizer : Optimizer
        The update rule.

    Returns
    -------
    Updater
    """
    return Updater(optimizer)
