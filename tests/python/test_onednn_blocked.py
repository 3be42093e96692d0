"""Blocked activations between oneDNN steps of the executor (graph/executor_blocked.cc).

Chains of convolution / pooling / relu / add run with values kept in oneDNN's blocked layout;
every way a value leaves the chain (graph output, an intermediate the user reads, a non-oneDNN
op, argument gradients) must see the plain values. Checked against a numpy float64 forward
(outputs, and directional finite differences for the gradients) and against the same graph
bound with MX_EXEC_BLOCKED=0.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

import mx


# ---- numpy float64 reference (NCHW) -------------------------------------------------------

def np_conv(x, w, b=None, stride=1, pad=0, dilate=1, groups=1):
    nd_sp = x.ndim - 2
    st, pd, dl = ([v] * nd_sp if np.isscalar(v) else list(v) for v in (stride, pad, dilate))
    xp = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in pd])
    N, C = x.shape[:2]
    F, Cg = w.shape[:2]
    ks = w.shape[2:]
    out_sp = [(xp.shape[2 + i] - dl[i] * (ks[i] - 1) - 1) // st[i] + 1 for i in range(nd_sp)]
    y = np.zeros((N, F) + tuple(out_sp))
    Fg = F // groups
    for tap in np.ndindex(*ks):
        sl = tuple(slice(tap[i] * dl[i], tap[i] * dl[i] + st[i] * (out_sp[i] - 1) + 1, st[i]) for i in range(nd_sp))
        patch = xp[(slice(None), slice(None)) + sl]  # N, C, out...
        for g in range(groups):
            wt = w[(slice(g * Fg, (g + 1) * Fg), slice(None)) + tap]  # Fg, Cg
            y[:, g * Fg:(g + 1) * Fg] += np.einsum("fc,nc...->nf...", wt, patch[:, g * Cg:(g + 1) * Cg])
    if b is not None:
        y += b.reshape((1, F) + (1,) * nd_sp)
    return y


def np_pool(x, k, stride, pad=0, kind="max"):
    nd_sp = x.ndim - 2
    k, st, pd = ([v] * nd_sp if np.isscalar(v) else list(v) for v in (k, stride, pad))
    fill = -np.inf if kind == "max" else 0.0
    xp = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in pd], constant_values=fill)
    out_sp = [(x.shape[2 + i] + 2 * pd[i] - k[i]) // st[i] + 1 for i in range(nd_sp)]
    acc = None
    for tap in np.ndindex(*k):
        sl = tuple(slice(tap[i], tap[i] + st[i] * (out_sp[i] - 1) + 1, st[i]) for i in range(nd_sp))
        v = xp[(slice(None), slice(None)) + sl]
        acc = v if acc is None else (np.maximum(acc, v) if kind == "max" else acc + v)
    return acc if kind == "max" else acc / np.prod(k)  # avg: count_include_pad (MXNet's default)


def relu(x):
    return np.maximum(x, 0)


# ---- helpers -------------------------------------------------------------------------------

def bind_run(sym, arrays, blocked, monkeypatch, train=True, head=None, grad_req="write"):
    """outputs (list of numpy) and gradients (dict) of sym with MX_EXEC_BLOCKED set at bind."""
    monkeypatch.setenv("MX_EXEC_BLOCKED", "1" if blocked else "0")
    args = {k: mx.nd.array(v) for k, v in arrays.items()}
    grads = {k: mx.nd.zeros(v.shape) for k, v in arrays.items()} if train else None
    ex = sym.bind(mx.cpu(), args, args_grad=grads, grad_req=grad_req if train else "null")
    outs = [o.asnumpy() for o in ex.forward(is_train=train)]
    if not train:
        return outs, None, ex
    ex.backward([mx.nd.array(h) for h in head])
    return outs, {k: v.asnumpy() for k, v in grads.items()}, ex


def params_for(sym, data_shape, rng, scale=0.3):
    shapes, _, _ = sym.infer_shape(data=data_shape)
    return {n: (rng.randn(*s) * scale).astype(np.float32) for n, s in zip(sym.list_arguments(), shapes)}


def check_chain(sym, np_fwd, data_shape, monkeypatch, seed=0, rtol=2e-4, atol=2e-4):
    """Outputs vs numpy, gradients vs directional finite differences of numpy, blocked vs unblocked."""
    rng = np.random.RandomState(seed)
    arrays = params_for(sym, data_shape, rng)
    ref = [np.asarray(r) for r in np_fwd({k: v.astype(np.float64) for k, v in arrays.items()})]
    heads = [rng.randn(*r.shape).astype(np.float32) for r in ref]
    outs, grads, _ = bind_run(sym, arrays, True, monkeypatch, head=heads)
    for o, r in zip(outs, ref):
        np.testing.assert_allclose(o, r, rtol=rtol, atol=atol)
    # inference binding (no backward: 2x2 max pooling runs blocked there too)
    outs_inf, _, _ = bind_run(sym, arrays, True, monkeypatch, train=False)
    for o, r in zip(outs_inf, ref):
        np.testing.assert_allclose(o, r, rtol=rtol, atol=atol)
    # <grad, v> against (L(a + hv) - L(a - hv)) / 2h with L = sum(head * out), per argument
    h = 1e-6  # float64 forward: small steps keep relu / max kinks out of the difference
    for name in sorted(arrays):
        v = rng.randn(*arrays[name].shape)

        def loss(sign):
            a = {k: x.astype(np.float64) for k, x in arrays.items()}
            a[name] = a[name] + sign * h * v
            return sum(float(np.sum(hd.astype(np.float64) * o)) for hd, o in zip(heads, np_fwd(a)))
        fd = (loss(1) - loss(-1)) / (2 * h)
        got = float(np.sum(grads[name].astype(np.float64) * v))
        assert abs(got - fd) <= 2e-3 * (abs(fd) + 1.0), (name, got, fd)
    # the same graph with every value plain
    outs0, grads0, _ = bind_run(sym, arrays, False, monkeypatch, head=heads)
    for o, o0 in zip(outs, outs0):
        np.testing.assert_allclose(o, o0, rtol=1e-5, atol=1e-5)
    for k in grads:
        np.testing.assert_allclose(grads[k], grads0[k], rtol=1e-4, atol=1e-4, err_msg=k)
    return arrays


S = mx.sym


def conv(x, name, f, k=3, **kw):
    return S.Convolution(x, num_filter=f, kernel=(k,) * kw.pop("nd", 2), name=name, **kw)


# ---- chains ----------------------------------------------------------------------------------

def test_conv_relu_pool_conv(monkeypatch):
    # C = 24 (channels padded to 32 in nChw16c), stride / pad / dilate in the second convolution
    d = S.var("data")
    r1 = S.Activation(conv(d, "c1", 24, pad=(1, 1)), act_type="relu")
    p1 = S.Pooling(r1, kernel=(2, 2), stride=(2, 2), pool_type="max")
    out = conv(p1, "c2", 20, stride=(2, 2), pad=(2, 2), dilate=(2, 2))

    def ref(a):
        r = relu(np_conv(a["data"], a["c1_weight"], a["c1_bias"], pad=1))
        return [np_conv(np_pool(r, 2, 2), a["c2_weight"], a["c2_bias"], stride=2, pad=2, dilate=2)]
    check_chain(out, ref, (2, 8, 12, 12), monkeypatch)


def test_user_reads_intermediate(monkeypatch):
    # r1 feeds the pooling (blocked) and is a graph output (plain for the user)
    d = S.var("data")
    r1 = S.Activation(conv(d, "c1", 16, pad=(1, 1)), act_type="relu")
    out = conv(S.Pooling(r1, kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="max"), "c2", 16, pad=(1, 1))

    def ref(a):
        r = relu(np_conv(a["data"], a["c1_weight"], a["c1_bias"], pad=1))
        return [np_conv(np_pool(r, 3, 2, 1), a["c2_weight"], a["c2_bias"], pad=1), r]
    check_chain(S.Group([out, r1]), ref, (2, 4, 9, 9), monkeypatch)


def test_non_onednn_consumer_in_the_middle(monkeypatch):
    # tanh and an elementwise product read blocked values: they get plain ones
    d = S.var("data")
    c1 = conv(d, "c1", 12, pad=(1, 1))
    t = S.tanh(c1)
    c2 = conv(t, "c2", 16, k=1)
    out = conv(c2 * c2, "c3", 8, pad=(1, 1)) + conv(c1, "c4", 8, k=3, pad=(1, 1))

    def ref(a):
        y1 = np_conv(a["data"], a["c1_weight"], a["c1_bias"], pad=1)
        y2 = np_conv(np.tanh(y1), a["c2_weight"], a["c2_bias"])
        return [np_conv(y2 * y2, a["c3_weight"], a["c3_bias"], pad=1) + np_conv(y1, a["c4_weight"], a["c4_bias"], pad=1)]
    check_chain(out, ref, (2, 6, 7, 7), monkeypatch)


def test_groups_and_avg_pool(monkeypatch):
    d = S.var("data")
    c1 = conv(d, "c1", 32, pad=(1, 1), num_group=2)
    p = S.Pooling(S.relu(c1), kernel=(3, 3), stride=(1, 1), pad=(1, 1), pool_type="avg")
    out = conv(p, "c2", 48, k=3, num_group=4, stride=(2, 2))

    def ref(a):
        y = relu(np_conv(a["data"], a["c1_weight"], a["c1_bias"], pad=1, groups=2))
        return [np_conv(np_pool(y, 3, 1, 1, "avg"), a["c2_weight"], a["c2_bias"], stride=2, groups=4)]
    check_chain(out, ref, (2, 8, 10, 10), monkeypatch)


def test_residual_add_relu(monkeypatch):
    # ResNet's basic block: two convolutions, an add of blocked values, relu, then a convolution
    d = S.var("data")
    a1 = S.Activation(conv(d, "c1", 16, pad=(1, 1), no_bias=True), act_type="relu")
    a2 = conv(a1, "c2", 16, pad=(1, 1), no_bias=True)
    sc = conv(d, "sc", 16, k=1, no_bias=True)
    blk = S.Activation(a2 + sc, act_type="relu")
    out = conv(blk, "c3", 24, pad=(1, 1))

    def ref(a):
        y1 = relu(np_conv(a["data"], a["c1_weight"], pad=1))
        y = relu(np_conv(y1, a["c2_weight"], pad=1) + np_conv(a["data"], a["sc_weight"]))
        return [np_conv(y, a["c3_weight"], a["c3_bias"], pad=1)]
    check_chain(out, ref, (2, 16, 8, 8), monkeypatch)


def test_1d_and_3d(monkeypatch):
    d = S.var("data")
    out = conv(S.Pooling(S.relu(conv(d, "c1", 20, nd=1, pad=(1,))), kernel=(2,), stride=(2,), pool_type="max"),
               "c2", 8, nd=1, pad=(1,))

    def ref(a):
        y = relu(np_conv(a["data"], a["c1_weight"], a["c1_bias"], pad=1))
        return [np_conv(np_pool(y, 2, 2), a["c2_weight"], a["c2_bias"], pad=1)]
    check_chain(out, ref, (2, 8, 16), monkeypatch)
    out3 = conv(S.relu(conv(d, "c1", 16, nd=3, pad=(1, 1, 1))), "c2", 8, nd=3, k=1)

    def ref3(a):
        y = relu(np_conv(a["data"], a["c1_weight"], a["c1_bias"], pad=1))
        return [np_conv(y, a["c2_weight"], a["c2_bias"])]
    check_chain(out3, ref3, (2, 4, 5, 5, 5), monkeypatch)


def test_inference_with_batchnorm_folding(monkeypatch):
    # grad_req null: Conv+BN folding, then blocked values between the folded convolutions
    d = S.var("data")
    h = S.Activation(S.BatchNorm(conv(d, "c1", 16, pad=(1, 1), no_bias=True), fix_gamma=False, name="bn1"),
                     act_type="relu")
    h = S.Pooling(h, kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="max")
    h2 = S.BatchNorm(conv(h, "c2", 16, pad=(1, 1), no_bias=True), fix_gamma=False, name="bn2")
    out = S.Pooling(S.Activation(h2 + h, act_type="relu"), kernel=(1, 1), global_pool=True, pool_type="avg")
    rng = np.random.RandomState(3)
    shapes, _, aux_shapes = out.infer_shape(data=(4, 8, 12, 12))
    arrays = {n: (rng.randn(*s) * 0.3).astype(np.float32) for n, s in zip(out.list_arguments(), shapes)}
    aux = {n: (rng.rand(*s) + 0.5).astype(np.float32) for n, s in zip(out.list_auxiliary_states(), aux_shapes)}

    def bn(y, i):
        g, b = arrays["bn%d_gamma" % i], arrays["bn%d_beta" % i]
        m, v = aux["bn%d_moving_mean" % i], aux["bn%d_moving_var" % i]
        sh = (1, -1, 1, 1)
        return (y - m.reshape(sh)) / np.sqrt(v.reshape(sh) + 1e-3) * g.reshape(sh) + b.reshape(sh)
    x = arrays["data"].astype(np.float64)
    y = np_pool(relu(bn(np_conv(x, arrays["c1_weight"], pad=1), 1)), 3, 2, 1)
    y = relu(bn(np_conv(y, arrays["c2_weight"], pad=1), 2) + y).mean(axis=(2, 3), keepdims=True)
    res = []
    for blocked in (True, False):
        monkeypatch.setenv("MX_EXEC_BLOCKED", "1" if blocked else "0")
        ex = out.bind(mx.cpu(), {k: mx.nd.array(v) for k, v in arrays.items()}, grad_req="null",
                      aux_states={k: mx.nd.array(v) for k, v in aux.items()})
        assert "_fused_Convolution_BatchNorm_relu" in [s for s, _ in ex.step_ops()]
        res.append(ex.forward(is_train=False)[0].asnumpy())
        res.append(ex.forward(is_train=False)[0].asnumpy())  # a second run gives the same
    np.testing.assert_allclose(res[0], y, rtol=2e-4, atol=2e-4)
    for r in res[1:]:
        np.testing.assert_allclose(r, res[0], rtol=1e-5, atol=1e-6)


def test_repeated_steps_and_changed_inputs(monkeypatch):
    # new data and weights between runs; backward twice after one forward
    d = S.var("data")
    out = conv(S.Pooling(S.relu(conv(d, "c1", 16, pad=(1, 1))), kernel=(2, 2), stride=(2, 2)), "c2", 16, pad=(1, 1))
    rng = np.random.RandomState(5)
    arrays = params_for(out, (2, 8, 8, 8), rng)
    res = {}
    for blocked in (True, False):
        monkeypatch.setenv("MX_EXEC_BLOCKED", "1" if blocked else "0")
        args = {k: mx.nd.array(v) for k, v in arrays.items()}
        grads = {k: mx.nd.zeros(v.shape) for k, v in arrays.items()}
        ex = out.bind(mx.cpu(), args, args_grad=grads)
        r = []
        for it in range(3):
            args["data"][:] = arrays["data"] * (it + 1)
            args["c2_weight"][:] = arrays["c2_weight"] - it * 0.1
            r.append(ex.forward(is_train=True)[0].asnumpy())
            ex.backward(mx.nd.ones(r[-1].shape))
            ex.backward(mx.nd.ones(r[-1].shape))
            r += [grads[k].asnumpy().copy() for k in sorted(grads)]
        res[blocked] = r
    for a, b in zip(res[True], res[False]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_gluon_hybridized_training_matches_unblocked(monkeypatch):
    # the Gluon CNN of the benchmarks (conv relu pool twice, dense), two SGD steps
    def train(blocked):
        monkeypatch.setenv("MX_EXEC_BLOCKED", "1" if blocked else "0")
        nn = mx.gluon.nn
        net = nn.HybridSequential()
        net.add(nn.Conv2D(16, kernel_size=5, activation="relu"), nn.MaxPool2D(pool_size=2, strides=2),
                nn.Conv2D(24, kernel_size=3, activation="relu"), nn.MaxPool2D(pool_size=2, strides=2),
                nn.Flatten(), nn.Dense(10))
        net.initialize(mx.init.Xavier(rnd_type="gaussian"))
        rng = np.random.RandomState(0)
        net(mx.nd.zeros((8, 1, 20, 20)))  # shapes known
        for p in net.collect_params().values():
            p.set_data(mx.nd.array(rng.randn(*p.shape).astype(np.float32) * 0.2))
        net.hybridize(static_alloc=True, static_shape=True)
        trainer = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.01})
        loss_fn = mx.gluon.loss.SoftmaxCrossEntropyLoss()
        x = mx.nd.array(rng.rand(8, 1, 20, 20).astype(np.float32))
        y = mx.nd.array(rng.randint(0, 10, 8).astype(np.float32))
        losses = []
        for _ in range(2):
            with mx.autograd.record():
                loss = loss_fn(net(x), y)
            loss.backward()
            trainer.step(8)
            losses.append(loss.asnumpy())
        return losses, [p.data().asnumpy() for p in net.collect_params().values()]
    l1, p1 = train(True)
    l0, p0 = train(False)
    for a, b in zip(l1 + p1, l0 + p0):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_fewer_reorders_and_side_buffers(monkeypatch):
    # the blocked path really runs: side buffers are planned, and oneDNN runs fewer reorders
    if not mx.runtime.Features().is_enabled("MKLDNN"):
        pytest.skip("built without oneDNN: every value is plain")
    d = S.var("data")
    out = conv(S.Pooling(S.relu(conv(d, "c1", 16, pad=(1, 1))), kernel=(3, 3), stride=(2, 2)), "c2", 16, pad=(1, 1))
    mem = []
    for blocked in ("1", "0"):
        monkeypatch.setenv("MX_EXEC_BLOCKED", blocked)
        mem.append(out.simple_bind(mx.cpu(), grad_req="null", data=(2, 8, 9, 9)).memory_bytes()[0])
    assert mem[0] > mem[1], mem
    code = ("import numpy as np, mx\n"
            "d = mx.sym.var('data')\n"
            "c1 = mx.sym.Convolution(d, num_filter=16, kernel=(3, 3), pad=(1, 1))\n"
            "p = mx.sym.Pooling(mx.sym.relu(c1), kernel=(3, 3), stride=(2, 2), pool_type='max')\n"
            "out = mx.sym.Convolution(p, num_filter=16, kernel=(3, 3), pad=(1, 1))\n"
            "ex = out.simple_bind(mx.cpu(), grad_req='null', data=(2, 8, 9, 9))\n"
            "ex.arg_dict['data'][:] = np.ones((2, 8, 9, 9), np.float32)\n"
            "for _ in range(3): ex.forward()[0].asnumpy()\n")
    counts = {}
    for blocked in ("1", "0"):
        env = dict(os.environ, MX_EXEC_BLOCKED=blocked, DNNL_VERBOSE="1", MX_NUM_THREADS="1")
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
        assert r.returncode == 0, r.stderr[-2000:]
        counts[blocked] = sum(1 for ln in r.stdout.splitlines() if ",exec," in ln and ",reorder," in ln)
    # per forward, unblocked: data in, conv1 out, pool in... blocked: only data in and conv2 out
    assert counts["1"] < counts["0"], counts


@pytest.mark.parametrize("channels,side", [(16, 12), (24, 8), (32, 10)])
def test_training_2x2_max_pool_chain(monkeypatch, channels, side):
    # conv -> relu -> 2x2 max pool -> conv and conv -> 2x2 max pool (no relu) -> conv: in training
    # graphs MX's own 2x2 kernels run on the blocked layouts the convolutions use
    d = S.var("data")
    p1 = S.Pooling(S.Activation(conv(d, "c1", channels, pad=(1, 1)), act_type="relu"), kernel=(2, 2), stride=(2, 2),
                   pool_type="max")
    c2 = conv(p1, "c2", channels, pad=(1, 1))
    out = conv(S.Pooling(c2, kernel=(2, 2), stride=(2, 2), pool_type="max"), "c3", 8, k=1)

    def ref(a):
        y = np_pool(relu(np_conv(a["data"], a["c1_weight"], a["c1_bias"], pad=1)), 2, 2)
        y = np_pool(np_conv(y, a["c2_weight"], a["c2_bias"], pad=1), 2, 2)
        return [np_conv(y, a["c3_weight"], a["c3_bias"])]
    check_chain(out, ref, (4, 8, side * 2, side * 2), monkeypatch, seed=channels)
