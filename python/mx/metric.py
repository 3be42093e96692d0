"""mx.metric: evaluation metrics with Apache MXNet 1.x semantics.

The built-in metrics keep their statistics and do their arithmetic in the core (libmx), so R and
Julia report the same numbers. ``EvalMetric`` subclasses written by users and ``CustomMetric``
(a user's ``feval``) run their own Python code, as in MXNet.
"""
import json

import numpy

from .base import c_str, check_call, ffi, lib, py_str
from .ndarray.ndarray import NDArray, array as _nd_array

# Looked up once: a lookup on the library from __del__ can run inside cffi's own lock (ABI
# mode, MX_LIBRARY) when the garbage collector fires there, and deadlock.
_mx_metric_free = lib.mx_metric_free

__all__ = ["EvalMetric", "CompositeEvalMetric", "Accuracy", "TopKAccuracy", "F1", "MCC", "PCC", "MAE", "MSE",
           "RMSE", "CrossEntropy", "NegativeLogLikelihood", "Perplexity", "PearsonCorrelation",
           "Loss", "Torch", "Caffe", "CustomMetric", "create", "np", "register", "alias",
           "check_label_shapes"]

_REGISTRY = {}


def register(klass):
    """Register an EvalMetric subclass under its lower-cased class name (class decorator).

    Parameters
    ----------
    klass : type
        The subclass.

    Returns
    -------
    type
        ``klass``.
    """
    _REGISTRY[klass.__name__.lower()] = klass
    return klass


def alias(*aliases):
    """Class decorator registering extra names (e.g. ``'acc'``) for a metric class.

    Parameters
    ----------
    *aliases : str
        The names.
    """
    def reg(klass):
        for a in aliases:
            _REGISTRY[a.lower()] = klass
        return klass
    return reg


def check_label_shapes(labels, preds, wrap=False, shape=False):
    """Raise ValueError when the numbers (or shapes) of labels and predictions differ.

    Parameters
    ----------
    labels : list of NDArray or NDArray
        The labels.
    preds : list of NDArray or NDArray
        The predictions.
    wrap : bool, default False
        Wrap single NDArrays into one-element lists and return them.
    shape : bool, default False
        Compare shapes instead of counts.

    Returns
    -------
    (labels, preds)
        When ``wrap`` is True.
    """
    if not shape:
        label_shape, pred_shape = len(labels), len(preds)
    else:
        label_shape, pred_shape = labels.shape, preds.shape
    if label_shape != pred_shape:
        raise ValueError("Shape of labels {} does not match shape of predictions {}".format(
            label_shape, pred_shape))
    if wrap:
        if isinstance(labels, NDArray):
            labels = [labels]
        if isinstance(preds, NDArray):
            preds = [preds]
    return labels, preds


def _as_list(x, what):
    if isinstance(x, (NDArray, numpy.ndarray)):
        return [x]
    if isinstance(x, (list, tuple)):
        return list(x)
    raise TypeError("metric update: %s must be an NDArray or a list of NDArrays, got %s"
                    % (what, type(x).__name__))


def _as_nd(x):
    if isinstance(x, NDArray):
        return x
    if isinstance(x, numpy.ndarray):
        return _nd_array(x, dtype=x.dtype if x.dtype in (numpy.float64, numpy.int32, numpy.int64)
                         else numpy.float32)
    raise TypeError("metric update: expected an NDArray, got %s" % type(x).__name__)


