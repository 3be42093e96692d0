"""bfloat16 on the CPU without float32 copies (docs/ONEDNN.md, "bfloat16"):

- MX's own bf16 loops (backends/cpu/bf16_loops.h) for elemwise/broadcast add of equal shapes, add_n,
  relu and its gradient: bit for bit the float32 route (every bf16 is a float; the float sum is
  rounded once to nearest even), in the AVX-512 build and, in a subprocess, the baseline build.
- The executor's blocked values in bf16 (graph/executor_blocked.cc): conv -> BatchNorm -> relu ->
  conv (+ residual add) stays in oneDNN's layouts, BatchNorm on oneDNN's bf16 primitive; checked
  against numpy float64 on the bf16 inputs and against the same graph bound with MX_EXEC_BLOCKED=0.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

import mx
from mx import autograd, nd
from switches import onednn

S = mx.sym
ONEDNN = mx.runtime.onednn_status()[1]  # built and switched on (MX_ONEDNN=0 switches it off)
needs_onednn = pytest.mark.skipif(not ONEDNN, reason="oneDNN not built or switched off (MX_ONEDNN)")


# ---------------------------------------------------------------- bit-level references (numpy)
def bits_to_f32(b):
    return (np.asarray(b, dtype=np.uint32) << 16).view(np.float32)


def f32_to_bits(x):
    """float32 -> bf16 bits, round to nearest even, NaN kept quiet (base/half_bits.h's rule)."""
    u = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    nan = (u & 0x7FFFFFFF) > 0x7F800000
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) & 0xFFFF
    return np.where(nan, (u >> 16) | 0x40, r).astype(np.uint16)


def random_bits(rng, n, special=True):
    """bf16 patterns: normal values of mixed magnitude, plus zeros, subnormals, inf, NaN."""
    sign = rng.randint(0, 2, n).astype(np.uint16) << 15
    exp = rng.randint(110, 145, n).astype(np.uint16) << 7  # sums that round and cancel
    b = sign | exp | rng.randint(0, 128, n).astype(np.uint16)
    if special:
        sp = np.array([0x0000, 0x8000, 0x0001, 0x807F, 0x0080, 0x7F80, 0xFF80, 0x7FC0, 0xFFC1, 0x7F7F, 0xFF7F],
                      dtype=np.uint16)
        idx = rng.choice(n, 200, replace=False)
        b[idx] = sp[rng.randint(0, len(sp), 200)]
    return b


def mx_bf16(bits, shape):
    """An MX bf16 array holding exactly these bit patterns."""
    x = nd.array(bits_to_f32(bits).reshape(shape)).astype("bfloat16")
    assert np.array_equal(got_bits(x).ravel(), bits), "bf16 array construction is not exact"
    return x


def got_bits(x):
    return f32_to_bits(x.astype("float32").asnumpy())


def same_bits(got, ref):
    """Equal bits, NaN only compared as NaN (the payload of a NaN sum is the CPU's choice)."""
    g, r = got.ravel(), ref.ravel()
    gn, rn = (g & 0x7FFF) > 0x7F80, (r & 0x7FFF) > 0x7F80
    assert np.array_equal(gn, rn), "NaN positions differ"
    bad = np.nonzero((g != r) & ~rn)[0]
    assert bad.size == 0, "%d of %d differ, first at %d: got %#06x want %#06x" % (
        bad.size, g.size, bad[0], g[bad[0]], r[bad[0]])


# 70001 elements: several threads' chunks (32768 each) and a vector tail
SHAPE = (7, 10001)
N = 7 * 10001


def check_loops(rng):
    a, b, c, d = (random_bits(rng, N) for _ in range(4))
    A, B, C, D = (mx_bf16(v, SHAPE) for v in (a, b, c, d))
    fa, fb, fc, fd = (bits_to_f32(v) for v in (a, b, c, d))
    with np.errstate(all="ignore"):
        add_ref = f32_to_bits(fa + fb)
        same_bits(got_bits(nd.elemwise_add(A, B)), add_ref)
        same_bits(got_bits(A + B), add_ref)
        same_bits(got_bits(nd.broadcast_add(A, B)), add_ref)
        same_bits(got_bits(nd.add_n(A, B, C)), f32_to_bits((fa + fb) + fc))  # float sums, rounded once
        same_bits(got_bits(nd.add_n(A, B, C, D)), f32_to_bits(((fa + fb) + fc) + fd))
        relu_ref = np.where(fa > 0, a, 0).astype(np.uint16)  # NaN and -0 give +0
        same_bits(got_bits(nd.Activation(A, act_type="relu")), relu_ref)
    A.attach_grad()
    with autograd.record():
        y = nd.Activation(A, act_type="relu")
    y.backward(B)
    same_bits(got_bits(A.grad), np.where(fa > 0, b, 0).astype(np.uint16))


