"""The table-driven operator harness: forward against numpy references on every dtype an op's
schema claims, and gradients against central finite differences in float64.

TABLE maps an op name to a list of Case; EXCLUDED maps op names to the reason they are not in
the table. test_op_harness.py checks that every registered op is in one or the other.
"""
import math

import numpy as np

import mx
from mx.ndarray import _internal_ops

FLOAT = ("float32", "float64")
INTS = ("int32", "int64", "int8", "uint8")
TOL = {"float16": 2e-2, "bfloat16": 5e-2, "float32": 1e-4, "float64": 1e-9}


class Case:
    """One harness entry.

    inputs: list of (shape, (low, high)) pairs (values drawn uniformly in [low, high)).
    ref: numpy reference, called with the inputs (float64 for float dtypes, the dtype itself for
         integer dtypes) and the params; returns an array or a list of arrays.
    grad: 'fd' (central differences), None (no gradient check) or a callable
          (inputs_float64, head_grad, params) -> expected input gradients.
    dtypes: override the dtypes to test (default: the schema's).
    int_inputs: (low, high) range for integer dtypes (default the float range rounded).
    out_dtype: callable dtype -> expected output dtype name (default: the input's).
    """

    def __init__(self, op, inputs, ref, params=None, grad="fd", dtypes=None, int_range=None,
                 out_dtype=None, name=None, fd_eps=1e-6, grad_tol=1e-5, prep=None):
        self.op = op
        self.inputs = inputs
        self.ref = ref
        self.params = params or {}
        self.grad = grad
        self.dtypes = dtypes
        self.int_range = int_range
        self.out_dtype = out_dtype
        self.name = name or op
        self.fd_eps = fd_eps
        self.grad_tol = grad_tol
        self.prep = prep  # optional callable(list of float64 arrays, rng) -> list (e.g. insert NaN)

    def __repr__(self):
        return "%s%s" % (self.name, self.params if self.params else "")


def op_function(name):
    if name.startswith("_"):
        return getattr(mx.nd._internal, name)
    return getattr(mx.nd.op, name)


def schema_dtypes(name):
    return tuple(_internal_ops.op_schema(name)["dtypes"])


def case_dtypes(case):
    if case.dtypes is not None:
        return tuple(case.dtypes)
    if not case.inputs:
        return FLOAT
    return schema_dtypes(case.op)


def make_inputs(case, dtype, rng):
    """numpy inputs as the reference sees them, and the matching NDArrays."""
    vals = [rng.uniform(lo, hi, size=shape) for shape, (lo, hi) in case.inputs]
    if case.prep is not None:
        vals = case.prep(vals, rng)
    nps, mxs = [], []
    for v, (shape, (lo, hi)) in zip(vals, case.inputs):
        if dtype in ("float32", "float64", "float16"):
            a = v.astype(dtype)
            nps.append(a.astype(np.float64))
            mxs.append(mx.nd.array(a, dtype=dtype))
        elif dtype == "bfloat16":
            m = mx.nd.array(v.astype(np.float32)).astype("bfloat16")
            nps.append(m.asnumpy().astype(np.float64))
            mxs.append(m)
        elif dtype == "bool":
            a = v > (lo + hi) / 2
            nps.append(a)
            mxs.append(mx.nd.array(a, dtype="bool"))
        else:
            ilo, ihi = case.int_range or (math.ceil(lo), math.floor(hi))
            if dtype == "uint8":
                ilo, ihi = max(ilo, 0), max(ihi, 1)
            a = rng.randint(ilo, ihi + 1, size=shape).astype(dtype)
            nps.append(a)
            mxs.append(mx.nd.array(a, dtype=dtype))
    return nps, mxs


