"""Losses (MXNet 1.x ``gluon.loss``). Each loss returns one value per sample: the mean over every
axis but batch_axis (``F.mean(..., axis=batch_axis, exclude=True)``), after weighting by the scalar
``weight`` and the broadcastable ``sample_weight``."""
import inspect

import numpy as np

from .. import ndarray as _nd
from ..base import MXShapeError
from ..ndarray.ndarray import NDArray
from .block import HybridBlock
from ._ops import op as _op

__all__ = ["Loss", "L2Loss", "L1Loss", "SigmoidBinaryCrossEntropyLoss", "SigmoidBCELoss",
           "SoftmaxCrossEntropyLoss", "SoftmaxCELoss", "KLDivLoss", "CTCLoss", "HuberLoss",
           "HingeLoss", "SquaredHingeLoss", "LogisticLoss", "TripletLoss", "PoissonNLLLoss",
           "CosineEmbeddingLoss", "SDMLLoss"]


def _apply_weighting(F, loss, weight=None, sample_weight=None):
    if sample_weight is not None:
        loss = F.broadcast_mul(loss, sample_weight)
    if weight is not None:
        if not isinstance(weight, (int, float)):
            raise TypeError("weight must be a number")
        loss = loss * weight
    return loss


def _reshape_like(F, x, y):
    if F is _nd:
        return x.reshape(y.shape)
    return F.reshape_like(x, y)


def _batch_mean(F, loss, batch_axis):
    return F.mean(loss, axis=batch_axis, exclude=True)


class Loss(HybridBlock):
    """Base class of losses: a HybridBlock computing one loss value per sample.

    Subclasses implement ``hybrid_forward(F, pred, label, sample_weight=None)``; the loss is
    multiplied by ``weight`` and ``sample_weight`` and averaged over all axes except ``batch_axis``.

    Parameters
    ----------
    weight : float or None
        Global scalar weight of the loss.
    batch_axis : int
        The axis that holds the samples.
    **kwargs
        ``prefix``/``params`` of :class:`HybridBlock`.
    """

    def __init__(self, weight, batch_axis, **kwargs):
        super().__init__(**kwargs)
        self._weight = weight
        self._batch_axis = batch_axis

    def __repr__(self):
        return "{name}(batch_axis={_batch_axis}, w={_weight})".format(
            name=self.__class__.__name__, **self.__dict__)

    def hybrid_forward(self, F, x, *args, **kwargs):
        raise NotImplementedError

    def _batch_axes(self):
        """Batch axis of the first and of the second input."""
        return self._batch_axis, self._batch_axis

    def forward(self, x, *args):
        if args and isinstance(x, NDArray) and isinstance(args[0], NDArray):
            self._check_batch(x, args[0])
        return super().forward(x, *args)

    def _check_batch(self, a, b):
        """A loss fed 4 predictions and 5 labels says so, instead of naming an internal op."""
        ia, ib = self._batch_axes()
        if a.ndim <= ia or b.ndim <= ib or a.shape[ia] == b.shape[ib]:
            return
        names = list(inspect.signature(self.hybrid_forward).parameters)[1:3]
        err = MXShapeError("%s: %s has batch size %d but %s has %d (shapes %s and %s)"
                           % (type(self).__name__, names[0], a.shape[ia], names[1], b.shape[ib],
                              a.shape, b.shape))
        err.mx_layer = type(self).__name__
        raise err


class L2Loss(Loss):
    """Squared error: ``L = 0.5 * (label - pred)**2`` (times ``weight``).

    Inputs: ``pred`` and ``label`` (label is reshaped like pred) and optional ``sample_weight``
    broadcastable to them. Output: one loss per sample, shape ``(batch_size,)`` (the mean over all
    other axes).

    Parameters
    ----------
    weight : float, default 1.0
        Global scalar weight of the loss.
    batch_axis : int, default 0
        The axis that holds the samples.
    **kwargs
        ``prefix``/``params`` of :class:`HybridBlock`.

    Example
    -------
    >>> mx.gluon.loss.L2Loss()(mx.nd.array([[1.0, 2.0]]), mx.nd.array([[0.0, 0.0]])).asnumpy()
    array([1.25], dtype=float32)
    """

    def __init__(self, weight=1., batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)

    def hybrid_forward(self, F, pred, label, sample_weight=None):
        label = _reshape_like(F, label, pred)
        loss = F.square(label - pred)
        loss = _apply_weighting(F, loss, self._weight / 2, sample_weight)
        return _batch_mean(F, loss, self._batch_axis)


