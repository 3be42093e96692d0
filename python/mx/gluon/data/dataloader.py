"""DataLoader: batches from a Dataset, in the calling thread, in worker threads, or in forked
worker processes (MXNet 1.x ``gluon.data.DataLoader``).

Worker processes compute whole batches and send them back through a pipe as numpy arrays; the
parent rebuilds mx NDArrays. Batches come back in sampler order whatever the number of workers.
"""
import collections
import multiprocessing
import numbers
import os
import pickle
import random as _pyrandom
import signal
import sys
import time
import traceback
from concurrent import futures

import numpy as np

from ... import ndarray as nd
from ...context import cpu, cpu_pinned
from ...ndarray import NDArray
from . import sampler as _sampler

__all__ = ["DataLoader", "default_batchify_fn", "default_mp_batchify_fn", "DataLoaderTimeoutError"]


class DataLoaderTimeoutError(multiprocessing.TimeoutError, TimeoutError):
    """A DataLoader worker produced no batch within `timeout` seconds (catchable as
    multiprocessing.TimeoutError, as in MXNet, or as the builtin TimeoutError)."""


# ---------------------------------------------------------------------- batchify

def default_batchify_fn(data):
    """Stack a list of samples into a batch.

    NDArrays are stacked with ``mx.nd.stack`` (all samples must have one shape), tuples element by
    element (giving a list of batches, e.g. ``[data, label]``), anything else through numpy
    (keeping its dtype).

    Parameters
    ----------
    data : list
        The samples (non-empty).

    Returns
    -------
    NDArray or list
        The batch, samples along a new first axis.

    Example
    -------
    >>> x, y = mx.gluon.data.dataloader.default_batchify_fn([(mx.nd.ones((2,)), 0), (mx.nd.zeros((2,)), 1)])
    >>> x.shape, y.asnumpy()
    ((2, 2), array([0, 1]))
    """
    if not isinstance(data, (list, tuple)) or len(data) == 0:
        raise ValueError("default_batchify_fn: expected a non-empty list of samples, got %r" % (data,))
    first = data[0]
    if isinstance(first, NDArray):
        shape = first.shape
        for i, d in enumerate(data):
            if not isinstance(d, NDArray):
                raise TypeError("default_batchify_fn: sample 0 is an NDArray but sample %d is %s"
                                % (i, type(d).__name__))
            if d.shape != shape:
                raise ValueError("default_batchify_fn: cannot stack samples of different shapes: sample 0 "
                                 "has shape %s, sample %d has shape %s (pass a batchify_fn that pads)"
                                 % (shape, i, d.shape))
        return nd.stack(*data)
    if isinstance(first, tuple):
        n = len(first)
        for i, d in enumerate(data):
            if not isinstance(d, tuple) or len(d) != n:
                raise ValueError("default_batchify_fn: sample 0 is a tuple of %d elements but sample %d is %r"
                                 % (n, i, type(d).__name__ if not isinstance(d, tuple) else d))
        return [default_batchify_fn(list(field)) for field in zip(*data)]
    try:
        arr = np.asarray(data)
    except ValueError as e:
        raise ValueError("default_batchify_fn: cannot batch samples of different shapes (%s); pass a "
                         "batchify_fn that pads" % e) from None
    if arr.dtype == object:
        raise ValueError("default_batchify_fn: cannot batch these samples into one array (types %s, or "
                         "shapes differ); pass a batchify_fn" % sorted({type(d).__name__ for d in data}))
    try:
        return nd.array(arr, dtype=arr.dtype)
    except TypeError as e:
        raise TypeError("default_batchify_fn: %s" % e) from None


default_mp_batchify_fn = default_batchify_fn


def _pin(batch, device_id):
    if isinstance(batch, NDArray):
        return batch.as_in_context(cpu_pinned(device_id))
    if isinstance(batch, (list, tuple)):
        return type(batch)(_pin(b, device_id) for b in batch) if type(batch) in (list, tuple) else batch
    return batch


