"""gluon.contrib.nn.SparseEmbedding: an Embedding whose weight is a row_sparse Parameter kept in
the Trainer's kvstore. Each forward pulls only the rows its input uses; the gradient is
row_sparse, so the kvstore's optimizer updates only those rows."""
from ...block import Block

__all__ = ["SparseEmbedding"]


class SparseEmbedding(Block):
    """Maps integer indices to vectors, reading only the rows it needs (MXNet's
    ``gluon.contrib.nn.SparseEmbedding``). Create a ``gluon.Trainer`` with its parameters before
    the first forward: the weight's rows come from the Trainer's kvstore.

    Parameters
    ----------
    input_dim : int
        Vocabulary size (rows of the weight).
    output_dim : int
        Vector size.
    dtype : str, default 'float32'
        Dtype of the weight.
    weight_initializer : Initializer, optional
        Initializer of the ``(input_dim, output_dim)`` weight.
    """

    def __init__(self, input_dim, output_dim, dtype="float32", weight_initializer=None, **kwargs):
        super().__init__(**kwargs)
        self._kwargs = {"input_dim": input_dim, "output_dim": output_dim, "dtype": dtype,
                        "sparse_grad": True}
        self.weight = self.params.get("weight", shape=(input_dim, output_dim), init=weight_initializer,
                                      dtype=dtype, stype="row_sparse", grad_stype="row_sparse")

    def forward(self, x):
        from .... import ndarray as nd
        weight = self.weight.row_sparse_data(x)
        return nd.Embedding(x, weight, **self._kwargs)

    def __repr__(self):
        return "%s(%d -> %d, %s)" % (type(self).__name__, self._kwargs["input_dim"],
                                     self._kwargs["output_dim"], self._kwargs["dtype"])
