"""MXNet 1.x helper functions that are compositions of registered ops (no arithmetic of their
own): split_v2, moveaxis, all_finite, sym.pow/arange and the deprecated NDArray-only helpers
(onehot_encode, choose_element_0index, fill_element_0index, reset_arrays). `install` adds them
to mx.nd (kind 'nd') or mx.sym (kind 'sym')."""
import numbers


def _split_v2(op, group, ary, indices_or_sections, axis=0, squeeze_axis=False, **kwargs):
    if isinstance(indices_or_sections, numbers.Integral):
        out = op.split(ary, num_outputs=int(indices_or_sections), axis=axis, squeeze_axis=squeeze_axis, **kwargs)
        return out
    if not isinstance(indices_or_sections, (tuple, list)):
        raise TypeError("split_v2: indices_or_sections must be an int or a tuple of ints, got %r"
                        % (indices_or_sections,))
    bounds = [0] + [int(i) for i in indices_or_sections]
    if any(b > a for a, b in zip(bounds[1:], bounds)):
        raise ValueError("split_v2: indices %r must be increasing" % (indices_or_sections,))
    pieces = []
    for k, begin in enumerate(bounds):
        end = bounds[k + 1] if k + 1 < len(bounds) else None
        p = op.slice_axis(ary, axis=axis, begin=begin, end=end)
        if squeeze_axis:
            p = op.squeeze(p, axis=axis)
        pieces.append(p)
    return group(pieces)


def _all_finite(op, internal, arrays, init_output=True):
    if not init_output:
        raise ValueError("all_finite: init_output=False (accumulating into an existing output) is not supported")
    flags = [internal._contrib_isfinite(a).reshape((-1,)) for a in arrays]
    flat = flags[0] if len(flags) == 1 else op.concat(*flags, dim=0)
    return op.min(flat, axis=0, keepdims=True)