def test_bf16_loops_bit_exact():
    check_loops(np.random.RandomState(3))


def test_bf16_loops_bit_exact_baseline_build():
    """The same in a fresh process with MX_CPU_ISA=baseline (the SSE2 loops)."""
    code = ("import sys, numpy as np; sys.path.insert(0, %r); import test_bf16_cpu_paths as t; "
            "t.check_loops(np.random.RandomState(4)); print('ok')" % os.path.dirname(os.path.abspath(__file__)))
    r = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, MX_CPU_ISA="baseline"),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stderr[-2000:]


def test_bf16_add_in_place_and_broadcasting():
    rng = np.random.RandomState(5)
    a, b = random_bits(rng, 3 * 40, special=False), random_bits(rng, 40, special=False)
    A, B = mx_bf16(a, (3, 40)), mx_bf16(b, (40,))
    ref = f32_to_bits(bits_to_f32(a).reshape(3, 40) + bits_to_f32(b))
    same_bits(got_bits(nd.broadcast_add(A, B)), ref)  # other shapes: float32 copies, same bits
    A += mx_bf16(np.tile(b, 3), (3, 40))  # in place: output is the first input
    same_bits(got_bits(A), ref)
    x = mx_bf16(a, (3, 40))
    with pytest.raises(mx.MXNetError):
        nd.elemwise_add(x, nd.array(np.zeros((3, 41))).astype("bfloat16"))


# ---------------------------------------------------------------- executor: blocked bf16 values
def np_conv3(x, w):
    """3x3, pad 1, no bias (NCHW, float64)."""
    n, c, h, wd = x.shape
    xp = np.pad(x, [(0, 0), (0, 0), (1, 1), (1, 1)])
    y = np.zeros((n, w.shape[0], h, wd))
    for i in range(3):
        for j in range(3):
            y += np.einsum("fc,nchw->nfhw", w[:, :, i, j], xp[:, :, i:i + h, j:j + wd])
    return y


def np_bn(x, g, b, eps=1e-3):
    axes = (0, 2, 3)
    m, v = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * g.reshape(1, -1, 1, 1) + b.reshape(1, -1, 1, 1)


def chain(F1, F2):
    d = S.var("data")
    kw = dict(fix_gamma=False, eps=1e-3, momentum=0.9)
    c1 = S.Convolution(d, num_filter=F1, kernel=(3, 3), pad=(1, 1), no_bias=True, name="c1")
    r1 = S.Activation(S.BatchNorm(c1, name="bn1", **kw), act_type="relu")
    c2 = S.Convolution(r1, num_filter=F2, kernel=(3, 3), pad=(1, 1), no_bias=True, name="c2")
    bn2 = S.BatchNorm(c2, name="bn2", **kw)
    return S.Activation(bn2 + c2, act_type="relu")  # a residual add of two blocked values


def chain_ref(a):
    y1 = np_conv3(a["data"], a["c1_weight"])
    r1 = np.maximum(np_bn(y1, a["bn1_gamma"], a["bn1_beta"]), 0)
    y2 = np_conv3(r1, a["c2_weight"])
    return np.maximum(np_bn(y2, a["bn2_gamma"], a["bn2_beta"]) + y2, 0)


def run_chain(sym, arrays, head, blocked, monkeypatch):
    """Forward + backward in training mode, bf16 data/weights with float32 BatchNorm parameters."""
    monkeypatch.setenv("MX_EXEC_BLOCKED", "1" if blocked else "0")
    args = {k: nd.array(v) if ("gamma" in k or "beta" in k) else nd.array(v).astype("bfloat16")
            for k, v in arrays.items()}
    grads = {k: nd.zeros(v.shape, dtype=v.dtype) for k, v in args.items()}
    _, _, aux_shapes = sym.infer_shape(data=arrays["data"].shape)
    aux = {n: (nd.ones(s) if "var" in n else nd.zeros(s)) for n, s in zip(sym.list_auxiliary_states(), aux_shapes)}
    ex = sym.bind(mx.cpu(), args, args_grad=grads, aux_states=aux)
    c0 = mx.runtime.onednn_status()[2]
    out = ex.forward(is_train=True)[0]
    ex.backward([nd.array(head).astype("bfloat16")])
    mx.nd.waitall()
    calls = mx.runtime.onednn_status()[2] - c0
    f = lambda x: x.astype("float32").asnumpy().astype(np.float64)
    return f(out), {k: f(v) for k, v in grads.items()}, {k: v.asnumpy() for k, v in aux.items()}, calls