# ---------------------------------------------------------------------- DataLoader

class DataLoader:
    """Loads batches from a Dataset (MXNet 1.x ``gluon.data.DataLoader``).

    Iterating yields one batch per step (``default_batchify_fn``: ``[data, label]`` for datasets of
    pairs). With ``num_workers > 0`` batches are loaded in that many forked worker processes (or
    threads with ``thread_pool=True``), ``prefetch`` of them in flight, in order; a worker error is
    re-raised in the main process.

    Parameters
    ----------
    dataset : Dataset
        Anything with ``__getitem__`` and ``__len__``.
    batch_size : int, optional
        Samples per batch (required unless ``batch_sampler`` is given).
    shuffle : bool, default False
        Draw the samples in a new random order every epoch.
    sampler : Sampler, optional
        Order of the samples (exclusive with ``shuffle``).
    last_batch : {'keep', 'discard', 'rollover'}, optional
        The incomplete last batch is kept (default), dropped, or carried into the next epoch.
    batch_sampler : Sampler, optional
        Yields lists of indices; replaces batch_size/shuffle/sampler/last_batch.
    batchify_fn : callable, optional
        Turns a list of samples into a batch (default ``default_batchify_fn``).
    num_workers : int, default 0
        Worker processes (0: load in the main process).
    pin_memory : bool, default False
        Put batches in ``cpu_pinned(pin_device_id)`` memory.
    pin_device_id : int, default 0
        Device of the pinned memory.
    prefetch : int, optional
        Batches in flight (default ``2 * num_workers``).
    thread_pool : bool, default False
        Use threads instead of processes.
    timeout : float, default 120
        Seconds to wait for one batch before raising ``DataLoaderTimeoutError``.
    try_nopython, auto_reload : optional
        Accepted for MXNet compatibility; no effect.

    Example
    -------
    >>> ds = mx.gluon.data.ArrayDataset(np.arange(10, dtype=np.float32).reshape(5, 2), np.arange(5))
    >>> loader = mx.gluon.data.DataLoader(ds, batch_size=2)
    >>> [(x.shape, y.shape) for x, y in loader]
    [((2, 2), (2,)), ((2, 2), (2,)), ((1, 2), (1,))]
    """

    def __init__(self, dataset, batch_size=None, shuffle=False, sampler=None, last_batch=None,
                 batch_sampler=None, batchify_fn=None, num_workers=0, pin_memory=False, pin_device_id=0,
                 prefetch=None, thread_pool=False, timeout=120, try_nopython=None, auto_reload=False):
        if not hasattr(dataset, "__getitem__"):
            raise TypeError("DataLoader: dataset must support indexing (a gluon.data.Dataset), got %s"
                            % type(dataset).__name__)
        self._dataset = dataset
        self._pin_memory = bool(pin_memory)
        self._pin_device_id = int(pin_device_id)
        if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or not timeout > 0:
            raise ValueError("DataLoader: timeout must be a positive number of seconds, got %r" % (timeout,))
        self._timeout = float(timeout)

        if batch_sampler is None:
            if batch_size is None:
                raise ValueError("DataLoader: batch_size must be specified unless batch_sampler is specified")
            if sampler is None:
                if not hasattr(dataset, "__len__"):
                    raise TypeError("DataLoader: dataset has no len(); pass a sampler or a batch_sampler")
                sampler = _sampler.RandomSampler(len(dataset)) if shuffle else _sampler.SequentialSampler(len(dataset))
            elif shuffle:
                raise ValueError("DataLoader: shuffle must not be specified if sampler is specified")
            batch_sampler = _sampler.BatchSampler(sampler, batch_size, last_batch if last_batch else "keep")
        elif batch_size is not None or shuffle or sampler is not None or last_batch is not None:
            raise ValueError("DataLoader: batch_size, shuffle, sampler and last_batch must not be specified if "
                             "batch_sampler is specified")
        if not hasattr(batch_sampler, "__iter__"):
            raise TypeError("DataLoader: batch_sampler must be an iterable of index lists, got %s"
                            % type(batch_sampler).__name__)
        self._batch_sampler = batch_sampler

        if isinstance(num_workers, bool) or not isinstance(num_workers, numbers.Integral):
            raise ValueError("DataLoader: num_workers must be an integer, got %r" % (num_workers,))
        self._num_workers = max(0, int(num_workers))
        if prefetch is not None and (isinstance(prefetch, bool) or not isinstance(prefetch, numbers.Integral)):
            raise ValueError("DataLoader: prefetch must be an integer or None, got %r" % (prefetch,))
        self._prefetch = max(0, int(prefetch) if prefetch is not None else 2 * self._num_workers)
        self._thread_pool = bool(thread_pool)
        if batchify_fn is None:
            batchify_fn = default_mp_batchify_fn if self._num_workers > 0 else default_batchify_fn
        elif not callable(batchify_fn):
            raise TypeError("DataLoader: batchify_fn must be callable, got %s" % type(batchify_fn).__name__)
        self._batchify_fn = batchify_fn

    def __iter__(self):
        if self._num_workers == 0:
            return self._same_thread_iter()
        if self._thread_pool:
            return _ThreadWorkerIter(self)
        return _ProcessWorkerIter(self)

    def _same_thread_iter(self):
        for batch in self._batch_sampler:
            ret = self._batchify_fn([self._dataset[idx] for idx in batch])
            if self._pin_memory:
                ret = _pin(ret, self._pin_device_id)
            yield ret

    def __len__(self):
        return len(self._batch_sampler)


