"""float32 exp, expm1, log, log2, log10 and log1p use vectorisable formulas (backends/cpu/fast_math.h)
instead of libm, and so do the activations built on them (softrelu, elu, selu and their
gradients). Each is checked here in both CPU builds (AVX-512 and, in a subprocess, the baseline;
backends/cpu/simd.h) against float64 numpy over a sweep of the whole float range (every 4099th bit
pattern: all exponents, both signs, subnormals, inf and NaN) plus dense ranges where the formulas
switch, in units in the last place of the float32 result. Special values must come out exactly as
IEEE/numpy give them."""
import os
import subprocess
import sys

import numpy as np
import pytest

import mx

HERE = os.path.dirname(os.path.abspath(__file__))
FLT_MAX = float(np.finfo(np.float32).max)
FLT_MIN = float(np.finfo(np.float32).tiny)
TINY = 2.0 ** -149  # the smallest subnormal: the ulp of results below FLT_MIN

# op -> (MX function, float64 reference, bound in ulps). The bounds are the maxima measured over
# every 5th (AVX-512) and 7th (baseline) float bit pattern, rounded up a little: exp 1.05, expm1 1.44,
# log 0.93, log2 1.93, log10 2.06, log1p 1.44 ulp. Dropping the last term of any of the series in
# fast_math.h takes exp, expm1, log, log2 or log1p past its bound in the sweep below.
ULP_CASES = {
    "exp": (mx.nd.exp, np.exp, 1.25),
    "expm1": (mx.nd.expm1, np.expm1, 1.6),
    "log": (mx.nd.log, np.log, 1.1),
    "log2": (mx.nd.log2, np.log2, 2.0),
    "log10": (mx.nd.log10, np.log10, 2.25),
    "log1p": (mx.nd.log1p, np.log1p, 1.6),
}

SELU_A, SELU_L = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _softrelu64(v):
    return np.where(v > 20, v, np.log1p(np.exp(np.minimum(v, 20))))


# activation -> (MX forward, float64 forward, MX backward(g, x), float64 backward, rtol[, gradient atol])
ACT_CASES = {
    "softrelu": (lambda x: mx.nd.Activation(x, act_type="softrelu"), _softrelu64,
                 lambda g, x: mx.nd._internal._backward_Activation(g, x, mx.nd.Activation(x, act_type="softrelu"),
                                                                   act_type="softrelu"),
                 lambda g, v: g / (1 + np.exp(-v)), 4e-7),
    "elu": (lambda x: mx.nd.LeakyReLU(x, act_type="elu", slope=0.7),
            lambda v: np.where(v > 0, v, 0.7 * np.expm1(v)),
            lambda g, x: mx.nd._internal._backward_LeakyReLU(g, x, act_type="elu", slope=0.7),
            lambda g, v: g * np.where(v > 0, 1.0, 0.7 * np.exp(v)), 3e-7),
    # selu's backward is MXNet 1.x's lambda * (y + alpha) below 0 (see activation_kernels.h)
    "selu": (lambda x: mx.nd.LeakyReLU(x, act_type="selu"),
             lambda v: SELU_L * np.where(v > 0, v, SELU_A * np.expm1(v)),
             lambda g, x: mx.nd._internal._backward_LeakyReLU(g, x, act_type="selu"),
             lambda g, v: g * np.where(v > 0, SELU_L, SELU_L * (SELU_L * SELU_A * np.expm1(v) + SELU_A)), 4e-7,
             # y + alpha cancels (-1.758 + 1.673 as x -> -inf): float32 rounding of y, ~1.2e-7, stays absolute
             3e-7),
}


def _sweep():
    bits = np.arange(0, 2 ** 32, 4099, dtype=np.uint64).astype(np.uint32)
    return bits.view(np.float32)


