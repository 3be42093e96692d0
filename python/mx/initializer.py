"""mx.init / mx.initializer: parameter initializers with Apache MXNet 1.x semantics.

The built-in initializers are descriptions of rules that live in the core (libmx): the name-based
dispatch of ``Initializer.__call__`` (``*weight`` -> the initializer, ``*bias``/``*beta`` -> 0,
``*gamma`` -> 1, moving statistics, min/max), an ``__init__`` attribute overriding it, and every
sampling rule. Random draws come from the core's generator, so ``mx.random.seed(s)`` gives the same
initial weights from Python, R and Julia.

Subclasses written by users (overriding ``_init_weight`` and friends) run their own Python code,
as in MXNet.
"""
import json
import logging
import re

from .base import c_str, check_call, ffi, lib
from .ndarray.ndarray import NDArray

# Looked up once: a lookup on the library from __del__ can run inside cffi's own lock (ABI
# mode, MX_LIBRARY) when the garbage collector fires there, and deadlock.
_mx_initializer_free = lib.mx_initializer_free

__all__ = ["InitDesc", "Initializer", "register", "alias", "create", "Load", "Mixed", "Zero", "One",
           "Constant", "Uniform", "Normal", "Orthogonal", "Xavier", "MSRAPrelu", "Bilinear",
           "LSTMBias", "FusedRNN"]

_REGISTRY = {}


def register(klass):
    """Register an Initializer subclass under its lower-cased class name (MXNet's rule).

    Parameters
    ----------
    klass : type
        The Initializer subclass (used as a class decorator).

    Returns
    -------
    type
        ``klass``.
    """
    if not isinstance(klass, type) or not issubclass(klass, Initializer):
        raise TypeError("register: %r is not an Initializer subclass" % (klass,))
    _REGISTRY[klass.__name__.lower()] = klass
    return klass


def alias(*aliases):
    """Class decorator registering extra names for an Initializer subclass.

    Parameters
    ----------
    *aliases : str
        The names (e.g. ``'zeros'`` for ``Zero``).
    """
    def reg(klass):
        for a in aliases:
            _REGISTRY[a.lower()] = klass
        return klass
    return reg


class InitDesc(str):
    """A parameter name (a ``str``) that also carries the variable's attributes and the global
    initializer; initializers use it to pick rules by name (``..._weight``, ``..._bias``, ...).

    Parameters
    ----------
    name : str
        The parameter's name.
    attrs : dict, optional
        The variable's attributes (e.g. ``{'__init__': ...}``).
    global_init : Initializer, optional
        The initializer that applies where the attributes name none.
    """

    def __new__(cls, name, attrs=None, global_init=None):
        ret = super(InitDesc, cls).__new__(cls, name)
        ret.attrs = attrs or {}
        ret.global_init = global_init
        return ret


class _Handle:
    __slots__ = ("h",)

    def __init__(self, desc):
        out = ffi.new("mx_initializer_t *")
        check_call(lib.mx_initializer_new(c_str(desc), out))
        self.h = out[0]

    def __del__(self):
        h = getattr(self, "h", None)
        if h is not None and lib is not None:
            self.h = None  # released exactly once, even if __del__ runs again
            _mx_initializer_free(h)


# Methods whose built-in versions route to the core; a user override of any of them means the
# initializer's rules are Python code.
_HOOKS = ("__call__", "_init_weight", "_init_bias", "_init_gamma", "_init_beta", "_init_zero",
          "_init_one", "_init_default", "_legacy_init", "_init_bilinear", "_init_loc_bias")
_BUILTIN = set()


def _builtin(klass):
    _BUILTIN.add(klass)
    return klass


def _attr_json(attrs):
    out = {}
    for k, v in attrs.items():
        if k == "__init__" and isinstance(v, Initializer):
            v = v._core_desc()
        out[str(k)] = v if isinstance(v, (str, int, float, bool)) or v is None else str(v)
    return json.dumps(out)


