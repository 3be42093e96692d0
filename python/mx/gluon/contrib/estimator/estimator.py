"""gluon.contrib.estimator.Estimator (MXNet 1.9): a training loop driven by event handlers.

    est = Estimator(net, loss=gluon.loss.SoftmaxCrossEntropyLoss(), train_metrics=Accuracy(),
                    trainer=gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.1}))
    est.fit(train_loader, val_loader, epochs=3, event_handlers=[EarlyStoppingHandler(...)])
    est.evaluate(val_loader)

Defaults as MXNet: metrics (loss average plus Accuracy for a softmax cross-entropy loss) named
'training <name>' / 'validation <name>', a StoppingHandler, a GradientUpdateHandler
(trainer.step), a MetricHandler, a ValidationHandler when val_data is given and a
LoggingHandler, all sorted by priority.
"""
import copy
import logging
import sys

from .... import metric as _metric
from ....context import Context, cpu
from ... import loss as gluon_loss
from ...data.dataloader import DataLoader
from ...trainer import Trainer
from .batch_processor import BatchProcessor
from .event_handler import (TrainBegin, TrainEnd, EpochBegin, EpochEnd, BatchBegin, BatchEnd,
                            StoppingHandler, MetricHandler, ValidationHandler, LoggingHandler,
                            GradientUpdateHandler, EventHandler)

__all__ = ["Estimator"]


def _as_list(x):
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _check_metrics(metrics):
    metrics = _as_list(metrics)
    for m in metrics:
        if not isinstance(m, _metric.EvalMetric):
            raise ValueError("metrics must be mx.metric.EvalMetric objects (or a list of them), "
                             "got %s" % type(m).__name__)
    return metrics


def _copy_metric(m):
    """A fresh metric of the same kind and configuration (core-backed metrics cannot be
    deep-copied)."""
    try:
        config = m.get_config()
        config.pop("metric")
        return type(m)(**config)
    except Exception:  # noqa: BLE001 - custom metrics: fall back to a deep copy
        return copy.deepcopy(m)