def chain_arrays(F1, F2, seed):
    sym = chain(F1, F2)
    rng = np.random.RandomState(seed)
    shapes, _, _ = sym.infer_shape(data=(4, 8, 9, 9))
    arrays = {n: (rng.randn(*s) * (0.3 if "weight" in n else 1) + (1.0 if "gamma" in n else 0)).astype(np.float32)
              for n, s in zip(sym.list_arguments(), shapes)}
    for k in arrays:  # the reference starts from the bf16 values MX computes with
        if "gamma" not in k and "beta" not in k:
            arrays[k] = bits_to_f32(f32_to_bits(arrays[k]))
    return sym, arrays, rng


@needs_onednn
@pytest.mark.parametrize("F1,F2", [(16, 16), (20, 16), (12, 24)])  # 20, 12, 24: padded channel blocks
def test_blocked_bf16_chain_training(monkeypatch, F1, F2):
    sym, arrays, rng = chain_arrays(F1, F2, F1 + F2)
    ref = chain_ref({k: v.astype(np.float64) for k, v in arrays.items()})
    head = bits_to_f32(f32_to_bits(rng.randn(*ref.shape).astype(np.float32)))
    out, grads, aux, calls = run_chain(sym, arrays, head, True, monkeypatch)
    scale = np.abs(ref).max()
    assert np.abs(out - ref).max() < 2e-2 * scale
    # gradients against the float64 reference's central differences along a random direction
    for name in sorted(arrays):
        v = rng.randn(*arrays[name].shape)
        h = 1e-5

        def loss(s):
            a = {k: x.astype(np.float64) for k, x in arrays.items()}
            a[name] = a[name] + s * h * v
            return float(np.sum(head * chain_ref(a)))
        fd = (loss(1) - loss(-1)) / (2 * h)
        got = float(np.sum(grads[name] * v))
        # bf16 rounds every intermediate (8 bits), and BatchNorm's gradient cancels: the bound is
        # relative to the terms' magnitude
        assert abs(got - fd) <= 5e-2 * (float(np.sum(np.abs(grads[name] * v))) + 1.0), (name, got, fd)
    # the same graph with every value plain: BatchNorm on MX's bf16 loops, no blocked values
    out0, grads0, aux0, calls0 = run_chain(sym, arrays, head, False, monkeypatch)
    assert calls >= calls0 + 4, (calls, calls0)  # BatchNorm forward x2 and backward x2 on oneDNN
    # oneDNN's BatchNorm and MX's loops both compute in float and round once: a few last bits differ
    assert np.abs(out - out0).max() <= 1e-2 * scale
    for k in grads:
        gs = np.abs(grads0[k]).max() + 1e-3
        assert np.abs(grads[k] - grads0[k]).max() <= 1e-2 * gs, k
    for k in aux:
        np.testing.assert_allclose(aux[k], aux0[k], rtol=1e-2, atol=1e-2, err_msg=k)


@needs_onednn
def test_blocked_bf16_fallback_writes_plain_first(monkeypatch):
    # c2 has 2 input channels: oneDNN's data gradient is not taken there (MX's kernel on float32
    # copies, ops/via_f32.h), so its blocked inputs must be written plain first.
    d = S.var("data")
    c1 = S.Convolution(d, num_filter=2, kernel=(3, 3), pad=(1, 1), no_bias=True, name="c1")
    r1 = S.Activation(S.BatchNorm(c1, name="bn1", fix_gamma=False), act_type="relu")
    c2 = S.Convolution(r1, num_filter=16, kernel=(3, 3), pad=(1, 1), no_bias=True, name="c2")
    sym = S.Activation(c2, act_type="relu")
    rng = np.random.RandomState(11)
    shapes, _, _ = sym.infer_shape(data=(2, 8, 7, 7))
    arrays = {n: (rng.randn(*s) * 0.5 + (1.0 if "gamma" in n else 0)).astype(np.float32)
              for n, s in zip(sym.list_arguments(), shapes)}
    head = rng.randn(2, 16, 7, 7).astype(np.float32)
    out, grads, _, _ = run_chain(sym, arrays, head, True, monkeypatch)
    out0, grads0, _, _ = run_chain(sym, arrays, head, False, monkeypatch)
    np.testing.assert_allclose(out, out0, rtol=2e-2, atol=2e-2 * np.abs(out0).max())
    for k in grads:
        np.testing.assert_allclose(grads[k], grads0[k], rtol=3e-2, atol=3e-2 * (np.abs(grads0[k]).max() + 1e-3),
                                   err_msg=k)


