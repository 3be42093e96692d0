"""Convolutions whose kernel taps partly read only padding (oneDNN runs them with the kernel
cropped to the live taps, backends/cpu/onednn_conv.cc crop_taps) and convolutions with a single
output position (matrix products over the live taps, ops/nn/conv_one_position.h): outputs and all
gradients against numpy float64, the dead taps' weight gradient exactly zero, equality with oneDNN
off, and Gluon training over several steps with changing weights (a stale cropped weight would
show)."""
import os
import subprocess
import sys

import numpy as np
import pytest

import mx

needs_onednn = pytest.mark.skipif(not mx.runtime.onednn_status()[0], reason="libmx built without oneDNN")


def _taps(w):
    return list(np.ndindex(*w.shape[2:]))


def _window(tap, dilate, stride, out):
    return tuple(slice(t * d, t * d + s * (o - 1) + 1, s) for t, d, s, o in zip(tap, dilate, stride, out))


def conv_nd(x, w, b, stride, pad, dilate, groups):
    """float64 N-d convolution with zero padding (MX's geometry), by taps."""
    n, c = x.shape[:2]
    f, cg = w.shape[:2]
    xp = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in pad])
    out = [(x.shape[2 + i] + 2 * pad[i] - dilate[i] * (w.shape[2 + i] - 1) - 1) // stride[i] + 1
           for i in range(x.ndim - 2)]
    y = np.zeros([n, f] + out)
    fg = f // groups
    for g in range(groups):
        cs, fs = slice(g * cg, (g + 1) * cg), slice(g * fg, (g + 1) * fg)
        for tap in _taps(w):
            patch = xp[(slice(None), cs) + _window(tap, dilate, stride, out)]
            y[:, fs] += np.einsum("nc...,fc->nf...", patch, w[(fs, slice(None)) + tap])
    return y + b.reshape([1, f] + [1] * len(out))


def conv_nd_grads(x, w, gy, stride, pad, dilate, groups):
    """dx, dw, db of sum(conv_nd(x, w, b) * gy)."""
    f, cg = w.shape[:2]
    out = list(gy.shape[2:])
    xp = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in pad])
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    fg = f // groups
    for g in range(groups):
        cs, fs = slice(g * cg, (g + 1) * cg), slice(g * fg, (g + 1) * fg)
        for tap in _taps(w):
            sl = (slice(None), cs) + _window(tap, dilate, stride, out)
            red = [0] + list(range(2, gy.ndim))  # batch and spatial axes
            dw[(fs, slice(None)) + tap] += np.tensordot(gy[:, fs], xp[sl], axes=(red, red))
            dxp[sl] += np.einsum("nf...,fc->nc...", gy[:, fs], w[(fs, slice(None)) + tap])
    dx = dxp[(slice(None), slice(None)) + tuple(slice(p, p + s) for p, s in zip(pad, x.shape[2:]))]
    return dx, dw, gy.sum(axis=tuple(i for i in range(gy.ndim) if i != 1))


def live_taps(in_, k, s, p, d, out):
    """Per axis, which taps meet the input for some output position (independent of the C++ rule)."""
    return [np.array([any(0 <= o * s[i] + t * d[i] - p[i] < in_[i] for o in range(out[i])) for t in range(k[i])])
            for i in range(len(k))]


# (N, C, F, input spatial, kernel, stride, pad, dilate, groups)
CASES = [
    (4, 32, 32, (1, 1), (3, 3), (1, 1), (1, 1), (1, 1), 1),   # ResNet-18's last stage at 32x32: centre tap only
    (4, 32, 48, (2, 2), (3, 3), (2, 2), (1, 1), (1, 1), 1),   # its stride-2 entry, 2x2 -> 1x1: 2x2 taps live
    (3, 16, 16, (2, 2), (5, 5), (1, 1), (2, 2), (1, 1), 1),   # 5x5 on a 2x2 map: 3x3 live
    (2, 16, 32, (1, 3), (3, 3), (1, 1), (1, 1), (1, 1), 1),   # cropped along one axis only
    (2, 16, 16, (2, 2), (3, 3), (1, 1), (2, 2), (2, 2), 1),   # dilated: only the centre meets the input
    (2, 32, 32, (1, 1), (3, 3), (1, 1), (1, 1), (1, 1), 2),   # groups
    (2, 16, 16, (2,), (5,), (1,), (2,), (1,), 1),              # 1-D
    (2, 16, 16, (1, 2, 2), (3, 3, 3), (1, 1, 1), (1, 1, 1), (1, 1, 1), 1),  # 3-D
    (2, 16, 16, (2, 2), (2, 2), (2, 2), (1, 1), (2, 2), 1),   # shifted padding would be negative: full kernel
    (2, 16, 16, (4, 4), (3, 3), (1, 1), (1, 1), (1, 1), 1),   # every tap live: unchanged path
    # single output positions (conv_one_position.h):
    (2, 16, 16, (1,), (3,), (1,), (1,), (1,), 1),              # 1-D, centre tap
    (2, 8, 12, (3, 3), (3, 3), (1, 1), (0, 0), (1, 1), 1),    # every tap live, 9 input positions
    (3, 8, 12, (1, 1), (1, 1), (1, 1), (0, 0), (1, 1), 1),    # 1x1 on 1x1: the arrays are the matrices
    (2, 8, 12, (2, 3), (3, 3), (2, 3), (1, 1), (1, 1), 1),    # 2x3 -> 1x1: 2x3 taps read distinct positions
]


