"""mx.nd.contrib.foreach / while_loop / cond: MXNet 1.x's control-flow operators for imperative
code. In imperative mode they are plain loops and branches over recorded ops, so autograd sees
every step; the loops stack their per-step outputs along a new first axis."""
from .ndarray import NDArray


def _flatten(value, what):
    """Flat list of NDArrays and a format to rebuild `value` (an NDArray or nested lists/tuples)."""
    if value is None:
        return [], None
    if isinstance(value, NDArray):
        return [value], 0
    if isinstance(value, (list, tuple)):
        flat, fmt = [], []
        for item in value:
            f, sub = _flatten(item, what)
            flat.extend(f)
            fmt.append(sub)
        return flat, (type(value), fmt)
    raise TypeError("%s must be an NDArray or a (nested) list of NDArrays, got %s" % (what, type(value).__name__))


def _regroup(flat, fmt):
    if fmt is None:
        return None
    it = iter(flat)

    def build(f):
        if f == 0:
            return next(it)
        kind, subs = f
        return kind(build(s) for s in subs)
    return build(fmt)


def _scalar(value, kind, what):
    if isinstance(value, NDArray):
        if value.size != 1:
            raise ValueError("%s must be a scalar, got an array of shape %s" % (what, value.shape))
        value = value.asnumpy().reshape(-1)[0]
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise ValueError("%s (%r) cannot be converted to %s" % (what, value, kind.__name__)) from None


def _stack(steps, what):
    from . import op
    columns = list(zip(*steps))
    stacked = []
    for i, items in enumerate(columns):
        shapes = {x.shape for x in items}
        if len(shapes) != 1:
            raise ValueError("%s: output %d has different shapes in different steps: %s" % (what, i, sorted(shapes)))
        stacked.append(op.stack(*items, axis=0))
    return stacked


def foreach(body, data, init_states):
    """Run `body(data[t], states) -> (outputs, states)` for t along data's first axis.

    data: an NDArray or a list of NDArrays sliced together; init_states: an NDArray or a (nested)
    list. Returns (outputs stacked along a new first axis, final states), shaped like body's."""
    flat_data, data_fmt = _flatten(data, "foreach: data")
    if not flat_data:
        raise ValueError("foreach: data must hold at least one NDArray")
    length = flat_data[0].shape[0]
    if any(d.shape[0] != length for d in flat_data):
        raise ValueError("foreach: every data array needs the same first dimension, got %s"
                         % [d.shape for d in flat_data])
    states = init_states
    steps, out_fmt = [], None
    for t in range(length):
        out, states = body(_regroup([d[t] for d in flat_data], data_fmt), states)
        flat_out, out_fmt = _flatten(out, "foreach: body output")
        steps.append(flat_out)
    _flatten(states, "foreach: states")  # checks the states' type
    if not steps:
        return _regroup([], out_fmt), states
    return _regroup(_stack(steps, "foreach"), out_fmt), states


def while_loop(cond, func, loop_vars, max_iterations=None):
    """Run `func(*loop_vars) -> (step_output, new_loop_vars)` while `cond(*loop_vars)` holds, at most
    max_iterations times. Step outputs are stacked along a new first axis and padded with zeros to
    max_iterations (as MXNet's fixed-size output). Returns (outputs, final loop_vars)."""
    if max_iterations is None:
        raise ValueError("while_loop: max_iterations must be given")
    max_iterations = _scalar(max_iterations, int, "while_loop: max_iterations")
    single = isinstance(loop_vars, NDArray)
    loop_vars = [loop_vars] if single else list(loop_vars)
    if not loop_vars:
        raise ValueError("while_loop: loop_vars must hold at least one element")
    steps, out_fmt = [], None
    while len(steps) < max_iterations and _scalar(cond(*loop_vars), bool, "while_loop: the value of cond"):
        step_output, new_vars = func(*loop_vars)
        new_vars = [new_vars] if isinstance(new_vars, NDArray) else list(new_vars or [])
        if len(new_vars) != len(loop_vars):
            raise ValueError("while_loop: func returned %d loop variables, expected %d" % (len(new_vars), len(loop_vars)))
        flat_out, out_fmt = _flatten(step_output, "while_loop: step output")
        if steps and len(flat_out) != len(steps[0]):
            raise ValueError("while_loop: every step must give the same number of outputs")
        steps.append(flat_out)
        loop_vars = new_vars
    outputs = []
    if steps:
        from . import op
        for column in _stack(steps, "while_loop"):
            missing = max_iterations - column.shape[0]
            if missing:
                pad = op.repeat(op.zeros_like(op.slice_axis(column, axis=0, begin=0, end=1)), repeats=missing, axis=0)
                column = op.concat(column, pad, dim=0)
            outputs.append(column)
    outputs = _regroup(outputs, out_fmt) if out_fmt is not None else []
    return outputs, (loop_vars[0] if single else loop_vars)


def cond(pred, then_func, else_func):
    """then_func() if the scalar `pred` is true, else else_func()."""
    return then_func() if _scalar(pred, bool, "cond: pred") else else_func()