def _dtname(dt):
    try:
        return np.dtype(dt).name
    except TypeError:
        return getattr(dt, "__name__", str(dt))


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def check_forward(case, dtype, seed=0):
    rng = np.random.RandomState(seed)
    nps, mxs = make_inputs(case, dtype, rng)
    f = op_function(case.op)
    kwargs = dict(case.params)
    if not case.inputs:
        kwargs.setdefault("dtype", dtype)
    out = _as_list(f(*mxs, **kwargs))
    with np.errstate(all="ignore"):
        exp = _as_list(case.ref(*nps, **case.params))
    assert len(out) == len(exp), "%r: %d outputs, expected %d" % (case, len(out), len(exp))
    want_dt = case.out_dtype(dtype) if case.out_dtype else dtype
    for o, e in zip(out, exp):
        e = np.asarray(e)
        assert o.shape == e.shape, "%r %s: shape %s, expected %s" % (case, dtype, o.shape, e.shape)
        got = o.asnumpy()
        if want_dt is not None:
            assert _dtname(o.dtype) == want_dt, "%r %s: output dtype %s, expected %s" % (case, dtype, o.dtype, want_dt)
        if dtype in TOL or (want_dt in TOL):
            tol = TOL.get(want_dt, TOL.get(dtype, 1e-4))
            np.testing.assert_allclose(got.astype(np.float64), e.astype(np.float64), rtol=tol, atol=tol,
                                       err_msg="%r forward on %s" % (case, dtype), equal_nan=True)
        else:
            np.testing.assert_array_equal(got, e.astype(got.dtype), err_msg="%r forward on %s" % (case, dtype))


def _forward64(case, arrays):
    f = op_function(case.op)
    out = _as_list(f(*[mx.nd.array(a, dtype="float64") for a in arrays], **case.params))
    return out[0].asnumpy()


def check_grad(case, seed=0):
    rng = np.random.RandomState(seed + 1)
    nps, _ = make_inputs(case, "float64", rng)
    xs = [mx.nd.array(a, dtype="float64") for a in nps]
    for x in xs:
        x.attach_grad()
    f = op_function(case.op)
    with mx.autograd.record():
        y = _as_list(f(*xs, **case.params))[0]
    w = rng.uniform(0.5, 1.5, size=y.shape)
    y.backward(mx.nd.array(w, dtype="float64"))
    got = [x.grad.asnumpy() for x in xs]
    if callable(case.grad):
        expected = case.grad(nps, w, case.params)
    else:
        expected = []
        eps = case.fd_eps
        for k, a in enumerate(nps):
            g = np.zeros_like(a)
            for idx in np.ndindex(*a.shape):
                plus = [b.copy() for b in nps]
                minus = [b.copy() for b in nps]
                plus[k][idx] += eps
                minus[k][idx] -= eps
                g[idx] = (np.sum(_forward64(case, plus) * w) - np.sum(_forward64(case, minus) * w)) / (2 * eps)
            expected.append(g)
    for k, (g, e) in enumerate(zip(got, expected)):
        np.testing.assert_allclose(g, e, rtol=case.grad_tol, atol=case.grad_tol,
                                   err_msg="%r gradient of input %d" % (case, k))


# ---------------------------------------------------------------- the table
TABLE = {}


def add(case):
    TABLE.setdefault(case.op, []).append(case)


S = (2, 3)

# -- unary math (float)
_UNARY_FLOAT = [
    ("sqrt", np.sqrt, (0.5, 3)), ("rsqrt", lambda x: 1 / np.sqrt(x), (0.5, 3)),
    ("cbrt", np.cbrt, (0.5, 3)), ("rcbrt", lambda x: 1 / np.cbrt(x), (0.5, 3)),
    ("exp", np.exp, (-2, 2)), ("expm1", np.expm1, (-2, 2)), ("log", np.log, (0.5, 3)),
    ("log10", np.log10, (0.5, 3)), ("log2", np.log2, (0.5, 3)), ("log1p", np.log1p, (-0.5, 2)),
    ("sin", np.sin, (-3, 3)), ("cos", np.cos, (-3, 3)), ("tan", np.tan, (-1.2, 1.2)),
    ("arcsin", np.arcsin, (-0.9, 0.9)), ("arccos", np.arccos, (-0.9, 0.9)), ("arctan", np.arctan, (-3, 3)),
    ("sinh", np.sinh, (-2, 2)), ("cosh", np.cosh, (-2, 2)), ("tanh", np.tanh, (-2, 2)),
    ("arcsinh", np.arcsinh, (-3, 3)), ("arccosh", np.arccosh, (1.2, 3)), ("arctanh", np.arctanh, (-0.9, 0.9)),
    ("degrees", np.degrees, (-3, 3)), ("radians", np.radians, (-100, 100)),
    ("sigmoid", lambda x: 1 / (1 + np.exp(-x)), (-4, 4)), ("softsign", lambda x: x / (1 + np.abs(x)), (-3, 3)),
    ("erf", np.vectorize(math.erf), (-2, 2)), ("gamma", np.vectorize(math.gamma), (0.3, 4)),
    ("gammaln", np.vectorize(math.lgamma), (0.3, 4)), ("reciprocal", lambda x: 1 / x, (0.5, 3)),
]
for _n, _f, _d in _UNARY_FLOAT:
    add(Case(_n, [(S, _d)], (lambda f: lambda x: f(x))(_f)))