def _run(case, x, w, b, dy, w_grad_fill, x_grad=True):
    N, C, F, ins, k, s, p, d, g = case
    xs, ws, bs = mx.nd.array(x, dtype=x.dtype), mx.nd.array(w, dtype=w.dtype), mx.nd.array(b, dtype=b.dtype)
    for a in (xs, ws, bs) if x_grad else (ws, bs):
        a.attach_grad()
    ws.grad[:] = w_grad_fill  # the dead taps' gradient must be written (zero), not left alone
    with mx.autograd.record():
        y = mx.nd.Convolution(xs, ws, bs, kernel=k, stride=s, pad=p, dilate=d, num_filter=F, num_group=g)
    y.backward(mx.nd.array(dy, dtype=dy.dtype))
    return y.asnumpy(), xs.grad.asnumpy() if x_grad else None, ws.grad.asnumpy(), bs.grad.asnumpy()


@pytest.mark.parametrize("case", CASES, ids=lambda c: "x".join(map(str, c[3])) + "_k" + "x".join(map(str, c[4]))
                         + "_s%d_p%d_d%d_g%d" % (c[5][0], c[6][0], c[7][0], c[8]))
def test_dead_taps_forward_and_gradients_vs_numpy(case):
    N, C, F, ins, k, s, p, d, g = case
    rng = np.random.RandomState(len(ins) * 100 + k[0] * 10 + s[0] + g)
    x = rng.randn(N, C, *ins)
    w = rng.randn(F, C // g, *k)
    b = rng.randn(F)
    y_ref = conv_nd(x, w, b, s, p, d, g)
    dy = rng.randn(*y_ref.shape)
    dx_ref, dw_ref, db_ref = conv_nd_grads(x, w, dy, s, p, d, g)
    got = _run(case, x.astype(np.float32), w.astype(np.float32), b.astype(np.float32), dy.astype(np.float32), 7.0)
    for name, a, r in zip(("y", "dx", "dw", "db"), got, (y_ref, dx_ref, dw_ref, db_ref)):
        np.testing.assert_allclose(a, r, rtol=1e-4, atol=1e-4 * max(1.0, np.abs(r).max()), err_msg=name)
    # Taps that never meet the input have gradient exactly zero.
    live = live_taps(ins, k, s, p, d, y_ref.shape[2:])
    mask = np.ones(k, bool)
    for i, l in enumerate(live):
        shape = [1] * len(k)
        shape[i] = k[i]
        mask &= l.reshape(shape)
    assert (got[2][..., ~mask] == 0).all()
    # The same values with oneDNN switched off (MX's own kernels).
    mx.runtime.set_onednn_enabled(False)
    try:
        off = _run(case, x.astype(np.float32), w.astype(np.float32), b.astype(np.float32), dy.astype(np.float32), 7.0)
    finally:
        mx.runtime.set_onednn_enabled(True)
    for name, a, o in zip(("y", "dx", "dw", "db"), got, off):
        np.testing.assert_allclose(a, o, rtol=1e-4, atol=1e-4 * max(1.0, np.abs(o).max()), err_msg=name)


@pytest.mark.parametrize("case", [CASES[0], CASES[1], CASES[11]], ids=["1x1", "2x2_s2", "3x3_all_live"])
def test_one_position_float64_and_without_data_gradient(case):
    """float64 (MX's own path only) to 1e-10, and a first layer (no data gradient wanted)."""
    N, C, F, ins, k, s, p, d, g = case
    rng = np.random.RandomState(21)
    x, w, b = rng.randn(N, C, *ins), rng.randn(F, C // g, *k), rng.randn(F)
    y_ref = conv_nd(x, w, b, s, p, d, g)
    dy = rng.randn(*y_ref.shape)
    dx_ref, dw_ref, db_ref = conv_nd_grads(x, w, dy, s, p, d, g)
    y, dx, dw, db = _run(case, x, w, b, dy, 7.0)
    for name, a, r in zip(("y", "dx", "dw", "db"), (y, dx, dw, db), (y_ref, dx_ref, dw_ref, db_ref)):
        np.testing.assert_allclose(a, r, rtol=1e-10, atol=1e-10, err_msg=name)
    y, dx, dw, db = _run(case, *(a.astype(np.float32) for a in (x, w, b, dy)), 7.0, x_grad=False)
    assert dx is None
    np.testing.assert_allclose(dw, dw_ref, rtol=1e-4, atol=1e-4 * np.abs(dw_ref).max())
    np.testing.assert_allclose(db, db_ref, rtol=1e-4, atol=1e-4)


def test_dead_taps_share_weight_with_full_kernel_layer():
    """One weight array read by a cropped layer (1x1 map) and a full one (4x4 map), changed in
    between: each must read its own view of the current weight (the blocked-weight cache is keyed
    by the source view and version)."""
    rng = np.random.RandomState(5)
    w = mx.nd.array(rng.randn(16, 16, 3, 3))
    for step in range(3):
        xs = [rng.randn(2, 16, 1, 1), rng.randn(2, 16, 4, 4)]
        for x in xs:
            y = mx.nd.Convolution(mx.nd.array(x), w, kernel=(3, 3), pad=(1, 1), num_filter=16, no_bias=True)
            ref = conv_nd(x, w.asnumpy().astype(np.float64), np.zeros(16), (1, 1), (1, 1), (1, 1), 1)
            np.testing.assert_allclose(y.asnumpy(), ref, rtol=1e-4, atol=1e-4)
        w += mx.nd.array(rng.randn(16, 16, 3, 3))


def _tiny_net():
    net = mx.gluon.nn.HybridSequential()
    # 2x2 input: 3x3 same (all taps live), 3x3 stride 2 to 1x1 (2x2 taps live), two 3x3 layers on
    # 1x1 maps (centre taps only), as ResNet-18's last stage at 32x32.
    net.add(mx.gluon.nn.Conv2D(16, 3, padding=1, in_channels=16), mx.gluon.nn.BatchNorm(in_channels=16),
            mx.gluon.nn.Activation("relu"),
            mx.gluon.nn.Conv2D(32, 3, strides=2, padding=1, in_channels=16), mx.gluon.nn.Activation("relu"),
            mx.gluon.nn.Conv2D(32, 3, padding=1, in_channels=32), mx.gluon.nn.BatchNorm(in_channels=32),
            mx.gluon.nn.Activation("relu"),
            mx.gluon.nn.Conv2D(32, 3, padding=1, in_channels=32),
            mx.gluon.nn.Flatten(), mx.gluon.nn.Dense(5, in_units=32))
    return net


def _train(onednn, steps=4):
    mx.runtime.set_onednn_enabled(onednn)
    try:
        mx.random.seed(3)
        net = _tiny_net()
        net.initialize(mx.init.Xavier())
        net.hybridize(static_alloc=True, static_shape=True)
        rng = np.random.RandomState(11)
        trainer = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.2, "momentum": 0.9, "wd": 1e-3})
        loss_fn = mx.gluon.loss.SoftmaxCrossEntropyLoss()
        history = []
        for _ in range(steps):
            x = mx.nd.array(rng.randn(8, 16, 2, 2))
            y = mx.nd.array(rng.randint(0, 5, 8).astype(np.float32))
            with mx.autograd.record():
                loss = loss_fn(net(x), y)
            loss.backward()
            trainer.step(8)
            history.append([p.data().asnumpy().copy() for p in net.collect_params().values()] + [loss.asnumpy()])
        return history
    finally:
        mx.runtime.set_onednn_enabled(True)


