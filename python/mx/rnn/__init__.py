"""mx.rnn: MXNet 1.x symbolic recurrent cells and the bucketing sentence iterator."""
from .rnn_cell import *  # noqa: F401,F403
from .rnn_cell import RNNParams, BaseRNNCell  # noqa: F401
from .conv_rnn_cell import BaseConvRNNCell, ConvRNNCell, ConvLSTMCell, ConvGRUCell  # noqa: F401
from . import io  # noqa: F401
from .io import BucketSentenceIter, encode_sentences  # noqa: F401
