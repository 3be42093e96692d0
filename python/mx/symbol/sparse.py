"""mx.sym.sparse: MXNet's symbolic sparse namespace. The same ops as mx.sym (storage types are
dispatched by the core when the graph runs), listed as MXNet lists them."""
import sys as _sys

from .._sparse_op_names import install as _install
from . import _internal

_install(globals(), _sys.modules[__package__], _internal)