def residual_net():
    from mx.gluon import nn

    class Block(nn.HybridBlock):
        def __init__(self, **kw):
            super().__init__(**kw)
            with self.name_scope():
                self.c1 = nn.Conv2D(16, 3, padding=1, use_bias=False)
                self.b1 = nn.BatchNorm()
                self.c2 = nn.Conv2D(16, 3, padding=1, use_bias=False)
                self.b2 = nn.BatchNorm()

        def hybrid_forward(self, F, x):
            y = F.Activation(self.b1(self.c1(x)), act_type="relu")
            return F.Activation(self.b2(self.c2(y)) + x, act_type="relu")

    net = nn.HybridSequential()
    net.add(nn.Conv2D(16, 3, padding=1, use_bias=False), nn.BatchNorm(), nn.Activation("relu"), Block(),
            nn.GlobalAvgPool2D(), nn.Dense(4))
    return net


def gluon_bf16_train(monkeypatch, blocked, steps=3):
    monkeypatch.setenv("MX_EXEC_BLOCKED", "1" if blocked else "0")
    mx.random.seed(7)
    net = residual_net()
    net.initialize(mx.init.Xavier())
    rng = np.random.RandomState(0)
    x = nd.array(rng.randn(8, 3, 10, 10))
    net(x)
    net.cast("bfloat16")
    net.hybridize(static_alloc=True)
    x = x.astype("bfloat16")
    label = nd.array(rng.randint(0, 4, 8)).astype("bfloat16")
    loss = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    tr = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1, "momentum": 0.9,
                                                          "multi_precision": True})
    losses = []
    for _ in range(steps):
        with autograd.record():
            L = loss(net(x), label)
        L.backward()
        tr.step(8)
        losses.append(float(L.astype("float32").mean().asscalar()))
    params = {"%d" % i: p.data().astype("float32").asnumpy() for i, p in enumerate(net.collect_params().values())}
    return params, losses


@needs_onednn
def test_gluon_bf16_training_blocked_matches_plain(monkeypatch):
    p1, l1 = gluon_bf16_train(monkeypatch, True)
    p0, l0 = gluon_bf16_train(monkeypatch, False)
    np.testing.assert_allclose(l1, l0, rtol=2e-2)
    assert l1[-1] < l1[0]  # it trains
    for k in p0:  # weights, gamma/beta, moving statistics after 3 SGD steps (bf16 roundings differ)
        np.testing.assert_allclose(p1[k], p0[k], rtol=3e-2, atol=3e-2 * (np.abs(p0[k]).max() + 1e-3), err_msg=k)


# ---------------------------------------------------------------- Deconvolution in bf16 (oneDNN)
def np_deconv(x, w, b, stride, dil, pad, adj, groups, F):
    """Transposed convolution in float64: every input position scatters its kernel-weighted value."""
    n, c, h, wd = x.shape
    cg, fg = c // groups, F // groups
    k = w.shape[2]
    full_h, full_w = stride * (h - 1) + dil * (k - 1) + 1, stride * (wd - 1) + dil * (k - 1) + 1
    y = np.zeros((n, F, full_h + adj, full_w + adj))
    for g in range(groups):
        xg, wg = x[:, g * cg:(g + 1) * cg], w[g * cg:(g + 1) * cg]
        for i in range(k):
            for j in range(k):
                y[:, g * fg:(g + 1) * fg, i * dil:i * dil + stride * (h - 1) + 1:stride,
                  j * dil:j * dil + stride * (wd - 1) + 1:stride] += np.einsum("nchw,cf->nfhw", xg, wg[:, :, i, j])
    oh, ow = full_h - 2 * pad + adj, full_w - 2 * pad + adj
    y = y[:, :, pad:pad + oh, pad:pad + ow]
    return y + (b.reshape(1, -1, 1, 1) if b is not None else 0)


