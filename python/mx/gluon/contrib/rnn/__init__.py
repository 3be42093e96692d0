"""gluon.contrib.rnn: convolutional recurrent cells (Conv{1,2,3}D{RNN,LSTM,GRU}Cell),
VariationalDropoutCell (one dropout mask per sequence) and LSTMPCell (LSTM with a projection)."""
from .conv_rnn_cell import (Conv1DRNNCell, Conv2DRNNCell, Conv3DRNNCell, Conv1DLSTMCell,  # noqa: F401
                            Conv2DLSTMCell, Conv3DLSTMCell, Conv1DGRUCell, Conv2DGRUCell, Conv3DGRUCell)
from .rnn_cell import VariationalDropoutCell, LSTMPCell  # noqa: F401

__all__ = ["Conv1DRNNCell", "Conv2DRNNCell", "Conv3DRNNCell", "Conv1DLSTMCell", "Conv2DLSTMCell",
           "Conv3DLSTMCell", "Conv1DGRUCell", "Conv2DGRUCell", "Conv3DGRUCell", "VariationalDropoutCell",
           "LSTMPCell"]
