"""NDArray indexing. Basic indexing of the first axis returns views (as MXNet); everything else
runs through registered ops (slice, take, _slice_assign) so it stays differentiable."""
import numbers

import numpy as np

from ..base import check_call, ffi, lib
from .ndarray import NDArray, _wrap, array


def _at(a, i):
    h = ffi.new("mx_ndarray_t *")
    check_call(lib.mx_ndarray_at(a.handle, i, h))
    return _wrap(h[0])


def _slice0(a, begin, end):
    h = ffi.new("mx_ndarray_t *")
    check_call(lib.mx_ndarray_slice(a.handle, begin, end, h))
    return _wrap(h[0])


def _norm_index(i, n):
    if i < 0:
        i += n
    if i < 0 or i >= n:
        raise IndexError("index %d is out of bounds for axis 0 with size %d" % (i if i >= 0 else i - n, n))
    return i


def _expand(key, ndim):
    """Normalise a basic-index key to a tuple of ints/slices with Ellipsis expanded."""
    if not isinstance(key, tuple):
        key = (key,)
    if any(k is Ellipsis for k in key):
        pos = key.index(Ellipsis)
        fill = ndim - (len(key) - 1 - sum(1 for k in key if k is None))
        key = key[:pos] + (slice(None),) * fill + key[pos + 1:]
    return key


def _is_array_index(k):
    return isinstance(k, (NDArray, list, np.ndarray))


def _index_array(k, n, axis, ctx):
    """An integer index array (list, numpy or NDArray) for an axis of size n, checked as numpy
    does: out-of-range indices raise IndexError (take would clip them silently), and a boolean
    mask must match the axis length (it selects where True) instead of being read as 0/1."""
    if isinstance(k, NDArray):
        if np.dtype(k.dtype) != np.bool_:
            return k, True  # checked by take(mode='raise') without copying it to the host
        k = k.asnumpy()
    idx = np.asarray(k)
    if idx.dtype == np.bool_:
        if idx.ndim != 1 or idx.shape[0] != n:
            raise IndexError("boolean index did not match indexed array along axis %d; size of axis is %d "
                             "but size of corresponding boolean axis is %s"
                             % (axis, n, idx.shape[0] if idx.ndim else "0 (a 0-d boolean)"))
        idx = np.flatnonzero(idx)
    elif idx.size == 0:
        idx = idx.astype(np.int64)
    elif not np.issubdtype(idx.dtype, np.integer):
        raise IndexError("arrays used as indices must be of integer (or boolean) type, got %s" % idx.dtype)
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if hi >= n or lo < -n:
            bad = hi if hi >= n else lo
            raise IndexError("index %d is out of bounds for axis %d with size %d" % (bad, axis, n))
        if lo < 0:
            idx = np.where(idx < 0, idx + n, idx)  # take() would clip negatives to 0
    return array(idx, ctx=ctx, dtype=np.int64), False


def _take(a, k, axis):
    from . import op
    from ..base import MXError
    if axis == 0 and not isinstance(k, list):
        m = k.asnumpy() if isinstance(k, NDArray) and np.dtype(k.dtype) == np.bool_ else k
        if isinstance(m, np.ndarray) and m.dtype == np.bool_ and m.ndim > 1:
            # An n-d mask selects elements (or sub-arrays) of the leading dims, as numpy does.
            if m.shape != a.shape[:m.ndim]:
                raise IndexError("boolean index of shape %s did not match the indexed array's leading "
                                 "dimensions %s" % (m.shape, a.shape[:m.ndim]))
            a = a.reshape((m.size,) + a.shape[m.ndim:])
            k = m.reshape(-1)
    idx, unchecked = _index_array(k, a.shape[axis], axis, a.context)
    if not unchecked:
        return op.take(a, idx, axis=axis)
    try:
        return op.take(a, idx, axis=axis, mode="raise")
    except MXError as e:
        if "out of bounds" in str(e):
            raise IndexError(str(e)) from None
        raise


