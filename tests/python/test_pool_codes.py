"""2x2 max pooling in training graphs with the forward's argmax codes (Pooling's hidden workspace
output, backends/cpu/onednn_pool.cc): where the pooling's input is a blocked value, the forward
writes one byte per output (which of the window's four values is its first maximum, and whether
the maximum is positive) and the backward reads those bytes and dy instead of x and y.

The pooling sits between two 1x1 convolutions with identity weights, so its input is the data
itself, kept blocked, and the data gradient is the pooling's gradient, both exact. Integer data
makes ties common: the gradient must go to each window's first maximum in row-major order (as
MXNet), and with a relu before the pooling only where that maximum is positive. Checked against
numpy for channel counts that fill 16-lane blocks, pad one (24: the AVX-512 rows' scalar tail on
channels-last values) and for repeated forwards, and once with MX_CPU_ISA=baseline (the scalar
rows)."""
import os
import subprocess
import sys

import numpy as np
import pytest

import mx

S = mx.sym


def np_pool_grads(x, head, with_relu):
    """forward (max of each 2x2 window) and the data gradient: head at each window's first
    maximum (row-major), masked by relu' (maximum > 0) when with_relu."""
    n, c, h, w = x.shape
    win = x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2, w // 2, 4)
    y = win.max(axis=-1)
    first = np.argmax(win, axis=-1)  # numpy's argmax takes the first maximum
    g = head * (y > 0) if with_relu else head
    dx = np.zeros_like(win)
    np.put_along_axis(dx, first[..., None], g[..., None], axis=-1)
    dx = dx.reshape(n, c, h // 2, w // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h, w)
    return (np.maximum(y, 0) if with_relu else y), dx


def run(c, hw, with_relu, seeds):
    """the bound graph's output and data gradient after a forward per seed (the last one counts)
    and one backward; with the numpy reference of the last seed."""
    data = S.Variable("data")
    a = S.Convolution(data, num_filter=c, kernel=(1, 1), no_bias=True, name="c1")
    if with_relu:
        a = S.Activation(a, act_type="relu")
    p = S.Pooling(a, kernel=(2, 2), stride=(2, 2), pool_type="max")
    out = S.Convolution(p, num_filter=c, kernel=(1, 1), no_bias=True, name="c2")
    eye = np.eye(c, dtype=np.float32).reshape(c, c, 1, 1)
    n = 4
    args = {"data": mx.nd.zeros((n, c, hw, hw)), "c1_weight": mx.nd.array(eye), "c2_weight": mx.nd.array(eye)}
    grads = {"data": mx.nd.zeros((n, c, hw, hw))}
    ex = out.bind(mx.cpu(), args, args_grad=grads, grad_req={"data": "write", "c1_weight": "null", "c2_weight": "null"})
    for seed in seeds:
        rng = np.random.RandomState(seed)
        x = rng.randint(-2, 3, size=(n, c, hw, hw)).astype(np.float32)  # many ties, zeros and negatives
        args["data"][:] = x
        y = ex.forward(is_train=True)[0].asnumpy()
    head = rng.randn(*y.shape).astype(np.float32)
    ex.backward([mx.nd.array(head)])
    want_y, want_dx = np_pool_grads(x.astype(np.float64), head.astype(np.float64), with_relu)
    return y, grads["data"].asnumpy(), want_y.astype(np.float32), want_dx.astype(np.float32)


@pytest.mark.parametrize("with_relu", [True, False])
@pytest.mark.parametrize("c,hw", [(16, 8), (24, 12), (32, 6), (48, 16)])
def test_pool_codes_match_numpy(c, hw, with_relu):
    y, dx, want_y, want_dx = run(c, hw, with_relu, seeds=[c])
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(dx, want_dx)


def test_codes_follow_the_last_forward():
    y, dx, want_y, want_dx = run(16, 8, True, seeds=[1, 2, 3])
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(dx, want_dx)


def test_scalar_rows_without_avx512():
    code = ("import sys; sys.path.insert(0, %r)\n"
            "import numpy as np, test_pool_codes as t\n"
            "for c, hw, r in [(16, 8, True), (24, 12, False), (32, 6, True)]:\n"
            "    y, dx, wy, wdx = t.run(c, hw, r, seeds=[c])\n"
            "    np.testing.assert_array_equal(y, wy)\n"
            "    np.testing.assert_array_equal(dx, wdx)\n"
            "print('ok')\n") % os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, MX_CPU_ISA="baseline")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0 and "ok" in r.stdout, r.stderr[-3000:]
