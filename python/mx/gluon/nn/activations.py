"""Activation layers (MXNet 1.x ``gluon.nn.activations``)."""
from ... import initializer
from ..block import HybridBlock
from .._ops import op as _op
from .basic_layers import _name

__all__ = ["Activation", "LeakyReLU", "PReLU", "ELU", "SELU", "Swish", "GELU"]


class Activation(HybridBlock):
    """Activation(act_type): 'relu', 'sigmoid', 'tanh', 'softrelu', 'softsign'."""

    def __init__(self, activation, **kwargs):
        self._act_type = activation
        super().__init__(**kwargs)

    def _alias(self):
        return self._act_type

    def hybrid_forward(self, F, x):
        return _op(F, "Activation", "Activation")(x, act_type=self._act_type, **_name(F, self))

    def __repr__(self):
        return "Activation(%s)" % self._act_type


class LeakyReLU(HybridBlock):
    """max(x, alpha*x)."""

    def __init__(self, alpha, **kwargs):
        if alpha < 0:
            raise ValueError("Slope coefficient for LeakyReLU must be no less than 0.")
        super().__init__(**kwargs)
        self._alpha = alpha

    def hybrid_forward(self, F, x):
        return _op(F, "LeakyReLU", "LeakyReLU")(x, act_type="leaky", slope=self._alpha,
                                                 **_name(F, self))

    def __repr__(self):
        return "LeakyReLU(%s)" % self._alpha


class PReLU(HybridBlock):
    """Leaky ReLU with a learned slope per channel (alpha)."""

    def __init__(self, alpha_initializer=None, in_channels=1, **kwargs):
        super().__init__(**kwargs)
        if alpha_initializer is None:
            alpha_initializer = initializer.Constant(0.25)
        with self.name_scope():
            self.alpha = self.params.get("alpha", shape=(in_channels,), init=alpha_initializer)

    def hybrid_forward(self, F, x, alpha):
        return _op(F, "LeakyReLU", "PReLU")(x, gamma=alpha, act_type="prelu", **_name(F, self))


class ELU(HybridBlock):
    """x if x > 0 else alpha*(exp(x)-1)."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self._alpha = alpha

    def hybrid_forward(self, F, x):
        return _op(F, "LeakyReLU", "ELU")(x, act_type="elu", slope=self._alpha, **_name(F, self))


class SELU(HybridBlock):
    """Scaled ELU."""

    def hybrid_forward(self, F, x):
        return _op(F, "LeakyReLU", "SELU")(x, act_type="selu", **_name(F, self))


class GELU(HybridBlock):
    """Gaussian error linear unit."""

    def hybrid_forward(self, F, x):
        return _op(F, "LeakyReLU", "GELU")(x, act_type="gelu", **_name(F, self))


class Swish(HybridBlock):
    """x * sigmoid(beta * x)."""

    def __init__(self, beta=1.0, **kwargs):
        super().__init__(**kwargs)
        self._beta = beta

    def hybrid_forward(self, F, x):
        return x * _op(F, "sigmoid")(self._beta * x, **_name(F, self))
