"""Element loops run an AVX-512 build where the CPU has it and the baseline build otherwise
(backends/cpu/simd.h; MX_CPU_ISA=baseline forces the baseline). Both builds must compute the same
functions: each is checked here against float64 numpy, the baseline one in a subprocess."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import mx

HERE = os.path.dirname(os.path.abspath(__file__))

from scipy.special import erf as _erf, ndtr as _ndtr  # noqa: E402

# op -> (MX call, float64 reference[, rtol]); the erf-based ones use fastmath's erf / normal CDF
CASES = {
    "Activation_tanh": (lambda x: mx.nd.Activation(x, act_type="tanh"), np.tanh),
    "Activation_sigmoid": (lambda x: mx.nd.Activation(x, act_type="sigmoid"), lambda v: 1 / (1 + np.exp(-v))),
    "tanh": (mx.nd.tanh, np.tanh),
    "sigmoid": (mx.nd.sigmoid, lambda v: 1 / (1 + np.exp(-v))),
    "relu": (mx.nd.relu, lambda v: np.maximum(v, 0)),
    "LeakyReLU": (lambda x: mx.nd.LeakyReLU(x, act_type="leaky", slope=0.1), lambda v: np.where(v > 0, v, 0.1 * v)),
    "erf": (mx.nd.erf, _erf, 4e-7),
    # GELU = x Phi(x): within 3e-6 relative where Phi is above 1e-10 (fast_math.h), hence the atol
    "gelu": (lambda x: mx.nd.LeakyReLU(x, act_type="gelu"), lambda v: v * _ndtr(v), 3e-6, 1e-12),
}


def _inputs():
    # odd length: the vector loops' tails run too; values across every branch of the formulas
    return np.concatenate([np.linspace(-30, 30, 20001), [0.0, -0.0, 1e-30, -1e-30, 88.0, -88.0, 100.0, -100.0]]).astype(
        np.float32)


def _run_all():
    x = mx.nd.array(_inputs())
    return {name: case[0](x).asnumpy() for name, case in CASES.items()}


def _check(results):
    x64 = _inputs().astype(np.float64)
    for name, got in results.items():
        ref = CASES[name][1](x64)
        case = CASES[name]
        rtol = case[2] if len(case) > 2 else 4e-7
        atol = case[3] if len(case) > 3 else 1e-37
        np.testing.assert_allclose(np.asarray(got, np.float64), ref, rtol=rtol, atol=atol, err_msg=name)


def test_default_build_matches_float64():
    _check(_run_all())


def test_baseline_build_matches_float64_and_the_default_one():
    code = ("import json, sys; sys.path.insert(0, %r); import test_cpu_isa_dispatch as t; "
            "print(json.dumps({k: v.tolist() for k, v in t._run_all().items()}))" % HERE)
    env = dict(os.environ, MX_CPU_ISA="baseline")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    baseline = {k: np.array(v, np.float32) for k, v in json.loads(out.stdout.strip().splitlines()[-1]).items()}
    _check(baseline)
    default = _run_all()
    for name in CASES:  # FMA contraction may change the last bit, nothing more
        np.testing.assert_allclose(default[name], baseline[name], rtol=3e-7 if name != "gelu" else 3e-6, atol=1e-37,
                                   err_msg=name)


def test_infinities_and_nan():
    x = mx.nd.array([np.inf, -np.inf, np.nan])
    np.testing.assert_array_equal(mx.nd.erf(x).asnumpy(), [1, -1, np.nan])
    np.testing.assert_array_equal(mx.nd.sigmoid(x).asnumpy(), [1, 0, np.nan])
    np.testing.assert_array_equal(mx.nd.tanh(x).asnumpy(), [1, -1, np.nan])
    gelu = mx.nd.LeakyReLU(x, act_type="gelu").asnumpy()
    assert gelu[0] == np.inf and np.isnan(gelu[2])  # -inf * Phi(-inf) = -inf * 0: NaN, as with libm's erf


@pytest.mark.parametrize("isa", ["baseline", "bogus"])
def test_isa_switch_only_takes_baseline(isa):
    # an unknown value keeps the automatic choice (and must not break anything)
    code = "import mx; print(float(mx.nd.tanh(mx.nd.array([0.5])).asnumpy()[0]))"
    out = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, MX_CPU_ISA=isa), capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert abs(float(out.stdout.strip()) - np.tanh(0.5)) < 1e-7
