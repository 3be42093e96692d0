"""The DataIter protocol (DataDesc, DataBatch, DataIter) and the array-backed iterators."""
from collections import namedtuple

import numpy as np

from ..ndarray import NDArray, array


class DataDesc(namedtuple("DataDesc", ["name", "shape"])):
    """Name, shape, dtype and layout of one input (a named tuple ``(name, shape)`` with ``dtype`` and
    ``layout`` attributes, as MXNet's).

    Parameters
    ----------
    name : str
        Input name, e.g. ``'data'``.
    shape : tuple of int
        Shape including the batch axis.
    dtype : numpy dtype, default float32
        Element type.
    layout : str, default 'NCHW'
        Axis names; ``N`` marks the batch axis.
    """

    def __new__(cls, name, shape, dtype=np.float32, layout="NCHW"):
        ret = super().__new__(cls, name, tuple(shape))
        ret.dtype = dtype
        ret.layout = layout
        return ret

    def __repr__(self):
        return "DataDesc[%s,%s,%s,%s]" % (self.name, self.shape, np.dtype(self.dtype).name, self.layout)

    @staticmethod
    def get_batch_axis(layout):
        return 0 if layout is None else max(layout.find("N"), 0)

    @staticmethod
    def get_list(shapes, types):
        types = dict(types) if types else {}
        return [DataDesc(n, s, types.get(n, np.float32)) for n, s in shapes]


class DataBatch:
    """One batch of data from a DataIter.

    Parameters
    ----------
    data : list of NDArray
        The data arrays, batch along the first axis.
    label : list of NDArray, optional
        The label arrays.
    pad : int, optional
        Number of padding samples at the end of the batch (left out of metrics and predictions).
    index : array, optional
        Indices of the samples in the data set.
    bucket_key : optional
        Bucket of the batch (bucketing iterators).
    provide_data, provide_label : list of DataDesc, optional
        Descriptions of this batch's arrays.
    """

    def __init__(self, data, label=None, pad=None, index=None, bucket_key=None, provide_data=None,
                 provide_label=None):
        if data is not None and not isinstance(data, (list, tuple)):
            raise TypeError("DataBatch: data must be a list of NDArrays")
        if label is not None and not isinstance(label, (list, tuple)):
            raise TypeError("DataBatch: label must be a list of NDArrays")
        self.data, self.label, self.pad, self.index = data, label, pad, index
        self.bucket_key, self.provide_data, self.provide_label = bucket_key, provide_data, provide_label

    def __str__(self):
        return "DataBatch: data shapes: %s label shapes: %s" % (
            [d.shape for d in self.data], [l.shape for l in self.label] if self.label else None)


class DataIter:
    """Base class of data iterators (MXNet 1.x ``mx.io.DataIter``): iterate with ``for batch in it``
    (or ``next()``), ``reset()`` at the start of each epoch. Subclasses describe their arrays with
    ``provide_data`` / ``provide_label`` (lists of DataDesc).

    Parameters
    ----------
    batch_size : int, default 0
        Samples per batch.
    """

    def __init__(self, batch_size=0):
        self.batch_size = batch_size

    def __iter__(self):
        return self

    def reset(self):
        pass

    def next(self):
        if self.iter_next():
            return DataBatch(data=self.getdata(), label=self.getlabel(), pad=self.getpad(), index=self.getindex())
        raise StopIteration

    def __next__(self):
        return self.next()

    def iter_next(self):
        return False

    def getdata(self):
        return None

    def getlabel(self):
        return None

    def getindex(self):
        return None

    def getpad(self):
        return 0


def _init_data(data, allow_empty, default_name):
    if data is None:
        if not allow_empty:
            raise ValueError("NDArrayIter: data must not be None")
        return []
    if isinstance(data, (np.ndarray, NDArray)):
        data = [data]
    if isinstance(data, (list, tuple)):
        if not allow_empty and not data:
            raise ValueError("NDArrayIter: data must not be empty")
        names = [default_name] if len(data) == 1 else ["_%d_%s" % (i, default_name) for i in range(len(data))]
        data = dict(zip(names, data))
    if not isinstance(data, dict):
        raise TypeError("NDArrayIter: data must be an array, a list of arrays or a dict of name -> array")
    out = []
    for k, v in data.items():
        # As MXNet: NDArrays keep their dtype; numpy (and other) input becomes float32, as
        # mx.nd.array makes it (so Module.fit on float64 numpy data binds float32 inputs).
        v = v.asnumpy() if isinstance(v, NDArray) else np.asarray(v, dtype=np.float32)
        out.append((k, v))
    return out


