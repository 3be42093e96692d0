"""mx.contrib: MXNet's contrib namespace. Automatic mixed precision (amp) is not part of MX:
`from mxnet.contrib.amp import amp` imports, and using it raises MXNotSupportedError."""
from .. import _unsupported

amp = _unsupported.install(__name__ + ".amp", "automatic mixed precision (mxnet.contrib.amp) is not supported by MX")
amp.__dict__["amp"] = amp  # mxnet.contrib.amp.amp is the module itself
from ..ndarray import contrib as ndarray  # noqa: E402  (MXNet's mx.contrib.ndarray is mx.nd.contrib)
from ..symbol import contrib as symbol  # noqa: E402
nd = ndarray  # MXNet's short aliases (mx.contrib.nd.box_nms, mx.contrib.sym.MultiBoxPrior)
sym = symbol