class EvalMetric(object):
    """Base class of metrics (MXNet 1.x ``mx.metric.EvalMetric``).

    A metric accumulates ``sum_metric`` and ``num_inst`` (locally and, since the last ``reset()``,
    globally); ``get()`` returns ``(name, sum_metric / num_inst)``. The built-in metrics compute in
    the core; subclass and override ``update(labels, preds)`` for a custom one, or use
    :class:`CustomMetric`.

    Parameters
    ----------
    name : str
        Name of the metric.
    output_names : list of str, optional
        Outputs to use when updating with dicts.
    label_names : list of str, optional
        Labels to use when updating with dicts.
    **kwargs
        ``has_global_stats`` and the arguments ``get_config`` records.
    """

    def __init__(self, name, output_names=None, label_names=None, **kwargs):
        self.name = str(name)
        self.output_names = output_names
        self.label_names = label_names
        self._has_global_stats = kwargs.pop("has_global_stats", False)
        self._kwargs = kwargs
        self.reset()

    def __str__(self):
        return "EvalMetric: {}".format(dict(self.get_name_value()))

    def get_config(self):
        """Configuration to recreate the metric with ``create(**config)``."""
        config = self._kwargs.copy()
        config.update({"metric": self.__class__.__name__, "name": self.name,
                       "output_names": self.output_names, "label_names": self.label_names})
        return config

    def update_dict(self, label, pred):
        """Update from dicts of name -> NDArray, selecting output_names / label_names."""
        if self.output_names is not None:
            pred = [pred[name] for name in self.output_names]
        else:
            pred = list(pred.values())
        if self.label_names is not None:
            label = [label[name] for name in self.label_names]
        else:
            label = list(label.values())
        self.update(label, pred)

    def update(self, labels, preds):
        raise NotImplementedError()

    def reset(self):
        self.num_inst = 0
        self.sum_metric = 0.0
        self.global_num_inst = 0
        self.global_sum_metric = 0.0

    def reset_local(self):
        self.num_inst = 0
        self.sum_metric = 0.0

    def get(self):
        if self.num_inst == 0:
            return (self.name, float("nan"))
        return (self.name, self.sum_metric / self.num_inst)

    def get_global(self):
        if self._has_global_stats:
            if self.global_num_inst == 0:
                return (self.name, float("nan"))
            return (self.name, self.global_sum_metric / self.global_num_inst)
        return self.get()

    def get_name_value(self):
        name, value = self.get()
        if not isinstance(name, list):
            name = [name]
        if not isinstance(value, list):
            value = [value]
        return list(zip(name, value))

    def get_global_name_value(self):
        name, value = self.get_global()
        if not isinstance(name, list):
            name = [name]
        if not isinstance(value, list):
            value = [value]
        return list(zip(name, value))


class _CoreMetric(EvalMetric):
    """A built-in metric: statistics and arithmetic in the core."""
    _core_kind = None
    _needs_labels = True

    def __init__(self, name, output_names=None, label_names=None, **kwargs):
        args = {k: v for k, v in kwargs.items() if k != "has_global_stats"}
        args["name"] = name
        out = ffi.new("mx_metric_t *")
        check_call(lib.mx_metric_new(c_str(self._core_kind), c_str(json.dumps(args)), out))
        self._handle = out[0]
        EvalMetric.__init__(self, name, output_names, label_names, has_global_stats=True, **kwargs)
        self.name = self._get(lib.mx_metric_get)[0]

    def __del__(self):
        h = getattr(self, "_handle", None)
        if h is not None and lib is not None:
            _mx_metric_free(h)
            self._handle = None

    def __deepcopy__(self, memo):
        import copy
        new = self.__class__.__new__(self.__class__)
        memo[id(self)] = new
        for k, v in self.__dict__.items():
            if k != "_handle":
                new.__dict__[k] = copy.deepcopy(v, memo)
        out = ffi.new("mx_metric_t *")
        check_call(lib.mx_metric_copy(self._handle, out))
        new._handle = out[0]
        return new

    def __copy__(self):
        return self.__deepcopy__({})

    def _stats(self):
        out = ffi.new("const char **")
        check_call(lib.mx_metric_json(self._handle, out))
        return json.loads(py_str(out[0]))

    num_inst = property(lambda self: self._stats()["num_inst"])
    sum_metric = property(lambda self: self._stats()["sum_metric"])
    global_num_inst = property(lambda self: self._stats()["global_num_inst"])
    global_sum_metric = property(lambda self: self._stats()["global_sum_metric"])

    def _get(self, fn):
        name = ffi.new("const char **")
        value = ffi.new("double *")
        num = ffi.new("int64_t *")
        check_call(fn(self._handle, name, value, num))
        return py_str(name[0]), value[0]

    def reset(self):
        if getattr(self, "_handle", None) is not None:
            check_call(lib.mx_metric_reset(self._handle))

    def reset_local(self):
        check_call(lib.mx_metric_reset_local(self._handle))

    def get(self):
        n, v = self._get(lib.mx_metric_get)
        return (self.name, v)

    def get_global(self):
        n, v = self._get(lib.mx_metric_get_global)
        return (self.name, v)

    def update(self, labels, preds):
        """Accumulate a batch: labels and preds are NDArrays or equally long lists of them."""
        preds = [_as_nd(p) for p in _as_list(preds, "preds")]
        if self._needs_labels:
            labels = [_as_nd(l) for l in _as_list(labels, "labels")]
            check_label_shapes(labels, preds)
            larr = ffi.new("mx_ndarray_t[]", [l.handle for l in labels]) if labels else ffi.NULL
        else:
            larr = ffi.NULL
        parr = ffi.new("mx_ndarray_t[]", [p.handle for p in preds]) if preds else ffi.NULL
        check_call(lib.mx_metric_update(self._handle, len(preds), larr, parr))


