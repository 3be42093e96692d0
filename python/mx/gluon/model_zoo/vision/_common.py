"""Helpers shared by the model-zoo networks."""
from ....context import cpu
from ...block import HybridBlock
from ... import nn
from ..model_store import get_model_file


class HybridConcurrent(nn.HybridSequential):
    """Runs every child on the same input and concatenates their outputs along `axis`
    (MXNet 1.x ``gluon.contrib.nn.HybridConcurrent``)."""

    def __init__(self, axis=-1, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self.axis = axis

    def hybrid_forward(self, F, x):
        return F.concat(*[block(x) for block in self._children.values()], dim=self.axis)


class RELU6(HybridBlock):
    """min(max(x, 0), 6)."""

    def hybrid_forward(self, F, x):
        return F.clip(x, a_min=0, a_max=6, name="relu6")


def load_pretrained(net, name, pretrained, ctx, root):
    if pretrained:
        net.load_parameters(get_model_file(name, root=root), ctx=ctx if ctx is not None else cpu())
    return net
