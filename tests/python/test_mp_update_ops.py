"""Multi-precision update operators (mp_sgd_update, mp_sgd_mom_update, mp_nag_mom_update,
_mp_adamw_update) on the CPU against numpy float64 implementations of MXNet 1.9.1's formulas:
the float32 master weight (weight32) and float32 states are stepped, the output is the master
rounded to the weight's dtype (float16, bfloat16 or float32). Several steps, so the states carry.
The GPU runs the same formula (tests/gpu/test_gpu_half.py compares the devices)."""
import numpy as np
import pytest

import mx

DTYPES = ["float16", "bfloat16", "float32"]


def _round(x, dtype):
    """float64 -> the dtype's nearest value (as float64), round to nearest even."""
    if dtype == "float16":
        return x.astype(np.float16).astype(np.float64)
    if dtype == "bfloat16":
        u = x.astype(np.float32).view(np.uint32).astype(np.uint64)
        u = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) << 16
        return u.astype(np.uint32).view(np.float32).astype(np.float64)
    return x.astype(np.float32).astype(np.float64)


def _arr(x, dtype):
    if dtype == "bfloat16":
        return mx.nd.array(x.astype(np.float32)).astype("bfloat16")
    return mx.nd.array(x, dtype=dtype)


def _np(a):
    return a.astype("float32").asnumpy().astype(np.float64) if a.dtype != np.float32 else a.asnumpy().astype(np.float64)


def _clip(g, c):
    return np.clip(g, -c, c) if c >= 0 else g


def _ref_sgd(w32, g, st, lr, wd, rs, clip, **_):
    return (1 - lr * wd) * w32 - lr * _clip(rs * g, clip), st


def _ref_sgd_mom(w32, g, st, lr, wd, rs, clip, momentum):
    mom = momentum * st[0] - lr * wd * w32 - lr * _clip(rs * g, clip)
    return w32 + mom, [mom]


def _ref_nag(w32, g, st, lr, wd, rs, clip, momentum):
    gc = _clip(rs * g, clip)
    mom = momentum * st[0]
    w = w32 - mom + (momentum + 1) * (mom - lr * (gc + wd * w32))
    mom = mom - lr * (gc + wd * w)  # MXNet's kernel: the new weight
    return w, [mom]


def _ref_adamw(w32, g, st, lr, wd, rs, clip, eta, beta1, beta2, eps):
    gc = _clip(rs * g, clip)
    m = beta1 * st[0] + (1 - beta1) * gc
    v = beta2 * st[1] + (1 - beta2) * gc * gc
    return w32 - eta * (lr * m / (np.sqrt(v) + eps) + wd * w32), [m, v]


