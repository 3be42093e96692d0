"""3x3 stride-1 float32 convolutions with whole 16-channel blocks run oneDNN's Winograd F(4x4, 3x3)
kernels (backends/cpu/onednn_conv.cc, docs/ONEDNN.md): forward, data and weight gradients against
numpy float64 within Winograd's rounding (measured 0.5-2e-6 of the result's scale, against
2-7e-7 for the direct kernels; bound 5e-6), the same in a
hybridized Gluon training step, and which layers take it (DNNL_VERBOSE: jit_wino for the eligible
layer in all three passes, never for other shapes, none with MX_ONEDNN_WINOGRAD=0)."""
import os
import subprocess
import sys

import numpy as np
import pytest

import mx
from conv_reference import conv_grads_ref, conv_ref

needs_onednn = pytest.mark.skipif(not mx.runtime.onednn_status()[1], reason="oneDNN kernels are off in this build")


def conv_case(N, C, F, H, pad, seed):
    rng = np.random.RandomState(seed)
    x = rng.standard_normal((N, C, H, H))
    w = rng.standard_normal((F, C, 3, 3)) / np.sqrt(9 * C)
    b = rng.standard_normal(F)
    gy = rng.standard_normal((N, F, H + 2 * pad - 2, H + 2 * pad - 2))
    return x, w, b, gy


def close_to_scale(got, ref, rel):
    scale = np.abs(ref).max()
    assert scale > 0
    err = np.abs(got - ref).max()
    assert err <= rel * scale, (err, scale)


@pytest.mark.parametrize("N,C,F,H,pad", [(4, 32, 48, 12, 1), (2, 16, 16, 9, 1), (3, 64, 32, 8, 0)])
def test_forward_and_gradients_match_float64(N, C, F, H, pad):
    x, w, b, gy = conv_case(N, C, F, H, pad, seed=C + H)
    xs, ws, bs = (mx.nd.array(a.astype(np.float32)) for a in (x, w, b))
    for a in (xs, ws, bs):
        a.attach_grad()
    with mx.autograd.record():
        y = mx.nd.Convolution(xs, ws, bs, kernel=(3, 3), pad=(pad, pad), num_filter=F)
    y.backward(mx.nd.array(gy.astype(np.float32)))
    # the float32 inputs, exactly, in float64
    x32, w32, gy32 = (a.astype(np.float32).astype(np.float64) for a in (x, w, gy))
    close_to_scale(y.asnumpy(), conv_ref(x32, w32, b.astype(np.float32), pad=pad), 5e-6)
    dx, dw, db = conv_grads_ref(x32, w32, gy32, pad=pad)
    close_to_scale(xs.grad.asnumpy(), dx, 5e-6)
    close_to_scale(ws.grad.asnumpy(), dw, 5e-6)
    close_to_scale(bs.grad.asnumpy(), db, 1e-6)


def test_gluon_training_steps_match_direct_kernels():
    """Three SGD steps of a 3x3 conv stack: Winograd and direct kernels give the same weights to
    Winograd's rounding (run in subprocesses: the switch is read once)."""
    code = (
        "import mx, numpy as np\n"
        "from mx import gluon, autograd\n"
        "mx.random.seed(1)\n"
        "net = gluon.nn.HybridSequential()\n"
        "net.add(gluon.nn.Conv2D(32, 3, padding=1, in_channels=16, activation='relu'),"
        " gluon.nn.Conv2D(16, 3, padding=1, in_channels=32), gluon.nn.GlobalAvgPool2D(), gluon.nn.Dense(4))\n"
        "net.initialize(mx.init.Xavier()); net.hybridize()\n"
        "tr = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.5})\n"
        "rng = np.random.RandomState(0)\n"
        "x = mx.nd.array(rng.randn(8, 16, 10, 10)); y = mx.nd.array(rng.randint(0, 4, 8))\n"
        "for i in range(3):\n"
        "    with autograd.record():\n"
        "        l = gluon.loss.SoftmaxCrossEntropyLoss()(net(x), y)\n"
        "    l.backward(); tr.step(8)\n"
        "print(' '.join('%.9g' % v for p in net.collect_params().values() for v in p.data().asnumpy().ravel()))\n")
    out = {}
    for wino in ("1", "0"):
        env = dict(os.environ, MX_ONEDNN_WINOGRAD=wino)
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
        assert r.returncode == 0, r.stderr
        out[wino] = np.array([float(v) for v in r.stdout.split()])
    assert out["1"].size > 5000
    close_to_scale(out["1"], out["0"], 1e-5)


VERBOSE_CODE = (
    "import mx, numpy as np\n"
    "for C, F, k, s, H in [(32, 32, 3, 1, 10), (32, 32, 3, 2, 10), (32, 32, 5, 1, 10), (20, 32, 3, 1, 10),"
    " (32, 32, 3, 1, 3)]:\n"
    "    x = mx.nd.array(np.random.randn(2, C, H, H)); w = mx.nd.array(np.random.randn(F, C, k, k))\n"
    "    for a in (x, w): a.attach_grad()\n"
    "    with mx.autograd.record():\n"
    "        y = mx.nd.Convolution(x, w, kernel=(k, k), stride=(s, s), pad=(1, 1), num_filter=F, no_bias=True)\n"
    "    y.backward(); mx.nd.waitall()\n"
    "    print('LAYER', C, k, s, H, flush=True)\n")


def verbose_layers(env_extra):
    env = dict(os.environ, DNNL_VERBOSE="1", **env_extra)
    r = subprocess.run([sys.executable, "-c", VERBOSE_CODE], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    layers, cur = [], []
    for line in r.stdout.splitlines():
        if line.startswith("LAYER"):
            layers.append(cur)
            cur = []
        elif line.startswith("onednn_verbose,exec") and ",convolution," in line:
            cur.append(line)
    return layers


@needs_onednn
def test_which_layers_take_winograd():
    layers = verbose_layers({})
    assert len(layers) == 5 and all(layers)
    eligible = layers[0]
    for kind in ("forward_training", "backward_data", "backward_weights"):
        assert any(kind in ln and "wino" in ln for ln in eligible), (kind, eligible)
    # stride 2, 5x5, 20 input channels (not whole 16-channel blocks), 1x1 output maps
    for other in layers[1:]:
        assert not any("wino" in ln for ln in other), other
    off = verbose_layers({"MX_ONEDNN_WINOGRAD": "0"})
    assert not any("wino" in ln for layer in off for ln in layer)
