"""Every registered operator as a function (generated at import from the registry)."""
from .register import populate as _populate
from . import _internal

_populate(globals(), vars(_internal))