def _erfinv_ref(y):
    # invert math.erf by bisection (float64 exact enough)
    def one(v):
        lo, hi = -6.0, 6.0
        for _ in range(200):
            mid = (lo + hi) / 2
            if math.erf(mid) < v:
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2
    return np.vectorize(one)(y)


add(Case("erfinv", [(S, (-0.9, 0.9))], _erfinv_ref))

# -- unary numeric (integers allowed)
_UNARY_NUMERIC = [
    ("abs", np.abs, (-3, 3), "fd"), ("sign", np.sign, (-3, 3), "fd"), ("negative", np.negative, (-3, 3), "fd"),
    ("square", np.square, (-3, 3), "fd"), ("relu", lambda x: np.maximum(x, 0), (-3, 3), "fd"),
    ("logical_not", lambda x: (x == 0).astype(x.dtype), (-1, 1), None),
    ("round", lambda x: np.where(x >= 0, np.floor(x + 0.5), np.ceil(x - 0.5)), (-3, 3), "fd"),
    ("rint", np.rint, (-3, 3), "fd"), ("ceil", np.ceil, (-3, 3), "fd"), ("floor", np.floor, (-3, 3), "fd"),
    ("trunc", np.trunc, (-3, 3), "fd"), ("fix", np.fix, (-3, 3), "fd"),
]
for _n, _f, _d, _g in _UNARY_NUMERIC:
    add(Case(_n, [(S, _d)], (lambda f: lambda x: f(x))(_f), grad=_g))
add(Case("logical_not", [(S, (-1, 1))], lambda x: (x == 0).astype(x.dtype), grad=None,
         prep=lambda v, r: [np.where(np.abs(v[0]) < 0.5, 0.0, v[0])], name="logical_not_zeros", dtypes=FLOAT))

add(Case("clip", [(S, (-3, 3))], lambda x, a_min, a_max: np.clip(x, a_min, a_max), params=dict(a_min=-1.0, a_max=2.0)))
add(Case("hard_sigmoid", [(S, (-4, 4))], lambda x, alpha=0.2, beta=0.5: np.clip(alpha * x + beta, 0, 1)))
add(Case("hard_sigmoid", [(S, (-2, 2))], lambda x, alpha, beta: np.clip(alpha * x + beta, 0, 1),
         params=dict(alpha=0.4, beta=0.3)))


def _smooth_l1(x, scalar=1.0):
    s2 = scalar * scalar
    return np.where(np.abs(x) < 1 / s2, 0.5 * x * x * s2, np.abs(x) - 0.5 / s2)


add(Case("smooth_l1", [(S, (-3, 3))], _smooth_l1))
add(Case("smooth_l1", [(S, (-1, 1))], _smooth_l1, params=dict(scalar=2.0)))


def _zero_grad(nps, w, p):
    return [np.zeros_like(nps[0])]


def _ones_grad(nps, w, p):
    return [np.ones_like(nps[0])]


add(Case("identity", [(S, (-3, 3))], lambda x: x))
add(Case("BlockGrad", [(S, (-3, 3))], lambda x: x, grad=_zero_grad))
add(Case("make_loss", [(S, (-3, 3))], lambda x: x, grad=_ones_grad))
add(Case("MakeLoss", [(S, (-3, 3))], lambda x, **k: x, grad=_ones_grad))
add(Case("MakeLoss", [(S, (-3, 3))], lambda x, **k: x, params=dict(grad_scale=3.0, normalization="batch"),
         grad=lambda nps, w, p: [np.full_like(nps[0], 3.0 / nps[0].shape[0])], name="MakeLoss_batch"))
add(Case("zeros_like", [(S, (-3, 3))], lambda x: np.zeros_like(x), grad=None))
add(Case("ones_like", [(S, (-3, 3))], lambda x: np.ones_like(x), grad=None))
for _t in ("float32", "float64", "int32", "uint8", "float16"):
    add(Case("Cast", [(S, (0, 5))], (lambda t: lambda x, dtype: x.astype(t))(_t), params=dict(dtype=_t),
             out_dtype=(lambda t: lambda d: t)(_t), name="Cast_to_%s" % _t,
             grad="fd" if _t == "float64" else None))