class Initializer(object):
    """Base class of initializers (MXNet 1.x ``mx.init.Initializer``).

    Calling ``init(desc, arr)`` fills ``arr`` according to the parameter name in ``desc``, as in
    MXNet: names ending in ``bias`` or ``beta`` (and moving means) are zeroed, ``gamma`` (and moving
    variances) set to one, and ``weight`` gets the initializer's rule (the built-in rules run in the core, with the core's
    random generator, so R and Julia draw the same numbers). Subclass and override
    ``_init_weight(name, arr)`` for a custom rule.

    Parameters
    ----------
    **kwargs
        Stored and returned by ``dumps()`` (the JSON MXNet writes into symbol attributes).
    """

    _core_name = None  # set by the built-in classes

    def __init__(self, **kwargs):
        self._kwargs = kwargs
        self._verbose = False
        self._print_func = None
        self._core_cache = None

    # ------------------------------------------------------------------ description
    def set_verbosity(self, verbose=False, print_func=None):
        """Log the norm (or print_func(arr)) of every initialized parameter."""
        self._verbose = verbose
        if print_func is None:
            def print_func(x):
                return float((x.asnumpy().astype("float64") ** 2).mean() ** 0.5)
        self._print_func = print_func
        return self

    def _verbose_print(self, desc, init, arr):
        if self._verbose and self._print_func:
            logging.info("Initialized %s as %s: %s", desc, init, self._print_func(arr))

    def dumps(self):
        """MXNet's description string: '["name", {kwargs}]'."""
        return json.dumps([self.__class__.__name__.lower(), self._kwargs])

    def _core_desc(self):
        return json.dumps([self._core_name or self.__class__.__name__.lower(), self._kwargs])

    def _is_core(self):
        """True when every rule of this initializer is a built-in one (run by the core)."""
        if self._core_name is None:
            return False
        for klass in type(self).__mro__:
            if klass in _BUILTIN or klass is Initializer or klass is object:
                continue
            if any(h in vars(klass) for h in _HOOKS):
                return False
        return True

    def _core(self):
        desc = self._core_desc()
        c = getattr(self, "_core_cache", None)
        if c is None or c[0] != desc:
            c = (desc, _Handle(desc))
            self._core_cache = c
        return c[1].h

    # ------------------------------------------------------------------ dispatch
    def __call__(self, desc, arr):
        """Initialize `arr` for the parameter `desc` (a name or an InitDesc)."""
        if not isinstance(desc, str):
            raise TypeError("Initializer: the parameter name must be a str, got %r" % (desc,))
        if not isinstance(arr, NDArray):
            raise TypeError("Initializer: arr must be an NDArray, got %s" % type(arr).__name__)
        if arr.stype != "default":
            # a row_sparse weight (var(stype='row_sparse') in a Module): initialised densely,
            # then stored in its storage type (every row present), as MXNet does
            from .ndarray import zeros
            dense = zeros(arr.shape, ctx=arr.context, dtype=arr.dtype)
            self(desc, dense)
            dense.copyto(arr)
            return
        attrs = getattr(desc, "attrs", None) or {}
        if isinstance(desc, InitDesc) and desc.global_init is None:
            desc.global_init = self
        init = attrs.get("__init__", "")
        if self._is_core() and (not init or _is_core_init(init)):
            check_call(lib.mx_initializer_apply_desc(
                self._core(), c_str(str(desc)), c_str(_attr_json(attrs)) if attrs else ffi.NULL,
                arr.handle))
            self._verbose_print(desc, init or "default", arr)
            return
        if init:
            create(init)._init_weight(desc, arr)
            self._verbose_print(desc, init, arr)
            return
        self._legacy_init(desc, arr)

    def _legacy_init(self, name, arr):
        # The name rules (the core applies the same ones to built-in initializers).
        if name.startswith("upsampling"):
            self._init_bilinear(name, arr)
        elif name.startswith("stn_loc") and name.endswith("weight"):
            self._init_zero(name, arr)
        elif name.startswith("stn_loc") and name.endswith("bias"):
            self._init_loc_bias(name, arr)
        elif name.endswith("weight"):
            self._init_weight(name, arr)
        elif name.endswith("bias"):
            self._init_bias(name, arr)
        elif name.endswith("gamma"):
            self._init_gamma(name, arr)
        elif name.endswith("beta"):
            self._init_beta(name, arr)
        elif name.endswith(("moving_mean", "moving_inv_var", "moving_avg", "running_mean")):
            self._init_zero(name, arr)
        elif name.endswith(("moving_var", "running_var")):
            self._init_one(name, arr)
        elif name.endswith("min"):
            self._init_zero(name, arr)
        elif name.endswith("max"):
            self._init_one(name, arr)
        else:
            self._init_default(name, arr)

    def _init_bilinear(self, name, arr):
        Bilinear()._init_weight(name, arr)

    def _init_loc_bias(self, name, arr):
        if arr.size != 6:
            raise ValueError("Initializer: %s must have 6 elements, has shape %s" % (name, arr.shape))
        arr[:] = NDArray_from([1.0, 0, 0, 0, 1.0, 0], arr)

    def _init_zero(self, _, arr):
        arr[:] = 0.0

    def _init_one(self, _, arr):
        arr[:] = 1.0

    def _init_bias(self, _, arr):
        arr[:] = 0.0

    def _init_gamma(self, _, arr):
        arr[:] = 1.0

    def _init_beta(self, _, arr):
        arr[:] = 0.0

    def _init_weight(self, name, arr):
        if self._is_core():
            check_call(lib.mx_initializer_apply_desc(
                self._core(), c_str(str(name)), c_str(json.dumps({"__init__": self._core_desc()})),
                arr.handle))
            return
        raise NotImplementedError("%s must override _init_weight" % type(self).__name__)

    def _init_default(self, name, _):
        raise ValueError(
            "Unknown initialization pattern for %s. Default initialization is limited to "
            '"weight", "bias", "gamma" (1.0), and "beta" (0.0). Please use '
            "mx.sym.Variable(init=mx.init.*) to set initialization pattern" % name)

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__,
                           ", ".join("%s=%r" % kv for kv in sorted(self._kwargs.items())))

    def __eq__(self, other):
        return type(self) is type(other) and self._kwargs == other._kwargs

    def __hash__(self):
        return hash((type(self).__name__, self.dumps()))


