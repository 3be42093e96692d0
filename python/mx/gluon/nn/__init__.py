"""mx.gluon.nn: neural-network layers (MXNet 1.x)."""
from .basic_layers import *  # noqa: F401,F403
from .conv_layers import *  # noqa: F401,F403
from .activations import *  # noqa: F401,F403
from ..block import Block, HybridBlock, SymbolBlock, Sequential, HybridSequential  # noqa: F401