# -- binary family
BS_A, BS_B = (2, 1, 3), (1, 2, 3)


def _int_div(a, b):
    if a.dtype.kind in "iu":
        with np.errstate(all="ignore"):
            q = np.where(b == 0, 0, np.trunc(a.astype(np.float64) / np.where(b == 0, 1, b)))
        return q.astype(a.dtype)
    return a / b


def _mod(a, b):
    if a.dtype.kind in "iu":
        return np.where(b == 0, 0, np.mod(a, np.where(b == 0, 1, b))).astype(a.dtype)
    return np.mod(a, b)


def _cmp(f):
    return lambda a, b: f(a, b).astype(np.result_type(a, b))


_BINARY = [
    # name, elemwise names, broadcast name, ref, domain a, domain b, grad
    ("add", "elemwise_add", np.add, (-3, 3), (-3, 3), "fd"),
    ("sub", "elemwise_sub", np.subtract, (-3, 3), (-3, 3), "fd"),
    ("mul", "elemwise_mul", np.multiply, (-3, 3), (-3, 3), "fd"),
    ("div", "elemwise_div", _int_div, (-3, 3), (1, 3), "fd"),
    ("mod", "_mod", _mod, (1, 5), (1, 2), "fd"),
    ("power", "_power", np.power, (0.5, 2), (-1, 2), "fd"),
    ("maximum", "_maximum", np.maximum, (-3, 3), (-3, 3), "fd"),
    ("minimum", "_minimum", np.minimum, (-3, 3), (-3, 3), "fd"),
    ("hypot", "_hypot", np.hypot, (-3, 3), (-3, 3), "fd"),
    ("equal", "_equal", _cmp(np.equal), (-1, 1), (-1, 1), None),
    ("not_equal", "_not_equal", _cmp(np.not_equal), (-1, 1), (-1, 1), None),
    ("greater", "_greater", _cmp(np.greater), (-1, 1), (-1, 1), None),
    ("greater_equal", "_greater_equal", _cmp(np.greater_equal), (-1, 1), (-1, 1), None),
    ("lesser", "_lesser", _cmp(np.less), (-1, 1), (-1, 1), None),
    ("lesser_equal", "_lesser_equal", _cmp(np.less_equal), (-1, 1), (-1, 1), None),
    ("logical_and", "_logical_and", _cmp(np.logical_and), (-1, 1), (-1, 1), None),
    ("logical_or", "_logical_or", _cmp(np.logical_or), (-1, 1), (-1, 1), None),
    ("logical_xor", "_logical_xor", _cmp(np.logical_xor), (-1, 1), (-1, 1), None),
]
_BCAST_NAME = {"add": "broadcast_add", "sub": "broadcast_sub", "mul": "broadcast_mul", "div": "broadcast_div"}
for _n, _el, _f, _da, _db, _g in _BINARY:
    _ir = (1, 4) if _n in ("div", "mod") else None
    add(Case(_el, [(S, _da), (S, _db)], (lambda f: lambda a, b: f(a, b))(_f), grad=_g,
             int_range=None if _n not in ("mod",) else (1, 9)))
    _bn = _BCAST_NAME.get(_n, "broadcast_" + _n)
    _case = Case(_bn, [(BS_A, _da), (BS_B, _db)], (lambda f: lambda a, b: f(a, b))(_f), grad=_g)
    if _n in ("div", "mod"):
        _case.int_range = (1, 9)
    add(_case)

    # scalar forms: scalar 2 (integral so integer dtypes agree)
    def _sref(f, rev):
        def r(x, scalar):
            s = np.array(scalar).astype(x.dtype)
            return f(s, x) if rev else f(x, s)
        return r
    _sname = {"add": "_plus_scalar", "sub": "_minus_scalar", "mul": "_mul_scalar", "div": "_div_scalar"}.get(
        _n, "_%s_scalar" % _n)
    add(Case(_sname, [(S, _da)], _sref(_f, False), params=dict(scalar=2.0), grad=_g,
             int_range=(1, 9) if _n in ("div", "mod") else None))
    _rname = {"sub": "_rminus_scalar", "div": "_rdiv_scalar", "mod": "_rmod_scalar", "power": "_rpower_scalar"}.get(_n)
    if _rname:
        add(Case(_rname, [(S, _db if _n != "power" else (-1, 2))], _sref(_f, True), params=dict(scalar=2.0), grad=_g,
                 int_range=(1, 9)))