def getitem(a, key):
    shape = a.shape
    # Fast views along axis 0.
    if isinstance(key, numbers.Integral) and not isinstance(key, bool):
        if not shape:
            raise IndexError("too many indices for a 0-d array")
        i = _norm_index(int(key), shape[0])
        from .. import autograd
        if autograd.is_recording():  # a recorded op, so gradients flow back to `a` (views are not taped)
            from . import op
            row = op.slice_axis(a, axis=0, begin=i, end=i + 1)
            return row if len(shape) == 1 else op.reshape(row, shape=shape[1:])
        if len(shape) == 1:  # MXNet 1.x has no 0-d arrays: x[i] of a vector has shape (1,)
            return _slice0(a, i, i + 1)
        return _at(a, i)
    if isinstance(key, slice) and (key.step is None or key.step == 1) and shape:
        b, e, _ = key.indices(shape[0])
        from .. import autograd
        if not autograd.is_recording():
            return _slice0(a, b, max(b, e))
    if isinstance(key, NDArray) or isinstance(key, (list, np.ndarray)):
        if not shape:
            raise IndexError("too many indices for a 0-d array")
        return _take(a, key, 0)
    key = _expand(key, len(shape))
    from . import op
    arr_pos = [i for i, k in enumerate(key) if _is_array_index(k)]
    if arr_pos:
        # One integer array among full slices: take along that axis (numpy's result layout).
        p = arr_pos[0]
        if len(arr_pos) == 1 and not any(k is None for k in key) and len(key) <= len(shape) and \
                all(isinstance(k, slice) and k == slice(None) for i, k in enumerate(key) if i != p):
            return _take(a, key[p], p)
        from . import advanced_indexing
        return advanced_indexing.getitem(a, key)
    begin, end, step, squeeze, newaxes = [], [], [], [], []
    axis = 0
    out_pos = 0
    for k in key:
        if k is None:
            newaxes.append(out_pos)
            out_pos += 1
            continue
        if axis >= len(shape):
            raise IndexError("too many indices for an array with %d dimensions" % len(shape))
        if isinstance(k, numbers.Integral):
            i = int(k)
            n = shape[axis]
            if i < -n or i >= n:
                raise IndexError("index %d is out of bounds for axis %d with size %d" % (i, axis, n))
            i = i + n if i < 0 else i
            begin.append(i)
            end.append(i + 1)
            step.append(1)
            squeeze.append(axis)
        elif isinstance(k, slice):
            b, e, s = k.indices(shape[axis])
            begin.append(b)
            end.append(e if not (s < 0 and e < 0) else None)
            step.append(s)
            out_pos += 1
        else:
            raise IndexError("unsupported index %r (MX supports ints, slices, None, Ellipsis and "
                             "integer arrays)" % (k,))
        axis += 1
    out = op.slice(a, begin=tuple(begin), end=tuple(end), step=tuple(step)) if begin else a
    if squeeze or newaxes:
        new_shape = [d for i, d in enumerate(out.shape) if i not in squeeze]
        for p in newaxes:
            new_shape.insert(p, 1)
        if not new_shape:  # MXNet 1.x has no 0-d arrays
            new_shape = [1]
        out = out.reshape(tuple(new_shape))
    return out


def _value_array(value, like, shape):
    if isinstance(value, NDArray):
        v = value
        if v.dtype != like.dtype:
            v = v.astype(like.dtype)
    else:
        v = array(np.asarray(value), ctx=like.context, dtype=like.dtype)
    if v.ndim > len(shape):
        extra = v.ndim - len(shape)
        if any(d != 1 for d in v.shape[:extra]):
            raise ValueError("cannot assign a value of shape %s to a region of shape %s"
                             % (v.shape, tuple(shape)))
        v = v.reshape(v.shape[extra:] if v.shape[extra:] else (1,))
        if not shape:
            v = v.reshape(())
    if v.shape != tuple(shape):
        from . import op
        if v.ndim < len(shape):
            v = v.reshape((1,) * (len(shape) - v.ndim) + v.shape)
        axes = tuple(i for i, (d, t) in enumerate(zip(v.shape, shape)) if d != t)
        if any(v.shape[i] != 1 for i in axes):
            raise ValueError("cannot broadcast a value of shape %s to a region of shape %s"
                             % (v.shape, tuple(shape)))
        v = op.broadcast_axis(v, axis=axes, size=tuple(shape[i] for i in axes))
    return v