def NDArray_from(values, like):
    from .ndarray.ndarray import array
    return array(values, ctx=like.context, dtype=like.dtype).reshape(like.shape)


def _is_core_init(init):
    if isinstance(init, Initializer):
        return init._is_core()
    if not isinstance(init, str):
        return False
    # A description string: the core parses it, unless it names a Python-only initializer
    # (FusedRNN, or a user's registered subclass).
    try:
        d = json.loads(init)
        name = d[0] if isinstance(d, list) and d else (d.get("name") if isinstance(d, dict) else None)
    except ValueError:
        name = init.strip()
    klass = _REGISTRY.get(name.lower()) if isinstance(name, str) else None
    return klass is None or klass in _BUILTIN


def create(init, *args, **kwargs):
    """An Initializer from an instance, a registered name or a description string.

    Parameters
    ----------
    init : Initializer or str
        An instance (returned as is), a name (``'xavier'``, ``'zeros'``, ``'uniform'``, ...) or a
        JSON description (``'["xavier", {"magnitude": 2}]'``, as MXNet writes into ``__init__``).
    *args, **kwargs
        Arguments of the initializer class.

    Returns
    -------
    Initializer
    """
    if isinstance(init, (Initializer, Load)):
        return init
    if not isinstance(init, str):
        raise TypeError("initializer must be an Initializer, a name or a JSON description, got %r"
                        % (init,))
    s = init.strip()
    if s.startswith("[") or s.startswith("{"):
        try:
            d = json.loads(s)
        except ValueError as e:
            raise ValueError("malformed initializer description %r: %s" % (init, e)) from None
        if isinstance(d, list):
            if not d or not isinstance(d[0], str) or len(d) > 2:
                raise ValueError("initializer description must be [\"name\", {kwargs}], got %r" % init)
            name, kw = d[0], (d[1] if len(d) == 2 else {})
        else:
            kw = dict(d)
            name = kw.pop("name", None)
            if not isinstance(name, str):
                raise ValueError("initializer description object needs a \"name\", got %r" % init)
        if not isinstance(kw, dict):
            raise ValueError("initializer arguments must be an object, got %r" % (kw,))
        return _lookup(name)(**kw)
    return _lookup(s)(*args, **kwargs)