add(Case("broadcast_to", [((2, 1), (-3, 3))], lambda x, shape: np.broadcast_to(x, shape), params=dict(shape=(2, 3))))
add(Case("_sum_to", [((2, 3), (-3, 3))], lambda x, shape: x.sum(axis=1, keepdims=True), params=dict(shape=(2, 1)),
         dtypes=("float32", "float64", "int32", "int64")))

# -- reductions
R3 = (2, 3, 4)


def _np_axis(axis, exclude, ndim):
    if axis is None or axis == ():
        return tuple(range(ndim))
    ax = (axis,) if isinstance(axis, int) else tuple(axis)
    ax = tuple(a % ndim for a in ax)
    if exclude:
        ax = tuple(i for i in range(ndim) if i not in ax)
    return ax


def _reducer(f):
    def ref(x, axis=None, keepdims=False, exclude=False):
        ax = _np_axis(axis, exclude, x.ndim)
        r = f(x, axis=ax, keepdims=keepdims)
        r = np.asarray(r)
        if r.ndim == 0:
            r = r.reshape(1)
        return r.astype(x.dtype) if x.dtype.kind in "iu" else r
    return ref


def _int_mean(x, axis, keepdims):
    if x.dtype.kind in "iu":
        s = np.sum(x.astype(np.int64), axis=axis, keepdims=keepdims)
        n = x.size // max(np.asarray(s).size, 1)
        return np.trunc(s / n)
    return np.mean(x, axis=axis, keepdims=keepdims)


_AXES = [dict(), dict(axis=1), dict(axis=(0, 2)), dict(axis=-1, keepdims=True), dict(axis=1, exclude=True),
         dict(axis=(0, 1))]
for _n, _f, _d in [("sum", np.sum, (-3, 3)), ("mean", _int_mean, (-3, 3)), ("prod", np.prod, (0.5, 1.5)),
                   ("max", np.max, (-3, 3)), ("min", np.min, (-3, 3)), ("nansum", np.nansum, (-3, 3)),
                   ("nanprod", np.nanprod, (0.5, 1.5))]:
    for _p in _AXES:
        add(Case(_n, [(R3, _d)], _reducer(_f), params=_p, int_range=(-2, 2) if _n != "prod" else (1, 2)))


def _insert_nan(vals, rng):
    v = vals[0].copy()
    v.flat[::5] = np.nan
    return [v]


add(Case("nansum", [(R3, (-3, 3))], _reducer(np.nansum), params=dict(axis=1), prep=_insert_nan, grad=None,
         name="nansum_nan"))
add(Case("nanprod", [(R3, (0.5, 1.5))], _reducer(np.nanprod), params=dict(axis=(0, 2)), prep=_insert_nan,
         grad=None, name="nanprod_nan"))
add(Case("nansum", [(R3, (-3, 3))], _reducer(np.nansum), params=dict(axis=1), prep=_insert_nan,
         grad=lambda nps, w, p: [np.where(np.isnan(nps[0]), 0.0, np.repeat(w[:, None, :], 3, axis=1))],
         dtypes=(), name="nansum_nan_grad"))


def _norm_ref(x, ord=2, axis=None, keepdims=False):
    ax = _np_axis(axis, False, x.ndim)
    r = np.sum(np.abs(x), axis=ax, keepdims=keepdims) if ord == 1 else np.sqrt(np.sum(x * x, axis=ax, keepdims=keepdims))
    r = np.asarray(r)
    return r.reshape(1) if r.ndim == 0 else r


for _p in [dict(), dict(ord=1), dict(axis=1), dict(ord=1, axis=(0, 2), keepdims=True), dict(axis=-1, keepdims=True)]:
    add(Case("norm", [(R3, (0.5, 3))], _norm_ref, params=_p))


def _arg(f):
    def ref(x, axis=None, keepdims=False):
        if axis is None:
            r = np.asarray(f(x.reshape(-1)))
            r = r.reshape((1,) * x.ndim if keepdims else (1,))
        else:
            r = f(x, axis=axis)
            if keepdims:
                r = np.expand_dims(r, axis)
        return r.astype(x.dtype)
    return ref


for _n, _f in [("argmax", np.argmax), ("argmin", np.argmin)]:
    for _p in [dict(), dict(axis=1), dict(axis=-1, keepdims=True), dict(axis=0)]:
        add(Case(_n, [(R3, (-3, 3))], _arg(_f), params=_p, grad=None, int_range=(-50, 50)))