def _timeout_error(timeout, idx, who):
    return DataLoaderTimeoutError(
        "DataLoader: %s produced no batch within timeout=%g s (waiting for batch %d). The dataset or "
        "batchify_fn may be too slow or stuck; raise DataLoader(timeout=...) if loading is just slow"
        % (who, timeout, idx))


class _ThreadWorkerIter:
    """Batches computed by a pool of threads, returned in order."""

    def __init__(self, loader):
        self._loader = loader
        self._pool = futures.ThreadPoolExecutor(max_workers=loader._num_workers,
                                                thread_name_prefix="mx-dataloader")
        self._batches = iter(loader._batch_sampler)
        self._pending = collections.deque()
        self._sent = 0
        self._rcvd = 0
        self._done = False
        for _ in range(max(1, loader._prefetch)):
            self._push()

    def _load(self, samples):
        ld = self._loader
        return ld._batchify_fn([ld._dataset[i] for i in samples])

    def _push(self):
        if self._done:
            return
        samples = next(self._batches, None)
        if samples is None:
            self._done = True
            return
        self._pending.append(self._pool.submit(self._load, samples))
        self._sent += 1

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader)

    def __next__(self):
        if not self._pending:
            self._shutdown()
            raise StopIteration
        fut = self._pending.popleft()
        try:
            ret = fut.result(timeout=self._loader._timeout)
        except futures.TimeoutError:
            self._shutdown()
            raise _timeout_error(self._loader._timeout, self._rcvd, "a worker thread") from None
        except BaseException:
            self._shutdown()
            raise
        self._rcvd += 1
        self._push()
        if self._loader._pin_memory:
            ret = _pin(ret, self._loader._pin_device_id)
        return ret

    def _shutdown(self):
        pool, self._pool = self._pool, None
        if pool is not None:
            self._pending.clear()
            pool.shutdown(wait=False, cancel_futures=True)

    def __del__(self):
        try:
            self._shutdown()
        except Exception:  # noqa: BLE001 - never raise from a finaliser
            pass


# ---------------------------------------------------------------------- worker processes