@register
@alias("acc")
class Accuracy(_CoreMetric):
    """Fraction of correct predictions; predictions whose shape differs from the label's are
    reduced by argmax along `axis`.

    Update with ``update(labels, preds)`` (lists of NDArrays), read with ``get()``.

    Parameters
    ----------
    axis : int, default 1
        Class axis of the predictions.
    name : str, default 'accuracy'
        Name of the metric (what ``get()`` returns).
    output_names : list of str, default None
        Names of the outputs to use when updating with dicts (default: all).
    label_names : list of str, default None
        Names of the labels to use when updating with dicts (default: all).

    Example
    -------
    >>> acc = mx.metric.Accuracy()
    >>> acc.update([mx.nd.array([0, 1, 1])], [mx.nd.array([[0.9, 0.1], [0.3, 0.7], [0.8, 0.2]])])
    >>> acc.get()
    ('accuracy', 0.6666666666666666)
    """
    _core_kind = "accuracy"

    def __init__(self, axis=1, name="accuracy", output_names=None, label_names=None):
        super(Accuracy, self).__init__(name, output_names, label_names, axis=axis)
        self.axis = axis


@register
@alias("top_k_accuracy", "top_k_acc")
class TopKAccuracy(_CoreMetric):
    """Fraction of samples whose label is among the top_k (> 1) highest-scored classes.

    Update with ``update(labels, preds)`` (lists of NDArrays), read with ``get()``.

    Parameters
    ----------
    top_k : int, default 1
        Number of highest-scored classes that count as a hit.
    name : str, default 'top_k_accuracy'
        Name of the metric (what ``get()`` returns).
    output_names : list of str, default None
        Names of the outputs to use when updating with dicts (default: all).
    label_names : list of str, default None
        Names of the labels to use when updating with dicts (default: all).
    """
    _core_kind = "top_k_accuracy"

    def __init__(self, top_k=1, name="top_k_accuracy", output_names=None, label_names=None):
        super(TopKAccuracy, self).__init__(name, output_names, label_names, top_k=top_k)
        self.top_k = top_k


@register
class F1(_CoreMetric):
    """F1 score of binary classification; average 'macro' (mean of per-update scores) or
    'micro' (over all samples).

    Update with ``update(labels, preds)`` (lists of NDArrays), read with ``get()``.

    Parameters
    ----------
    name : str, default 'f1'
        Name of the metric (what ``get()`` returns).
    output_names : list of str, default None
        Names of the outputs to use when updating with dicts (default: all).
    label_names : list of str, default None
        Names of the labels to use when updating with dicts (default: all).
    average : {'macro', 'micro'}, default 'macro'
        ``'macro'``: the mean of the per-update scores; ``'micro'``: over all samples seen.
    """
    _core_kind = "f1"

    def __init__(self, name="f1", output_names=None, label_names=None, average="macro"):
        super(F1, self).__init__(name, output_names, label_names, average=average)
        self.average = average


