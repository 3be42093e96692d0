"""Datasets: random-access collections of samples (MXNet 1.x ``gluon.data.dataset``)."""
import numbers
import os
import threading

import numpy as np

from ... import recordio
from ...ndarray import NDArray

__all__ = ["Dataset", "SimpleDataset", "ArrayDataset", "RecordFileDataset"]


class IndexTypeError(IndexError, TypeError):
    """A dataset index of the wrong type (catchable as IndexError or TypeError)."""


def _check_index(idx, length, who):
    """A non-negative int index into a collection of `length` items (negative counts from the
    end); IndexError/TypeError naming `who` otherwise."""
    if isinstance(idx, (bool, np.bool_)) or not isinstance(idx, (numbers.Integral, np.integer)):
        raise IndexTypeError("%s indices must be integers, got %s" % (who, type(idx).__name__))
    i = int(idx)
    if i < -length or i >= length:
        raise IndexError("%s index %d is out of range for a dataset of %d samples" % (who, i, length))
    return i + length if i < 0 else i


class Dataset:
    """Abstract data set: subclasses implement ``__getitem__(idx)`` and ``__len__()``.

    ``transform(fn)`` / ``transform_first(fn)`` map the samples (lazily by default), ``filter``,
    ``shard``, ``take`` and ``sample`` select them.
    """

    def __getitem__(self, idx):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError

    def filter(self, fn):
        """A dataset of the samples for which fn(sample) is true (evaluated now)."""
        return _SampledDataset(self, [i for i in range(len(self)) if fn(self[i])])

    def shard(self, num_shards, index):
        """The index-th of num_shards contiguous parts; the first len % num_shards parts get one
        extra sample."""
        if not isinstance(num_shards, numbers.Integral) or num_shards <= 0:
            raise ValueError("shard: num_shards must be a positive integer, got %r" % (num_shards,))
        if not isinstance(index, numbers.Integral) or not 0 <= index < num_shards:
            raise ValueError("shard: index must be an integer in [0, %d), got %r" % (num_shards, index))
        n = len(self)
        base, rest = divmod(n, num_shards)
        start = base * index + min(index, rest)
        size = base + (1 if index < rest else 0)
        from .sampler import SequentialSampler
        return _SampledDataset(self, SequentialSampler(size, start))

    def take(self, count):
        """The first `count` samples (all of them when count is None or larger than the dataset)."""
        n = len(self)
        if count is None or count > n:
            count = n
        if not isinstance(count, numbers.Integral) or count < 0:
            raise ValueError("take: count must be a non-negative integer or None, got %r" % (count,))
        from .sampler import SequentialSampler
        return _SampledDataset(self, SequentialSampler(int(count)))

    def sample(self, sampler):
        """The samples at the indices that `sampler` (a Sampler or any iterable of ints) yields."""
        from .sampler import Sampler
        if not isinstance(sampler, Sampler) and not hasattr(sampler, "__iter__"):
            raise TypeError("sample: sampler must be a Sampler or an iterable of indices, got %s"
                            % type(sampler).__name__)
        return _SampledDataset(self, sampler)

    def transform(self, fn, lazy=True):
        """A dataset of ``fn(*sample)`` (tuple samples are unpacked) or ``fn(sample)``.
        ``lazy=False`` applies ``fn`` to every sample now and returns a SimpleDataset."""
        if not callable(fn):
            raise TypeError("transform: fn must be callable, got %s" % type(fn).__name__)
        trans = _LazyTransformDataset(self, fn)
        if lazy:
            return trans
        return SimpleDataset([trans[i] for i in range(len(trans))])

    def transform_first(self, fn, lazy=True):
        """Like transform, but fn is applied to the first element of each sample only."""
        if not callable(fn):
            raise TypeError("transform_first: fn must be callable, got %s" % type(fn).__name__)
        return self.transform(_TransformFirstClosure(fn), lazy)