def _inputs(name):
    """The bit-pattern sweep plus dense ranges around each formula's switch points."""
    dense = {
        "exp": [np.linspace(-110, 95, 200001)],
        "expm1": [np.linspace(-32, 32, 200001), np.linspace(-1e-6, 1e-6, 20001), np.linspace(-0.4, 0.4, 20001)],
        "log": [np.linspace(0, 4, 200001), np.linspace(0.99, 1.01, 20001)],
        "log2": [np.linspace(0, 4, 200001), 2.0 ** np.arange(-149, 128)],
        "log10": [np.linspace(0, 4, 200001), 10.0 ** np.arange(-38, 39)],
        "log1p": [np.linspace(-1, 3, 200001), np.linspace(-1e-6, 1e-6, 20001), np.linspace(-1, -0.999, 20001)],
    }[name]
    return np.concatenate([_sweep()] + [d.astype(np.float32) for d in dense])


def _ulp_errors(got, ref):
    """|got - ref| in float32 ulps of ref; NaN/inf/zero classes must match exactly (zero: its sign
    too). Returns (ulps of the finite results, indices where the class is wrong)."""
    got = got.astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        ref_f = ref.astype(np.float32).astype(np.float64)
    nan_ref, nan_got = np.isnan(ref), np.isnan(got)
    inf_ref = np.isinf(ref_f)
    # float64 results beyond FLT_MAX round to inf: inf is right there, and FLT_MAX within the bound
    wrong = (nan_ref != nan_got) | (np.isinf(got) & ~inf_ref) | (np.isinf(ref) & (got != ref))
    wrong |= (ref == 0) & ((got != 0) | (np.signbit(got) != np.signbit(ref)))
    finite = ~nan_ref & ~nan_got & np.isfinite(got) & np.isfinite(ref) & (ref != 0)
    spacing = np.maximum(np.spacing(np.minimum(np.abs(ref[finite]), FLT_MAX).astype(np.float32)).astype(np.float64),
                         TINY)
    return np.abs(got[finite] - ref[finite]) / spacing, np.flatnonzero(wrong)


def _compute(names):
    return {n: ULP_CASES[n][0](mx.nd.array(_inputs(n))).asnumpy() for n in names}


def _compute_acts():
    x = np.concatenate([np.linspace(-40, 40, 40001), [0.0, -0.0, 1e-30, -1e-30, 19.99, 20.0, 20.01, -87.5, -100.0]])
    x = x.astype(np.float32)
    g = np.cos(np.arange(x.size)).astype(np.float32)
    out = {}
    for name, case in ACT_CASES.items():
        fwd, bwd = case[0], case[2]
        out[name + "_fwd"] = fwd(mx.nd.array(x)).asnumpy()
        out[name + "_bwd"] = bwd(mx.nd.array(g), mx.nd.array(x)).asnumpy()
    return x, g, out


def _check_ulps(results):
    worst = {}
    for name, got in results.items():
        with np.errstate(all="ignore"):
            x = _inputs(name).astype(np.float64)
            ref = ULP_CASES[name][1](x)
        ulps, wrong = _ulp_errors(got, ref)
        assert wrong.size == 0, "%s: wrong class at x=%s: got %s, float64 %s" % (
            name, x[wrong[:5]], got[wrong[:5]], ref[wrong[:5]])
        worst[name] = float(ulps.max())
        assert ulps.max() <= ULP_CASES[name][2], "%s: %.2f ulp (bound %s)" % (name, ulps.max(), ULP_CASES[name][2])
    return worst


def _check_acts(x, g, out):
    x64, g64 = x.astype(np.float64), g.astype(np.float64)
    for name, case in ACT_CASES.items():
        _, f64, _, b64, rtol = case[:5]
        np.testing.assert_allclose(out[name + "_fwd"], f64(x64), rtol=rtol, atol=1e-44, err_msg=name)
        # softrelu's gradient g / (1 + e^-x) is 0 where e^-x overflows (x < -88.7), as with libm
        atol = case[5] if len(case) > 5 else FLT_MIN
        np.testing.assert_allclose(out[name + "_bwd"], b64(g64, x64), rtol=rtol, atol=atol, err_msg=name + " grad")


def test_default_build_within_ulps_of_float64():
    _check_ulps(_compute(ULP_CASES))


def test_activations_and_gradients_match_float64():
    _check_acts(*_compute_acts())