@register
class MCC(_CoreMetric):
    """Matthews correlation coefficient of binary classification (average 'macro'/'micro').

    Update with ``update(labels, preds)`` (lists of NDArrays), read with ``get()``.

    Parameters
    ----------
    name : str, default 'mcc'
        Name of the metric (what ``get()`` returns).
    output_names : list of str, default None
        Names of the outputs to use when updating with dicts (default: all).
    label_names : list of str, default None
        Names of the labels to use when updating with dicts (default: all).
    average : {'macro', 'micro'}, default 'macro'
        ``'macro'``: the mean of the per-update scores; ``'micro'``: over all samples seen.
    """
    _core_kind = "mcc"

    def __init__(self, name="mcc", output_names=None, label_names=None, average="macro"):
        super(MCC, self).__init__(name, output_names, label_names, average=average)
        self.average = average


@register
class PCC(_CoreMetric):
    """Multiclass Matthews correlation (MXNet's PCC): the Pearson correlation of one-hot
    predictions and labels, from a confusion matrix that grows with the classes seen. For two
    classes it equals MCC.

    Update with ``update(labels, preds)``: predictions are (batch, classes) scores (argmax is
    taken) or class indices of the labels' shape.

    Parameters
    ----------
    name : str, default 'pcc'
        Name of the metric (what ``get()`` returns).
    output_names : list of str, default None
        Names of the outputs to use when updating with dicts (default: all).
    label_names : list of str, default None
        Names of the labels to use when updating with dicts (default: all).
    """
    _core_kind = "pcc"

    def __init__(self, name="pcc", output_names=None, label_names=None, has_global_stats=True):
        super(PCC, self).__init__(name, output_names, label_names)


@register
class MAE(_CoreMetric):
    """Mean absolute error (the mean of per-batch means, as MXNet 1.x).

    Update with ``update(labels, preds)`` (lists of NDArrays), read with ``get()``.

    Parameters
    ----------
    name : str, default 'mae'
        Name of the metric (what ``get()`` returns).
    output_names : list of str, default None
        Names of the outputs to use when updating with dicts (default: all).
    label_names : list of str, default None
        Names of the labels to use when updating with dicts (default: all).
    """
    _core_kind = "mae"

    def __init__(self, name="mae", output_names=None, label_names=None):
        super(MAE, self).__init__(name, output_names, label_names)


@register
class MSE(_CoreMetric):
    """Mean squared error (the mean of per-batch means, as MXNet 1.x).

    Update with ``update(labels, preds)`` (lists of NDArrays), read with ``get()``.

    Parameters
    ----------
    name : str, default 'mse'
        Name of the metric (what ``get()`` returns).
    output_names : list of str, default None
        Names of the outputs to use when updating with dicts (default: all).
    label_names : list of str, default None
        Names of the labels to use when updating with dicts (default: all).

    Example
    -------
    >>> m = mx.metric.MSE()
    >>> m.update([mx.nd.array([1.0, 2.0])], [mx.nd.array([1.5, 2.0])])
    >>> m.get()
    ('mse', 0.125)
    """
    _core_kind = "mse"

    def __init__(self, name="mse", output_names=None, label_names=None):
        super(MSE, self).__init__(name, output_names, label_names)


@register
class RMSE(_CoreMetric):
    """Root mean squared error (the mean of per-batch RMSEs, as MXNet 1.x).

    Update with ``update(labels, preds)`` (lists of NDArrays), read with ``get()``.

    Parameters
    ----------
    name : str, default 'rmse'
        Name of the metric (what ``get()`` returns).
    output_names : list of str, default None
        Names of the outputs to use when updating with dicts (default: all).
    label_names : list of str, default None
        Names of the labels to use when updating with dicts (default: all).
    """
    _core_kind = "rmse"

    def __init__(self, name="rmse", output_names=None, label_names=None):
        super(RMSE, self).__init__(name, output_names, label_names)


