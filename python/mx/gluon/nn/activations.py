"""Activation layers (MXNet 1.x ``gluon.nn.activations``)."""
from ... import initializer
from ..block import HybridBlock
from .._ops import op as _op
from .basic_layers import _name

__all__ = ["Activation", "LeakyReLU", "PReLU", "ELU", "SELU", "Swish", "GELU"]


class Activation(HybridBlock):
    """Applies an element-wise activation function (the ``Activation`` operator).

    Input and output have the same shape.

    Parameters
    ----------
    activation : str
        One of ``'relu'``, ``'sigmoid'``, ``'tanh'``, ``'softrelu'`` (log(1 + exp(x))) and ``'softsign'``.
    **kwargs
        ``prefix`` and ``params`` of :class:`HybridBlock`.

    Example
    -------
    >>> mx.gluon.nn.Activation("relu")(mx.nd.array([-1.0, 2.0])).asnumpy()
    array([0., 2.], dtype=float32)
    """

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
    """Leaky rectified linear unit: ``x`` if ``x >= 0`` else ``alpha * x``.

    Parameters
    ----------
    alpha : float
        Slope for negative inputs (>= 0).
    **kwargs
        ``prefix`` and ``params`` of :class:`HybridBlock`.

    Example
    -------
    >>> mx.gluon.nn.LeakyReLU(0.1)(mx.nd.array([-2.0, 3.0])).asnumpy()
    array([-0.2,  3. ], dtype=float32)
    """

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
    """Parametric ReLU: ``x`` if ``x >= 0`` else ``alpha * x`` with a learned ``alpha`` per channel.

    Input ``(batch, channels, ...)``; ``alpha`` has shape ``(in_channels,)`` and broadcasts over axis 1.

    Parameters
    ----------
    alpha_initializer : Initializer, default Constant(0.25)
        Initial slope.
    in_channels : int, default 1
        Number of channels (1 shares one slope over all channels).
    **kwargs
        ``prefix`` and ``params`` of :class:`HybridBlock`.
    """

    def __init__(self, alpha_initializer=None, in_channels=1, **kwargs):
        super().__init__(**kwargs)
        if alpha_initializer is None:
            alpha_initializer = initializer.Constant(0.25)
        with self.name_scope():
            self.alpha = self.params.get("alpha", shape=(in_channels,), init=alpha_initializer)

    def hybrid_forward(self, F, x, alpha):
        return _op(F, "LeakyReLU", "PReLU")(x, gamma=alpha, act_type="prelu", **_name(F, self))


class ELU(HybridBlock):
    """Exponential linear unit: ``x`` if ``x > 0`` else ``alpha * (exp(x) - 1)``.

    Parameters
    ----------
    alpha : float, default 1.0
        Scale of the negative part.
    **kwargs
        ``prefix`` and ``params`` of :class:`HybridBlock`.
    """

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self._alpha = alpha

    def hybrid_forward(self, F, x):
        return _op(F, "LeakyReLU", "ELU")(x, act_type="elu", slope=self._alpha, **_name(F, self))


class SELU(HybridBlock):
    """Scaled exponential linear unit (Klambauer et al., 2017):
    ``lambda * x`` if ``x > 0`` else ``lambda * alpha * (exp(x) - 1)``, with the paper's constants.

    Parameters
    ----------
    prefix : str, optional
        Prefix of the block's name.
    params : ParameterDict, optional
        Parameters to share (this layer has none).
    """

    def hybrid_forward(self, F, x):
        return _op(F, "LeakyReLU", "SELU")(x, act_type="selu", **_name(F, self))


class GELU(HybridBlock):
    """Gaussian error linear unit: ``x * Phi(x)``, with ``Phi`` the standard normal CDF.

    Parameters
    ----------
    prefix : str, optional
        Prefix of the block's name.
    params : ParameterDict, optional
        Parameters to share (this layer has none).
    """

    def hybrid_forward(self, F, x):
        return _op(F, "LeakyReLU", "GELU")(x, act_type="gelu", **_name(F, self))


class Swish(HybridBlock):
    """Swish activation: ``x * sigmoid(beta * x)``.

    Parameters
    ----------
    beta : float, default 1.0
        Steepness of the sigmoid.
    **kwargs
        ``prefix`` and ``params`` of :class:`HybridBlock`.
    """

    def __init__(self, beta=1.0, **kwargs):
        super().__init__(**kwargs)
        self._beta = beta

    def hybrid_forward(self, F, x):
        return x * _op(F, "sigmoid")(self._beta * x, **_name(F, self))
