"""numpy's advanced indexing (several integer or boolean arrays, mixed with ints, slices, None and
Ellipsis) as one gather_nd / _scatter_set_nd call: the key is turned into the index tuples those
core ops read, so results and gradients come from the core."""
import numbers

import numpy as np

from .ndarray import NDArray, array


def _as_index_arrays(k, shape, dim):
    """The integer index array(s) an array-like key item stands for (a boolean array of rank r
    stands for r arrays: its nonzero positions), checked and made non-negative as numpy does."""
    idx = k.asnumpy() if isinstance(k, NDArray) else np.asarray(k)
    if idx.dtype == np.bool_:
        if idx.ndim == 0 or idx.shape != tuple(shape[dim:dim + idx.ndim]):
            raise IndexError("boolean index of shape %s did not match the indexed array's dimensions %s "
                             "from axis %d" % (idx.shape, tuple(shape[dim:]), dim))
        return list(np.nonzero(idx))
    if idx.size == 0:
        idx = idx.astype(np.int64)
    elif not (np.issubdtype(idx.dtype, np.integer) or
              (np.issubdtype(idx.dtype, np.floating) and np.array_equal(idx, np.floor(idx)))):
        raise IndexError("arrays used as indices must be of integer (or boolean) type, got %s" % idx.dtype)
    if dim >= len(shape):
        raise IndexError("too many indices for an array with %d dimensions" % len(shape))
    idx = idx.astype(np.int64)
    n = shape[dim]
    if idx.size and (idx.max() >= n or idx.min() < -n):
        bad = int(idx.max()) if idx.max() >= n else int(idx.min())
        raise IndexError("index %d is out of bounds for axis %d with size %d" % (bad, dim, n))
    return [np.where(idx < 0, idx + n, idx)]


def _items(shape, key):
    """[(kind, dim, value)]: 'new' (None), 'slice' (a range over dim) or 'adv' (an index array)."""
    if any(k is Ellipsis for k in key):
        pos = key.index(Ellipsis)
        used = 0
        for k in key:
            if k is None or k is Ellipsis:
                continue
            if isinstance(k, (NDArray, np.ndarray)) and np.dtype(k.dtype) == np.bool_:
                used += max(k.ndim, 1)
            else:
                used += 1
        key = key[:pos] + (slice(None),) * max(len(shape) - used, 0) + key[pos + 1:]
    items, dim = [], 0
    for k in key:
        if k is None:
            items.append(("new", None, None))
            continue
        if isinstance(k, slice):
            if dim >= len(shape):
                raise IndexError("too many indices for an array with %d dimensions" % len(shape))
            items.append(("slice", dim, range(*k.indices(shape[dim]))))
            dim += 1
        elif isinstance(k, numbers.Integral) and not isinstance(k, bool):
            items.append(("adv", dim, _as_index_arrays(np.int64(k), shape, dim)[0]))
            dim += 1
        else:
            for arr in _as_index_arrays(k, shape, dim):
                items.append(("adv", dim, arr))
                dim += 1
    if dim > len(shape):
        raise IndexError("too many indices for an array with %d dimensions" % len(shape))
    items += [("slice", d, range(shape[d])) for d in range(dim, len(shape))]
    return items


def index_tuples(shape, key):
    """(indices, result_shape): int64 indices of shape (m, *prefix) addressing the first m axes of
    an array of `shape` (the remaining axes are taken whole), and the shape numpy gives x[key]."""
    items = _items(shape, key if isinstance(key, tuple) else (key,))
    # axes after the last index item and not reordered are gathered as whole blocks
    head = len(items)
    while head > 0 and items[head - 1][0] == "slice" and items[head - 1][2] == range(shape[items[head - 1][1]]):
        head -= 1
    tail_shape = tuple(shape[items[head][1]:]) if head < len(items) else ()
    head_items = items[:head]
    adv_pos = [i for i, it in enumerate(head_items) if it[0] == "adv"]
    bshape = np.broadcast_shapes(*[it[2].shape for i, it in enumerate(head_items) if i in adv_pos])
    together = adv_pos == list(range(adv_pos[0], adv_pos[-1] + 1))
    # numpy: broadcast index dims replace adjacent index arrays in place, else they come first
    layout = [] if together else ["B"]
    for i, it in enumerate(head_items):
        if it[0] == "adv":
            if together and i == adv_pos[0]:
                layout.append("B")
        else:
            layout.append(i)
    prefix, where = [], {}
    for entry in layout:
        where[entry] = len(prefix)
        if entry == "B":
            prefix += list(bshape)
        else:
            kind, _, rng = head_items[entry]
            prefix.append(len(rng) if kind == "slice" else 1)
    grids = []
    for i, (kind, dim, value) in enumerate(head_items):
        if kind == "new":
            continue
        if kind == "adv":
            at, arr = where["B"], np.broadcast_to(value, bshape)
            view = arr.reshape((1,) * at + bshape + (1,) * (len(prefix) - at - len(bshape)))
        else:
            at = where[i]
            view = np.asarray(value, dtype=np.int64).reshape((1,) * at + (-1,) + (1,) * (len(prefix) - at - 1))
        grids.append(np.broadcast_to(view, prefix))
    indices = np.stack(grids).astype(np.int64) if grids else np.zeros((0,) + tuple(prefix), np.int64)
    return indices, tuple(prefix) + tail_shape


def has_array_index(key):
    items = key if isinstance(key, tuple) else (key,)
    return any(isinstance(k, (NDArray, np.ndarray, list, tuple)) for k in items)


def getitem(a, key):
    from . import op
    indices, out_shape = index_tuples(a.shape, key)
    out = op.gather_nd(a, array(indices, ctx=a.context, dtype=np.int64))
    return out if out.shape == out_shape else out.reshape(out_shape or (1,))


def setitem(a, key, value):
    from . import _internal
    from .indexing import _value_array
    indices, region = index_tuples(a.shape, key)
    m = indices.shape[0]
    gathered = tuple(indices.shape[1:]) + tuple(a.shape[m:])
    v = _value_array(value, a, region)
    if v.shape != gathered:
        v = v.reshape(gathered)
    _internal._scatter_set_nd(a, v, array(indices, ctx=a.context, dtype=np.int64), out=a)