@register
@alias("ce")
class CrossEntropy(_CoreMetric):
    """Mean of -log(pred[i, label[i]] + eps).

    Update with ``update(labels, preds)`` (lists of NDArrays), read with ``get()``.

    Parameters
    ----------
    eps : float, default 1e-12
        Added to the probability before the log.
    name : str, default 'cross-entropy'
        Name of the metric (what ``get()`` returns).
    output_names : list of str, default None
        Names of the outputs to use when updating with dicts (default: all).
    label_names : list of str, default None
        Names of the labels to use when updating with dicts (default: all).
    """
    _core_kind = "ce"

    def __init__(self, eps=1e-12, name="cross-entropy", output_names=None, label_names=None):
        super(CrossEntropy, self).__init__(name, output_names, label_names, eps=eps)
        self.eps = eps


@register
@alias("nll_loss")
class NegativeLogLikelihood(_CoreMetric):
    """Mean of -log(pred[i, label[i]] + eps).

    Update with ``update(labels, preds)`` (lists of NDArrays), read with ``get()``.

    Parameters
    ----------
    eps : float, default 1e-12
        Added to the probability before the log.
    name : str, default 'nll-loss'
        Name of the metric (what ``get()`` returns).
    output_names : list of str, default None
        Names of the outputs to use when updating with dicts (default: all).
    label_names : list of str, default None
        Names of the labels to use when updating with dicts (default: all).
    """
    _core_kind = "nll_loss"

    def __init__(self, eps=1e-12, name="nll-loss", output_names=None, label_names=None):
        super(NegativeLogLikelihood, self).__init__(name, output_names, label_names, eps=eps)
        self.eps = eps


@register
class Perplexity(_CoreMetric):
    """exp(mean negative log-probability of the labels), skipping ignore_label.

    Update with ``update(labels, preds)`` (lists of NDArrays), read with ``get()``.

    Parameters
    ----------
    ignore_label : int or None
        Label value to skip (e.g. padding); None counts every label.
    axis : int, default -1
        Class axis of the predictions.
    name : str, default 'perplexity'
        Name of the metric (what ``get()`` returns).
    output_names : list of str, default None
        Names of the outputs to use when updating with dicts (default: all).
    label_names : list of str, default None
        Names of the labels to use when updating with dicts (default: all).
    """
    _core_kind = "perplexity"

    def __init__(self, ignore_label, axis=-1, name="perplexity", output_names=None, label_names=None):
        super(Perplexity, self).__init__(name, output_names, label_names, ignore_label=ignore_label,
                                         axis=axis)
        self.ignore_label = ignore_label
        self.axis = axis


@register
@alias("pearsonr")
class PearsonCorrelation(_CoreMetric):
    """Pearson correlation of predictions and labels ('macro': mean per update, 'micro': pooled).

    Update with ``update(labels, preds)`` (lists of NDArrays), read with ``get()``.

    Parameters
    ----------
    name : str, default 'pearsonr'
        Name of the metric (what ``get()`` returns).
    output_names : list of str, default None
        Names of the outputs to use when updating with dicts (default: all).
    label_names : list of str, default None
        Names of the labels to use when updating with dicts (default: all).
    average : {'macro', 'micro'}, default 'macro'
        ``'macro'``: the mean of the per-update scores; ``'micro'``: over all samples seen.
    """
    _core_kind = "pearsonr"

    def __init__(self, name="pearsonr", output_names=None, label_names=None, average="macro"):
        super(PearsonCorrelation, self).__init__(name, output_names, label_names, average=average)
        self.average = average


@register
class Loss(_CoreMetric):
    """Mean of the predictions (which are losses); labels are ignored.

    Update with ``update(labels, preds)`` (lists of NDArrays), read with ``get()``.

    Parameters
    ----------
    name : str, default 'loss'
        Name of the metric (what ``get()`` returns).
    output_names : list of str, default None
        Names of the outputs to use when updating with dicts (default: all).
    label_names : list of str, default None
        Names of the labels to use when updating with dicts (default: all).
    """
    _core_kind = "loss"
    _needs_labels = False

    def __init__(self, name="loss", output_names=None, label_names=None):
        super(Loss, self).__init__(name, output_names, label_names)