add(Case("argmax_channel", [((3, 5), (-3, 3))], lambda x: np.argmax(x, axis=-1).astype(x.dtype), grad=None,
         int_range=(-50, 50)))
add(Case("_reshape_to", [((2, 6), (-3, 3))], lambda x, shape: x.reshape(shape), params=dict(shape=(3, 4))))


# -- creation (no inputs; forward on float32, float64, int32 and more via dtype)
def _creation(op, params, ref, dtypes=("float32", "float64", "int32", "int64", "uint8")):
    add(Case(op, [], lambda **p: ref(p), params=params, grad=None, dtypes=dtypes))


_creation("_zeros", dict(shape=(2, 3)), lambda p: np.zeros(p["shape"]))
_creation("_ones", dict(shape=(2, 3)), lambda p: np.ones(p["shape"]))
_creation("_full", dict(shape=(2, 3), value=7.0), lambda p: np.full(p["shape"], p["value"]))
_creation("_arange", dict(start=1.0, stop=11.0, step=2.0, repeat=2),
          lambda p: np.repeat(np.arange(p["start"], p["stop"], p["step"]), p["repeat"]))
_creation("_arange", dict(start=5.0), lambda p: np.arange(p["start"]))
_creation("_arange", dict(start=3.0, stop=-2.0, step=-1.5), lambda p: np.arange(p["start"], p["stop"], p["step"]),
          dtypes=FLOAT)
_creation("_eye", dict(N=3, M=4, k=1), lambda p: np.eye(p["N"], p["M"], p["k"]))
_creation("_eye", dict(N=3, k=-1), lambda p: np.eye(p["N"], k=p["k"]))
_creation("_linspace", dict(start=0.0, stop=1.0, num=5), lambda p: np.linspace(0, 1, 5), dtypes=FLOAT)
_creation("_linspace", dict(start=-1.0, stop=3.0, num=4, endpoint=False),
          lambda p: np.linspace(-1, 3, 4, endpoint=False), dtypes=FLOAT)


# ---------------------------------------------------------------- exclusions
_RANDOM = "random sampler: covered by tests/python/test_random.py (seeding, moments, thread independence)"
_NN = "neural-network op written by another engineer: covered by tests/python/test_ops_nn.py and test_ops_vectors.py"
_SHAPE = ("shape/indexing/linear-algebra op written by another engineer in shape_ops.cc, slice_ops.cc, "
          "concat_ops.cc or dot.cc: covered by that engineer's tests and tests/python/test_ops_vectors.py")
EXCLUDED = {}
for _n in ["_random_uniform", "_random_normal", "_random_randint", "_random_exponential", "_random_gamma",
           "_random_poisson", "_random_negative_binomial", "_sample_multinomial", "_shuffle"]:
    EXCLUDED[_n] = _RANDOM
for _n in ["Activation", "BatchNorm", "Convolution", "Dropout", "FullyConnected", "Pooling", "softmax", "log_softmax",
           "softmin", "SoftmaxOutput", "LinearRegressionOutput", "LogisticRegressionOutput", "MAERegressionOutput",
           "Deconvolution", "LeakyReLU", "LayerNorm", "InstanceNorm", "Embedding", "RNN", "SoftmaxActivation",
           "UpSampling", "LRN", "GroupNorm", "L2Normalization", "CTCLoss", "SequenceMask", "SequenceLast",
           "SequenceReverse", "softmax_cross_entropy", "SVMOutput"]:
    EXCLUDED[_n] = _NN
for _n in ["Concat", "stack", "SliceChannel", "add_n", "where", "_where_mask", "dot", "batch_dot", "Reshape",
           "reshape_like", "Flatten", "expand_dims", "squeeze", "transpose", "SwapAxis", "depth_to_space",
           "space_to_depth", "reverse", "tile", "repeat", "broadcast_like", "broadcast_axis", "Pad", "diag",
           "shape_array", "size_array", "slice", "slice_axis", "slice_like", "_slice_assign", "_slice_assign_scalar",
           "take", "pick", "one_hot", "gather_nd", "scatter_nd", "topk", "sort", "argsort", "split", "khatri_rao",
           "Embedding", "SequenceMask", "_take_along_axis", "_scatter_along_axis"]:
    EXCLUDED.setdefault(_n, _SHAPE)