@needs_onednn
def test_dead_taps_gluon_training_matches_onednn_off():
    """Several SGD steps: every step's loss and parameters equal MX's own kernels' (weights change
    each step, so a cropped weight reused from an older version would show)."""
    on, off = _train(True), _train(False)
    for step, (a, b) in enumerate(zip(on, off)):
        for i, (u, v) in enumerate(zip(a, b)):
            np.testing.assert_allclose(u, v, rtol=2e-4, atol=2e-5, err_msg="step %d array %d" % (step, i))


@needs_onednn
@pytest.mark.parametrize("crop", ["1", "0"])
def test_dead_taps_run_cropped_on_onednn(crop):
    """DNNL_VERBOSE: a 5x5 pad-2 layer on 2x2 maps runs oneDNN's 3x3 convolution in all three
    passes; MX_ONEDNN_CROP_TAPS=0 runs the full 5x5 kernel."""
    code = ("import numpy as np, mx\n"
            "x = mx.nd.array(np.random.rand(4, 32, 2, 2)); w = mx.nd.array(np.random.rand(32, 32, 5, 5))\n"
            "x.attach_grad(); w.attach_grad()\n"
            "with mx.autograd.record():\n"
            "    y = mx.nd.Convolution(x, w, kernel=(5, 5), pad=(2, 2), num_filter=32, no_bias=True)\n"
            "y.backward(); mx.nd.waitall()\n")
    env = dict(os.environ, DNNL_VERBOSE="1", MX_ONEDNN_CROP_TAPS=crop)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    runs = [line for line in out.splitlines() if ",exec," in line and ",convolution," in line]
    kinds = {line.split(",")[5] for line in runs}
    assert kinds == {"forward_training", "backward_data", "backward_weights"}, runs
    want = "kh3sh1dh0ph1" if crop == "1" else "kh5sh1dh0ph2"
    assert all("_ih2oh2%s" % want in line for line in runs), runs
