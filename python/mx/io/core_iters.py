"""Iterators implemented in the core (mx_dataiter_*): CSVIter, MNISTIter, ImageRecordIter."""
import json

import numpy as np

from ..base import check_call, ffi, lib, c_str, py_str
from ..ndarray.ndarray import _wrap_any
from .io import DataBatch, DataDesc, DataIter

# Looked up once: a lookup on the library from __del__ can run inside cffi's own lock (ABI
# mode, MX_LIBRARY) when the garbage collector fires there, and deadlock.
_mx_dataiter_free = lib.mx_dataiter_free

__all__ = ["CoreDataIter", "CSVIter", "MNISTIter", "ImageRecordIter", "LibSVMIter"]


def _jsonable(v):
    if isinstance(v, (tuple, list)):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (bool, int, float, str)) or v is None:
        return v
    return str(v)


class CoreDataIter(DataIter):
    """Base of the iterators implemented in the core (``CSVIter``, ``MNISTIter``, ``ImageRecordIter``):
    reading, decoding, augmentation and batching run in libmx (R and Julia use the same ones).

    Parameters
    ----------
    **kwargs
        MXNet's arguments of the iterator (``batch_size``, file paths, shapes, ...).
    """

    _name = None

    def __init__(self, **kwargs):
        batch_size = int(kwargs.get("batch_size", 0) or 0)
        super().__init__(batch_size)
        self._handle = None
        params = json.dumps({k: _jsonable(v) for k, v in kwargs.items()})
        h = ffi.new("mx_dataiter_t *")
        check_call(lib.mx_dataiter_new(c_str(self._name), c_str(params), h))
        self._handle = h[0]
        self._init_provide()

    def _init_provide(self):
        p = ffi.new("const char **")
        check_call(lib.mx_dataiter_provide(self._handle, p))
        desc = json.loads(py_str(p[0]))
        self._provide_data = [DataDesc(d["name"], tuple(d["shape"]), np.dtype(d["dtype"])) for d in desc["data"]]
        self._provide_label = [DataDesc(d["name"], tuple(d["shape"]), np.dtype(d["dtype"])) for d in desc["label"]]
        if self._provide_data:
            self.batch_size = self._provide_data[0].shape[0]
        self._has_batch = False

    @property
    def provide_data(self):
        return self._provide_data

    @property
    def provide_label(self):
        return self._provide_label

    def __del__(self):
        h = getattr(self, "_handle", None)
        if h is not None:
            self._handle = None
            _mx_dataiter_free(h)

    def reset(self):
        check_call(lib.mx_dataiter_reset(self._handle))
        self._has_batch = False

    def iter_next(self):
        out = ffi.new("int *")
        check_call(lib.mx_dataiter_next(self._handle, out))
        self._has_batch = bool(out[0])
        return self._has_batch

    def next(self):
        if self.iter_next():
            return DataBatch(data=self._arrays(lib.mx_dataiter_data), label=self._arrays(lib.mx_dataiter_label),
                             pad=self.getpad(), index=self.getindex(),
                             provide_data=self.provide_data, provide_label=self.provide_label)
        raise StopIteration

    def _arrays(self, fn):
        n = ffi.new("int *")
        arrs = ffi.new("mx_ndarray_t **")
        check_call(fn(self._handle, n, arrs))
        return [_wrap_any(arrs[0][i]) for i in range(n[0])]

    # As MXNet's MXDataIter: one NDArray (these iterators have one data and one label field);
    # the batch from next() holds them in lists.
    def getdata(self):
        arrays = self._arrays(lib.mx_dataiter_data)
        return arrays[0] if arrays else None

    def getlabel(self):
        arrays = self._arrays(lib.mx_dataiter_label)
        return arrays[0] if arrays else None

    def getpad(self):
        out = ffi.new("int64_t *")
        check_call(lib.mx_dataiter_pad(self._handle, out))
        return int(out[0])

    def getindex(self):
        n = ffi.new("int *")
        p = ffi.new("const uint64_t **")
        check_call(lib.mx_dataiter_index(self._handle, n, p))
        return np.frombuffer(ffi.buffer(p[0], 8 * n[0]), dtype=np.uint64).copy()


class CSVIter(CoreDataIter):
    """Batches from CSV files (MXNet's CSVIter): data_csv, data_shape, label_csv, label_shape,
    batch_size, round_batch (True: the last batch wraps to the first rows, and the next epoch
    starts after them; False: the last batch is padded with the previous batch's rows)."""

    _name = "CSVIter"


class MNISTIter(CoreDataIter):
    """MNIST / Fashion-MNIST IDX files, gzipped or not (MXNet's MNISTIter): image, label,
    batch_size, shuffle, flat, seed, num_parts, part_index. Pixels scaled to [0, 1]; an incomplete
    last batch is dropped."""

    _name = "MNISTIter"


class ImageRecordIter(CoreDataIter):
    """Images from a RecordIO file (MXNet's ImageRecordIter): path_imgrec, path_imgidx,
    data_shape (C, H, W), batch_size, resize, rand_crop, rand_mirror, mean_r/g/b, std_r/g/b,
    scale, shuffle, seed, preprocess_threads, label_width, round_batch, num_parts, part_index.
    Output is float32 NCHW RGB: (pixel - mean) / std * scale."""

    _name = "ImageRecordIter"


class LibSVMIter(CoreDataIter):
    """Batches of csr data from a LibSVM text file (MXNet's LibSVMIter): data_libsvm, data_shape
    (num_features,), batch_size, round_batch (True only), num_parts, part_index. Each line is
    "label index:value ..." with zero-based indices; data batches are CSRNDArrays and labels dense
    float32. The last batch wraps to the first instances (pad counts them) and the next epoch
    starts after them."""

    _name = "LibSVMIter"