def _lookup(name):
    klass = _REGISTRY.get(name.lower())
    if klass is None:
        raise ValueError("unknown initializer %r; registered: %s" % (name, ", ".join(sorted(_REGISTRY))))
    return klass


class Load(object):
    """Initialize parameters from a saved file or a dict of NDArrays (``arg:``/``aux:`` prefixes are
    stripped); parameters not found use ``default_init``.

    Parameters
    ----------
    param : str or dict of str to NDArray
        A ``.params`` file or the arrays.
    default_init : Initializer, optional
        For parameters not in ``param`` (raises if None).
    verbose : bool, default False
        Log each loaded parameter.
    """

    def __init__(self, param, default_init=None, verbose=False):
        if isinstance(param, str):
            from .ndarray import load
            param = load(param)
        if not isinstance(param, dict):
            raise TypeError("Load: param must be a file name or a dict of NDArrays")
        self.param = {}
        for name, arr in param.items():
            if name.startswith("arg:") or name.startswith("aux:"):
                self.param[name[4:]] = arr
            else:
                self.param[name] = arr
        self.default_init = None if default_init is None else create(default_init)
        self.verbose = verbose

    def __call__(self, name, arr):
        if name in self.param:
            src = self.param[name]
            if tuple(arr.shape) != tuple(src.shape):
                raise ValueError("Parameter %s cannot be initialized from loading. Shape mismatch, "
                                 "target %s vs loaded %s" % (name, arr.shape, src.shape))
            src.copyto(arr)
            if self.verbose:
                logging.info("Initialized %s by loading", name)
        else:
            if self.default_init is None:
                raise ValueError("Cannot Initialize %s. Not found in loaded param and no default "
                                 "Initializer is provided." % name)
            self.default_init(name, arr)
            if self.verbose:
                logging.info("Initialized %s by default", name)


@_builtin
@register
class Mixed(Initializer):
    """Initialize each parameter with the first initializer whose regular expression (``re.match``)
    matches its name.

    Parameters
    ----------
    patterns : list of str
        Regular expressions, e.g. ``['.*bias', '.*']``.
    initializers : list of Initializer
        One per pattern.

    Example
    -------
    >>> init = mx.init.Mixed(["fc1_.*", ".*"], [mx.init.Constant(0.5), mx.init.One()])
    >>> w1, w2 = mx.nd.zeros((2,)), mx.nd.zeros((2,))
    >>> init(mx.init.InitDesc("fc1_weight"), w1)
    >>> init(mx.init.InitDesc("fc2_weight"), w2)
    >>> w1.asnumpy(), w2.asnumpy()
    (array([0.5, 0.5], dtype=float32), array([1., 1.], dtype=float32))
    """
    _core_name = "mixed"

    def __init__(self, patterns, initializers):
        if len(patterns) != len(initializers):
            raise ValueError("Mixed: %d patterns but %d initializers" % (len(patterns), len(initializers)))
        inits = [create(i) for i in initializers]
        self.map = list(zip([re.compile(p) for p in patterns], inits))
        super(Mixed, self).__init__(patterns=list(patterns),
                                    initializers=[json.loads(i._core_desc()) if isinstance(i, Initializer)
                                                  else None for i in inits])
        self._all_core = all(isinstance(i, Initializer) and i._is_core() for i in inits)
        if self._all_core:
            self._core()

    def _is_core(self):
        return self._all_core and super(Mixed, self)._is_core()

    def __call__(self, name, arr):
        if self._is_core():
            return super(Mixed, self).__call__(name, arr)
        for prog, init in self.map:
            if prog.match(name):
                init(name, arr)
                return
        raise ValueError('Parameter name %s did not match any pattern. Consider adding a ".*" '
                         "pattern at the end with a default Initializer." % name)

    def _init_weight(self, name, arr):
        if self._is_core():
            return super(Mixed, self)._init_weight(name, arr)
        for prog, init in self.map:
            if prog.match(name):
                return init._init_weight(name, arr)
        raise ValueError("Parameter name %s did not match any pattern." % name)


