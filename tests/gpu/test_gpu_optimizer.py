"""Optimizer updates on the GPU against the CPU: every update operator (output and every state
after a few in-place steps), and every core optimizer rule through mx.optimizer's Updater and
gluon.Trainer with weights on gpu(0). The rules' element formulas are shared with the CPU
(ops/formulas/optimizer.h), so differences come only from the GPU's libm and FMA contraction."""
import numpy as np
import pytest

import mx

GPU = mx.gpu(0) if mx.context.num_gpus() > 0 else None
TOL = {"float32": dict(rtol=1e-5, atol=1e-6), "float64": dict(rtol=1e-11, atol=1e-13)}

# op -> (number of states, kwargs); the states start positive where the formula takes roots.
UPDATE_OPS = {
    "sgd_update": (0, dict(lr=0.1, wd=0.01, rescale_grad=0.5, clip_gradient=0.3)),
    "sgd_mom_update": (1, dict(lr=0.1, momentum=0.9, wd=0.01)),
    "nag_mom_update": (1, dict(lr=0.1, momentum=0.9, wd=0.02, clip_gradient=0.4)),
    "signsgd_update": (0, dict(lr=0.05, wd=0.01)),
    "signum_update": (1, dict(lr=0.05, momentum=0.8, wd=0.01, wd_lh=0.02)),
    "adam_update": (2, dict(lr=0.01, beta1=0.8, beta2=0.9, epsilon=1e-6, wd=0.01)),
    "rmsprop_update": (1, dict(lr=0.01, gamma1=0.9, epsilon=1e-6, clip_weights=0.8)),
    "rmspropalex_update": (3, dict(lr=0.01, gamma1=0.9, gamma2=0.8, epsilon=1e-3)),
    "ftrl_update": (2, dict(lr=0.1, lamda1=0.01, beta=1.0, wd=0.01)),
    "ftml_update": (3, dict(lr=0.1, beta1=0.6, beta2=0.999, epsilon=1e-8, t=3, wd=0.01)),
}


def _update_op_cases():
    return [pytest.param(n, d, id="%s-%s" % (n, d)) for n in sorted(UPDATE_OPS) for d in ("float32", "float64")]


@pytest.mark.parametrize("name,dtype", _update_op_cases())
def test_update_op_matches_cpu(name, dtype):
    nstates, kw = UPDATE_OPS[name]
    rng = np.random.default_rng(len(name))
    shape = (37, 29)
    w0 = rng.uniform(-1, 1, shape).astype(dtype)
    grads = [rng.uniform(-1, 1, shape).astype(dtype) for _ in range(3)]
    s0 = [rng.uniform(0.1, 0.5, shape).astype(dtype) for _ in range(nstates)]
    if name == "rmspropalex_update":
        s0[1] = np.zeros(shape, dtype)  # g: n - g^2 stays positive
    results = []
    for ctx in (mx.cpu(), GPU):
        w = mx.nd.array(w0, ctx=ctx, dtype=dtype)
        states = [mx.nd.array(s, ctx=ctx, dtype=dtype) for s in s0]
        op = getattr(mx.nd, name)
        for g in grads:
            op(w, mx.nd.array(g, ctx=ctx, dtype=dtype), *states, out=w, **kw)
        assert w.context == ctx
        results.append([w.asnumpy()] + [s.asnumpy() for s in states])
    for c, g in zip(*results):
        np.testing.assert_allclose(g, c, err_msg=name, **TOL[dtype])
    # Not a no-op: the weight moved.
    assert np.abs(results[0][0] - w0).max() > 1e-4


def test_update_op_out_of_place_leaves_weight():
    rng = np.random.default_rng(3)
    w0, g0 = rng.uniform(-1, 1, (50,)).astype("float32"), rng.uniform(-1, 1, (50,)).astype("float32")
    w, g = mx.nd.array(w0, ctx=GPU), mx.nd.array(g0, ctx=GPU)
    out = mx.nd.sgd_update(w, g, lr=0.5)
    np.testing.assert_array_equal(w.asnumpy(), w0)
    np.testing.assert_allclose(out.asnumpy(), w0 - 0.5 * g0, rtol=1e-6)


def test_update_op_device_mismatch_is_an_error():
    if GPU.device_type == "cpu":
        pytest.skip("needs a real GPU (MX_GPU_TESTS_ON_CPU run)")
    w = mx.nd.ones((4,), ctx=GPU)
    g = mx.nd.ones((4,))
    with pytest.raises(mx.base.MXNetError):
        mx.nd.sgd_update(w, g, lr=0.1, out=w)


# rule name -> constructor kwargs (every core rule: the GPU path for element-wise ones, the host
# path for lamb; groupadagrad, 2-d and wd-free, has its own test below).
RULES = {
    "sgd": dict(learning_rate=0.1), "sgd_mom": dict(learning_rate=0.1, momentum=0.9, wd=0.01),
    "nag": dict(learning_rate=0.1, momentum=0.9, wd=0.01), "adam": dict(learning_rate=0.01, wd=0.01),
    "adamw": dict(learning_rate=0.01, wd=0.01), "rmsprop": dict(learning_rate=0.01, clip_weights=0.9),
    "rmsprop_centered": dict(learning_rate=0.01, centered=True), "adagrad": dict(learning_rate=0.1),
    "adadelta": dict(), "ftrl": dict(learning_rate=0.1), "signum": dict(learning_rate=0.01, wd_lh=0.01),
    "signsgd": dict(learning_rate=0.01), "lamb": dict(learning_rate=0.01), "adamax": dict(),
    "nadam": dict(), "ftml": dict(learning_rate=0.1),
}


