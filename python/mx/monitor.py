"""mx.monitor (also mx.mon): MXNet 1.x's Monitor, statistics of an executor's arrays per batch.

``Monitor.install(executor)`` (or ``Module.install_monitor``) registers a callback that the
executor calls with every node output after a forward pass; ``tic()`` starts collecting for
the current batch (every ``interval`` batches) and ``toc()`` adds the arguments and auxiliary
states and returns ``(batch, name, text)`` rows. The statistics are computed by mx.nd operators."""
import logging
import math
import re

from .ndarray.ndarray import NDArray
from . import ndarray as nd

__all__ = ["Monitor"]


def _rms(x):
    """norm(x) / sqrt(size): the default statistic."""
    return nd.norm(x) / math.sqrt(x.size)


class Monitor:
    """Collect statistics of executor arrays for debugging.

    Parameters
    ----------
    interval : int
        Collect every ``interval`` batches.
    stat_func : callable, optional
        NDArray -> NDArray (or list of NDArrays); default ``norm(x)/sqrt(x.size)``.
    pattern : str, default '.*'
        Regular expression: only arrays whose name matches are collected.
    sort : bool, default False
        Sort the rows of ``toc()`` by name.
    monitor_all : bool, default False
        Also report each node's inputs (the executor's arguments and auxiliary states).
    """

    def __init__(self, interval, stat_func=None, pattern=".*", sort=False, monitor_all=False):
        if not isinstance(interval, int) or interval < 1:
            raise ValueError("Monitor: interval must be a positive int, got %r" % (interval,))
        self.stat_func = stat_func if stat_func is not None else _rms
        self.interval = interval
        self.activated = False
        self.queue = []
        self.step = 0
        self.exes = []
        self.re_prog = re.compile(pattern)
        self.sort = sort
        self.monitor_all = monitor_all

        def stat_helper(name, array):
            if not self.activated or not self.re_prog.match(name):
                return
            self.queue.append((self.step, name, self.stat_func(array)))
        self.stat_helper = stat_helper

    def install(self, exe):
        """Register the callback on an executor (several executors may be installed).

        Parameters
        ----------
        exe : Executor
            From ``Symbol.bind`` / ``simple_bind`` or a Module's executor group.
        """
        exe.set_monitor_callback(self.stat_helper, self.monitor_all)
        self.exes.append(exe)

    def tic(self):
        """Start collecting for the current batch (call before forward)."""
        if self.step % self.interval == 0:
            self.queue = []
            self.activated = True
        self.step += 1

    def toc(self):
        """Stop collecting: the rows ``(step, name, statistic text)`` of this batch, with the
        executors' arguments and auxiliary states added; [] when this batch was not collected."""
        if not self.activated:
            return []
        for exe in self.exes:
            for name, array in zip(exe._symbol.list_arguments(), exe.arg_arrays):
                if self.re_prog.match(name):
                    self.queue.append((self.step, name, self.stat_func(array)))
            for name, array in zip(exe._symbol.list_auxiliary_states(), exe.aux_arrays):
                if self.re_prog.match(name):
                    self.queue.append((self.step, name, self.stat_func(array)))
        self.activated = False
        if self.sort:
            self.queue.sort(key=lambda x: x[1])
        res = []
        for n, k, v_list in self.queue:
            if isinstance(v_list, NDArray):
                v_list = [v_list]
            if not isinstance(v_list, list) or not all(isinstance(v, NDArray) for v in v_list):
                raise TypeError("Monitor: stat_func must return an NDArray or a list of NDArrays, "
                                "got %s" % type(v_list).__name__)
            s = ""
            for v in v_list:
                s += (str(v.asscalar()) if v.shape == (1,) else str(v.asnumpy())) + "\t"
            res.append((n, k, s))
        self.queue = []
        return res

    def toc_print(self):
        """``toc()`` and log each row."""
        for n, k, v in self.toc():
            logging.info("Batch: {:7d} {:30s} {:s}".format(n, k, v))
