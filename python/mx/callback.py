"""Training callbacks (MXNet 1.x): Speedometer, do_checkpoint, log_train_metric, ProgressBar."""
import logging
import time

from .progress import ProgressBar as _Bar


def do_checkpoint(prefix, period=1):
    """Epoch-end callback (for ``Module.fit``) saving ``prefix-symbol.json`` and ``prefix-%04d.params``
    every ``period`` epochs.

    Parameters
    ----------
    prefix : str
        Path prefix of the checkpoint.
    period : int, default 1
        Save every this many epochs.

    Returns
    -------
    callable
        ``callback(epoch, symbol, arg_params, aux_params)``.
    """
    period = int(max(1, period))

    def _callback(iter_no, sym, arg, aux):
        if (iter_no + 1) % period == 0:
            from .model import save_checkpoint
            save_checkpoint(prefix, iter_no + 1, sym, arg, aux)
    return _callback


def module_checkpoint(mod, prefix, period=1, save_optimizer_states=False):
    """Epoch-end callback calling ``mod.save_checkpoint`` every ``period`` epochs.

    Parameters
    ----------
    mod : Module
        The module to save.
    prefix : str
        Path prefix.
    period : int, default 1
        Save every this many epochs.
    save_optimizer_states : bool, default False
        Also write ``prefix-%04d.states`` (needed to resume with the same momentum).

    Returns
    -------
    callable
    """
    period = int(max(1, period))

    def _callback(iter_no, sym=None, arg=None, aux=None):
        if (iter_no + 1) % period == 0:
            mod.save_checkpoint(prefix, iter_no + 1, save_optimizer_states)
    return _callback


def log_train_metric(period, auto_reset=False):
    """Batch-end callback logging the training metric every ``period`` batches.

    Parameters
    ----------
    period : int
        Log every this many batches.
    auto_reset : bool, default False
        Reset the metric after logging (each log then covers the last ``period`` batches).

    Returns
    -------
    callable
    """
    def _callback(param):
        if param.nbatch % period == 0 and param.eval_metric is not None:
            for name, value in param.eval_metric.get_name_value():
                logging.info("Iter[%d] Batch[%d] Train-%s=%f", param.epoch, param.nbatch, name, value)
            if auto_reset:
                param.eval_metric.reset()
    return _callback


class Speedometer:
    """Batch-end callback logging the training speed (samples per second) and the metric every
    ``frequent`` batches.

    Parameters
    ----------
    batch_size : int
        Samples per batch.
    frequent : int, default 50
        Log every this many batches.
    auto_reset : bool, default True
        Reset the metric after each log.
    """

    def __init__(self, batch_size, frequent=50, auto_reset=True):
        self.batch_size, self.frequent, self.auto_reset = batch_size, frequent, auto_reset
        self.init = False
        self.tic = 0
        self.last_count = 0

    def __call__(self, param):
        count = param.nbatch
        if self.last_count > count:
            self.init = False
        self.last_count = count
        if self.init:
            if count % self.frequent == 0:
                speed = self.frequent * self.batch_size / max(time.time() - self.tic, 1e-9)
                msg = "Epoch[%d] Batch [%d-%d]\tSpeed: %.2f samples/sec" % (
                    param.epoch, count - self.frequent, count, speed)
                if param.eval_metric is not None:
                    nv = param.eval_metric.get_name_value()
                    if self.auto_reset:
                        param.eval_metric.reset()
                    msg += "".join("\t%s=%f" % kv for kv in nv)
                logging.info(msg)
                self.tic = time.time()
        else:
            self.init = True
            self.tic = time.time()


class ProgressBar:
    """Batch-end callback drawing a text progress bar over ``total`` batches.

    Parameters
    ----------
    total : int
        Number of batches per epoch.
    length : int, default 30
        Width of the bar in characters.
    """

    def __init__(self, total, length=30):
        self.total, self.length = total, length
        self._bar = None

    def __call__(self, param):
        if self._bar is None or param.nbatch == 0 or param.nbatch < self._bar.count:
            self._bar = _Bar(self.total, prefix="Epoch[%d]" % param.epoch, width=self.length)
        metrics = dict(param.eval_metric.get_name_value()) if param.eval_metric is not None else {}
        self._bar.update(param.nbatch + 1 - self._bar.count, **metrics)
        if self._bar.count >= self.total:
            self._bar.close()


class LogValidationMetricsCallback:
    """Eval-end callback logging each validation metric as ``Epoch[N] Validation-name=value``.

    Pass it as ``eval_end_callback`` to ``Module.fit``; it takes no arguments.
    """
    def __call__(self, param):
        if param.eval_metric is None:
            return
        for name, value in param.eval_metric.get_name_value():
            logging.info("Epoch[%d] Validation-%s=%f", param.epoch, name, value)
