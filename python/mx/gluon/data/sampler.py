"""Samplers: the order in which a DataLoader visits a dataset (MXNet 1.x ``gluon.data.sampler``)."""
import numbers

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "FilterSampler", "BatchSampler", "IntervalSampler",
           "DistributedSampler"]


def _check_length(length, who):
    if isinstance(length, bool) or not isinstance(length, numbers.Integral) or length < 0:
        raise ValueError("%s: length must be a non-negative integer, got %r" % (who, length))
    return int(length)


class Sampler:
    """Base class of samplers: iterating yields sample indices (or, for BatchSampler, lists of them).

    Subclasses implement ``__iter__`` and ``__len__``.
    """

    def __iter__(self):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """Yields ``start, start + 1, ..., start + length - 1``.

    Parameters
    ----------
    length : int
        Number of indices.
    start : int, default 0
        First index.
    """

    def __init__(self, length, start=0):
        self._length = _check_length(length, "SequentialSampler")
        if isinstance(start, bool) or not isinstance(start, numbers.Integral):
            raise ValueError("SequentialSampler: start must be an integer, got %r" % (start,))
        self._start = int(start)

    def __iter__(self):
        return iter(range(self._start, self._start + self._length))

    def __len__(self):
        return self._length


def _permutation(n):
    """A random permutation of range(n) drawn from MX's generator (mx.random.seed reproduces it)."""
    if n == 0:
        return []
    from ... import ndarray as nd
    return nd.random.shuffle(nd.arange(n, dtype="int64")).asnumpy().tolist()


class RandomSampler(Sampler):
    """Yields a new random permutation of ``0 .. length - 1`` on every pass (drawn with MX's
    generator, so ``mx.random.seed`` makes it reproducible).

    Parameters
    ----------
    length : int
        Number of indices.
    """

    def __init__(self, length):
        self._length = _check_length(length, "RandomSampler")

    def __iter__(self):
        return iter(_permutation(self._length))

    def __len__(self):
        return self._length


class FilterSampler(Sampler):
    """Yields the indices ``i`` of ``dataset`` for which ``fn(dataset[i])`` is true.

    Parameters
    ----------
    fn : callable
        Predicate on samples.
    dataset : Dataset
        The data set to filter.
    """

    def __init__(self, fn, dataset):
        if not callable(fn):
            raise TypeError("FilterSampler: fn must be callable, got %s" % type(fn).__name__)
        self._fn = fn
        self._dataset = dataset
        self._indices = [i for i in range(len(dataset)) if fn(dataset[i])]

    def __iter__(self):
        return iter(self._indices)

    def __len__(self):
        return len(self._indices)


_LAST_BATCH = ("keep", "discard", "rollover")


def _check_last_batch(last_batch, who):
    if last_batch not in _LAST_BATCH:
        raise ValueError("%s: last_batch must be one of 'keep', 'discard', or 'rollover', but got %r"
                         % (who, last_batch))
    return last_batch


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size``.

    Parameters
    ----------
    sampler : Sampler
        Source of indices.
    batch_size : int
        Indices per batch.
    last_batch : {'keep', 'discard', 'rollover'}, default 'keep'
        The incomplete last batch is kept, dropped, or carried over to the front of the next pass.

    Example
    -------
    >>> list(mx.gluon.data.BatchSampler(mx.gluon.data.SequentialSampler(5), 2))
    [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler, batch_size, last_batch="keep"):
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size <= 0:
            raise ValueError("BatchSampler: batch_size must be a positive integer, got %r" % (batch_size,))
        if not hasattr(sampler, "__iter__"):
            raise TypeError("BatchSampler: sampler must be a Sampler (an iterable of indices), got %s"
                            % type(sampler).__name__)
        self._sampler = sampler
        self._batch_size = int(batch_size)
        self._last_batch = _check_last_batch(last_batch, "BatchSampler")
        self._prev = []

    def __iter__(self):
        batch, self._prev = self._prev, []
        for i in self._sampler:
            batch.append(i)
            if len(batch) == self._batch_size:
                yield batch
                batch = []
        if batch:
            if self._last_batch == "keep":
                yield batch
            elif self._last_batch == "rollover":
                self._prev = batch

    def __len__(self):
        n = len(self._sampler)
        if self._last_batch == "keep":
            return (n + self._batch_size - 1) // self._batch_size
        if self._last_batch == "discard":
            return n // self._batch_size
        return (len(self._prev) + n) // self._batch_size


