"""mx.test_utils: MXNet 1.x's public testing helpers, so MXNet test files and user tests run
unchanged (comparisons with tolerances, random inputs, symbolic forward/backward checks,
finite-difference gradient checks, environment helpers).

These helpers verify results; they compute nothing the library itself returns, so the numpy
arithmetic here does not break the "no math in front ends" rule."""
import contextlib
import functools
import os
import random as _pyrandom
import sys

import numpy as np

from .base import MXNotSupportedError
from .context import Context, cpu, current_context
from .ndarray.ndarray import NDArray, array as _nd_array
from .util import use_np, getenv, setenv  # noqa: F401  (MXNet exports them from here too)
from .ndarray import array  # noqa: F401
from .ndarray.ndarray import _STORAGE_TYPE_STR_TO_ID  # noqa: F401
from .symbol import Symbol  # noqa: F401
from .runtime import Features  # noqa: F401
import numpy.random as rnd  # noqa: F401,E402

_default_ctx = [None]


# ---------------------------------------------------------------------------- contexts, dtypes
def default_context():
    """The context tests run on (cpu() unless set_default_context chose another)."""
    return _default_ctx[0] if _default_ctx[0] is not None else current_context()


def set_default_context(ctx):
    _default_ctx[0] = Context(ctx)


def default_dtype():
    return np.float32


_RTOLS = {np.dtype(np.float16): 1e-2, np.dtype(np.float32): 1e-4, np.dtype(np.float64): 1e-5,
          np.dtype(np.bool_): 0, np.dtype(np.int8): 0, np.dtype(np.uint8): 0, np.dtype(np.int32): 0,
          np.dtype(np.int64): 0}
_ATOLS = {np.dtype(np.float16): 1e-1, np.dtype(np.float32): 1e-3, np.dtype(np.float64): 1e-20,
          np.dtype(np.bool_): 0, np.dtype(np.int8): 0, np.dtype(np.uint8): 0, np.dtype(np.int32): 0,
          np.dtype(np.int64): 0}


def default_rtols():
    return dict(_RTOLS)


def default_atols():
    return dict(_ATOLS)


def default_numeric_eps():
    return {np.dtype(np.float16): 1.0 / 2 ** 6, np.dtype(np.float32): 1.0 / 2 ** 9,
            np.dtype(np.float64): 1.0 / 2 ** 14}


def effective_dtype(dat):
    """The dtype whose precision a comparison should assume (bfloat16 compares as float16)."""
    if isinstance(dat, NDArray):
        d = dat.dtype
        return np.dtype(np.float16) if getattr(d, "name", None) == "bfloat16" else np.dtype(d)
    return np.dtype(getattr(dat, "dtype", np.float64))


def _tol(table, dtypes, given):
    if given is not None:
        return given
    return max(table.get(np.dtype(d), 0) for d in dtypes)


def get_rtol(rtol=None, dtype=np.dtype(np.float64)):
    return _RTOLS.get(np.dtype(dtype), 1e-5) if rtol is None else rtol


def get_atol(atol=None, dtype=np.dtype(np.float64)):
    return _ATOLS.get(np.dtype(dtype), 1e-20) if atol is None else atol


def get_etol(etol=None):
    return 0 if etol is None else etol


def get_tolerance(dat, tol, default_tol):
    if isinstance(tol, (int, float)):
        return tol
    dt = effective_dtype(dat)
    if isinstance(tol, dict):
        return tol.get(dt, default_tol.get(dt, 0))
    return default_tol.get(dt, 0)


def _as_np(x):
    if isinstance(x, NDArray):
        return x.asnumpy()
    return np.asarray(x)


# ---------------------------------------------------------------------------- comparisons
def same(a, b):
    """Exactly equal values and shapes."""
    return np.array_equal(_as_np(a), _as_np(b))


def same_array(array1, array2):
    """Whether two NDArrays share memory: a write through one must show in the other."""
    def flat(a):
        return a.asnumpy().reshape(-1)
    array1[:] += 1
    if not same(flat(array1), flat(array2)):
        array1[:] -= 1
        return False
    array1[:] -= 1
    return same(flat(array1), flat(array2))


