"""mx.sym.sparse: MXNet's symbolic sparse namespace. The same ops as mx.sym (storage types are
dispatched by the core when the graph runs), listed as MXNet lists them."""
import sys as _sys

from .._sparse_op_names import SPARSE_OPS as _OPS
from . import _internal

_sym = _sys.modules[__package__]
for _name in _OPS:
    if hasattr(_sym, _name):
        globals()[_name] = getattr(_sym, _name)
if hasattr(_internal, "_sparse_retain"):
    retain = _internal._sparse_retain
del _name
