"""mx.sym / mx.symbol: symbolic graphs and every registered op as a symbol function."""
from .symbol import Symbol, var, Variable, Group, load, load_json, fromjson  # noqa: F401
from .executor import Executor  # noqa: F401
from . import _internal  # noqa: F401
from .symbol import populate as _populate

_populate(globals(), vars(_internal))
