"""gluon.contrib.nn: Concurrent / HybridConcurrent (children on the same input, outputs
concatenated), Identity, PixelShuffle1D/2D/3D (depth-to-space as reshapes and a transpose)."""
from ...block import Block, HybridBlock
from ...nn import Sequential, HybridSequential

__all__ = ["Concurrent", "HybridConcurrent", "Identity", "PixelShuffle1D", "PixelShuffle2D", "PixelShuffle3D"]
from .sparse_embedding import SparseEmbedding  # noqa: E402
__all__.append("SparseEmbedding")
from .sync_batch_norm import SyncBatchNorm  # noqa: E402
__all__.append("SyncBatchNorm")


class Concurrent(Sequential):
    """Runs every child on the input and concatenates their outputs along `axis`."""

    def __init__(self, axis=-1, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self.axis = axis

    def forward(self, x):
        from .... import ndarray as nd
        return nd.concat(*[block(x) for block in self._children.values()], dim=self.axis)


class HybridConcurrent(HybridSequential):
    """Hybridizable Concurrent."""

    def __init__(self, axis=-1, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self.axis = axis

    def hybrid_forward(self, F, x):
        return F.concat(*[block(x) for block in self._children.values()], dim=self.axis)


class Identity(HybridBlock):
    """Returns its input (useful as a branch of Concurrent)."""

    def hybrid_forward(self, F, x):
        return x


class PixelShuffle1D(HybridBlock):
    """(N, C*f, W) -> (N, C, W*f)."""

    def __init__(self, factor):
        super().__init__()
        self._factor = int(factor)

    def hybrid_forward(self, F, x):
        f = self._factor
        x = F.reshape(x, (0, -4, -1, f, 0))          # N, C, f, W
        x = F.transpose(x, (0, 1, 3, 2))              # N, C, W, f
        return F.reshape(x, (0, 0, -3))               # N, C, W*f

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, self._factor)


class PixelShuffle2D(HybridBlock):
    """(N, C*f1*f2, H, W) -> (N, C, H*f1, W*f2)."""

    def __init__(self, factor):
        super().__init__()
        try:
            self._factors = (int(factor),) * 2
        except TypeError:
            self._factors = tuple(int(f) for f in factor)
            assert len(self._factors) == 2, "wrong length {}".format(len(self._factors))

    def hybrid_forward(self, F, x):
        f1, f2 = self._factors
        x = F.reshape(x, (0, -4, -1, f1 * f2, 0, 0))          # N, C, f1*f2, H, W
        x = F.reshape(x, (0, 0, -4, f1, f2, 0, 0))             # N, C, f1, f2, H, W
        x = F.transpose(x, (0, 1, 4, 2, 5, 3))                 # N, C, H, f1, W, f2
        return F.reshape(x, (0, 0, -3, -3))                    # N, C, H*f1, W*f2

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, self._factors)


class PixelShuffle3D(HybridBlock):
    """(N, C*f1*f2*f3, D, H, W) -> (N, C, D*f1, H*f2, W*f3)."""

    def __init__(self, factor):
        super().__init__()
        try:
            self._factors = (int(factor),) * 3
        except TypeError:
            self._factors = tuple(int(f) for f in factor)
            assert len(self._factors) == 3, "wrong length {}".format(len(self._factors))

    def hybrid_forward(self, F, x):
        f1, f2, f3 = self._factors
        x = F.reshape(x, (0, -4, -1, f1 * f2 * f3, 0, 0, 0))   # N, C, f1*f2*f3, D, H, W
        x = F.swapaxes(x, 2, 3)                                # N, C, D, f1*f2*f3, H, W
        x = F.reshape(x, (0, 0, 0, -4, f1, f2 * f3, 0, 0))     # N, C, D, f1, f2*f3, H, W
        x = F.reshape(x, (0, 0, -3, 0, 0, 0))                  # N, C, D*f1, f2*f3, H, W
        x = F.swapaxes(x, 3, 4)                                # N, C, D*f1, H, f2*f3, W
        x = F.reshape(x, (0, 0, 0, 0, -4, f2, f3, 0))          # N, C, D*f1, H, f2, f3, W
        x = F.reshape(x, (0, 0, 0, -3, 0, 0))                  # N, C, D*f1, H*f2, f3, W
        x = F.swapaxes(x, 4, 5)                                # N, C, D*f1, H*f2, W, f3
        return F.reshape(x, (0, 0, 0, 0, -3))                  # N, C, D*f1, H*f2, W*f3

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, self._factors)