EXCLUDED["_scatter_set_nd"] = ("advanced-indexing assignment: covered against numpy (values, broadcasting, "
                               "repeated tuples) by tests/python/test_advanced_indexing.py")

_NN2 = "neural-network/linalg op: covered by tests/python/test_ops_nn2.py and test_ops_vectors.py"
for _n in ["linalg_gemm", "linalg_gemm2"]:
    EXCLUDED.setdefault(_n, _NN2)
_LINALG = ("linalg op: forward and gradient against real MXNet 1.9.1 vectors, numpy and finite differences in "
           "tests/python/test_linalg.py")
for _n in ["linalg_potrf", "linalg_potri", "linalg_trmm", "linalg_trsm", "linalg_syrk", "linalg_gelqf", "linalg_syevd",
           "linalg_inverse", "linalg_det", "linalg_slogdet", "linalg_sumlogdiag", "linalg_extractdiag",
           "linalg_makediag", "linalg_extracttrian", "linalg_maketrian"]:
    EXCLUDED.setdefault(_n, _LINALG)

_CONTRIB = ("contrib op: forward and gradient against real MXNet 1.9.1 vectors and numpy in "
            "tests/python/test_contrib_ops.py")
for _n in ["_contrib_quadratic", "_contrib_div_sqrt_dim", "_contrib_gradientmultiplier", "_contrib_round_ste",
           "_contrib_sign_ste", "_contrib_isnan", "_contrib_isinf", "_contrib_isfinite", "_contrib_allclose",
           "_contrib_arange_like", "_contrib_index_copy", "_contrib_BilinearResize2D", "_contrib_AdaptiveAvgPooling2D",
           "_contrib_interleaved_matmul_selfatt_qk", "_contrib_interleaved_matmul_selfatt_valatt",
           "_contrib_interleaved_matmul_encdec_qk", "_contrib_interleaved_matmul_encdec_valatt"]:
    EXCLUDED.setdefault(_n, _CONTRIB)
for _n in ["_backward_contrib_index_copy", "_backward_contrib_BilinearResize2D", "_backward_contrib_AdaptiveAvgPooling2D",
           "_backward_interleaved_matmul_selfatt_qk", "_backward_interleaved_matmul_selfatt_valatt",
           "_backward_interleaved_matmul_encdec_qk", "_backward_interleaved_matmul_encdec_valatt"]:
    EXCLUDED.setdefault(_n, _CONTRIB)

for _n in ["Custom", "_backward_Custom"]:
    EXCLUDED.setdefault(_n, "runs a front-end implementation (mx.operator): tests/python/test_custom_op.py")
for _n in ["cast_storage", "_sparse_retain", "_backward_sparse_embedding"]:
    EXCLUDED.setdefault(_n, "sparse storage op: against scipy.sparse/numpy in tests/python/test_sparse_*.py")

_LEGACY = ("MXNet 1.x compatibility op: forward and gradient against real MXNet 1.9.1 vectors and finite "
           "differences in tests/python/mxnet_compat/test_legacy_ops.py")
for _n in ["batch_take", "GridGenerator", "BilinearSampler", "SpatialTransformer", "Correlation"]:
    EXCLUDED.setdefault(_n, _LEGACY)

_BACKWARD_REASON_EARLY = "fused backward op: checked through its forward op's gradient (see the forward's entry)"
_LEGACY2 = ("MXNet 1.x compatibility op: forward (and gradient, where it has one) against real MXNet 1.9.1 "
            "vectors, numpy and finite differences in tests/python/mxnet_compat/test_legacy_ops2.py")
for _n in ["amp_cast", "_contrib_index_array", "_histogram", "moments", "im2col", "col2im", "ROIPooling",
           "_contrib_ROIAlign", "sgd_update", "sgd_mom_update", "nag_mom_update", "signsgd_update", "signum_update",
           "adam_update", "rmsprop_update", "rmspropalex_update", "ftrl_update", "ftml_update", "_ravel_multi_index",
           "_unravel_index"]:
    EXCLUDED.setdefault(_n, _LEGACY2)
EXCLUDED.setdefault("_image_normalize", "MXNet 1.x compatibility op: against numpy, with its gradient, in "
                    "tests/python/mxnet_compat/test_operator_semantics.py")
EXCLUDED.setdefault("_random_generalized_negative_binomial", "random sampler: sample mean and variance in "
                    "tests/python/mxnet_compat/test_operator_semantics.py")