class Estimator:
    """Fit and evaluate a Gluon network with event handlers (MXNet 1.9's Estimator).

    Parameters
    ----------
    net : gluon.Block
    loss : gluon.loss.Loss
    train_metrics, val_metrics : EvalMetric or list, optional
        Defaults: the loss average (and Accuracy for SoftmaxCrossEntropyLoss); validation
        metrics default to copies of the training ones.
    initializer : Initializer, optional
        Initializes the net's parameters unless they are initialized already.
    trainer : gluon.Trainer, optional
        Default: SGD with learning rate 0.001.
    context : Context or list, optional
    val_net, val_loss : optional
        Network and loss used by evaluate (default: net and loss).
    batch_processor : BatchProcessor, optional
        What is done with one batch (its fit_batch and evaluate_batch); default BatchProcessor().
    """

    def __init__(self, net, loss, train_metrics=None, val_metrics=None, initializer=None,
                 trainer=None, context=None, val_net=None, val_loss=None, batch_processor=None):
        self.net = net
        if not isinstance(loss, gluon_loss.Loss):
            raise ValueError("loss must be a gluon.loss.Loss, got %s" % type(loss).__name__)
        self.loss = loss
        self.val_loss = loss if val_loss is None else val_loss
        self.val_net = net if val_net is None else val_net
        self._train_metrics = _check_metrics(train_metrics)
        self._val_metrics = _check_metrics(val_metrics)
        self._add_default_training_metrics()
        self._add_validation_metrics()
        self.logger = logging.Logger(name="Estimator", level=logging.INFO)
        self.logger.addHandler(logging.StreamHandler(sys.stdout))
        self.context = self._check_context(context)
        self._initialize(initializer)
        self.trainer = self._check_trainer(trainer)
        self.max_epoch = self.max_batch = None
        self._train_data = None
        self.batch_processor = self._check_batch_processor(batch_processor)

    # ------------------------------------------------------------------ setup
    def _check_context(self, context):
        if context is None:
            return [cpu()]
        ctx = _as_list(context)
        if not all(isinstance(c, Context) for c in ctx):
            raise ValueError("context must be a Context or a list of Contexts, got %s" % (context,))
        return ctx

    def _initialize(self, initializer):
        params = self.net.collect_params()
        uninit = [p for p in params.values() if p._data is None and not p._deferred_init]
        if uninit or initializer is not None:
            from .... import init as _init
            self.net.initialize(init=initializer or _init.Uniform(), ctx=self.context,
                                force_reinit=initializer is not None and not uninit)

    @staticmethod
    def _check_batch_processor(batch_processor):
        if batch_processor is None:
            return BatchProcessor()
        if not (callable(getattr(batch_processor, "fit_batch", None))
                and callable(getattr(batch_processor, "evaluate_batch", None))):
            raise ValueError("batch_processor must have fit_batch() and evaluate_batch() methods "
                             "(subclass gluon.contrib.estimator.BatchProcessor), got %s"
                             % type(batch_processor).__name__)
        return batch_processor

    def _check_trainer(self, trainer):
        if trainer is None:
            self.logger.info("No trainer specified, default SGD optimizer with learning rate "
                             "0.001 is used.")
            return Trainer(self.net.collect_params(), "sgd", {"learning_rate": 0.001})
        if not isinstance(trainer, Trainer):
            raise ValueError("trainer must be a gluon.Trainer, got %s" % type(trainer).__name__)
        return trainer

    def _add_default_training_metrics(self):
        if not self._train_metrics:
            if isinstance(self.loss, gluon_loss.SoftmaxCrossEntropyLoss):
                self._train_metrics = [_metric.Accuracy()]
            name = self.loss.name.rstrip("1234567890")
            self._train_metrics.append(_metric.Loss(name))
        for m in self._train_metrics:
            m.name = "training " + m.name

    def _add_validation_metrics(self):
        if not self._val_metrics:
            self._val_metrics = [_copy_metric(m) for m in self._train_metrics]
        for m in self._val_metrics:
            m.name = (m.name.replace("training", "validation") if "training" in m.name
                      else "validation " + m.name)

    @property
    def train_metrics(self):
        return self._train_metrics

    @property
    def val_metrics(self):
        return self._val_metrics

    # ------------------------------------------------------------------ batches
    # Subclasses overriding these (MXNet 1.6's way) still work: the loops call them, and they
    # hand the batch to the batch processor (MXNet 1.9's way).
    def fit_batch(self, train_batch, batch_axis=0):
        """Forward and backward of one batch; returns (data, label, pred, loss) as lists."""
        return self.batch_processor.fit_batch(self, train_batch, batch_axis)

    def evaluate_batch(self, val_batch, batch_axis=0):
        """Forward of one validation batch; returns (data, label, pred, loss) as lists."""
        return self.batch_processor.evaluate_batch(self, val_batch, batch_axis)

    # ------------------------------------------------------------------ loops
    def evaluate(self, val_data, batch_axis=0, event_handlers=None):
        """Run val_net over val_data, updating val_metrics (reset first)."""
        if not isinstance(val_data, DataLoader):
            raise ValueError("Estimator only support input as Gluon DataLoader. Alternatively, you "
                             "can transform your DataIter or any NDArray into Gluon DataLoader.")
        for m in self.val_metrics:
            m.reset()
        handlers = self._prepare_default_validation_handlers(event_handlers)
        _, epoch_begin, batch_begin, batch_end, epoch_end, _ = self._categorize(handlers)
        for h in epoch_begin:
            h.epoch_begin(self)
        for batch in val_data:
            for h in batch_begin:
                h.batch_begin(self, batch=batch)
            _, label, pred, loss = self.evaluate_batch(batch, batch_axis)
            for h in batch_end:
                h.batch_end(self, batch=batch, pred=pred, label=label, loss=loss)
        for h in epoch_end:
            h.epoch_end(self)

    def fit(self, train_data, val_data=None, epochs=None, event_handlers=None, batches=None,
            batch_axis=0):
        """Train for `epochs` epochs or `batches` batches (exactly one of them), calling the
        event handlers; validation runs on val_data after every epoch by default."""
        if not isinstance(train_data, DataLoader):
            raise ValueError("Estimator only support input as Gluon DataLoader. Alternatively, you "
                             "can transform your DataIter or any NDArray into Gluon DataLoader.")
        if (not epochs) == (not batches):
            raise ValueError("Fit only support exactly one type of iteration, train by number of "
                             "epochs or number of batches. Please specify one and only one of: "
                             "epochs or batches.")
        self.max_epoch, self.max_batch = epochs, batches
        self.batch_axis = batch_axis
        self._train_data = train_data
        handlers = self._prepare_default_handlers(val_data, event_handlers)
        train_begin, epoch_begin, batch_begin, batch_end, epoch_end, train_end = \
            self._categorize(handlers)
        for h in train_begin:
            h.train_begin(self)
        stop = (self.max_epoch is not None and self.max_epoch <= 0) or \
            (self.max_batch is not None and self.max_batch <= 0)  # e.g. fully resumed
        while not stop:
            for h in epoch_begin:
                h.epoch_begin(self)
            for batch in train_data:
                for h in batch_begin:
                    h.batch_begin(self, batch=batch)
                _, label, pred, loss = self.fit_batch(batch, batch_axis)
                results = [h.batch_end(self, batch=batch, pred=pred, label=label, loss=loss)
                           for h in batch_end]
                if any(results):
                    break
            results = [h.epoch_end(self) for h in epoch_end]
            stop = any(results)
        for h in train_end:
            h.train_end(self)

    # ------------------------------------------------------------------ handlers
    def _prepare_default_handlers(self, val_data, event_handlers):
        handlers = _as_list(event_handlers)
        for h in handlers:
            if not isinstance(h, EventHandler):
                raise ValueError("event_handlers must be EventHandler objects, got %s"
                                 % type(h).__name__)
        added = [StoppingHandler(self.max_epoch, self.max_batch)]
        if not any(isinstance(h, GradientUpdateHandler) for h in handlers):
            added.append(GradientUpdateHandler())
        if not any(isinstance(h, MetricHandler) for h in handlers):
            added.append(MetricHandler(metrics=self.train_metrics))
        if val_data is not None and not any(isinstance(h, ValidationHandler) for h in handlers):
            added.append(ValidationHandler(val_data=val_data, eval_fn=self.evaluate))
        if not any(isinstance(h, LoggingHandler) for h in handlers):
            added.append(LoggingHandler(metrics=self.train_metrics + (
                self.val_metrics if val_data is not None else [])))
        handlers = handlers + added
        handlers.sort(key=lambda h: getattr(h, "priority", 0))
        return handlers

    def _prepare_default_validation_handlers(self, event_handlers):
        handlers = _as_list(event_handlers)
        if not any(isinstance(h, MetricHandler) for h in handlers):
            handlers.append(MetricHandler(metrics=self.val_metrics))
        handlers.sort(key=lambda h: getattr(h, "priority", 0))
        return handlers

    @staticmethod
    def _categorize(handlers):
        kinds = (TrainBegin, EpochBegin, BatchBegin, BatchEnd, EpochEnd, TrainEnd)
        return [[h for h in handlers if isinstance(h, k)] for k in kinds]