class _NDWire:
    """An NDArray on its way from a worker process: its numpy data and dtype name."""

    __slots__ = ("data", "dtype")

    def __init__(self, arr):
        self.dtype = str(getattr(arr.dtype, "name", arr.dtype)) if arr.dtype is nd.bfloat16 else None
        self.data = arr.asnumpy()

    def __getstate__(self):
        return (self.data, self.dtype)

    def __setstate__(self, state):
        self.data, self.dtype = state


def _map_nested(x, leaf):
    """Apply `leaf` through lists, tuples and dicts (the shapes batchify functions return)."""
    if type(x) is list:
        return [_map_nested(v, leaf) for v in x]
    if type(x) is tuple:
        return tuple(_map_nested(v, leaf) for v in x)
    if type(x) is dict:
        return {k: _map_nested(v, leaf) for k, v in x.items()}
    return leaf(x)


def _to_wire(x):
    return _map_nested(x, lambda v: _NDWire(v) if isinstance(v, NDArray) else v)


def _wire_to_nd(v):
    if not isinstance(v, _NDWire):
        return v
    a = nd.array(v.data, ctx=cpu(), dtype=v.data.dtype)
    return a.astype(v.dtype) if v.dtype else a


def _from_wire(x):
    return _map_nested(x, _wire_to_nd)


def _worker_seed(seed):
    from ... import random as mxrandom
    mxrandom.seed(seed)
    np.random.seed(seed % (2 ** 32))
    _pyrandom.seed(seed)


def _worker_loop(wid, conn, others, dataset, batchify_fn, seed):
    """Runs in a forked child: receive (batch index, sample indices), send back the batch."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    for c in others:  # the parent's ends of the other workers' pipes
        try:
            c.close()
        except OSError:
            pass
    _worker_seed(seed)
    parent = os.getppid()
    while True:
        try:
            if not conn.poll(1.0):
                if os.getppid() != parent:  # the parent died
                    return
                continue
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        idx, samples = task
        try:
            msg = pickle.dumps((idx, True, _to_wire(batchify_fn([dataset[i] for i in samples]))),
                               protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as e:  # noqa: BLE001 - reported to the parent
            tb = traceback.format_exc()
            try:
                exc = pickle.dumps(e, protocol=pickle.HIGHEST_PROTOCOL)
                pickle.loads(exc)
            except Exception:  # noqa: BLE001
                exc = None
            msg = pickle.dumps((idx, False, (exc, type(e).__name__, str(e), tb)), protocol=pickle.HIGHEST_PROTOCOL)
        try:
            conn.send_bytes(msg)
        except (OSError, EOFError):
            return


def _worker_error(payload, idx, wid, pid):
    """The exception to raise in the parent for a failure in a worker: the worker's exception type
    when it can be rebuilt, with the worker's traceback text in its message."""
    exc_bytes, tname, msg, tb = payload
    text = ("%s: %s\n\nraised in DataLoader worker process %d (pid %d) while loading batch %d; worker "
            "traceback:\n%s" % (tname, msg, wid, pid, idx, tb.rstrip()))
    if exc_bytes is not None:
        try:
            exc = pickle.loads(exc_bytes)
            return type(exc)(text)
        except Exception:  # noqa: BLE001 - fall back to a RuntimeError
            pass
    return RuntimeError(text)