def test_baseline_build_matches_float64(tmp_path):
    """The baseline (SSE2) loops, forced by MX_CPU_ISA=baseline in a fresh process."""
    path = str(tmp_path / "baseline.npz")
    code = ("import sys, numpy as np; sys.path.insert(0, %r); import test_fast_math as t; "
            "r = t._compute(t.ULP_CASES); x, g, a = t._compute_acts(); r.update({'act_' + k: v for k, v in a.items()}); "
            "np.savez(%r, **r)" % (HERE, path))
    out = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, MX_CPU_ISA="baseline"),
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    data = np.load(path)
    _check_ulps({n: data[n] for n in ULP_CASES})
    x, g, _ = _compute_acts()
    _check_acts(x, g, {k[4:]: data[k] for k in data.files if k.startswith("act_")})


SPECIALS = {
    "exp": [0.0, -0.0, np.inf, -np.inf, np.nan, 88.72, 88.73, -87.4, -103.0, -103.97, -104.0, -200.0],
    "expm1": [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-30, -1e-30, 1e-45, -1e-45, 88.7, 100.0, -30.0, -1e4],
    "log": [0.0, -0.0, np.inf, -np.inf, np.nan, -1.0, -1e-45, 1.0, 1e-45, 1.1754942e-38, FLT_MAX],
    "log2": [0.0, -0.0, np.inf, -1.0, np.nan, 1.0, 1e-45, 0.5, 1024.0, 2.0 ** -140, 2.0 ** 127],
    "log10": [0.0, -0.0, np.inf, -1.0, np.nan, 1.0, 1e-45, 1e-40, 10.0, 1e30],
    "log1p": [0.0, -0.0, np.inf, -np.inf, np.nan, -1.0, -1.5, -1.0 + 2.0 ** -24, 1e-45, -1e-45, 1e-30, -1e-30,
              FLT_MAX],
}


@pytest.mark.parametrize("name", sorted(SPECIALS))
def test_special_values(name):
    """+-0, +-inf, NaN, subnormals, negatives, the ends of the ranges: the class (and a zero's sign)
    exactly as float64 numpy, finite values within the bound."""
    x = np.array(SPECIALS[name], np.float32)
    got = ULP_CASES[name][0](mx.nd.array(x)).asnumpy()
    with np.errstate(all="ignore"):
        ref = ULP_CASES[name][1](x.astype(np.float64))
    ulps, wrong = _ulp_errors(got, ref)
    assert wrong.size == 0, "%s(%s) = %s, float64 gives %s" % (name, x[wrong], got[wrong], ref[wrong])
    assert ulps.max(initial=0) <= ULP_CASES[name][2], (name, x, got, ref)
    if name == "log2":  # exact at powers of two
        np.testing.assert_array_equal(got[5:], np.log2(x[5:].astype(np.float64)))


def test_float64_keeps_libm():
    x = np.concatenate([np.linspace(-700, 700, 1001), np.logspace(-300, 300, 1001)])
    with np.errstate(all="ignore"):
        for name, (f, ref, _) in ULP_CASES.items():
            arg = x if name.startswith("exp") else np.abs(x)
            np.testing.assert_allclose(f(mx.nd.array(arg, dtype="float64")).asnumpy(), ref(arg), rtol=4e-16,
                                       atol=0, err_msg=name)


def test_gradients_through_autograd_match_float64_derivatives():
    x64 = np.linspace(0.05, 3, 1001)
    cases = {"exp": (mx.nd.exp, np.exp), "expm1": (mx.nd.expm1, np.exp), "log": (mx.nd.log, lambda v: 1 / v),
             "log2": (mx.nd.log2, lambda v: 1 / (v * np.log(2))), "log10": (mx.nd.log10, lambda v: 1 / (v * np.log(10))),
             "log1p": (mx.nd.log1p, lambda v: 1 / (1 + v))}
    for name, (f, d) in cases.items():
        x = mx.nd.array(x64.astype(np.float32))
        x.attach_grad()
        with mx.autograd.record():
            y = f(x)
        y.backward()
        xs = x64.astype(np.float32).astype(np.float64)
        np.testing.assert_allclose(x.grad.asnumpy(), d(xs), rtol=5e-7, err_msg=name)