def _rule(name):
    base = {"sgd_mom": "sgd", "rmsprop_centered": "rmsprop"}.get(name, name)
    return mx.optimizer.create(base, rescale_grad=0.5, clip_gradient=2.0, **RULES[name])


@pytest.mark.parametrize("name", sorted(RULES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_optimizer_rule_on_gpu_matches_cpu(name, dtype):
    rng = np.random.default_rng(7)
    shapes = [(13, 7), (7,)]
    w0 = [rng.uniform(-1, 1, s).astype(dtype) for s in shapes]
    gs = [[rng.uniform(-1, 1, s).astype(dtype) for s in shapes] for _ in range(4)]
    out = []
    for ctx in (mx.cpu(), GPU):
        upd = mx.optimizer.get_updater(_rule(name))
        ws = [mx.nd.array(w, ctx=ctx, dtype=dtype) for w in w0]
        for step in gs:
            upd(list(range(len(ws))), [mx.nd.array(g, ctx=ctx, dtype=dtype) for g in step], ws)
        assert all(w.context == ctx and w.dtype == np.dtype(dtype) for w in ws)
        out.append([w.asnumpy() for w in ws])
    for c, g in zip(*out):
        np.testing.assert_allclose(g, c, err_msg=name, **TOL[dtype])


def test_groupadagrad_on_gpu_matches_cpu():
    rng = np.random.default_rng(8)
    w0 = rng.uniform(-1, 1, (6, 5)).astype("float32")
    gs = [rng.uniform(-1, 1, (6, 5)).astype("float32") for _ in range(3)]
    out = []
    for ctx in (mx.cpu(), GPU):
        upd = mx.optimizer.get_updater(mx.optimizer.create("groupadagrad", learning_rate=0.1))
        w = mx.nd.array(w0, ctx=ctx)
        for g in gs:
            upd(0, mx.nd.array(g, ctx=ctx), w)
        out.append(w.asnumpy())
    np.testing.assert_allclose(out[1], out[0], **TOL["float32"])


def test_multi_precision_sgd_on_gpu_matches_cpu():
    rng = np.random.default_rng(9)
    w0 = rng.uniform(-1, 1, (40,)).astype("float16")
    gs = [rng.uniform(-1, 1, (40,)).astype("float16") for _ in range(3)]
    out = []
    for ctx in (mx.cpu(), GPU):
        upd = mx.optimizer.get_updater(mx.optimizer.create("sgd", learning_rate=0.1, momentum=0.9,
                                                           multi_precision=True))
        w = mx.nd.array(w0, ctx=ctx, dtype="float16")
        for g in gs:
            upd(0, mx.nd.array(g, ctx=ctx, dtype="float16"), w)
        assert w.dtype == np.float16 and w.context == ctx
        out.append(w.asnumpy())
    np.testing.assert_array_equal(out[1], out[0])


def test_states_saved_on_gpu_load_on_cpu():
    rng = np.random.default_rng(10)
    w0, g0 = rng.uniform(-1, 1, (9,)).astype("float32"), rng.uniform(-1, 1, (9,)).astype("float32")
    upd = mx.optimizer.get_updater(mx.optimizer.create("adam", learning_rate=0.01))
    w = mx.nd.array(w0, ctx=GPU)
    upd(0, mx.nd.array(g0, ctx=GPU), w)
    blob = upd.get_states()
    # The same states continue on the CPU exactly as on the GPU.
    cpu_upd = mx.optimizer.get_updater(mx.optimizer.create("adam", learning_rate=0.01))
    cpu_upd.set_states(blob)
    wc = mx.nd.array(w.asnumpy())
    upd(0, mx.nd.array(g0, ctx=GPU), w)
    cpu_upd(0, mx.nd.array(g0), wc)
    np.testing.assert_allclose(w.asnumpy(), wc.asnumpy(), **TOL["float32"])


@pytest.mark.parametrize("opt,kw", [("sgd", dict(learning_rate=0.1, momentum=0.9)), ("adam", dict(learning_rate=0.01))])
def test_trainer_kvstore_on_gpu_matches_cpu(opt, kw):
    # gluon.Trainer with a device kvstore: the kvstore's updater runs the core rule on GPU arrays.
    rng = np.random.default_rng(11)
    x = rng.uniform(-1, 1, (8, 5)).astype("float32")
    out = []
    for ctx in (mx.cpu(), GPU):
        net = mx.gluon.nn.Dense(3, in_units=5)
        net.initialize(mx.init.Constant(0.1), ctx=ctx)
        tr = mx.gluon.Trainer(net.collect_params(), opt, kw, kvstore="device", update_on_kvstore=True)
        for _ in range(3):
            with mx.autograd.record():
                loss = (net(mx.nd.array(x, ctx=ctx)) ** 2).sum()
            loss.backward()
            tr.step(8)
        out.append(net.weight.data(ctx).asnumpy())
    np.testing.assert_allclose(out[1], out[0], **TOL["float32"])