def install(ns, kind, op, internal):
    """Add the helpers to the namespace dict `ns` (mx.nd's or mx.sym's globals)."""
    if kind == "nd":
        def group(pieces):
            return pieces
    else:
        group = ns["Group"]

    def split_v2(ary, indices_or_sections, axis=0, squeeze_axis=False, **kwargs):
        """Split along `axis` into equal sections (an int) or at the given indices (as numpy.split).

        Parameters
        ----------
        ary : NDArray or Symbol
            The array to split.
        indices_or_sections : int or tuple of int
            Number of equal sections, or the increasing indices where pieces start.
        axis : int, default 0
            The axis to split along.
        squeeze_axis : bool, default False
            Drop the split axis from every piece (each must then have length 1 along it).

        Returns
        -------
        list of NDArray, or a grouped Symbol
        """
        return _split_v2(op, group, ary, indices_or_sections, axis, squeeze_axis, **kwargs)

    def all_finite(data, init_output=True, **kwargs):
        """1 (shape (1,)) when every element of data is finite, else 0.

        Parameters
        ----------
        data : NDArray or Symbol
            The array to check.
        init_output : bool, default True
            Must be True (MX always writes a fresh output).
        """
        return _all_finite(op, internal, [data], init_output)

    def multi_all_finite(*data, num_arrays=None, init_output=True, **kwargs):
        """1 (shape (1,)) when every element of every array is finite, else 0.

        Parameters
        ----------
        *data : NDArray or Symbol
            The arrays to check.
        num_arrays : int, optional
            Number of arrays (checked against the arrays given).
        init_output : bool, default True
            Must be True (MX always writes a fresh output).
        """
        if num_arrays is not None and num_arrays != len(data):
            raise ValueError("multi_all_finite: num_arrays=%d but %d arrays given" % (num_arrays, len(data)))
        return _all_finite(op, internal, list(data), init_output)

    array_type = ns["NDArray"] if kind == "nd" else ns["Symbol"]

    def histogram(a, bins=10, range=None, **kwargs):  # noqa: A002 (MXNet's argument name)
        """Histogram of the flattened input (as numpy.histogram): (counts, bin edges).

        Parameters
        ----------
        a : NDArray or Symbol
            Input data.
        bins : int or NDArray or Symbol
            Number of equal-width bins, or the increasing bin edges (rightmost edge included).
        range : (float, float), optional
            Lower and upper range of equal-width bins (default: the data's min and max; required
            for symbols, as in MXNet). Values outside it are ignored.
        """
        if isinstance(bins, array_type):
            return internal._histogram(data=a, bins=bins, **kwargs)
        if isinstance(bins, numbers.Integral) and not isinstance(bins, bool):
            if range is None:
                if kind == "sym":
                    raise ValueError("histogram: null range is not supported in symbol mode")
                return internal._histogram(data=a, bin_cnt=int(bins), **kwargs)
            return internal._histogram(data=a, bin_cnt=int(bins), range=tuple(range), **kwargs)
        raise ValueError("bins argument should be either an integer or an NDArray")

    ns.setdefault("histogram", histogram)
    ns.setdefault("split_v2", split_v2)
    ns.setdefault("all_finite", all_finite)
    ns.setdefault("multi_all_finite", multi_all_finite)

    if kind == "sym":
        ns.setdefault("pow", ns["power"])

        def arange(start, stop=None, step=1.0, repeat=1, infer_range=False, name=None, dtype=None, **kwargs):
            """Symbol of evenly spaced values in [start, stop) (MXNet's mx.sym.arange).

            Parameters
            ----------
            start : number
                First value (or the end, with stop None, as Python's range).
            stop : number, optional
                End (exclusive).
            step : number, default 1.0
                Spacing.
            repeat : int, default 1
                Times each value is repeated.
            infer_range, name, dtype
                As MXNet's (dtype default float32).
            """
            kw = dict(start=start, step=step, repeat=repeat, name=name, **kwargs)
            if stop is not None:
                kw["stop"] = stop
            if dtype is not None:
                kw["dtype"] = dtype
            return internal._arange(**kw)
        ns.setdefault("arange", arange)
        return

    def moveaxis(tensor, source, destination):
        """Move axes of an array to new positions (numpy.moveaxis), as a transpose.

        Parameters
        ----------
        tensor : NDArray
            The array.
        source : int or sequence of int
            Axes to move.
        destination : int or sequence of int
            Their new positions.

        Returns
        -------
        NDArray
        """
        nd = len(tensor.shape)

        def norm(ax, what):
            axes = [ax] if isinstance(ax, numbers.Integral) else list(ax)
            out = []
            for a in axes:
                if not -nd <= a < nd:
                    raise ValueError("moveaxis: %s axis %d is out of range for %d dimensions" % (what, a, nd))
                out.append(a % nd)
            if len(set(out)) != len(out):
                raise ValueError("moveaxis: repeated %s axis in %r" % (what, ax))
            return out
        src, dst = norm(source, "source"), norm(destination, "destination")
        if len(src) != len(dst):
            raise ValueError("moveaxis: source and destination need the same number of axes")
        order = [a for a in range(nd) if a not in src]
        for d, s in sorted(zip(dst, src)):
            order.insert(d, s)
        return op.transpose(tensor, axes=tuple(order))

    def onehot_encode(indices, out):
        """Deprecated (use one_hot): write the one-hot rows of `indices` into `out`.

        Parameters
        ----------
        indices : NDArray
            Class index per row.
        out : NDArray
            (rows, classes) array written in place.
        """
        return op.one_hot(indices, depth=out.shape[1], dtype=out.dtype, out=out)

    def choose_element_0index(lhs, rhs, out=None, **kwargs):
        """Deprecated (use pick): lhs[i, rhs[i]] for every row i.

        Parameters
        ----------
        lhs : NDArray
            2-D array.
        rhs : NDArray
            Column index per row.
        out : NDArray, optional
            Where to write the result.
        """
        return op.pick(lhs, rhs, axis=1, out=out)

    def fill_element_0index(lhs, mhs, rhs, out=None, **kwargs):
        """Deprecated: a copy of lhs with lhs[i, rhs[i]] = mhs[i] for every row i.

        Parameters
        ----------
        lhs : NDArray
            2-D array.
        mhs : NDArray
            Value per row.
        rhs : NDArray
            Column index per row.
        out : NDArray, optional
            Where to write the result.
        """
        mask = op.one_hot(rhs, depth=lhs.shape[1], dtype=lhs.dtype)
        vals = op.broadcast_mul(mask, op.reshape(mhs.astype(lhs.dtype), shape=(-1, 1)))
        res = op.where(mask, vals, lhs)
        if out is not None:
            res.copyto(out)
            return out
        return res

    def reset_arrays(*data, num_arrays=None, **kwargs):
        """Set every given array to zero (in place).

        Parameters
        ----------
        *data : NDArray
            The arrays.
        num_arrays : int, optional
            Number of arrays (checked against the arrays given).
        """
        if num_arrays is not None and num_arrays != len(data):
            raise ValueError("reset_arrays: num_arrays=%d but %d arrays given" % (num_arrays, len(data)))
        for a in data:
            a[:] = 0

    from .ndarray import NDArray
    if not hasattr(NDArray, "split_v2"):
        def _split_v2_method(self, *args, **kwargs):
            """split_v2 of this array (see mx.nd.split_v2).

            Parameters
            ----------
            *args, **kwargs
                indices_or_sections, axis, squeeze_axis.
            """
            return split_v2(self, *args, **kwargs)
        NDArray.split_v2 = _split_v2_method
    for f in (moveaxis, onehot_encode, choose_element_0index, fill_element_0index, reset_arrays):
        ns.setdefault(f.__name__, f)
