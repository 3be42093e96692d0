"""mx.nd: NDArray and every registered operator."""
from .ndarray import NDArray, array, empty, waitall, bfloat16  # noqa: F401
from . import _internal  # noqa: F401
from . import op  # noqa: F401
from .op import *  # noqa: F401,F403
from . import fluent as _fluent
_fluent.install(op)
from .utils import zeros, ones, full, arange, eye, linspace, zeros_like, ones_like, save, load, concatenate  # noqa: F401
from .utils import load_frombuffer  # noqa: F401
from . import random  # noqa: F401
from .ndarray import from_numpy  # noqa: F401
from ..dlpack import from_dlpack, to_dlpack_for_read, to_dlpack_for_write  # noqa: F401
from .._op_namespaces import make_namespace as _make_namespace
linalg = _make_namespace(__name__ + ".linalg", vars(op), "linalg_",
                         "mx.nd.linalg: linear algebra on batches of matrices (the registry's linalg_* ops).")
contrib = _make_namespace(__name__ + ".contrib", vars(_internal), "_contrib_",
                          "mx.nd.contrib: MXNet's contrib operators (the registry's _contrib_* ops).")
image = _make_namespace(__name__ + ".image", vars(_internal), "_image_",
                        "mx.nd.image: MXNet's image operators (the registry's _image_* ops).")
from . import control_flow as _control_flow
contrib.foreach = _control_flow.foreach
contrib.while_loop = _control_flow.while_loop
contrib.cond = _control_flow.cond
from . import contrib_optimizer as _contrib_optimizer  # noqa: E402
for _name in _contrib_optimizer.__all__:
    setattr(contrib, _name, getattr(_contrib_optimizer, _name))
from . import scalar_binary as _scalar_binary
_scalar_binary.install(globals(), NDArray, op, _internal)
from . import sparse  # noqa: F401,E402
from . import legacy_ops as _legacy_ops  # noqa: E402
_legacy_ops.install(globals(), "nd", op, _internal)
from .cached_op import CachedOp  # noqa: E402,F401
