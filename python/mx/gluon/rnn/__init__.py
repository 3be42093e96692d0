"""mx.gluon.rnn: recurrent layers and cells (MXNet 1.x ``gluon.rnn``)."""
from . import rnn_cell, rnn_layer  # noqa: F401
from .rnn_cell import *  # noqa: F401,F403
from .rnn_layer import *  # noqa: F401,F403
