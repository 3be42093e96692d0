"""Event handlers of gluon.contrib.estimator (MXNet 1.9 names, arguments and file names).

A handler subclasses one or more of TrainBegin, TrainEnd, EpochBegin, EpochEnd, BatchBegin and
BatchEnd; the estimator calls them in ascending `priority`. batch_end/epoch_end returning True
stops training.
"""
import logging
import os
import time
import warnings

import numpy as np

from ....metric import EvalMetric, CompositeEvalMetric

__all__ = ["EventHandler", "TrainBegin", "TrainEnd", "EpochBegin", "EpochEnd", "BatchBegin",
           "BatchEnd", "StoppingHandler", "MetricHandler", "ValidationHandler", "LoggingHandler",
           "CheckpointHandler", "EarlyStoppingHandler", "GradientUpdateHandler", "ProgressHandler"]


class EventHandler:
    """Base of all handlers."""


class TrainBegin(EventHandler):
    def train_begin(self, estimator, *args, **kwargs):
        pass


class TrainEnd(EventHandler):
    def train_end(self, estimator, *args, **kwargs):
        pass


class EpochBegin(EventHandler):
    def epoch_begin(self, estimator, *args, **kwargs):
        pass


class EpochEnd(EventHandler):
    def epoch_end(self, estimator, *args, **kwargs):
        return False


class BatchBegin(EventHandler):
    def batch_begin(self, estimator, *args, **kwargs):
        pass


class BatchEnd(EventHandler):
    def batch_end(self, estimator, *args, **kwargs):
        return False


class StoppingHandler(TrainBegin, BatchEnd, EpochEnd):
    """Stops after max_epoch epochs or max_batch batches."""

    def __init__(self, max_epoch=None, max_batch=None):
        self.max_epoch = max_epoch
        self.max_batch = max_batch
        self.current_batch = 0
        self.current_epoch = 0
        self.stop_training = False

    def train_begin(self, estimator, *args, **kwargs):
        self.max_epoch = estimator.max_epoch
        self.max_batch = estimator.max_batch
        self.current_batch = 0
        self.current_epoch = 0
        self.stop_training = False

    def batch_end(self, estimator, *args, **kwargs):
        self.current_batch += 1
        if self.current_batch == self.max_batch:
            self.stop_training = True
        return self.stop_training

    def epoch_end(self, estimator, *args, **kwargs):
        self.current_epoch += 1
        if self.current_epoch == self.max_epoch:
            self.stop_training = True
        return self.stop_training


class GradientUpdateHandler(BatchEnd):
    """Applies trainer.step(batch size) after each training batch (priority -2000: first)."""

    def __init__(self, priority=-2000):
        self.priority = priority

    def batch_end(self, estimator, *args, **kwargs):
        loss = kwargs["loss"]
        batch_size = sum(l.shape[0] for l in loss) if isinstance(loss, list) else loss.shape[0]
        estimator.trainer.step(batch_size)
        return False


class MetricHandler(EpochBegin, BatchEnd):
    """Resets metrics at each epoch's start and updates them after each batch (loss metrics
    with the loss, the others with labels and predictions)."""

    def __init__(self, metrics, priority=-1000):
        self.metrics = list(metrics or [])
        self.priority = priority

    def epoch_begin(self, estimator, *args, **kwargs):
        for m in self.metrics:
            m.reset()

    def batch_end(self, estimator, *args, **kwargs):
        from ....metric import Loss
        pred, label, loss = kwargs["pred"], kwargs["label"], kwargs["loss"]
        for m in self.metrics:
            if isinstance(m, Loss):
                m.update(0, loss)
            else:
                m.update(label, pred)
        return False