for _n in ["_sample_uniform", "_sample_normal", "_sample_gamma", "_sample_exponential", "_sample_poisson",
           "_sample_negative_binomial", "_sample_generalized_negative_binomial"]:
    EXCLUDED.setdefault(_n, "per-element random sampler: sample moments in "
                        "tests/python/mxnet_compat/test_operator_semantics.py")
for _n in ["_backward_image_normalize", "_backward_ROIAlign"]:
    EXCLUDED.setdefault(_n, _BACKWARD_REASON_EARLY)

_DETECTION = ("MXNet contrib detection op: forward (and the box_nms gradient) against real MXNet 1.9.1 vectors, "
              "numpy references and finite differences in tests/python/mxnet_compat/test_contrib_detection.py")
for _n in ["_contrib_box_nms", "_backward_contrib_box_nms", "_contrib_box_iou", "_contrib_bipartite_matching",
           "_contrib_box_encode", "_contrib_box_decode", "_contrib_MultiBoxPrior", "_contrib_MultiBoxTarget",
           "_contrib_MultiBoxDetection", "_contrib_PSROIPooling", "_backward_contrib_PSROIPooling",
           "_contrib_Proposal", "_contrib_MultiProposal", "_contrib_DeformableConvolution",
           "_backward_contrib_DeformableConvolution", "_contrib_ModulatedDeformableConvolution",
           "_backward_contrib_ModulatedDeformableConvolution"]:
    EXCLUDED.setdefault(_n, _DETECTION)
for _n in ["_contrib_boolean_mask", "_backward_contrib_boolean_mask"]:
    EXCLUDED.setdefault(_n, "data-dependent output shape: against numpy, MXNet 1.9.1 vectors and finite differences, "
                            "imperative, hybridized and bound, in tests/python/mxnet_compat/test_dynamic_shape_ops.py")

for _n in ["_fused_Convolution_relu", "_fused_FullyConnected_relu", "_fused_backward_Pooling_relu"]:
    EXCLUDED.setdefault(_n, "made by the executor's op+relu fusion pass: forward and gradients against numpy float64 "
                            "in tests/python/test_exec_fusion.py")
for _n in ["_fused_Convolution_BatchNorm", "_fused_Convolution_BatchNorm_relu"]:
    EXCLUDED.setdefault(_n, "made by the executor's Conv+BatchNorm folding pass (inference bindings): against numpy "
                            "float64 and the unfused graph in tests/python/test_conv_bn_fold.py")

for _n in ["mp_sgd_update", "mp_sgd_mom_update", "mp_nag_mom_update", "_mp_adamw_update"]:
    EXCLUDED.setdefault(_n, "multi-precision optimizer update (float16/bfloat16 weight, float32 master): against numpy "
                            "float64 in tests/python/test_mp_update_ops.py")

for _n in ["multi_sgd_update", "multi_sgd_mom_update", "multi_mp_sgd_update", "multi_mp_sgd_mom_update",
           "preloaded_multi_sgd_update", "preloaded_multi_sgd_mom_update", "preloaded_multi_mp_sgd_update",
           "preloaded_multi_mp_sgd_mom_update", "_multi_adamw_update", "_multi_mp_adamw_update", "_adamw_update",
           "lamb_update_phase1", "lamb_update_phase2", "mp_lamb_update_phase1", "mp_lamb_update_phase2",
           "_multi_lamb_update", "_multi_mp_lamb_update"]:
    EXCLUDED.setdefault(_n, "multi-tensor / AdamW / LAMB optimizer update: against real MXNet 1.9.1 steps and numpy float64 "
                            "in tests/python/test_multi_update_ops.py")

EXCLUDED.setdefault("amp_multicast", "MXNet 1.x AMP op: dtype rules against real MXNet 1.9.1 type inference, values "
                                     "and gradients in tests/python/test_amp_multicast.py")

_BACKWARD_REASON = "fused backward op: checked through its forward op's gradient in the harness table or in {}"


def exclusion_reason(name):
    """Why `name` is not in TABLE, or None when it must be."""
    if name in EXCLUDED:
        return EXCLUDED[name]
    if name.startswith("_backward_"):
        fwd = name[len("_backward_"):]
        if fwd in TABLE or fwd in EXCLUDED or ("broadcast_" + fwd) in TABLE or fwd.lstrip("_") in TABLE:
            return _BACKWARD_REASON.format(fwd)
    return None