@_builtin
@register
@alias("zeros")
class Zero(Initializer):
    """Fills the weights with zeros (registered as ``'zero'`` and ``'zeros'``).

    Example
    -------
    >>> w = mx.nd.ones((2,))
    >>> mx.init.Zero()(mx.init.InitDesc("w_weight"), w)
    >>> w.asnumpy()
    array([0., 0.], dtype=float32)
    """
    _core_name = "zero"

    def __init__(self):
        super(Zero, self).__init__()


@_builtin
@register
@alias("ones")
class One(Initializer):
    """Fills the weights with ones (registered as ``'one'`` and ``'ones'``).

    Example
    -------
    >>> w = mx.nd.zeros((2,))
    >>> mx.init.One()(mx.init.InitDesc("w_weight"), w)
    >>> w.asnumpy()
    array([1., 1.], dtype=float32)
    """
    _core_name = "one"

    def __init__(self):
        super(One, self).__init__()


@_builtin
@register
class Constant(Initializer):
    """Fills the weights with a constant.

    Parameters
    ----------
    value : float or list or NDArray
        A scalar, or values with the weight's size.
    """
    _core_name = "constant"

    def __init__(self, value):
        if isinstance(value, NDArray):
            value = value.asnumpy()
        if hasattr(value, "tolist"):
            value = value.tolist()
        super(Constant, self).__init__(value=value)
        self.value = value
        self._core()


@_builtin
@register
class Uniform(Initializer):
    """Draws the weights from the uniform distribution U(-scale, scale).

    Parameters
    ----------
    scale : float, default 0.07
        Half-width of the interval.
    """
    _core_name = "uniform"

    def __init__(self, scale=0.07):
        super(Uniform, self).__init__(scale=scale)
        self.scale = scale
        self._core()


@_builtin
@register
class Normal(Initializer):
    """Draws the weights from the normal distribution N(0, sigma**2).

    Parameters
    ----------
    sigma : float, default 0.01
        Standard deviation.
    """
    _core_name = "normal"

    def __init__(self, sigma=0.01):
        super(Normal, self).__init__(sigma=sigma)
        self.sigma = sigma
        self._core()


@_builtin
@register
class Orthogonal(Initializer):
    """Orthogonal weights (Saxe et al., 2013): the weight, viewed as a ``(shape[0], -1)`` matrix, is
    an orthogonal matrix from the SVD of a random one, times ``scale``.

    Parameters
    ----------
    scale : float, default 1.414
        Scale of the orthogonal matrix.
    rand_type : {'uniform', 'normal'}, default 'uniform'
        Distribution of the random matrix.
    """
    _core_name = "orthogonal"

    def __init__(self, scale=1.414, rand_type="uniform"):
        super(Orthogonal, self).__init__(scale=scale, rand_type=rand_type)
        self.scale = scale
        self.rand_type = rand_type
        self._core()


@_builtin
@register
class Xavier(Initializer):
    """Xavier/Glorot initialization: values of scale ``sqrt(magnitude / factor)``, where ``factor``
    is the fan-in, the fan-out or their average.

    For ``rnd_type='uniform'`` the weights are drawn from U(-scale, scale), for ``'gaussian'`` from
    N(0, scale**2). Fan-in is ``shape[1] * prod(shape[2:])``, fan-out ``shape[0] * prod(shape[2:])``.

    Parameters
    ----------
    rnd_type : {'uniform', 'gaussian'}, default 'uniform'
        The distribution.
    factor_type : {'avg', 'in', 'out'}, default 'avg'
        Which fan to divide by.
    magnitude : float, default 3
        Scale factor.
    """
    _core_name = "xavier"

    def __init__(self, rnd_type="uniform", factor_type="avg", magnitude=3):
        super(Xavier, self).__init__(rnd_type=rnd_type, factor_type=factor_type, magnitude=magnitude)
        self.rnd_type = rnd_type
        self.factor_type = factor_type
        self.magnitude = float(magnitude)
        self._core()