class ValidationHandler(TrainBegin, BatchEnd, EpochEnd):
    """Runs eval_fn(val_data) every epoch_period epochs and/or batch_period batches."""

    def __init__(self, val_data, eval_fn, epoch_period=1, batch_period=None, priority=-1000,
                 event_handlers=None):
        self.val_data = val_data
        self.eval_fn = eval_fn
        self.epoch_period = epoch_period
        self.batch_period = batch_period
        self.current_batch = 0
        self.current_epoch = 0
        self.priority = priority
        self.event_handlers = event_handlers

    def train_begin(self, estimator, *args, **kwargs):
        self.current_batch = 0
        self.current_epoch = 0

    def batch_end(self, estimator, *args, **kwargs):
        self.current_batch += 1
        if self.batch_period and self.current_batch % self.batch_period == 0:
            self.eval_fn(val_data=self.val_data, event_handlers=self.event_handlers)
        return False

    def epoch_end(self, estimator, *args, **kwargs):
        self.current_epoch += 1
        if self.epoch_period and self.current_epoch % self.epoch_period == 0:
            self.eval_fn(val_data=self.val_data, event_handlers=self.event_handlers)
        return False


class LoggingHandler(TrainBegin, TrainEnd, EpochBegin, EpochEnd, BatchBegin, BatchEnd):
    """Logs metrics through estimator.logger every epoch (log_interval='epoch') or every
    log_interval batches."""

    def __init__(self, log_interval="epoch", metrics=None, priority=np.inf):
        if not isinstance(log_interval, int) and log_interval != "epoch":
            raise ValueError("log_interval must be either an integer or string 'epoch'")
        self.metrics = list(metrics or [])
        self.log_interval = log_interval
        self.priority = priority
        self.batch_index = 0
        self.current_epoch = 0
        self.processed_samples = 0

    def _metrics(self):
        return " ".join("%s: %.4f" % m.get() for m in self.metrics)

    def train_begin(self, estimator, *args, **kwargs):
        self.train_start = time.time()
        self.current_epoch = 0
        self.batch_index = 0
        estimator.logger.info("Training begin: using optimizer %s with current learning rate "
                              "%.4f ", type(estimator.trainer._optimizer).__name__,
                              estimator.trainer.learning_rate)
        if estimator.max_epoch:
            estimator.logger.info("Train for %d epochs.", estimator.max_epoch)
        else:
            estimator.logger.info("Train for %d batches.", estimator.max_batch)

    def train_end(self, estimator, *args, **kwargs):
        estimator.logger.info("Train finished using total %ds with %d epochs. %s",
                              time.time() - self.train_start, self.current_epoch, self._metrics())

    def epoch_begin(self, estimator, *args, **kwargs):
        self.epoch_start = time.time()
        self.batch_index = 0
        self.processed_samples = 0
        if isinstance(self.log_interval, int) or self.log_interval == "epoch":
            estimator.logger.info("[Epoch %d] Begin, current learning rate: %.4f",
                                  self.current_epoch, estimator.trainer.learning_rate)

    def epoch_end(self, estimator, *args, **kwargs):
        estimator.logger.info("[Epoch %d] Finished in %.3fs, %s", self.current_epoch,
                              time.time() - self.epoch_start, self._metrics())
        self.current_epoch += 1
        return False

    def batch_begin(self, estimator, *args, **kwargs):
        self.batch_start = time.time()

    def batch_end(self, estimator, *args, **kwargs):
        batch = kwargs.get("batch")
        if batch is not None:
            self.processed_samples += batch[0].shape[0]
        self.batch_index += 1
        if isinstance(self.log_interval, int) and self.batch_index % self.log_interval == 0:
            estimator.logger.info("[Epoch %d][Batch %d][Samples %d] time/batch: %.3fs %s",
                                  self.current_epoch, self.batch_index, self.processed_samples,
                                  time.time() - self.batch_start, self._metrics())
        return False


class ProgressHandler(EpochBegin, EpochEnd, BatchEnd):
    """A progress bar per epoch (mx.progress.ProgressBar: a tqdm widget in Jupyter, throttled
    redraws elsewhere) showing the given metrics. MX addition; add it to event_handlers."""

    def __init__(self, metrics=None, total=None, priority=np.inf):
        self.metrics = list(metrics or [])
        self.total = total
        self.priority = priority
        self.bar = None
        self.current_epoch = 0

    def epoch_begin(self, estimator, *args, **kwargs):
        from ....progress import ProgressBar
        total = self.total
        if total is None:
            try:
                total = len(estimator._train_data)
            except TypeError:
                total = estimator.max_batch or 1
        self.bar = ProgressBar(total, prefix="Epoch %d" % self.current_epoch)

    def batch_end(self, estimator, *args, **kwargs):
        if self.bar is not None:
            self.bar.update(1, **{m.get()[0]: m.get()[1] for m in self.metrics})
        return False

    def epoch_end(self, estimator, *args, **kwargs):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        self.current_epoch += 1
        return False