def setitem(a, key, value):
    shape = a.shape
    if isinstance(key, slice) and key == slice(None):
        target = a
    elif isinstance(key, numbers.Integral) and not isinstance(key, bool) and shape:
        target = _at(a, _norm_index(int(key), shape[0]))
    elif isinstance(key, slice) and (key.step is None or key.step == 1) and shape:
        b, e, _ = key.indices(shape[0])
        target = _slice0(a, b, max(b, e))
    elif _has_array(key if isinstance(key, tuple) else (key,)):
        from . import advanced_indexing
        advanced_indexing.setitem(a, key, value)
        return
    else:
        key = _expand(key, len(shape))
        # None (a new axis of size 1) selects nothing in an assignment: numpy and MXNet ignore it
        # (a value's extra leading size-1 axes are dropped below)
        np_region = None
        if any(k is None for k in key):
            # the region's shape as numpy sees it (None axes of size 1): a value of exactly that
            # shape is reshaped to the region below
            np_region = []
            for axis, k in enumerate(kk for kk in key if kk is not None):
                if isinstance(k, slice) and axis < len(shape):
                    np_region.append(len(range(*k.indices(shape[axis]))))
            it = iter(np_region)
            np_region = [1 if k is None else (next(it) if isinstance(k, slice) else None) for k in key]
            np_region = [d for d in np_region if d is not None]
            np_region += list(shape[sum(1 for k in key if k is not None):])
            key = tuple(k for k in key if k is not None)
        from . import _internal
        begin, end, step, region, squeezed = [], [], [], [], []
        for axis, k in enumerate(key):
            if axis >= len(shape):
                raise IndexError("too many indices for an array with %d dimensions" % len(shape))
            if isinstance(k, numbers.Integral):
                n = shape[axis]
                if int(k) < -n or int(k) >= n:
                    raise IndexError("index %d is out of bounds for axis %d with size %d" % (int(k), axis, n))
                i = int(k) + (n if int(k) < 0 else 0)
                begin.append(i), end.append(i + 1), step.append(1)
                region.append(1)
            elif isinstance(k, slice):
                b, e, s = k.indices(shape[axis])
                begin.append(b), end.append(e if not (s < 0 and e < 0) else None), step.append(s)
                region.append(len(range(b, e, s)))
                squeezed.append(region[-1])
            else:
                raise IndexError("unsupported index %r in assignment (MX supports ints, slices and "
                                 "Ellipsis here)" % (k,))
        region += list(shape[len(region):])
        squeezed += list(shape[len(key):])
        if isinstance(value, numbers.Number):
            _internal._slice_assign_scalar(a, scalar=float(value), begin=tuple(begin), end=tuple(end),
                                           step=tuple(step), out=a)
        else:
            if np_region is not None and tuple(getattr(value, "shape", ())) == tuple(np_region) and np_region:
                value = value.reshape(tuple(squeezed)) if squeezed else value.reshape(())
            v = _value_array(value, a, squeezed)
            if tuple(region) != tuple(squeezed):
                v = v.reshape(tuple(region))
            _internal._slice_assign(a, v, begin=tuple(begin), end=tuple(end), step=tuple(step), out=a)
        return
    if isinstance(value, numbers.Number):
        _fill(target, value)
        return
    v = _value_array(value, target, target.shape)
    check_call(lib.mx_ndarray_copy(v.handle, target.handle))


def _has_array(items):
    return any(_is_array_index(k) or isinstance(k, tuple) for k in items)


def _fill(target, value):
    # _slice_assign_scalar with an empty region spec covers the whole array (works on views too).
    from . import _internal
    _internal._slice_assign_scalar(target, scalar=float(value), begin=(), end=(), out=target)