def np_deconv_grads(x, w, dy, stride, dil, pad, groups, F):
    """The adjoints of np_deconv: dy put back on the uncropped grid, gathered where x scattered."""
    n, c, h, wd = x.shape
    cg, fg = c // groups, F // groups
    k = w.shape[2]
    full_h, full_w = stride * (h - 1) + dil * (k - 1) + 1, stride * (wd - 1) + dil * (k - 1) + 1
    full = np.zeros((n, F, max(full_h, pad + dy.shape[2]), max(full_w, pad + dy.shape[3])))
    full[:, :, pad:pad + dy.shape[2], pad:pad + dy.shape[3]] = dy
    gx, gw = np.zeros_like(x), np.zeros_like(w)
    for g in range(groups):
        xs, fs = slice(g * cg, (g + 1) * cg), slice(g * fg, (g + 1) * fg)
        for i in range(k):
            for j in range(k):
                d = full[:, fs, i * dil:i * dil + stride * (h - 1) + 1:stride, j * dil:j * dil + stride * (wd - 1) + 1:stride]
                gx[:, xs] += np.einsum("nfhw,cf->nchw", d, w[xs, :, i, j])
                gw[xs, :, i, j] += np.einsum("nchw,nfhw->cf", x[:, xs], d)
    return gx, gw


def test_deconvolution_reference_adjoints():
    # the gradient reference against central differences of the float64 forward
    rng = np.random.RandomState(1)
    x, w = rng.randn(1, 4, 3, 4), rng.randn(4, 3, 3, 3)
    dy = rng.randn(*np_deconv(x, w, None, 2, 2, 1, 1, 2, 6).shape)
    gx, gw = np_deconv_grads(x, w, dy, 2, 2, 1, 2, 6)
    for a, g in ((x, gx), (w, gw)):
        v = rng.randn(*a.shape)
        moved = lambda t: np_deconv(x + t * v if a is x else x, w + t * v if a is w else w, None, 2, 2, 1, 1, 2, 6)
        fd = (np.sum(dy * moved(1e-6)) - np.sum(dy * moved(-1e-6))) / 2e-6
        assert abs(fd - np.sum(g * v)) < 1e-6 * (abs(fd) + 1)


def rounded(rng, shape, scale=1.0):
    return bits_to_f32(f32_to_bits((rng.randn(*shape) * scale).astype(np.float32))).astype(np.float64)


@pytest.mark.parametrize("on", [True, False] if ONEDNN else [False])
@pytest.mark.parametrize("stride,dil,pad,adj,groups,bias", [(2, 1, 1, 1, 1, True), (1, 1, 0, 0, 2, False),
                                                           (2, 2, 2, 1, 1, False), (3, 1, 0, 2, 1, True)])