def _monitor_op(monitor, mode, who):
    if mode not in ("auto", "min", "max"):
        warnings.warn("%s mode %s is unknown, fallback to auto mode" % (who, mode), RuntimeWarning)
        mode = "auto"
    if mode == "auto":
        name = monitor.get()[0].lower()
        mode = "max" if ("acc" in name or "f1" in name) else "min"
    return np.greater if mode == "max" else np.less


class CheckpointHandler(TrainBegin, BatchEnd, EpochEnd):
    """Saves <model_prefix>-epoch<E>batch<B>.params/.states every epoch_period epochs or
    batch_period batches (keeping the newest max_checkpoints), <model_prefix>-symbol.json of a
    hybridized net after the first batch, and with save_best <model_prefix>-best.params/.states
    whenever monitor improves. resume_from_checkpoint loads the newest checkpoint first."""

    def __init__(self, model_dir, model_prefix="model", monitor=None, verbose=0, save_best=False,
                 mode="auto", epoch_period=1, batch_period=None, max_checkpoints=5,
                 resume_from_checkpoint=False):
        self.monitor = monitor
        self.verbose = verbose
        os.makedirs(model_dir, exist_ok=True)
        self.model_dir = model_dir
        self.model_prefix = model_prefix
        self.save_best = save_best
        if save_best and not isinstance(monitor, EvalMetric):
            raise ValueError("To save best model only, please provide one of the metric objects "
                             "from estimator.train_metrics and estimator.val_metrics as monitor.")
        self.epoch_period = epoch_period
        self.batch_period = batch_period
        self.current_batch = 0
        self.current_epoch = 0
        self.max_checkpoints = max_checkpoints
        self.resume_from_checkpoint = resume_from_checkpoint
        self.saved_checkpoints = []
        self.trained_epoch = self.trained_batch = -1
        if save_best:
            self.monitor_op = _monitor_op(monitor, mode, "CheckpointHandler")

    def train_begin(self, estimator, *args, **kwargs):
        self.current_epoch = 0
        self.current_batch = 0
        if self.save_best:
            self.best = np.inf if self.monitor_op is np.less else -np.inf
        if self.resume_from_checkpoint:
            self._resume(estimator)

    def batch_end(self, estimator, *args, **kwargs):
        if self.current_batch == 0:
            self._save_symbol(estimator)
        if self.batch_period and (self.current_batch + 1) % self.batch_period == 0:
            self._save_checkpoint(estimator)
        self.current_batch += 1
        return False

    def epoch_end(self, estimator, *args, **kwargs):
        if self.epoch_period and (self.current_epoch + 1) % self.epoch_period == 0:
            self._save_checkpoint(estimator)
        self.current_epoch += 1
        return False

    def _save_symbol(self, estimator):
        graph = getattr(estimator.net, "_cached_graph", None)
        path = os.path.join(self.model_dir, self.model_prefix + "-symbol.json")
        if graph:
            graph[1].save(path)
        else:
            estimator.logger.info("Model architecture (symbol file) is not saved: hybridize a "
                                  "HybridBlock to save it as %s", path)

    def _save(self, estimator, prefix):
        estimator.net.save_parameters(os.path.join(self.model_dir, prefix + ".params"))
        estimator.trainer.save_states(os.path.join(self.model_dir, prefix + ".states"))

    def _save_checkpoint(self, estimator):
        epoch, batch = self.current_epoch, self.current_batch
        if self.trained_epoch >= 0:  # resumed: number on from the loaded checkpoint
            epoch += self.trained_epoch + 1
            batch += self.trained_batch + (0 if estimator.max_epoch else 1)
        prefix = "%s-epoch%dbatch%d" % (self.model_prefix, epoch, batch)
        self._save(estimator, prefix)
        self.saved_checkpoints.append(prefix)
        while len(self.saved_checkpoints) > self.max_checkpoints:
            old = self.saved_checkpoints.pop(0)
            for ext in (".params", ".states"):
                p = os.path.join(self.model_dir, old + ext)
                if os.path.exists(p):
                    os.remove(p)
        if self.verbose > 0:
            estimator.logger.info("[Epoch %d] CheckpointHandler: saved %s", self.current_epoch,
                                  os.path.join(self.model_dir, prefix))
        if self.save_best:
            name, value = self.monitor.get()
            if np.isnan(value):
                warnings.warn("Skipping save best because %s is not updated; pass a metric of "
                              "estimator.train_metrics or estimator.val_metrics" % name,
                              RuntimeWarning)
            elif self.monitor_op(value, self.best):
                self.best = value
                self._save(estimator, self.model_prefix + "-best")

    def _resume(self, estimator):
        import re
        pat = re.compile(r"%s-epoch(\d+)batch(\d+)\.params\Z" % re.escape(self.model_prefix))
        found = []
        for f in os.listdir(self.model_dir):
            m = pat.match(f)
            if m:
                found.append((int(m.group(1)), int(m.group(2)), f[:-len(".params")]))
        if not found:
            estimator.logger.info("No checkpoint in %s to resume from; training from scratch",
                                  self.model_dir)
            return
        epoch, batch, prefix = max(found)
        estimator.net.load_parameters(os.path.join(self.model_dir, prefix + ".params"))
        states = os.path.join(self.model_dir, prefix + ".states")
        if not os.path.exists(states):
            raise FileNotFoundError("CheckpointHandler: %s has no trainer states file %s"
                                    % (prefix + ".params", states))
        estimator.trainer.load_states(states)
        self.trained_epoch, self.trained_batch = epoch, batch
        if estimator.max_epoch:
            estimator.max_epoch = max(estimator.max_epoch - (epoch + 1), 0)
        if estimator.max_batch:
            estimator.max_batch = max(estimator.max_batch - batch, 0)
        estimator.logger.info("Resumed from %s", prefix)