def _tolerances(a, b, rtol, atol):
    dtypes = [effective_dtype(a), effective_dtype(b)]
    rtol = _tol(_RTOLS, dtypes, rtol if not isinstance(rtol, dict) else None)
    atol = _tol(_ATOLS, dtypes, atol if not isinstance(atol, dict) else None)
    return rtol, atol


def almost_equal(a, b, rtol=None, atol=None, equal_nan=False, use_broadcast=True):
    """True when |a - b| <= atol + rtol * |b| elementwise."""
    rtol, atol = _tolerances(a, b, rtol, atol)
    a, b = _as_np(a), _as_np(b)
    if not use_broadcast and a.shape != b.shape:
        return False
    return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def assert_almost_equal(a, b, rtol=None, atol=None, names=("a", "b"), equal_nan=False, use_broadcast=True,
                        mismatches=(10, 10)):
    """Raise AssertionError naming the worst element when a and b differ beyond the tolerances."""
    rtol, atol = _tolerances(a, b, rtol, atol)
    a_np, b_np = _as_np(a), _as_np(b)
    if not use_broadcast and a_np.shape != b_np.shape:
        raise AssertionError("shapes differ: %s %s vs %s %s" % (names[0], a_np.shape, names[1], b_np.shape))
    if a_np.shape != b_np.shape:
        # MXNet compares broadcast-compatible shapes element-wise (numpy's assert_allclose would
        # refuse them); shapes that do not broadcast fail below
        try:
            a_np, b_np = np.broadcast_arrays(a_np, b_np)
        except ValueError:
            pass
    try:
        np.testing.assert_allclose(a_np, b_np, rtol=rtol, atol=atol, equal_nan=equal_nan,
                                   err_msg="%s vs %s" % names)
    except AssertionError:
        raise
    except ValueError as e:  # shapes that do not broadcast
        raise AssertionError("%s %s and %s %s cannot be compared: %s" % (
            names[0], a_np.shape, names[1], b_np.shape, e)) from None


def assert_almost_equal_ignore_nan(a, b, rtol=None, atol=None, names=("a", "b")):
    a, b = np.copy(_as_np(a)), np.copy(_as_np(b))
    nan = np.logical_or(np.isnan(a), np.isnan(b))
    a[nan] = 0
    b[nan] = 0
    assert_almost_equal(a, b, rtol, atol, names)


