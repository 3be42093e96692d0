"""mx.sym / mx.symbol: symbolic graphs and every registered op as a symbol function."""
from .symbol import Symbol, var, Variable, Group, load, load_json, fromjson  # noqa: F401
from .executor import Executor  # noqa: F401
from . import _internal  # noqa: F401
from .symbol import populate as _populate

_populate(globals(), vars(_internal))
from .._op_namespaces import make_namespace as _make_namespace
linalg = _make_namespace(__name__ + ".linalg", globals(), "linalg_",
                         "mx.sym.linalg: linear algebra on batches of matrices (the registry's linalg_* ops).")
contrib = _make_namespace(__name__ + ".contrib", vars(_internal), "_contrib_",
                          "mx.sym.contrib: MXNet's contrib operators (the registry's _contrib_* ops).")
image = _make_namespace(__name__ + ".image", vars(_internal), "_image_",
                        "mx.sym.image: MXNet's image operators (the registry's _image_* ops).")
from . import random  # noqa: F401,E402
from . import contrib_optimizer as _contrib_optimizer  # noqa: E402
for _name in _contrib_optimizer.__all__:
    setattr(contrib, _name, getattr(_contrib_optimizer, _name))
from . import sparse  # noqa: F401,E402
from . import fluent as _fluent
_fluent.install(__import__(__name__, fromlist=["_"]))
from ..ndarray import scalar_binary as _scalar_binary
_scalar_binary.install(globals(), Symbol, __import__(__name__, fromlist=["_"]), _internal)


def _filled(creator, shape, dtype, kwargs):
    shape = tuple(shape) if not isinstance(shape, int) else (shape,)
    return creator(shape=shape, **({"dtype": dtype} if dtype is not None else {}), **kwargs)


def zeros(shape, dtype=None, **kwargs):
    """Symbol of zeros (MXNet's mx.sym.zeros).

    Parameters
    ----------
    shape : int or tuple of int
        The shape.
    dtype : str or numpy dtype, optional
        Element type (default float32).
    **kwargs
        ``name``, ``attr``.

    Returns
    -------
    Symbol
    """
    return _filled(_internal._zeros, shape, dtype, kwargs)


def ones(shape, dtype=None, **kwargs):
    """Symbol of ones (MXNet's mx.sym.ones).

    Parameters
    ----------
    shape : int or tuple of int
        The shape.
    dtype : str or numpy dtype, optional
        Element type (default float32).
    **kwargs
        ``name``, ``attr``.

    Returns
    -------
    Symbol
    """
    return _filled(_internal._ones, shape, dtype, kwargs)
from ..ndarray import legacy_ops as _legacy_ops  # noqa: E402
_legacy_ops.install(globals(), "sym", __import__(__name__, fromlist=["_"]), _internal)