@register
class Torch(Loss):
    """Dummy metric for torch criterions (mean of outputs).

    Update with ``update(labels, preds)`` (lists of NDArrays), read with ``get()``.

    Parameters
    ----------
    name : str, default 'torch'
        Name of the metric (what ``get()`` returns).
    output_names : list of str, default None
        Names of the outputs to use when updating with dicts (default: all).
    label_names : list of str, default None
        Names of the labels to use when updating with dicts (default: all).
    """

    def __init__(self, name="torch", output_names=None, label_names=None):
        super(Torch, self).__init__(name, output_names, label_names)


@register
class Caffe(Loss):
    """Dummy metric for caffe criterions (mean of outputs).

    Update with ``update(labels, preds)`` (lists of NDArrays), read with ``get()``.

    Parameters
    ----------
    name : str, default 'caffe'
        Name of the metric (what ``get()`` returns).
    output_names : list of str, default None
        Names of the outputs to use when updating with dicts (default: all).
    label_names : list of str, default None
        Names of the labels to use when updating with dicts (default: all).
    """

    def __init__(self, name="caffe", output_names=None, label_names=None):
        super(Caffe, self).__init__(name, output_names, label_names)


@register
@alias("composite")
class CompositeEvalMetric(EvalMetric):
    """Several metrics updated together; get() returns lists of names and values.

    Update with ``update(labels, preds)`` (lists of NDArrays), read with ``get()``.

    Parameters
    ----------
    metrics : list of EvalMetric or str, default None
        Metrics (or names) to combine.
    name : str, default 'composite'
        Name of the metric (what ``get()`` returns).
    output_names : list of str, default None
        Names of the outputs to use when updating with dicts (default: all).
    label_names : list of str, default None
        Names of the labels to use when updating with dicts (default: all).

    Example
    -------
    >>> m = mx.metric.create(["acc", "ce"])
    >>> m.update([mx.nd.array([1])], [mx.nd.array([[0.25, 0.75]])])
    >>> names, values = m.get()
    >>> names
    ['accuracy', 'cross-entropy']
    """

    def __init__(self, metrics=None, name="composite", output_names=None, label_names=None):
        self.metrics = [create(i) for i in (metrics or [])]
        super(CompositeEvalMetric, self).__init__(name, output_names=output_names,
                                                  label_names=label_names)

    def add(self, metric):
        self.metrics.append(create(metric))

    def get_metric(self, index):
        try:
            return self.metrics[index]
        except IndexError:
            raise ValueError("Metric index {} is out of range 0 and {}".format(
                index, len(self.metrics))) from None

    def update_dict(self, labels, preds):
        for metric in self.metrics:
            metric.update_dict(labels, preds)

    def update(self, labels, preds):
        for metric in self.metrics:
            metric.update(labels, preds)

    def reset(self):
        for metric in getattr(self, "metrics", []):
            metric.reset()

    def reset_local(self):
        for metric in self.metrics:
            metric.reset_local()

    def _collect(self, getter):
        names, values = [], []
        for metric in self.metrics:
            name, value = getter(metric)
            if isinstance(name, str):
                name, value = [name], [value]
            names.extend(name)
            values.extend(value)
        return names, values

    def get(self):
        return self._collect(lambda m: m.get())

    def get_global(self):
        return self._collect(lambda m: m.get_global())

    def get_config(self):
        config = super(CompositeEvalMetric, self).get_config()
        config.update({"metrics": [i.get_config() for i in self.metrics]})
        return config