class IntervalSampler(Sampler):
    """Yields ``0, k, 2k, ...`` then (with ``rollover``) ``1, k+1, ...`` and so on: every index once,
    strided by ``interval`` (MXNet's contrib ``IntervalSampler``).

    Parameters
    ----------
    length : int
        Number of indices.
    interval : int
        The stride ``k``.
    rollover : bool, default True
        Continue with the next offsets after the first stride (else stop).
    """

    def __init__(self, length, interval, rollover=True):
        self._length = _check_length(length, "IntervalSampler")
        if isinstance(interval, bool) or not isinstance(interval, numbers.Integral) or interval <= 0:
            raise ValueError("IntervalSampler: interval must be a positive integer, got %r" % (interval,))
        if interval > max(self._length, 1):
            raise ValueError("IntervalSampler: interval %d is larger than length %d" % (interval, self._length))
        self._interval = int(interval)
        self._rollover = bool(rollover)

    def __iter__(self):
        for start in range(self._interval if self._rollover else 1):
            for i in range(start, self._length, self._interval):
                yield i

    def __len__(self):
        if self._rollover:
            return self._length
        return len(range(0, self._length, self._interval))


class DistributedSampler(Sampler):
    """This worker's share of 0 .. length-1 for data-parallel training.

    Part `part_index` of `num_parts` (by default the rank and size of the job that
    mx.tools.launch started); every part has the same size (indices wrap around), so all
    workers take the same number of steps. shuffle=True permutes the whole index set each pass
    with a generator seeded by seed + epoch, identical on every worker, so parts stay disjoint.

    Parameters
    ----------
    length : int
        Number of samples in the dataset.
    num_parts : int, optional
        Number of workers (default: ``mx.kvstore.worker_count()``).
    part_index : int, optional
        This worker's part (default: ``mx.kvstore.worker_rank()``).
    shuffle : bool, default False
        Visit the samples in a new random order every pass (call ``set_epoch`` each epoch).
    seed : int, default 0
        Base seed of the shuffle; must be the same on every worker.

    Example
    -------
    >>> [list(mx.gluon.data.DistributedSampler(5, num_parts=2, part_index=i)) for i in range(2)]
    [[0, 1, 2], [3, 4, 0]]
    """

    def __init__(self, length, num_parts=None, part_index=None, shuffle=False, seed=0):
        from ...kvstore.dist import worker_rank, worker_count
        self._length = _check_length(length, "DistributedSampler")
        self._num_parts = worker_count() if num_parts is None else int(num_parts)
        self._part = worker_rank() if part_index is None else int(part_index)
        if self._num_parts < 1 or not 0 <= self._part < self._num_parts:
            raise ValueError("DistributedSampler: part_index %d must be in [0, num_parts=%d)"
                             % (self._part, self._num_parts))
        self._shuffle = bool(shuffle)
        self._seed = int(seed)
        self._epoch = 0

    def set_epoch(self, epoch):
        """Make the next pass's shuffle depend on `epoch` (call once per epoch on every worker).

        Parameters
        ----------
        epoch : int
            The epoch about to start.
        """
        self._epoch = int(epoch)

    def _per_part(self):
        return -(-self._length // self._num_parts) if self._length else 0

    def __iter__(self):
        import numpy as np
        idx = np.arange(self._length)
        if self._shuffle:
            idx = np.random.RandomState(self._seed + self._epoch).permutation(self._length)
        per = self._per_part()
        if per == 0:
            return iter([])
        idx = np.resize(idx, per * self._num_parts)  # wrap so every part has `per` indices
        return iter(idx[self._part * per:(self._part + 1) * per].tolist())

    def __len__(self):
        return self._per_part()
