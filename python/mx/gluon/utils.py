"""gluon.utils (MXNet 1.x): split_data, split_and_load, clip_global_norm, check_sha1."""
import hashlib
import math
import warnings

from .. import ndarray as nd
from ..ndarray.ndarray import NDArray

__all__ = ["split_data", "split_and_load", "clip_global_norm", "check_sha1"]


def split_data(data, num_slice, batch_axis=0, even_split=True):
    """Split data into num_slice slices along batch_axis."""
    size = data.shape[batch_axis]
    if even_split and size % num_slice != 0:
        raise ValueError("data with shape %s cannot be evenly split into %d slices along axis %d. "
                         "Use a batch size that's multiple of %d or set even_split=False to allow "
                         "uneven partitioning of data." % (str(data.shape), num_slice, batch_axis,
                                                          num_slice))
    step = size // num_slice
    if not even_split and size < num_slice:
        step = 1
        num_slice = size
    slices = []
    for i in range(num_slice):
        end = (i + 1) * step if i < num_slice - 1 else size
        slices.append(nd.slice_axis(data, axis=batch_axis, begin=i * step, end=end))
    return slices


def split_and_load(data, ctx_list, batch_axis=0, even_split=True):
    """Split data and copy each slice to one context of ctx_list."""
    if not isinstance(data, NDArray):
        data = nd.array(data, ctx=ctx_list[0])
    if len(ctx_list) == 1:
        return [data.as_in_context(ctx_list[0])]
    slices = split_data(data, len(ctx_list), batch_axis, even_split)
    return [s.as_in_context(c) for s, c in zip(slices, ctx_list)]


def clip_global_norm(arrays, max_norm, check_isfinite=True):
    """Scale arrays in place so that the 2-norm of their concatenation is at most max_norm;
    returns that norm (before scaling)."""
    if not arrays:
        raise ValueError("clip_global_norm: no arrays")
    ctx = arrays[0].context
    total = nd.add_n(*[nd.square(nd.norm(a)).reshape((1,)).as_in_context(ctx) for a in arrays])
    total_norm = nd.sqrt(total)
    if check_isfinite:
        if not math.isfinite(float(total_norm.asscalar())):
            warnings.warn(UserWarning("nan or inf is detected. Clipping results will be undefined."),
                          stacklevel=2)
    scale = nd._internal._rdiv_scalar(total_norm + 1e-8, scalar=float(max_norm))
    scale = nd._internal._minimum_scalar(scale, scalar=1.0)
    for a in arrays:
        a *= scale.as_in_context(a.context)
    return total_norm.asscalar() if check_isfinite else total_norm


def check_sha1(filename, sha1_hash):
    sha1 = hashlib.sha1()
    with open(filename, "rb") as f:
        while True:
            data = f.read(1048576)
            if not data:
                break
            sha1.update(data)
    return sha1.hexdigest() == sha1_hash