@register
class CustomMetric(EvalMetric):
    """A metric from a user function feval(label, pred) on numpy arrays returning a value (one
    instance) or a (sum_metric, num_inst) tuple.

    Update with ``update(labels, preds)`` (lists of NDArrays), read with ``get()``.

    Parameters
    ----------
    feval : callable
        Function ``feval(label, pred)`` of numpy arrays returning a value or ``(sum_metric, num_inst)``.
    name : str, default None
        Name of the metric (what ``get()`` returns).
    allow_extra_outputs : bool, default False
        Accept more predictions than labels.
    output_names : list of str, default None
        Names of the outputs to use when updating with dicts (default: all).
    label_names : list of str, default None
        Names of the labels to use when updating with dicts (default: all).
    """

    def __init__(self, feval, name=None, allow_extra_outputs=False, output_names=None,
                 label_names=None):
        if name is None:
            name = feval.__name__
            if name.find("<") != -1:
                name = "custom(%s)" % name
        super(CustomMetric, self).__init__(name, feval=feval, allow_extra_outputs=allow_extra_outputs,
                                           output_names=output_names, label_names=label_names,
                                           has_global_stats=True)
        self._feval = feval
        self._allow_extra_outputs = allow_extra_outputs

    def update(self, labels, preds):
        if not self._allow_extra_outputs:
            labels, preds = check_label_shapes(labels, preds, True)
        for pred, label in zip(preds, labels):
            label = label.asnumpy() if isinstance(label, NDArray) else numpy.asarray(label)
            pred = pred.asnumpy() if isinstance(pred, NDArray) else numpy.asarray(pred)
            reval = self._feval(label, pred)
            if isinstance(reval, tuple):
                (sum_metric, num_inst) = reval
            else:
                sum_metric, num_inst = reval, 1
            self.sum_metric += sum_metric
            self.global_sum_metric += sum_metric
            self.num_inst += num_inst
            self.global_num_inst += num_inst

    def get_config(self):
        raise NotImplementedError("CustomMetric cannot be serialized")


def np(numpy_feval, name=None, allow_extra_outputs=False):
    """A CustomMetric from a function of numpy arrays.

    Parameters
    ----------
    numpy_feval : callable
        ``f(label, pred)`` on numpy arrays, returning a float (or ``(sum_metric, num_inst)``).
    name : str, optional
        Name of the metric (default: the function's name).
    allow_extra_outputs : bool, default False
        Accept more predictions than labels.

    Returns
    -------
    CustomMetric

    Example
    -------
    >>> def max_err(label, pred):
    ...     return float(abs(label - pred).max())
    >>> m = mx.metric.np(max_err)
    >>> m.update([mx.nd.array([1.0, 2.0])], [mx.nd.array([1.5, 2.0])])
    >>> m.get()
    ('max_err', 0.5)
    """
    def feval(label, pred):
        return numpy_feval(label, pred)
    feval.__name__ = numpy_feval.__name__
    return CustomMetric(feval, name, allow_extra_outputs)


def create(metric, *args, **kwargs):
    """Create a metric from an EvalMetric, a registered name, a function or a list of those.

    Parameters
    ----------
    metric : str or EvalMetric or callable or list
        A name (``'acc'``, ``'f1'``, ``'ce'``, ``'mse'``, ``'top_k_accuracy'``, ...), an instance
        (returned as is), a function ``feval(label, pred)`` (a CustomMetric) or a list (a
        CompositeEvalMetric).
    *args, **kwargs
        Arguments of the metric class.

    Returns
    -------
    EvalMetric
    """
    if isinstance(metric, EvalMetric):
        return metric
    if isinstance(metric, dict) and "metric" in metric:  # a get_config() dict
        config = dict(metric)
        name = config.pop("metric")
        config.update(kwargs)
        return create(name, *args, **config)
    if isinstance(metric, list):
        composite = CompositeEvalMetric()
        for child in metric:
            composite.add(create(child, *args, **kwargs))
        return composite
    if isinstance(metric, str):
        klass = _REGISTRY.get(metric.lower())
        if klass is None and metric.lstrip().startswith("{"):
            # MXNet: a metric's get_config() as JSON, {"metric": "Accuracy", "axis": 0, ...}
            import json
            try:
                config = json.loads(metric)
            except ValueError as e:
                raise ValueError("create: %r is neither a metric name nor a JSON config: %s" % (metric, e)) from None
            if not isinstance(config, dict) or "metric" not in config:
                raise ValueError("create: a JSON metric config needs a 'metric' entry, got %r" % (metric,))
            name = config.pop("metric")
            config.update(kwargs)
            return create(name, *args, **config)
        if klass is None:
            raise ValueError("unknown metric %r; registered: %s" % (metric, ", ".join(sorted(_REGISTRY))))
        return klass(*args, **kwargs)
    if callable(metric):
        return CustomMetric(metric, *args, **kwargs)
    raise TypeError("metric must be an EvalMetric, a name, a callable or a list, got %r" % (metric,))