class SimpleDataset(Dataset):
    """A Dataset over any object with ``__len__`` and ``__getitem__`` (e.g. a list).

    Parameters
    ----------
    data : sequence
        The samples.
    """

    def __init__(self, data):
        if not hasattr(data, "__len__") or not hasattr(data, "__getitem__"):
            raise TypeError("SimpleDataset: data must support len() and indexing, got %s" % type(data).__name__)
        self._data = data

    def __len__(self):
        return len(self._data)

    def __getitem__(self, idx):
        return self._data[idx]


class _LazyTransformDataset(Dataset):
    def __init__(self, data, fn):
        self._data = data
        self._fn = fn

    def __len__(self):
        return len(self._data)

    def __getitem__(self, idx):
        item = self._data[idx]
        if isinstance(item, tuple):
            return self._fn(*item)
        return self._fn(item)


class _TransformFirstClosure:
    """Picklable callable applying fn to the first element of a sample."""

    def __init__(self, fn):
        self._fn = fn

    def __call__(self, x, *args):
        if args:
            return (self._fn(x),) + args
        return self._fn(x)


class _SampledDataset(Dataset):
    """The samples of `dataset` at the indices of `sampler` (materialised as a list)."""

    def __init__(self, dataset, sampler):
        self._dataset = dataset
        self._sampler = sampler
        self._indices = list(iter(sampler))

    def __len__(self):
        return len(self._indices)

    def __getitem__(self, idx):
        return self._dataset[self._indices[_check_index(idx, len(self._indices), type(self).__name__)]]


class ArrayDataset(Dataset):
    """Zips arrays of equal length: sample i is (a[i], b[i], ...), or a[i] with one array.
    1-D NDArrays are converted to numpy first, so their elements are numpy scalars (as MXNet)."""

    def __init__(self, *args):
        if not args:
            raise ValueError("ArrayDataset: needs at least one array")
        self._data = []
        self._length = None
        for i, data in enumerate(args):
            if not hasattr(data, "__len__") or not hasattr(data, "__getitem__"):
                raise TypeError("ArrayDataset: argument %d (%s) is not an array or sequence"
                                % (i, type(data).__name__))
            n = len(data)
            if self._length is None:
                self._length = n
            elif n != self._length:
                raise ValueError("ArrayDataset: all arrays must have the same length; array[0] has length %d "
                                 "while array[%d] has length %d" % (self._length, i, n))
            if isinstance(data, NDArray) and data.ndim == 1:
                data = data.asnumpy()
            self._data.append(data)

    def __len__(self):
        return self._length

    def __getitem__(self, idx):
        i = _check_index(idx, self._length, "ArrayDataset")
        if len(self._data) == 1:
            return self._data[0][i]
        return tuple(data[i] for data in self._data)


class RecordFileDataset(Dataset):
    """The raw records (bytes) of a RecordIO file, indexed through the ``.idx`` file beside it.

    Parameters
    ----------
    filename : str
        Path of the ``.rec`` file (``.idx`` is the same path with that extension).
    """

    def __init__(self, filename):
        self.filename = str(filename)
        self.idx_file = os.path.splitext(self.filename)[0] + ".idx"
        missing = [p for p in (self.filename, self.idx_file) if not os.path.isfile(p)]
        if missing:
            raise FileNotFoundError("%s: file(s) not found: %s (a .rec needs its .idx index beside it, as "
                                    "written by mx.recordio.MXIndexedRecordIO or im2rec)"
                                    % (type(self).__name__, ", ".join("'%s'" % p for p in missing)))
        self._lock = threading.Lock()
        self._open()

    def _open(self):
        self._pid = os.getpid()
        self._record = recordio.MXIndexedRecordIO(self.idx_file, self.filename, "r")

    def __getstate__(self):
        d = self.__dict__.copy()
        d.pop("_lock", None)
        d.pop("_record", None)
        return d

    def __setstate__(self, d):
        self.__dict__.update(d)
        self._lock = threading.Lock()
        self._open()

    def __len__(self):
        return len(self._record.keys)

    def __getitem__(self, idx):
        i = _check_index(idx, len(self._record.keys), type(self).__name__)
        with self._lock:
            if self._pid != os.getpid():  # a forked DataLoader worker: the file offset is shared, reopen
                self._open()
            return self._record.read_idx(self._record.keys[i])