class L1Loss(Loss):
    """Mean absolute error: ``L = |label - pred|``, averaged over all axes except the batch axis.

    Inputs: ``pred`` and ``label`` of the same shape (label is reshaped like pred), and optional
    ``sample_weight`` broadcastable to them. Output: a loss per sample, shape ``(batch_size,)``.

    Parameters
    ----------
    weight : float, optional
        Global scalar weight of the loss.
    batch_axis : int, default 0
        The axis that holds the samples.
    """

    def __init__(self, weight=None, batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)

    def hybrid_forward(self, F, pred, label, sample_weight=None):
        label = _reshape_like(F, label, pred)
        loss = F.abs(label - pred)
        loss = _apply_weighting(F, loss, self._weight, sample_weight)
        return _batch_mean(F, loss, self._batch_axis)


class SigmoidBinaryCrossEntropyLoss(Loss):
    """Binary cross-entropy: ``-(label * log(p) + (1 - label) * log(1 - p))`` with
    ``p = sigmoid(pred)`` (computed stably from logits), or ``p = pred`` with ``from_sigmoid=True``.

    Inputs: ``pred`` and ``label`` (label is reshaped like pred) and optional ``sample_weight``
    broadcastable to them. Output: one loss per sample, shape ``(batch_size,)`` (the mean over all
    other axes). Call as ``loss(pred, label, sample_weight=None, pos_weight=None)``;
    ``pos_weight`` scales the positive term.

    Parameters
    ----------
    from_sigmoid : bool, default False
        ``pred`` already holds probabilities rather than logits.
    weight : float, optional
        Global scalar weight of the loss.
    batch_axis : int, default 0
        The axis that holds the samples.
    **kwargs
        ``prefix``/``params`` of :class:`HybridBlock`.
    """

    def __init__(self, from_sigmoid=False, weight=None, batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._from_sigmoid = from_sigmoid

    def hybrid_forward(self, F, pred, label, sample_weight=None, pos_weight=None):
        label = _reshape_like(F, label, pred)
        if not self._from_sigmoid:
            softrelu = F.Activation(-F.abs(pred), act_type="softrelu")
            if pos_weight is None:
                loss = F.relu(pred) - pred * label + softrelu
            else:
                log_weight = 1 + F.broadcast_mul(pos_weight - 1, label)
                loss = pred - pred * label + log_weight * (softrelu + F.relu(-pred))
        else:
            eps = 1e-12
            if pos_weight is None:
                loss = -(F.log(pred + eps) * label + F.log(1. - pred + eps) * (1. - label))
            else:
                loss = -(F.broadcast_mul(F.log(pred + eps) * label, pos_weight)
                         + F.log(1. - pred + eps) * (1. - label))
        loss = _apply_weighting(F, loss, self._weight, sample_weight)
        return _batch_mean(F, loss, self._batch_axis)


SigmoidBCELoss = SigmoidBinaryCrossEntropyLoss


class SoftmaxCrossEntropyLoss(Loss):
    """Softmax cross-entropy: ``-log(softmax(pred)[label])`` with integer labels (``sparse_label``),
    or ``-sum(label * log(softmax(pred)))`` with probability labels.

    Inputs: ``pred`` ``(batch, ..., num_classes)``, ``label`` ``(batch, ...)`` of class indices (or
    the shape of ``pred`` for dense labels), optional ``sample_weight``. Output ``(batch_size,)``.

    Parameters
    ----------
    axis : int, default -1
        The class axis.
    sparse_label : bool, default True
        Labels are class indices (else probability distributions).
    from_logits : bool, default False
        ``pred`` already holds log-probabilities (no log_softmax applied).
    weight : float, optional
        Global scalar weight of the loss.
    batch_axis : int, default 0
        The axis that holds the samples.
    **kwargs
        ``prefix``/``params`` of :class:`HybridBlock`.

    Example
    -------
    >>> loss = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    >>> l = loss(mx.nd.array([[0.0, 0.0], [10.0, 0.0]]), mx.nd.array([0, 0]))
    >>> np.round(l.asnumpy(), 4)
    array([0.6931, 0.    ], dtype=float32)
    """

    def __init__(self, axis=-1, sparse_label=True, from_logits=False, weight=None, batch_axis=0,
                 **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._axis = axis
        self._sparse_label = sparse_label
        self._from_logits = from_logits

    def hybrid_forward(self, F, pred, label, sample_weight=None):
        if not self._from_logits:
            pred = F.log_softmax(pred, axis=self._axis)
        if self._sparse_label:
            loss = -F.pick(pred, label, axis=self._axis, keepdims=True)
        else:
            label = _reshape_like(F, label, pred)
            loss = -F.sum(pred * label, axis=self._axis, keepdims=True)
        loss = _apply_weighting(F, loss, self._weight, sample_weight)
        return _batch_mean(F, loss, self._batch_axis)


SoftmaxCELoss = SoftmaxCrossEntropyLoss


class KLDivLoss(Loss):
    """Kullback-Leibler divergence: ``label * (log(label) - pred)``, averaged over non-batch axes,
    where ``pred`` holds log-probabilities.

    Inputs: ``pred`` and ``label`` (label is reshaped like pred) and optional ``sample_weight``
    broadcastable to them. Output: one loss per sample, shape ``(batch_size,)`` (the mean over all
    other axes).

    Parameters
    ----------
    from_logits : bool, default True
        ``pred`` holds log-probabilities; if False, ``log_softmax`` is applied to it first.
    axis : int, default -1
        Class axis for ``log_softmax``.
    weight : float, optional
        Global scalar weight of the loss.
    batch_axis : int, default 0
        The axis that holds the samples.
    **kwargs
        ``prefix``/``params`` of :class:`HybridBlock`.
    """

    def __init__(self, from_logits=True, axis=-1, weight=None, batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._from_logits = from_logits
        self._axis = axis

    def hybrid_forward(self, F, pred, label, sample_weight=None):
        if not self._from_logits:
            pred = F.log_softmax(pred, axis=self._axis)
        loss = label * (F.log(label + 1e-12) - pred)
        loss = _apply_weighting(F, loss, self._weight, sample_weight)
        return _batch_mean(F, loss, self._batch_axis)


class CTCLoss(Loss):
    """Connectionist temporal classification loss (Graves et al., 2006; the ``CTCLoss`` operator).

    Call as ``loss(pred, label, pred_lengths=None, label_lengths=None, sample_weight=None)``;
    ``pred`` holds unnormalized scores ``(batch, seq, alphabet)`` for ``'NTC'``, whose last class is
    the blank label (as in MXNet's Gluon); ``label`` holds class indices ``(batch, label_len)`` for
    ``'NT'``; pass ``label_lengths`` (and ``pred_lengths``) when sequences are padded. Output:
    ``(batch_size,)``.

    Parameters
    ----------
    layout : {'NTC', 'TNC'}, default 'NTC'
        Layout of ``pred``.
    label_layout : {'NT', 'TN'}, default 'NT'
        Layout of ``label``.
    weight : float, optional
        Global scalar weight of the loss.
    **kwargs
        ``prefix``/``params`` of :class:`HybridBlock`.
    """

    def __init__(self, layout="NTC", label_layout="NT", weight=None, **kwargs):
        if layout not in ("NTC", "TNC"):
            raise ValueError("Only 'NTC' and 'TNC' layouts for pred are supported. Got: %s" % layout)
        if label_layout not in ("NT", "TN"):
            raise ValueError("Only 'NT' and 'TN' layouts for label are supported. Got: %s" % label_layout)
        self._layout = layout
        self._label_layout = label_layout
        batch_axis = label_layout.find("N")
        super().__init__(weight, batch_axis, **kwargs)

    def _batch_axes(self):
        return self._layout.find("N"), self._batch_axis

    def hybrid_forward(self, F, pred, label, pred_lengths=None, label_lengths=None,
                       sample_weight=None):
        ctc = _op(F, "CTCLoss", "CTCLoss")
        if self._layout == "NTC":
            pred = F.SwapAxis(pred, dim1=0, dim2=1)
        if self._batch_axis == 1:
            label = F.SwapAxis(label, dim1=0, dim2=1)
        args = [pred, label]
        if pred_lengths is not None:
            args.append(pred_lengths)
        if label_lengths is not None:
            args.append(label_lengths)
        loss = ctc(*args, use_data_lengths=pred_lengths is not None,
                   use_label_lengths=label_lengths is not None, blank_label="last")
        if isinstance(loss, (list, tuple)):
            loss = loss[0]
        return _apply_weighting(F, loss, self._weight, sample_weight)


class HuberLoss(Loss):
    """Smoothed L1 (Huber) loss of ``d = label - pred``: ``|d| - rho/2`` where ``|d| > rho``, else
    ``d**2 / (2 rho)``, averaged over all axes except the batch axis.

    Inputs: ``pred``, ``label`` (same shape) and optional ``sample_weight``. Output: shape
    ``(batch_size,)``.

    Parameters
    ----------
    rho : float, default 1
        Threshold between the quadratic and the linear part.
    weight : float, optional
        Global scalar weight of the loss.
    batch_axis : int, default 0
        The axis that holds the samples.
    """

    def __init__(self, rho=1, weight=None, batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._rho = rho

    def hybrid_forward(self, F, pred, label, sample_weight=None):
        label = _reshape_like(F, label, pred)
        loss = F.abs(label - pred)
        loss = F.where(loss > self._rho, loss - 0.5 * self._rho, (0.5 / self._rho) * F.square(loss))
        loss = _apply_weighting(F, loss, self._weight, sample_weight)
        return _batch_mean(F, loss, self._batch_axis)


class HingeLoss(Loss):
    """Hinge loss: ``max(0, margin - pred * label)`` with labels in {-1, 1}.

    Inputs: ``pred`` and ``label`` (label is reshaped like pred) and optional ``sample_weight``
    broadcastable to them. Output: one loss per sample, shape ``(batch_size,)`` (the mean over all
    other axes).

    Parameters
    ----------
    margin : float, default 1
        The margin.
    weight : float, optional
        Global scalar weight of the loss.
    batch_axis : int, default 0
        The axis that holds the samples.
    **kwargs
        ``prefix``/``params`` of :class:`HybridBlock`.
    """

    def __init__(self, margin=1, weight=None, batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._margin = margin

    def hybrid_forward(self, F, pred, label, sample_weight=None):
        label = _reshape_like(F, label, pred)
        loss = F.relu(self._margin - pred * label)
        loss = _apply_weighting(F, loss, self._weight, sample_weight)
        return _batch_mean(F, loss, self._batch_axis)


class SquaredHingeLoss(Loss):
    """Squared hinge loss: ``max(0, margin - pred * label)**2`` with labels in {-1, 1}.

    Inputs: ``pred`` and ``label`` (label is reshaped like pred) and optional ``sample_weight``
    broadcastable to them. Output: one loss per sample, shape ``(batch_size,)`` (the mean over all
    other axes).

    Parameters
    ----------
    margin : float, default 1
        The margin.
    weight : float, optional
        Global scalar weight of the loss.
    batch_axis : int, default 0
        The axis that holds the samples.
    **kwargs
        ``prefix``/``params`` of :class:`HybridBlock`.
    """

    def __init__(self, margin=1, weight=None, batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._margin = margin

    def hybrid_forward(self, F, pred, label, sample_weight=None):
        label = _reshape_like(F, label, pred)
        loss = F.square(F.relu(self._margin - pred * label))
        loss = _apply_weighting(F, loss, self._weight, sample_weight)
        return _batch_mean(F, loss, self._batch_axis)


class LogisticLoss(Loss):
    """Logistic loss: ``log(1 + exp(-pred * label))`` (computed stably).

    Inputs: ``pred`` and ``label`` (label is reshaped like pred) and optional ``sample_weight``
    broadcastable to them. Output: one loss per sample, shape ``(batch_size,)`` (the mean over all
    other axes).

    Parameters
    ----------
    weight : float, optional
        Global scalar weight of the loss.
    batch_axis : int, default 0
        The axis that holds the samples.
    **kwargs
        ``prefix``/``params`` of :class:`HybridBlock`.
    label_format : {'signed', 'binary'}, default 'signed'
        Labels in {-1, 1} (``'signed'``) or {0, 1} (``'binary'``).
    """

    def __init__(self, weight=None, batch_axis=0, label_format="signed", **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._label_format = label_format
        if self._label_format not in ["signed", "binary"]:
            raise ValueError("label_format can only be signed or binary, recieved %s." % label_format)

    def hybrid_forward(self, F, pred, label, sample_weight=None):
        label = _reshape_like(F, label, pred)
        if self._label_format == "binary":
            label = 2 * label - 1
        loss = F.relu(-pred * label) + F.Activation(-F.abs(pred * label), act_type="softrelu")
        loss = _apply_weighting(F, loss, self._weight, sample_weight)
        return _batch_mean(F, loss, self._batch_axis)


class TripletLoss(Loss):
    """Triplet loss: ``max(0, ||positive - pred||**2 - ||negative - pred||**2 + margin)``, the squared
    distances summed over all axes except the batch axis.

    Inputs: ``pred``, ``positive``, ``negative`` (same shape) and optional ``sample_weight``.
    Output: shape ``(batch_size,)``.

    Parameters
    ----------
    margin : float, default 1
        How much closer the positive must be than the negative.
    weight : float, optional
        Global scalar weight of the loss.
    batch_axis : int, default 0
        The axis that holds the samples.
    """

    def __init__(self, margin=1, weight=None, batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._margin = margin

    def hybrid_forward(self, F, pred, positive, negative, sample_weight=None):
        positive = _reshape_like(F, positive, pred)
        negative = _reshape_like(F, negative, pred)
        loss = F.sum(F.square(positive - pred) - F.square(negative - pred), axis=self._batch_axis,
                     exclude=True)
        loss = F.relu(loss + self._margin)
        return _apply_weighting(F, loss, self._weight, sample_weight)


class PoissonNLLLoss(Loss):
    """Negative log-likelihood of a Poisson distribution: ``exp(pred) - target * pred`` when ``pred``
    is a log-rate (``from_logits``), else ``pred - target * log(pred + epsilon)``.

    Call as ``loss(pred, target, sample_weight=None, epsilon=1e-08)``. Returns the mean over all
    elements (a scalar), as MXNet does.

    Parameters
    ----------
    weight : float, optional
        Global scalar weight.
    from_logits : bool, default True
        ``pred`` is the log of the rate.
    batch_axis : int, default 0
        The batch axis.
    compute_full : bool, default False
        Add Stirling's approximation term ``target * log(target) - target + 0.5 * log(2 pi target)``.
    **kwargs
        ``prefix``/``params`` of :class:`HybridBlock`.
    """

    def __init__(self, weight=None, from_logits=True, batch_axis=0, compute_full=False, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._from_logits = from_logits
        self._compute_full = compute_full

    def hybrid_forward(self, F, pred, target, sample_weight=None, epsilon=1e-08):
        target = _reshape_like(F, target, pred)
        if self._from_logits:
            loss = F.exp(pred) - target * pred
        else:
            loss = pred - target * F.log(pred + epsilon)
        if self._compute_full:
            stirling = target * F.log(target) - target + 0.5 * F.log(2 * target * np.pi)
            stirling = stirling * (target > 1)
            loss = loss + stirling
        loss = _apply_weighting(F, loss, self._weight, sample_weight)
        return F.mean(loss)


class CosineEmbeddingLoss(Loss):
    """Cosine embedding loss: ``1 - cos(x1, x2)`` for label 1, ``max(0, cos(x1, x2) - margin)`` for
    label -1.

    Call as ``loss(input1, input2, label, sample_weight=None)`` with inputs ``(batch, dim)`` and
    labels ``(batch,)`` in {-1, 1}; output ``(batch, 1)``.

    Parameters
    ----------
    weight : float, optional
        Global scalar weight.
    batch_axis : int, default 0
        The batch axis.
    margin : float, default 0
        Margin for dissimilar pairs.
    **kwargs
        ``prefix``/``params`` of :class:`HybridBlock`.
    """

    def __init__(self, weight=None, batch_axis=0, margin=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._margin = margin

    def hybrid_forward(self, F, input1, input2, label, sample_weight=None):
        input1 = _reshape_like(F, input1, input2)
        cos_sim = self._cosine_similarity(F, input1, input2)
        label = F.Reshape(label, shape=(-1, 1))
        y_1 = label == 1
        y_minus_1 = label == -1
        loss = (1 - cos_sim) * y_1 + F.relu(cos_sim - self._margin) * y_minus_1
        return _apply_weighting(F, loss, self._weight, sample_weight)

    @staticmethod
    def _cosine_similarity(F, x, y, axis=-1):
        x_norm = F.Reshape(F.norm(x, axis=axis), shape=(-1, 1))
        y_norm = F.Reshape(F.norm(y, axis=axis), shape=(-1, 1))
        x_dot_y = F.Reshape(F.sum(x * y, axis=axis), shape=(-1, 1))
        denom = _op(F, "_maximum_scalar")(x_norm * y_norm, scalar=1e-12)
        return x_dot_y / denom


class SDMLLoss(Loss):
    """Smoothed Deep Metric Learning loss (Bonadiman et al., 2019), MXNet's ``SDMLLoss``.

    For a batch of aligned pairs ``x1[i]``, ``x2[i]`` (shape ``(batch_size, dim)``), the squared
    Euclidean distances between every ``x1[i]`` and ``x2[j]`` are turned into log-probabilities by
    ``log_softmax(-distance)`` over ``j``, and compared (KL divergence) with smoothed one-hot
    targets: ``1 - smoothing_parameter`` for the aligned pair, the rest shared by the others. The
    other pairs of the batch serve as negatives. Output: one loss per sample, ``(batch_size,)``.

    Parameters
    ----------
    smoothing_parameter : float, default 0.3
        Probability mass moved from the aligned pair to the negatives.
    weight : float, default 1.
        Global scalar weight of the loss.
    batch_axis : int, default 0
        The axis that holds the samples.
    **kwargs
        ``prefix``/``params`` of :class:`HybridBlock`.
    """

    def __init__(self, smoothing_parameter=0.3, weight=1., batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self.kl_loss = KLDivLoss(from_logits=True)
        self.smoothing_parameter = smoothing_parameter

    def _compute_distances(self, F, x1, x2):
        """Squared Euclidean distance of every x1[i] to every x2[j]: (batch_size, batch_size)."""
        diff = F.broadcast_sub(F.expand_dims(x1, axis=1), F.expand_dims(x2, axis=0))
        return F.sum(F.square(diff), axis=2)

    def _compute_labels(self, F, batch_size):
        gold = F.eye(batch_size)
        other = self.smoothing_parameter / (batch_size - 1) if batch_size > 1 else 0.0
        return gold * (1 - self.smoothing_parameter) + (1 - gold) * other

    def hybrid_forward(self, F, x1, x2):
        if F is not _nd:
            raise NotImplementedError("SDMLLoss needs the batch size: call it without hybridize()")
        if x1.shape != x2.shape or x1.ndim != 2:
            raise MXShapeError("SDMLLoss: x1 and x2 must both be (batch_size, dim), got %s and %s"
                               % (x1.shape, x2.shape))
        labels = self._compute_labels(F, x1.shape[0]).as_in_context(x1.context)
        log_probabilities = F.log_softmax(-self._compute_distances(F, x1, x2), axis=1)
        return self.kl_loss(log_probabilities, labels)
