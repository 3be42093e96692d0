"""Argument handling shared by mx.nd.random and mx.sym.random (the same MXNet 1.x signatures)."""
import numbers


def shape_tuple(shape, default):
    """`shape` as a tuple of ints (an int is a 1-d shape); `default` when it is None."""
    if shape is None:
        return default
    return (int(shape),) if isinstance(shape, numbers.Integral) else tuple(int(d) for d in shape)


def per_element(namespace, fname, kind, values):
    """True when every distribution parameter is a `kind` (MXNet's per-element _sample_* ops),
    False when all are numbers; mixing them is an error, as in MXNet."""
    arrays = [isinstance(v, kind) for v in values.values()]
    if any(arrays) and not all(arrays):
        raise TypeError("%s.%s: distribution parameters %s must be all %ss or all numbers"
                        % (namespace, fname, sorted(values), kind.__name__))
    return all(arrays) and bool(arrays)