def assert_almost_equal_with_err(a, b, rtol=None, atol=None, etol=None, names=("a", "b"), equal_nan=False,
                                 mismatches=(10, 10)):
    """Like assert_almost_equal, but a fraction etol of the elements may differ."""
    rtol, atol = _tolerances(a, b, rtol, atol)
    a_np, b_np = _as_np(a), _as_np(b)
    bad = ~np.isclose(a_np, b_np, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if bad.size and bad.mean() > get_etol(etol):
        raise AssertionError("%s and %s differ in %.4f of the elements (allowed %s)" % (
            names[0], names[1], bad.mean(), get_etol(etol)))


def assert_allclose(a, b, rtol=1e-07, atol=0, equal_nan=True):
    """assert_almost_equal with numpy.testing.assert_allclose's default tolerances (MXNet 1.x)."""
    assert_almost_equal(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


def is_aarch64_run():
    """Whether the tests run on an aarch64 machine (MXNet 1.x skips some tests there)."""
    import platform
    return platform.machine() == "aarch64"


def assert_exception(f, exception_type, *args, **kwargs):
    """f(*args, **kwargs) must raise exception_type."""
    try:
        f(*args, **kwargs)
    except exception_type:
        return
    raise AssertionError("%s did not raise %s" % (getattr(f, "__name__", f), exception_type.__name__))


def compare_ndarray_tuple(t1, t2, rtol=None, atol=None):
    if t1 is None or t2 is None:
        return
    if isinstance(t1, tuple):
        for s1, s2 in zip(t1, t2):
            compare_ndarray_tuple(s1, s2, rtol, atol)
    else:
        assert_almost_equal(t1, t2, rtol=rtol, atol=atol)


# ---------------------------------------------------------------------------- random inputs
def rand_shape_2d(dim0=10, dim1=10, allow_zero_size=False):
    low = 0 if allow_zero_size else 1
    return np.random.randint(low, dim0 + 1), np.random.randint(low, dim1 + 1)


def rand_shape_3d(dim0=10, dim1=10, dim2=10, allow_zero_size=False):
    low = 0 if allow_zero_size else 1
    return (np.random.randint(low, dim0 + 1), np.random.randint(low, dim1 + 1),
            np.random.randint(low, dim2 + 1))


def rand_shape_nd(num_dim, dim=10, allow_zero_size=False):
    low = 0 if allow_zero_size else 1
    return tuple(np.random.randint(low, dim + 1, size=num_dim).tolist())


def rand_coord_2d(x_low, x_high, y_low, y_high):
    return np.random.randint(x_low, x_high, dtype=np.int64), np.random.randint(y_low, y_high, dtype=np.int64)


def rand_ndarray(shape, stype="default", density=None, dtype=None, modifier_func=None,
                 shuffle_csr_indices=False, distribution=None, ctx=None):
    """An NDArray of uniform(-1, 1) values; for stype 'csr' / 'row_sparse' a fraction
    ``density`` (default: random) of the elements (csr) or rows (row_sparse) is non-zero."""
    if stype not in ("default", "csr", "row_sparse"):
        raise ValueError("rand_ndarray: unknown storage type %r" % (stype,))
    dtype = default_dtype() if dtype is None else dtype
    data = np.random.uniform(-1, 1, size=shape)
    if stype != "default":
        density = np.random.rand() if density is None else density
        mask_shape = data.shape if stype == "csr" else data.shape[:1] + (1,) * (data.ndim - 1)
        data = data * (np.random.rand(*mask_shape) < density)
    if modifier_func is not None:
        data = modifier_func(data)
    out = _nd_array(data, ctx=ctx or default_context(), dtype=dtype)
    return out if stype == "default" else out.tostype(stype)


def rand_sparse_ndarray(shape, stype, density=None, dtype=None, distribution=None, data_init=None,
                        rsp_indices=None, modifier_func=None, shuffle_csr_indices=False, ctx=None):
    """A random sparse NDArray and its parts as numpy arrays, as MXNet's helper returns them:
    row_sparse -> (array, (values, row_indices)); csr -> (array, (indptr, indices, data)).

    ``density`` (default: random) is the fraction of non-zero rows (row_sparse) or elements
    (csr, uniform positions; ``distribution='powerlaw'`` is accepted and treated as uniform).
    ``rsp_indices`` fixes the rows of a row_sparse result; ``data_init`` fills the values with
    one number; ``modifier_func`` maps the values.
    """
    if stype not in ("csr", "row_sparse"):
        raise ValueError("rand_sparse_ndarray: stype must be 'csr' or 'row_sparse', got %r" % (stype,))
    if distribution not in (None, "uniform", "powerlaw"):
        raise ValueError("rand_sparse_ndarray: unknown distribution %r" % (distribution,))
    from .ndarray import sparse as _sp
    dtype = default_dtype() if dtype is None else dtype
    density = np.random.rand() if density is None else density
    if not 0 <= density <= 1:
        raise ValueError("rand_sparse_ndarray: density must be in [0, 1], got %r" % (density,))
    ctx = ctx or default_context()
    shape = tuple(shape)

    def values(n_shape):
        val = np.random.uniform(-1, 1, size=n_shape)
        if data_init is not None:
            val.fill(data_init)
        if modifier_func is not None:
            val = modifier_func(val)
        return val.astype(dtype)

    if stype == "row_sparse":
        if rsp_indices is not None:
            rows = np.unique(np.asarray(rsp_indices, dtype=np.int64))
        else:
            rows = np.nonzero(np.random.rand(shape[0]) < density)[0].astype(np.int64)
        val = values((len(rows),) + shape[1:])
        arr = _sp.row_sparse_array((val, rows), shape=shape, ctx=ctx, dtype=dtype)
        return arr, (val, rows)
    mask = np.random.rand(*shape) < density
    dense = np.zeros(shape, dtype=dtype)
    dense[mask] = values(int(mask.sum()))
    arr = _nd_array(dense, ctx=ctx, dtype=dtype).tostype("csr")
    return arr, (arr.indptr.asnumpy(), arr.indices.asnumpy(), arr.data.asnumpy())


def random_arrays(*shapes):
    """numpy float32 arrays of standard normal values (a scalar for shape ())."""
    arrays = [np.array(np.random.randn(), dtype=default_dtype()) if len(s) == 0 else
              np.random.randn(*s).astype(default_dtype()) for s in shapes]
    return arrays[0] if len(arrays) == 1 else arrays


def random_uniform_arrays(*shapes, **kwargs):
    low, high = kwargs.pop("low", 0.0), kwargs.pop("high", 1.0)
    dtype = kwargs.pop("dtype", default_dtype())
    arrays = [np.random.uniform(low, high, size=s).astype(dtype) for s in shapes]
    return arrays[0] if len(arrays) == 1 else arrays


def random_sample(population, k):
    """k distinct elements of population, in random order."""
    population = list(population)
    assert 0 <= k <= len(population)
    return _pyrandom.sample(population, k)


def np_reduce(dat, axis, keepdims, numpy_reduce_func):
    """Reduce dat over one axis or a tuple of axes with a numpy function of (array, axis)."""
    if isinstance(axis, int):
        axis = [axis]
    elif axis is None:
        axis = list(range(dat.ndim))
    else:
        axis = list(axis)
    ret = dat
    for a in sorted((a % dat.ndim for a in axis), reverse=True):
        ret = numpy_reduce_func(ret, axis=a)
    if keepdims:
        shape = list(dat.shape)
        for a in axis:
            shape[a % dat.ndim] = 1
        ret = np.reshape(ret, shape)
    return ret


# ---------------------------------------------------------------------------- symbolic checks
def _location_dict(sym, location, ctx, dtype):
    names = sym.list_arguments()
    if isinstance(location, dict):
        missing = set(names) - set(location)
        if missing:
            raise ValueError("location misses arguments %s of the symbol (arguments: %s)" % (sorted(missing), names))
        items = [(k, location[k]) for k in names]
    else:
        location = list(location)
        if len(location) != len(names):
            raise ValueError("location has %d arrays for %d arguments %s" % (len(location), len(names), names))
        items = list(zip(names, location))
    out = {}
    for k, v in items:
        if isinstance(v, NDArray):
            out[k] = v.copyto(ctx)
        else:
            v = np.asarray(v)
            out[k] = _nd_array(v, ctx=ctx, dtype=v.dtype if dtype is None else dtype)
    return out


def _aux_dict(sym, aux_states, ctx, dtype):
    names = sym.list_auxiliary_states()
    if aux_states is None:
        return None
    if isinstance(aux_states, dict):
        items = [(k, aux_states[k]) for k in names]
    else:
        items = list(zip(names, aux_states))
    return {k: (v.copyto(ctx) if isinstance(v, NDArray) else _nd_array(v, ctx=ctx, dtype=dtype)) for k, v in items}


def _as_name_dict(sym, values, what):
    if values is None or isinstance(values, dict):
        return values
    names = sym.list_arguments()
    values = list(values)
    if len(values) != len(names):
        raise ValueError("%s: %d arrays for %d arguments %s" % (what, len(values), len(names), names))
    return dict(zip(names, values))


def check_symbolic_forward(sym, location, expected, rtol=None, atol=None, aux_states=None, ctx=None,
                           equal_nan=False, dtype=None):
    """Bind sym to location, run forward (inference) and compare every output with expected.
    dtype='asnumpy' (as None) keeps each input's own dtype."""
    ctx = ctx or default_context()
    dtype = None if isinstance(dtype, str) and dtype == "asnumpy" else dtype
    args = _location_dict(sym, location, ctx, dtype)
    aux = _aux_dict(sym, aux_states, ctx, dtype)
    if isinstance(expected, dict):
        expected = [expected[k] for k in sym.list_outputs()]
    ex = sym.bind(ctx, args=args, aux_states=aux, grad_req="null")
    outputs = [o.asnumpy() for o in ex.forward(is_train=False)]
    for name, out, exp in zip(sym.list_outputs(), outputs, expected):
        assert_almost_equal(out, _as_np(exp), rtol, atol, ("forward %s" % name, "expected"), equal_nan=equal_nan)
    return outputs


def check_symbolic_backward(sym, location, out_grads, expected, rtol=None, atol=None, aux_states=None,
                            grad_req="write", ctx=None, grad_stypes=None, equal_nan=False, dtype=None):
    """Bind sym, run forward (training) and backward with out_grads; compare the gradients named
    in expected (a list in argument order or a dict). grad_req 'add' starts from random
    gradients that the result must be added to. dtype='asnumpy' (as None) keeps each input's dtype."""
    ctx = ctx or default_context()
    dtype = None if isinstance(dtype, str) and dtype == "asnumpy" else dtype
    args = _location_dict(sym, location, ctx, dtype)
    aux = _aux_dict(sym, aux_states, ctx, dtype)
    expected = _as_name_dict(sym, expected, "expected")
    names = sym.list_arguments()
    if isinstance(grad_req, str):
        reqs = {k: grad_req for k in names}
    elif isinstance(grad_req, (list, tuple)):
        reqs = dict(zip(names, grad_req))
    else:
        reqs = {k: grad_req.get(k, "null") for k in names}
    start = {k: np.random.normal(size=args[k].shape).astype(np.float64) for k in names}
    grads = {k: _nd_array(start[k], ctx=ctx, dtype=args[k].dtype) for k in names if reqs[k] != "null"}
    ex = sym.bind(ctx, args=args, args_grad=grads, grad_req=reqs, aux_states=aux)
    ex.forward(is_train=True)
    if isinstance(out_grads, dict):
        out_grads = [out_grads[k] for k in sym.list_outputs()]
    if out_grads is not None:
        out_grads = [g if isinstance(g, NDArray) else _nd_array(g, ctx=ctx, dtype=g.dtype if dtype is None else dtype)
                     for g in out_grads]
        out_grads = out_grads[:len(ex.outputs)]  # MXNet's backward ignores extra head gradients
    ex.backward(out_grads)
    got = {k: v.asnumpy() for k, v in grads.items()}
    for name, exp in expected.items():
        if exp is None or reqs.get(name) == "null":
            continue
        want = _as_np(exp)
        if reqs[name] == "add":
            want = want + start[name]
        assert_almost_equal(got[name], want, rtol, atol, ("gradient %s" % name, "expected"), equal_nan=equal_nan)
    return got


def numeric_grad(executor, location, aux_states=None, eps=1e-4, use_forward_train=True, dtype=np.float32):
    """Central-difference gradients of sum(outputs) w.r.t. each array in location (a dict)."""
    grads = {}
    for k, v in location.items():
        base = v.asnumpy().astype(np.float64)
        g = np.zeros(base.shape, np.float64)
        flat = base.reshape(-1)
        for i in range(flat.size):
            old = flat[i]
            vals = []
            for d in (eps / 2, -eps / 2):
                flat[i] = old + d
                executor.arg_dict[k][:] = base.astype(executor.arg_dict[k].dtype)
                outs = executor.forward(is_train=use_forward_train)
                vals.append([o.asnumpy().astype(np.float64) for o in outs])
            flat[i] = old
            # difference element-wise before summing (as MXNet): the outputs the perturbation does
            # not reach cancel exactly instead of drowning the change in a float32 sum
            g.reshape(-1)[i] = sum((p - n).sum() for p, n in zip(vals[0], vals[1])) / eps
        executor.arg_dict[k][:] = base.astype(executor.arg_dict[k].dtype)
        grads[k] = g
    return grads


def check_numeric_gradient(sym, location, aux_states=None, numeric_eps=None, rtol=None, atol=None,
                           grad_nodes=None, use_forward_train=True, ctx=None, grad_stype_dict=None,
                           dtype=None):
    """Compare the symbol's gradients with central finite differences of sum(out * proj) for a
    random projection proj of each output."""
    from . import symbol as _sym
    ctx = ctx or default_context()
    dtype = np.dtype(default_dtype() if dtype is None else dtype)
    if numeric_eps is None:
        numeric_eps = default_numeric_eps().get(dtype, 1e-4)
    # rtol/atol None: assert_almost_equal picks the dtype's defaults (as MXNet; the numeric
    # gradient is compared in the run's dtype)
    location = _location_dict(sym, location, ctx, dtype)
    aux = _aux_dict(sym, aux_states, ctx, dtype)
    if grad_nodes is None:
        grad_nodes = sym.list_arguments()
        reqs = {k: "write" for k in grad_nodes}
    elif isinstance(grad_nodes, dict):
        reqs = dict(grad_nodes)
        grad_nodes = list(grad_nodes)
    else:
        reqs = {k: "write" for k in grad_nodes}
    # the loss is the sum over outputs of sum(out * proj); the products stay separate outputs
    # (head gradients of ones) so finite differences are taken element-wise, as MXNet does
    arg_shapes = {k: v.shape for k, v in location.items()}
    _, out_shapes, _ = sym._infer_shape_strict(**arg_shapes)
    # Random draws in MXNet's order (projection of output 0 as rand + 0.1, so no weight is tiny;
    # then initial gradients N(0, 0.01) per node and one for the projection): a seeded MXNet test
    # sees the same projection here as in MXNet.
    proj_vals = [np.random.rand(*out_shapes[0]) + 0.1]
    init = {k: np.random.normal(0, 0.01, size=location[k].shape) for k in grad_nodes}
    np.random.normal(0, 0.01, size=out_shapes[0])
    proj_vals += [np.random.rand(*shape) + 0.1 for shape in out_shapes[1:]]
    projs, heads = [], []
    for i, out in enumerate(sym):
        p = _sym.var("__random_proj_%d" % i)
        projs.append(("__random_proj_%d" % i, proj_vals[i]))
        heads.append(out * p)
    head = heads[0] if len(heads) == 1 else _sym.Group(heads)
    args = dict(location)
    for k, v in projs:
        args[k] = _nd_array(v, ctx=ctx, dtype=dtype)
    grads = {k: _nd_array(init[k], ctx=ctx, dtype=location[k].dtype) for k in grad_nodes}
    all_reqs = {k: reqs.get(k, "null") for k in head.list_arguments()}
    ex = head.bind(ctx, args=args, args_grad=grads, grad_req=all_reqs, aux_states=aux)
    ex.forward(is_train=use_forward_train)
    ex.backward([_nd_array(np.ones(o.shape), ctx=ctx, dtype=o.dtype) for o in ex.outputs])
    symbolic = {k: grads[k].asnumpy() for k in grad_nodes}
    # finite differences in float64 where the symbol allows it
    ex64_args = {k: v.astype(np.float64) if v.dtype == np.float32 and dtype == np.float64 else v
                 for k, v in args.items()}
    ex_num = head.bind(ctx, args=ex64_args, aux_states=aux, grad_req="null")
    numeric = numeric_grad(ex_num, {k: ex64_args[k] for k in grad_nodes}, eps=numeric_eps,
                           use_forward_train=use_forward_train)
    for k in grad_nodes:
        if reqs.get(k, "write") == "null":
            continue
        got = symbolic[k]
        if reqs.get(k) == "add":  # the executor added to the initial gradient
            got = got - init[k].astype(got.dtype)
        want = numeric[k].astype(got.dtype) if got.dtype.kind == "f" else numeric[k]
        assert_almost_equal(want, got, rtol, atol, ("NUMERICAL_%s" % k, "BACKWARD_%s" % k))


def check_consistency(sym, ctx_list, scale=1.0, grad_req="write", arg_params=None, aux_params=None,
                      tol=None, raise_on_err=True, ground_truth=None, equal_nan=False, use_uniform=False,
                      rand_type=np.float64):
    """Run sym on every (ctx, shapes, type_dict) entry of ctx_list from the same inputs and check
    that outputs and gradients agree with the most precise run."""
    if isinstance(sym, (list, tuple)):
        syms = list(sym)
    else:
        syms = [sym] * len(ctx_list)
    spec = ctx_list[0]
    arg_names = syms[0].list_arguments()
    shapes = {k: v for k, v in spec.items() if k not in ("ctx", "type_dict")}
    arg_shapes, _, aux_shapes = syms[0].infer_shape(**shapes)
    arg_params = dict(arg_params or {})
    for n, s in zip(arg_names, arg_shapes):
        if n not in arg_params:
            arg_params[n] = (np.random.uniform(-1, 1, s) if use_uniform else np.random.normal(size=s)) * scale
    results = []
    for s, c in zip(syms, ctx_list):
        type_dict = c.get("type_dict", {})
        args = {n: _nd_array(arg_params[n], ctx=c["ctx"], dtype=type_dict.get(n, np.float32)) for n in arg_names}
        ex = s.bind(c["ctx"], args=args, args_grad={n: _nd_array(np.zeros_like(arg_params[n]), ctx=c["ctx"],
                                                                    dtype=type_dict.get(n, np.float32))
                                                    for n in arg_names}, grad_req=grad_req)
        outs = [o.asnumpy() for o in ex.forward(is_train=True)]
        ex.backward([o.copy() for o in ex.outputs])
        results.append((outs, {n: g.asnumpy() for n, g in ex.grad_dict.items() if g is not None}))
    ref = results[0]
    for outs, grads in results[1:]:
        for a, b in zip(outs, ref[0]):
            assert_almost_equal(a, b, rtol=tol, atol=tol, equal_nan=equal_nan)
        for n in grads:
            assert_almost_equal(grads[n], ref[1][n], rtol=tol, atol=tol, equal_nan=equal_nan)
    return [r[0] for r in results]


# ---------------------------------------------------------------------------- random generators
def gen_buckets_probs_with_ppf(ppf, nbuckets):
    """nbuckets equal-probability intervals of a distribution given its percent-point function."""
    probs = [1.0 / nbuckets] * nbuckets
    edges = [ppf(i / float(nbuckets)) for i in range(nbuckets + 1)]
    buckets = [(edges[i], edges[i + 1]) for i in range(nbuckets)]
    return buckets, probs


def mean_check(generator, mu, sigma, nsamples=1000000):
    samples = np.array(generator(nsamples))
    return np.abs(samples.mean() - mu) < 3 * sigma / np.sqrt(nsamples)


def var_check(generator, sigma, nsamples=1000000):
    samples = np.array(generator(nsamples))
    return np.abs(samples.var() - sigma ** 2) < 3 * np.sqrt(2 * sigma ** 4 / (nsamples - 1))


def chi_square_check(generator, buckets, probs, nsamples=1000000):
    """Pearson chi-square test of generator's samples against bucket probabilities.
    Returns (p value, observed counts, expected counts)."""
    import scipy.stats as ss
    samples = np.asarray(generator(nsamples)).reshape(-1)
    if isinstance(buckets[0], (list, tuple)):
        counts = [int(np.sum((samples >= lo) & (samples < hi))) for lo, hi in buckets]
    else:
        counts = [int(np.sum(samples == b)) for b in buckets]
    expected = np.array(probs) * nsamples
    observed = np.array(counts, dtype=np.float64)
    # rescale to the samples that fell in a bucket (open-ended edges can lose a few)
    expected = expected * observed.sum() / expected.sum()
    _, p = ss.chisquare(observed, expected)
    return p, observed, expected


def verify_generator(generator, buckets, probs, nsamples=1000000, nrepeat=5, success_rate=0.2, alpha=0.05):
    """Run the chi-square test nrepeat times; at least success_rate of the runs must pass."""
    ps = [chi_square_check(generator, buckets, probs, nsamples)[0] for _ in range(nrepeat)]
    passed = sum(p > alpha for p in ps)
    if passed < nrepeat * success_rate:
        raise AssertionError("generator failed the chi-square test: p values %s (alpha %s)" % (ps, alpha))
    return ps


# ---------------------------------------------------------------------------- optimizers
def compare_optimizer(opt1, opt2, shapes, dtype, w_stype="default", g_stype="default", rtol=1e-4, atol=1e-5,
                      compare_states=True, ntensors=1):
    """Run one update of opt1 and opt2 from the same weights, gradients and states; compare."""
    if w_stype != "default" or g_stype != "default":
        # sparse weight/gradient for opt2, their dense copies for opt1 (MXNet's recipe)
        w2 = rand_ndarray(shapes, w_stype, density=1, dtype=dtype) if w_stype != "default" else \
            _nd_array(np.random.uniform(-1, 1, shapes), dtype=dtype)
        g2 = rand_ndarray(shapes, g_stype, dtype=dtype) if g_stype != "default" else \
            _nd_array(np.random.uniform(-1, 1, shapes), dtype=dtype)
        w1, g1 = w2.tostype("default"), g2.tostype("default")
        s1, s2 = opt1.create_state_multi_precision(0, w1), opt2.create_state_multi_precision(0, w2)
        if compare_states:
            compare_ndarray_tuple(s1, s2)
        opt1.update_multi_precision(0, w1, g1, s1)
        opt2.update_multi_precision(0, w2, g2, s2)
        if compare_states:
            compare_ndarray_tuple(s1, s2, rtol=rtol, atol=atol)
        assert_almost_equal(w1, w2.tostype("default"), rtol=rtol, atol=atol)
        return
    if ntensors > 1 or isinstance(shapes, list) and shapes and isinstance(shapes[0], (list, tuple)):
        shapes = list(shapes)
        ws = [_nd_array(np.random.uniform(-1, 1, s), dtype=dtype) for s in shapes]
        gs = [_nd_array(np.random.uniform(-1, 1, s), dtype=dtype) for s in shapes]
        idx = list(range(len(shapes)))
    else:
        ws = [_nd_array(np.random.uniform(-1, 1, shapes), dtype=dtype)]
        gs = [_nd_array(np.random.uniform(-1, 1, shapes), dtype=dtype)]
        idx = [0]
    ws2 = [w.copy() for w in ws]
    gs2 = [g.copy() for g in gs]  # before opt1 runs: reference optimizers may rescale grads in place
    s1 = [opt1.create_state_multi_precision(i, w) for i, w in zip(idx, ws)]
    s2 = [opt2.create_state_multi_precision(i, w) for i, w in zip(idx, ws2)]
    if compare_states:
        for a, b in zip(s1, s2):
            compare_ndarray_tuple(a, b, rtol=rtol, atol=atol)
    for i, w, g, s in zip(idx, ws, gs, s1):
        opt1.update_multi_precision(i, w, g, s)
    for i, w, g, s in zip(idx, ws2, gs2, s2):
        opt2.update_multi_precision(i, w, g, s)
    if compare_states:
        for a, b in zip(s1, s2):
            compare_ndarray_tuple(a, b, rtol=rtol, atol=atol)
    for a, b in zip(ws, ws2):
        assert_almost_equal(a, b, rtol=rtol, atol=atol)


# ---------------------------------------------------------------------------- environment
@contextlib.contextmanager
def environment(*args):
    """Set environment variables for a block: environment('NAME', 'value') or environment({...});
    a value of None unsets the variable. Previous values come back afterwards."""
    if len(args) == 1 and isinstance(args[0], dict):
        changes = dict(args[0])
    elif len(args) == 2:
        changes = {args[0]: args[1]}
    else:
        raise ValueError("environment: expected (name, value) or a dict, got %r" % (args,))
    old = {k: os.environ.get(k) for k in changes}
    try:
        for k, v in changes.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = str(v)
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def set_env_var(key, val, default_val=""):
    prev = os.environ.get(key, default_val)
    os.environ[key] = val
    return prev


@contextlib.contextmanager
def discard_stderr():
    """Silence file descriptor 2 (also output written by C code) for a block."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, ValueError, OSError):
        yield
        return
    saved = os.dup(fd)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), fd)
        try:
            yield
        finally:
            os.dup2(saved, fd)
            os.close(saved)


def retry(n):
    """Run a flaky test up to n times; the last failure is raised."""
    assert n > 0

    def decorate(f):
        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            for i in range(n):
                try:
                    return f(*args, **kwargs)
                except AssertionError:
                    if i == n - 1:
                        raise
        return wrapper
    return decorate


def is_cd_run():
    return False


def list_gpus():
    from .context import num_gpus
    return list(range(num_gpus()))


def download(url, fname=None, dirname=None, overwrite=False, retries=5):
    raise MXNotSupportedError("test_utils.download: MX tests never use the network (%s)" % url)


# `from mxnet.test_utils import *` also brings np and mx, as in MXNet (no __all__ on purpose).
mx = sys.modules[__name__.rpartition(".")[0]]