def test_deconvolution_bf16(on, stride, dil, pad, adj, groups, bias):
    rng = np.random.RandomState(stride * 10 + pad + groups)
    C, F = 8, 12
    x, w, b = rounded(rng, (2, C, 5, 6)), rounded(rng, (C, F // groups, 3, 3), 0.3), rounded(rng, (F,))
    ref = np_deconv(x, w, b if bias else None, stride, dil, pad, adj, groups, F)
    dy = rounded(rng, ref.shape)
    X, W, B = (nd.array(v).astype("bfloat16") for v in (x, w, b))
    for a in (X, W, B):
        a.attach_grad()
    kw = dict(kernel=(3, 3), num_filter=F, stride=(stride,) * 2, dilate=(dil,) * 2, pad=(pad,) * 2, adj=(adj,) * 2,
              num_group=groups, no_bias=not bias)
    with onednn(on):
        c0 = mx.runtime.onednn_status()[2]
        with autograd.record():
            y = nd.Deconvolution(X, W, B, **kw) if bias else nd.Deconvolution(X, W, **kw)
        y.backward(nd.array(dy).astype("bfloat16"))
        mx.nd.waitall()
        ran = mx.runtime.onednn_status()[2] - c0
    assert "bfloat16" in str(y.dtype) and "bfloat16" in str(X.grad.dtype)
    if on:
        assert ran == 3, ran  # forward, data and weight gradients on oneDNN's bf16 primitives
    f = lambda a: a.astype("float32").asnumpy().astype(np.float64)
    assert np.abs(f(y) - ref).max() <= 1.5e-2 * np.abs(ref).max()
    gx, gw = np_deconv_grads(x, w, dy, stride, dil, pad, groups, F)
    assert np.abs(f(X.grad) - gx).max() <= 1.5e-2 * np.abs(gx).max()
    assert np.abs(f(W.grad) - gw).max() <= 1.5e-2 * np.abs(gw).max()
    if bias:
        gb = dy.sum(axis=(0, 2, 3))
        assert np.abs(f(B.grad) - gb).max() <= 8e-3 * np.abs(gb).max()


# ---------------------------------------------------------------- softmax / log_softmax gradients
@pytest.mark.parametrize("on", [True, False] if ONEDNN else [False])
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("name,shape,axis", [("softmax", (70, 100), -1), ("log_softmax", (70, 100), -1),
                                             ("softmax", (6, 40, 30), 1), ("log_softmax", (6, 40, 30), 1),
                                             ("log_softmax", (64, 10), -1)])  # 640 elements: MX's loop
def test_softmax_gradients(on, dtype, name, shape, axis):
    rng = np.random.RandomState(len(shape) + shape[-1])
    x64, dy64 = rounded(rng, shape, 2.0), rounded(rng, shape)
    X, DY = nd.array(x64).astype(dtype), nd.array(dy64).astype(dtype)
    X.attach_grad()
    with onednn(on):
        c0 = mx.runtime.onednn_status()[2]
        with autograd.record():
            y = getattr(nd, name)(X, axis=axis)
        y.backward(DY)
        mx.nd.waitall()
        ran = mx.runtime.onednn_status()[2] - c0
    if on:  # the forward always, the gradient from 4096 elements on
        assert ran == (2 if np.prod(shape) >= 4096 else 1), ran
    e = np.exp(x64 - x64.max(axis=axis, keepdims=True))
    p = e / e.sum(axis=axis, keepdims=True)
    if name == "softmax":
        ref = p * (dy64 - np.sum(dy64 * p, axis=axis, keepdims=True))
    else:
        ref = dy64 - p * np.sum(dy64, axis=axis, keepdims=True)
    got = X.grad.astype("float32").asnumpy().astype(np.float64)
    scale = np.abs(ref).max()
    # float32: y is rounded before the gradient reads it (oneDNN's log_softmax output is up to ~15
    # ulps off, and exp(y) carries that); bf16: 8 bits for y, dy and dx
    tol = (2e-6 if name == "softmax" else 1e-5) if dtype == "float32" else 1.5e-2
    assert np.abs(got - ref).max() <= tol * scale, np.abs(got - ref).max() / scale


# ---------------------------------------------------------------- other activations, natively in bf16
@pytest.mark.parametrize("act", ["sigmoid", "tanh", "softrelu", "softsign"])
def test_activation_bf16_native(act):
    # widened, computed with the float32 kernel's formula, rounded once: the float32 route's bits,
    # and within bf16's rounding of float64
    rng = np.random.RandomState(9)
    a, g = random_bits(rng, 5000, special=False), random_bits(rng, 5000, special=False)
    a = np.where(np.abs(bits_to_f32(a)) < 30, a, 0).astype(np.uint16)  # the interesting range
    X, G = mx_bf16(a, (50, 100)), mx_bf16(g, (50, 100))
    X.attach_grad()
    with autograd.record():
        y = nd.Activation(X, act_type=act)
    y.backward(G)
    # the float32 route: the float32 kernels on widened copies (the gradient reads the bf16 output)
    X32, G32, Y32 = X.astype("float32"), G.astype("float32"), y.astype("float32")
    same_bits(got_bits(y), f32_to_bits(nd.Activation(X32, act_type=act).asnumpy()))
    dx32 = nd._internal._backward_Activation(G32, X32, Y32, act_type=act)
    same_bits(got_bits(X.grad), f32_to_bits(dx32.asnumpy()))
    x64 = bits_to_f32(a).reshape(50, 100).astype(np.float64)
    g64, y64 = bits_to_f32(g).reshape(50, 100).astype(np.float64), bits_to_f32(got_bits(y)).astype(np.float64)
    f, df = {"sigmoid": (lambda v: 1 / (1 + np.exp(-v)), lambda v, o: o * (1 - o)),
             "tanh": (np.tanh, lambda v, o: 1 - o * o),
             "softrelu": (lambda v: np.logaddexp(0, v), lambda v, o: 1 / (1 + np.exp(-v))),
             "softsign": (lambda v: v / (1 + np.abs(v)), lambda v, o: 1 / (1 + np.abs(v)) ** 2)}[act]
    np.testing.assert_allclose(y64, f(x64), rtol=8e-3, atol=1e-37)
    ref = g64 * df(x64, y64)  # the gradient of the rounded output, as MXNet defines it for these
    np.testing.assert_allclose(bits_to_f32(got_bits(X.grad)), ref, rtol=1.6e-2, atol=1e-37)