CASES = [
    ("mp_sgd_update", _ref_sgd, 0, dict(lr=0.1, wd=0.01, rescale_grad=0.5, clip_gradient=-1.0), {}),
    ("mp_sgd_update", _ref_sgd, 0, dict(lr=0.05, wd=0.0, rescale_grad=1.0, clip_gradient=0.3), {}),
    ("mp_sgd_mom_update", _ref_sgd_mom, 1, dict(lr=0.1, wd=0.01, rescale_grad=0.5, clip_gradient=-1.0),
     dict(momentum=0.9)),
    ("mp_sgd_mom_update", _ref_sgd_mom, 1, dict(lr=0.2, wd=0.001, rescale_grad=2.0, clip_gradient=0.5),
     dict(momentum=0.5)),
    ("mp_nag_mom_update", _ref_nag, 1, dict(lr=0.1, wd=0.01, rescale_grad=0.5, clip_gradient=-1.0),
     dict(momentum=0.9)),
    ("mp_nag_mom_update", _ref_nag, 1, dict(lr=0.1, wd=0.0, rescale_grad=1.0, clip_gradient=0.2),
     dict(momentum=0.7)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", range(len(CASES)))
def test_mp_update_matches_numpy(case, dtype):
    name, ref, nstates, kw, extra = CASES[case]
    rng = np.random.default_rng(7 + case)
    shape = (5, 37)
    w0 = _round(rng.uniform(-1, 1, shape), dtype)
    weight = _arr(w0, dtype)
    weight32 = mx.nd.array(w0, dtype="float32")
    states = [mx.nd.zeros(shape, dtype="float32") for _ in range(nstates)]
    rw32, rst = w0.copy(), [np.zeros(shape) for _ in range(nstates)]
    op = getattr(mx.nd, name)
    for step in range(4):
        g = _round(rng.uniform(-1, 1, shape), dtype)
        grad = _arr(g, dtype)
        out = op(weight, grad, *states, weight32, **kw, **extra)
        rw32, rst = ref(rw32, g, rst, kw["lr"], kw["wd"], kw["rescale_grad"], kw["clip_gradient"], **extra)
        assert out.dtype == weight.dtype and out.shape == shape
        np.testing.assert_allclose(weight32.asnumpy(), rw32, rtol=1e-5, atol=1e-6, err_msg="weight32 step %d" % step)
        for s, r in zip(states, rst):
            np.testing.assert_allclose(s.asnumpy(), r, rtol=1e-5, atol=1e-6, err_msg="state step %d" % step)
        # The output is the float32 master rounded once: exactly that rounding of MX's master, and
        # within one rounding of the float64 reference.
        np.testing.assert_array_equal(_np(out), _round(weight32.asnumpy().astype(np.float64), dtype))
        tol = {"float16": 1e-3, "bfloat16": 8e-3, "float32": 1e-5}[dtype]
        np.testing.assert_allclose(_np(out), _round(rw32, dtype), rtol=tol, atol=tol)
        weight = out


@pytest.mark.parametrize("dtype", DTYPES)
def test_mp_adamw_matches_numpy(dtype):
    rng = np.random.default_rng(3)
    shape = (4, 29)
    kw = dict(lr=0.01, eta=0.5, beta1=0.9, beta2=0.99, epsilon=1e-6, wd=0.1, clip_gradient=0.8)
    w0 = _round(rng.uniform(-1, 1, shape), dtype)
    weight, weight32 = _arr(w0, dtype), mx.nd.array(w0, dtype="float32")
    mean, var = mx.nd.zeros(shape), mx.nd.zeros(shape)
    rw32, rst = w0.copy(), [np.zeros(shape), np.zeros(shape)]
    for step, rs in enumerate([1.0, 0.25, 2.0]):
        g = _round(rng.uniform(-1, 1, shape), dtype)
        out = mx.nd._internal._mp_adamw_update(weight, _arr(g, dtype), mean, var, weight32,
                                               mx.nd.array([rs]), **kw)
        rw32, rst = _ref_adamw(rw32, g, rst, kw["lr"], kw["wd"], rs, kw["clip_gradient"], kw["eta"], kw["beta1"],
                               kw["beta2"], kw["epsilon"])
        np.testing.assert_allclose(weight32.asnumpy(), rw32, rtol=1e-5, atol=1e-6, err_msg="step %d" % step)
        np.testing.assert_allclose(mean.asnumpy(), rst[0], rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(var.asnumpy(), rst[1], rtol=1e-5, atol=1e-8)
        np.testing.assert_array_equal(_np(out), _round(weight32.asnumpy().astype(np.float64), dtype))
        weight = out


@pytest.mark.parametrize("rs", [0.0, float("nan"), float("inf")])
def test_mp_adamw_skips_step_on_bad_rescale(rs):
    # MXNet: a rescale_grad of 0, NaN or Inf (an overflowed loss scale) skips the update.
    w0 = np.linspace(-1, 1, 12).astype(np.float16)
    weight, weight32 = mx.nd.array(w0, dtype="float16"), mx.nd.array(w0, dtype="float32")
    mean, var = mx.nd.ones((12,)), mx.nd.ones((12,))
    out = mx.nd._internal._mp_adamw_update(weight, mx.nd.ones((12,), dtype="float16"), mean, var, weight32,
                                           mx.nd.array([rs]), lr=0.1, eta=1.0)
    np.testing.assert_array_equal(out.asnumpy(), w0)
    np.testing.assert_array_equal(weight32.asnumpy(), w0.astype(np.float32))
    np.testing.assert_array_equal(mean.asnumpy(), np.ones(12))


def test_mp_update_in_place_out():
    # MXNet's usage: out=weight, the float16 weight updated in place.
    w0 = np.linspace(-1, 1, 20).astype(np.float16)
    weight, weight32 = mx.nd.array(w0, dtype="float16"), mx.nd.array(w0, dtype="float32")
    mom = mx.nd.zeros((20,))
    g = np.linspace(0.5, -0.5, 20).astype(np.float16)
    mx.nd.mp_sgd_mom_update(weight, mx.nd.array(g, dtype="float16"), mom, weight32, out=weight, lr=0.1,
                            momentum=0.9)
    ref = w0.astype(np.float64) - 0.1 * g.astype(np.float64)
    np.testing.assert_allclose(weight32.asnumpy(), ref, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(weight.asnumpy(), weight32.asnumpy().astype(np.float16))


def test_mp_update_bad_dtypes():
    w = mx.nd.zeros((3,), dtype="float16")
    with pytest.raises(mx.base.MXNetError, match="weight32"):  # the master must be float32
        mx.nd.mp_sgd_update(w, w, mx.nd.zeros((3,), dtype="float16"), lr=0.1)
    with pytest.raises(mx.base.MXNetError, match="grad"):
        mx.nd.mp_sgd_update(w, mx.nd.zeros((3,), dtype="float32"), mx.nd.zeros((3,)), lr=0.1)
    with pytest.raises(mx.base.MXNetError, match="float64"):
        d = mx.nd.zeros((3,), dtype="float64")
        mx.nd.mp_sgd_update(d, d, mx.nd.zeros((3,)), lr=0.1)
    with pytest.raises(mx.base.MXNetError, match="shape|weight32"):
        mx.nd.mp_sgd_update(w, w, mx.nd.zeros((4,)), lr=0.1)