@_builtin
@register
class MSRAPrelu(Xavier):
    """He/MSRA initialization for (P)ReLU networks: ``Xavier('gaussian', factor_type, 2 / (1 + slope**2))``.

    Parameters
    ----------
    factor_type : {'avg', 'in', 'out'}, default 'avg'
        Which fan to divide by.
    slope : float, default 0.25
        Negative slope of the (P)ReLU (0 for ReLU).
    """
    _core_name = "msraprelu"

    def __init__(self, factor_type="avg", slope=0.25):
        Initializer.__init__(self, factor_type=factor_type, slope=slope)
        self.rnd_type = "gaussian"
        self.factor_type = factor_type
        self.magnitude = 2.0 / (1 + slope ** 2)
        self._core()


@_builtin
@register
class Bilinear(Initializer):
    """Bilinear up-sampling weights for 4-D deconvolution kernels ``(C, 1, k, k)`` (as MXNet's, used to
    initialize ``Deconvolution`` as a bilinear interpolation).
    """
    _core_name = "bilinear"

    def __init__(self):
        super(Bilinear, self).__init__()


@_builtin
@register
class LSTMBias(Initializer):
    """LSTM bias: zeros, except the forget-gate quarter, set to ``forget_bias`` (helps gradients flow
    early in training).

    Parameters
    ----------
    forget_bias : float, default 1.0
        Value of the forget-gate bias.
    """
    _core_name = "lstmbias"

    def __init__(self, forget_bias=1.0):
        super(LSTMBias, self).__init__(forget_bias=forget_bias)
        self.forget_bias = forget_bias
        self._core()



@register
class FusedRNN(Initializer):
    """Initializes the packed 'parameters' vector of the fused RNN op (mx.rnn.FusedRNNCell): the
    vector is viewed as its per-layer, per-direction, per-gate weights and biases, each of which
    gets `init` (or the global initializer) by its name; LSTM forget-gate biases get forget_bias.

    Parameters
    ----------
    init : Initializer or str or None
        Rule for the unpacked weights (None: the initializer that called this one).
    num_hidden, num_layers, mode, bidirectional, forget_bias
        The fused cell's configuration (as mx.rnn.FusedRNNCell).
    """

    def __init__(self, init, num_hidden, num_layers, mode, bidirectional=False, forget_bias=1.0):
        if isinstance(init, str):
            init = create(init)
        Initializer.__init__(self, init=init.dumps() if init is not None else None, num_hidden=num_hidden,
                             num_layers=num_layers, mode=mode, bidirectional=bidirectional,
                             forget_bias=forget_bias)
        self._init = init
        self._num_hidden = num_hidden
        self._num_layers = num_layers
        self._mode = mode
        self._bidirectional = bidirectional
        self._forget_bias = forget_bias

    def _init_weight(self, desc, arr):
        from .rnn.rnn_cell import FusedRNNCell
        cell = FusedRNNCell(self._num_hidden, self._num_layers, self._mode, self._bidirectional,
                            forget_bias=self._forget_bias, prefix="")
        global_init = getattr(desc, "global_init", None)
        args = cell.unpack_weights({"parameters": arr})
        for name, part in args.items():
            part_desc = InitDesc(name, global_init=global_init)
            if self._mode == "lstm" and name.endswith("_f_bias"):
                part[:] = self._forget_bias
            elif self._init is not None:
                self._init(part_desc, part)
            elif global_init is not None:
                global_init(part_desc, part)
            else:
                raise ValueError("FusedRNN: no initializer for %s (give init= or call it through an "
                                 "initializer)" % name)
        arr[:] = cell.pack_weights(args)["parameters"]