class EarlyStoppingHandler(TrainBegin, EpochEnd, TrainEnd):
    """Stops training when monitor has not improved by min_delta for patience epochs."""

    def __init__(self, monitor, min_delta=0, patience=0, mode="auto", baseline=None):
        if not isinstance(monitor, EvalMetric):
            raise ValueError("Please provide one of the metric objects from estimator.train_metrics "
                             "and estimator.val_metrics as monitor.")
        if isinstance(monitor, CompositeEvalMetric):
            raise ValueError("CompositeEvalMetric is not supported for EarlyStoppingHandler, "
                             "please specify a simple metric instead.")
        self.monitor = monitor
        self.baseline = baseline
        self.patience = patience
        self.monitor_op = _monitor_op(monitor, mode, "EarlyStoppingHandler")
        self.min_delta = min_delta if self.monitor_op is np.greater else -min_delta
        self.wait = 0
        self.stopped_epoch = 0
        self.current_epoch = 0
        self.stop_training = False

    def train_begin(self, estimator, *args, **kwargs):
        self.wait = 0
        self.stopped_epoch = 0
        self.current_epoch = 0
        self.stop_training = False
        if self.baseline is not None:
            self.best = self.baseline
        else:
            self.best = np.inf if self.monitor_op is np.less else -np.inf

    def epoch_end(self, estimator, *args, **kwargs):
        name, value = self.monitor.get()
        if np.isnan(value):
            warnings.warn("%s is not updated; pass a metric of estimator.train_metrics or "
                          "estimator.val_metrics as monitor" % name, RuntimeWarning)
        elif self.monitor_op(value - self.min_delta, self.best):
            self.best = value
            self.wait = 0
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = self.current_epoch
                self.stop_training = True
        self.current_epoch += 1
        return self.stop_training

    def train_end(self, estimator, *args, **kwargs):
        if self.stopped_epoch > 0:
            estimator.logger.info("[Epoch %d] EarlyStoppingHandler: early stopping due to %s not "
                                  "improving", self.stopped_epoch, self.monitor.get()[0])


logging.getLogger(__name__).addHandler(logging.NullHandler())