class _ProcessWorkerIter:
    """Batches computed by forked worker processes (batch k goes to worker k % num_workers),
    returned in order. The workers exit when the iterator is exhausted, fails, or is collected."""

    def __init__(self, loader):
        self._loader = loader
        self._timeout = loader._timeout
        self._procs = []
        self._conns = []
        self._closed = False
        self._owner = os.getpid()
        n = loader._num_workers
        ctx = multiprocessing.get_context("fork")
        base_seed = int(nd.random.randint(0, 2 ** 31 - 1, shape=(1,)).asnumpy()[0])
        try:
            for wid in range(n):
                parent_end, child_end = ctx.Pipe(duplex=True)
                p = ctx.Process(target=_worker_loop, name="mx-dataloader-%d" % wid,
                                args=(wid, child_end, list(self._conns), loader._dataset, loader._batchify_fn,
                                      base_seed + wid))
                p.daemon = True
                p.start()
                child_end.close()
                self._procs.append(p)
                self._conns.append(parent_end)
        except BaseException:
            self._shutdown()
            raise
        self._batches = iter(loader._batch_sampler)
        self._sent = 0
        self._rcvd = 0
        self._done = False
        self._window = max(1, loader._prefetch)
        self._fill_window()

    def _fill_window(self):
        """Keep up to `_window` batches in flight; stop the workers if sending fails."""
        try:
            while self._sent - self._rcvd < self._window and self._push():
                pass
        except BaseException:
            self._shutdown()
            raise

    def _push(self):
        if self._done:
            return False
        samples = next(self._batches, None)
        if samples is None:
            self._done = True
            return False
        w = self._sent % len(self._procs)
        try:
            self._conns[w].send((self._sent, list(samples)))
        except (OSError, EOFError):
            raise self._dead_error(w) from None
        self._sent += 1
        return True

    def _dead_error(self, w):
        p = self._procs[w]
        p.join(timeout=1.0)
        code = p.exitcode
        how = ("was killed by signal %d" % -code) if code is not None and code < 0 else \
            ("exited with code %s" % code) if code is not None else "stopped responding"
        self._shutdown()
        return RuntimeError("DataLoader worker process %d (pid %s) %s unexpectedly while loading batch %d "
                            "(out of memory, or a crash in the dataset or batchify_fn?)"
                            % (w, p.pid, how, self._rcvd))

    def _recv(self, w):
        conn, proc = self._conns[w], self._procs[w]
        deadline = time.monotonic() + self._timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                ready = conn.poll(max(0.0, min(1.0, remaining)))
                if ready:
                    return conn.recv_bytes()
            except (EOFError, OSError):
                raise self._dead_error(w) from None
            if not proc.is_alive():
                try:
                    if conn.poll(0):
                        return conn.recv_bytes()
                except (EOFError, OSError):
                    pass
                raise self._dead_error(w)
            if remaining <= 0:
                self._shutdown()
                raise _timeout_error(self._timeout, self._rcvd, "worker process %d (pid %d)" % (w, proc.pid))

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader)

    def __next__(self):
        if self._closed:
            raise StopIteration
        if self._rcvd == self._sent:
            self._shutdown()
            raise StopIteration
        w = self._rcvd % len(self._procs)
        idx, ok, payload = pickle.loads(self._recv(w))
        if idx != self._rcvd:
            self._shutdown()
            raise RuntimeError("DataLoader: internal error, expected batch %d from worker %d, got %d"
                               % (self._rcvd, w, idx))
        if not ok:
            err = _worker_error(payload, idx, w, self._procs[w].pid)
            self._shutdown()
            raise err
        self._rcvd += 1
        self._fill_window()
        ret = _from_wire(payload)
        if self._loader._pin_memory:
            ret = _pin(ret, self._loader._pin_device_id)
        return ret

    def _shutdown(self):
        if self._closed or os.getpid() != self._owner:  # never from a forked copy
            return
        self._closed = True
        for c in self._conns:
            try:
                c.send(None)
            except Exception:  # noqa: BLE001 - the worker may be gone already
                pass
        for c in self._conns:
            try:
                c.close()
            except Exception:  # noqa: BLE001
                pass
        deadline = time.monotonic() + 1.0
        for p in self._procs:
            try:
                p.join(timeout=max(0.0, deadline - time.monotonic()))
                if p.is_alive():
                    p.terminate()
                    p.join(timeout=1.0)
                if p.is_alive() and hasattr(p, "kill"):
                    p.kill()
                    p.join(timeout=1.0)
            except Exception:  # noqa: BLE001 - interpreter shutdown
                pass

    def __del__(self):
        if sys is None or sys.is_finalizing():
            return
        try:
            self._shutdown()
        except Exception:  # noqa: BLE001 - never raise from a finaliser
            pass