class NDArrayIter(DataIter):
    """Batches over in-memory arrays (MXNet's ``NDArrayIter``).

    Parameters
    ----------
    data : array_like or NDArray or list or dict of them
        Inputs, samples along the first axis (a dict names them; else ``data_name``).
    label : array_like or NDArray or list or dict, optional
        Labels, samples along the first axis.
    batch_size : int, default 1
        Samples per batch.
    shuffle : bool, default False
        Shuffle the samples at every ``reset()``.
    last_batch_handle : {'pad', 'discard', 'roll_over'}, default 'pad'
        What to do with a last, incomplete batch: fill it from the start and report ``pad``, drop
        it, or carry its samples into the next epoch.
    data_name : str, default 'data'
        Name of the data input.
    label_name : str, default 'softmax_label'
        Name of the label input.
    num_parts : int, default 1
        Split the samples into this many contiguous parts (one per data-parallel worker).
    part_index : int, default 0
        The part this iterator serves (``mx.kvstore.worker_rank()`` in a distributed job).

    Example
    -------
    >>> it = mx.io.NDArrayIter(np.arange(10, dtype=np.float32).reshape(5, 2), np.arange(5), batch_size=2)
    >>> [b.data[0].shape for b in it], it.provide_data[0].name
    ([(2, 2), (2, 2), (2, 2)], 'data')
    >>> it.reset(); [b.pad for b in it]
    [0, 0, 1]
    """

    def __init__(self, data, label=None, batch_size=1, shuffle=False, last_batch_handle="pad",
                 data_name="data", label_name="softmax_label", num_parts=1, part_index=0):
        super().__init__(batch_size)
        if last_batch_handle not in ("pad", "discard", "roll_over"):
            raise ValueError("last_batch_handle must be 'pad', 'discard' or 'roll_over', got %r" % last_batch_handle)
        if int(batch_size) <= 0:
            raise ValueError("batch_size must be positive, got %r" % batch_size)
        self.data = _init_data(data, False, data_name)
        self.label = _init_data(label, True, label_name)
        num_parts, part_index = int(num_parts), int(part_index)
        if num_parts < 1 or not 0 <= part_index < num_parts:
            raise ValueError("NDArrayIter: part_index %d must be in [0, num_parts=%d)"
                             % (part_index, num_parts))
        if num_parts > 1:
            n = self.data[0][1].shape[0]
            b, e = n * part_index // num_parts, n * (part_index + 1) // num_parts
            self.data = [(k, v[b:e]) for k, v in self.data]
            self.label = [(k, v[b:e]) for k, v in self.label]
        self.num_data = self.data[0][1].shape[0]
        # As MXNet, the first data array sets the sample count; longer arrays are read only up
        # to it (shorter ones could not fill a batch)
        for k, v in self.data + self.label:
            if v.shape[0] < self.num_data:
                raise ValueError("NDArrayIter: '%s' has %d samples but '%s' has %d" % (
                    k, v.shape[0], self.data[0][0], self.num_data))
        self.shuffle = shuffle
        self.last_batch_handle = last_batch_handle
        self.idx = np.arange(self.num_data)
        self._rng = np.random
        self._carry = None
        self._lead = None
        self.cursor = -self.batch_size
        self.reset()

    @property
    def provide_data(self):
        return [DataDesc(k, (self.batch_size,) + v.shape[1:], v.dtype) for k, v in self.data]

    @property
    def provide_label(self):
        return [DataDesc(k, (self.batch_size,) + v.shape[1:], v.dtype) for k, v in self.label]

    def hard_reset(self):
        self._carry = None
        self.reset()

    def reset(self):
        # roll_over: the previous epoch's leftover samples (in that epoch's order) lead the next.
        self._lead = self._carry if self.last_batch_handle == "roll_over" else None
        self._carry = None
        if self.shuffle:
            self._rng.shuffle(self.idx)
        lead = 0 if self._lead is None else len(self._lead)
        self.cursor = -self.batch_size - lead

    def iter_next(self):
        self.cursor += self.batch_size
        if self.last_batch_handle == "discard":
            return self.cursor + self.batch_size <= self.num_data
        if self.last_batch_handle == "roll_over":
            if self.cursor + self.batch_size > self.num_data:
                self._carry = self.idx[self.cursor:].copy() if self.cursor < self.num_data else None
                return False
            return True
        return self.cursor < self.num_data

    def _take(self, arrays):
        start = self.cursor
        end = start + self.batch_size
        if start < 0:  # roll_over: the carried tail of the previous epoch first
            sel = np.concatenate([self._lead, self.idx[:end]])
        elif end <= self.num_data:
            if not self.shuffle:  # a plain slice: one copy instead of a gather and a copy
                return [array(v[start:end], dtype=v.dtype) for _, v in arrays]
            sel = self.idx[start:end]
        else:  # pad by wrapping to the start (as often as needed when batch_size > num_data, as MXNet)
            sel = np.resize(np.concatenate([self.idx[start:], self.idx]), self.batch_size)
        return [array(v[sel], dtype=v.dtype) for _, v in arrays]

    def getdata(self):
        return self._take(self.data)

    def getlabel(self):
        return self._take(self.label)

    def getindex(self):
        return None

    def getpad(self):
        if self.last_batch_handle == "pad" and self.cursor + self.batch_size > self.num_data:
            return self.cursor + self.batch_size - self.num_data
        return 0


