"""MX: the deep-learning framework Apache MXNet should have become. `import mx` replaces
`import mxnet as mx`."""
from .base import MXError, MXNetError, version as _version  # noqa: F401
from .context import Context, cpu, gpu, cpu_pinned, current_context, num_gpus  # noqa: F401
from . import operator  # noqa: F401
from . import context  # noqa: F401
from . import ndarray  # noqa: F401
from . import ndarray as nd  # noqa: F401
from . import autograd  # noqa: F401
from . import symbol  # noqa: F401
from . import symbol as sym  # noqa: F401
from . import initializer  # noqa: F401
from . import initializer as init  # noqa: F401
from . import metric  # noqa: F401
from . import random  # noqa: F401
from . import optimizer  # noqa: F401
from . import lr_scheduler  # noqa: F401
from . import io  # noqa: F401
from . import recordio  # noqa: F401
from . import model  # noqa: F401
from . import callback  # noqa: F401
from . import module  # noqa: F401
from . import module as mod  # noqa: F401
from . import gluon  # noqa: F401
# MXNet 1.x modules and names that programs import
from . import base  # noqa: F401
from . import name  # noqa: F401
from . import attribute  # noqa: F401
from .attribute import AttrScope  # noqa: F401
from . import util  # noqa: F401
from .util import np_shape, is_np_shape, set_np_shape, is_np_array, use_np_shape  # noqa: F401
from . import runtime  # noqa: F401
from .runtime import set_num_threads, get_num_threads  # noqa: F401 - CPU thread count (docs/ONEDNN.md)
from . import test_utils  # noqa: F401
from . import contrib  # noqa: F401
from . import rnn  # noqa: F401
from . import monitor  # noqa: F401
from . import monitor as mon  # noqa: F401
from .ndarray import sparse as _sparse  # noqa: F401
from . import _unsupported
numpy = _unsupported.install(__name__ + ".numpy", "MXNet's numpy-compatible arrays (mx.np) are not supported by MX; "
                             "use mx.nd")
np = numpy
npx = _unsupported.install(__name__ + ".numpy_extension", "mx.npx is not supported by MX; use mx.nd")
from . import kvstore  # noqa: F401
from . import kvstore as kv  # noqa: F401

__version__ = _version()
from . import onnx  # noqa: F401,E402 - imports the onnx package only when used
from . import viz  # noqa: F401,E402 - graphviz is imported only by plot_network