class ResizeIter(DataIter):
    """Makes an iterator yield exactly ``size`` batches per epoch, restarting it when it runs out.

    Parameters
    ----------
    data_iter : DataIter
        The iterator to resize.
    size : int
        Batches per epoch.
    reset_internal : bool, default True
        Reset ``data_iter`` at every ``reset()``.
    """

    def __init__(self, data_iter, size, reset_internal=True):
        super().__init__(data_iter.batch_size)
        self.data_iter, self.size, self.reset_internal = data_iter, size, reset_internal
        self.cur = 0
        self.current_batch = None
        self.provide_data = data_iter.provide_data
        self.provide_label = data_iter.provide_label

    def reset(self):
        self.cur = 0
        if self.reset_internal:
            self.data_iter.reset()

    def iter_next(self):
        if self.cur == self.size:
            return False
        try:
            self.current_batch = self.data_iter.next()
        except StopIteration:
            self.data_iter.reset()
            self.current_batch = self.data_iter.next()
        self.cur += 1
        return True

    def getdata(self):
        return self.current_batch.data

    def getlabel(self):
        return self.current_batch.label

    def getindex(self):
        return self.current_batch.index

    def getpad(self):
        return self.current_batch.pad


class PrefetchingIter(DataIter):
    """Prefetches the next batch of one or more iterators on a background thread.

    Parameters
    ----------
    iters : DataIter or list of DataIter
        The iterators; their batches are combined (data and labels concatenated as lists).
    rename_data, rename_label : list of dict, optional
        Renames of each iterator's data/label names.
    """

    def __init__(self, iters, rename_data=None, rename_label=None):
        import queue
        import threading
        iters = iters if isinstance(iters, list) else [iters]
        super().__init__(iters[0].batch_size)
        self.iters = iters
        self.rename_data, self.rename_label = rename_data, rename_label
        self._queue = queue.Queue(maxsize=2)
        self._threading = threading
        self._thread = None
        self._start()

    @property
    def provide_data(self):
        out = []
        for i, it in enumerate(self.iters):
            for d in it.provide_data:
                name = self.rename_data[i].get(d.name, d.name) if self.rename_data else d.name
                out.append(DataDesc(name, d.shape, getattr(d, "dtype", np.float32)))
        return out

    @property
    def provide_label(self):
        out = []
        for i, it in enumerate(self.iters):
            for d in it.provide_label:
                name = self.rename_label[i].get(d.name, d.name) if self.rename_label else d.name
                out.append(DataDesc(name, d.shape, getattr(d, "dtype", np.float32)))
        return out

    def _start(self):
        def work():
            while True:
                try:
                    batches = [it.next() for it in self.iters]
                except StopIteration:
                    self._queue.put(None)
                    return
                except Exception as e:  # surface the error in the consumer thread
                    self._queue.put(e)
                    return
                self._queue.put(batches)
        self._thread = self._threading.Thread(target=work, daemon=True)
        self._thread.start()

    def reset(self):
        while self._thread.is_alive() or not self._queue.empty():
            item = self._queue.get()
            if item is None or isinstance(item, Exception):
                break
        self._thread.join()
        for it in self.iters:
            it.reset()
        self._start()

    def next(self):
        item = self._queue.get()
        if item is None:
            self._queue.put(None)
            raise StopIteration
        if isinstance(item, Exception):
            raise item
        data = sum([b.data for b in item], [])
        label = sum([b.label or [] for b in item], [])
        return DataBatch(data, label, item[0].pad, item[0].index)
