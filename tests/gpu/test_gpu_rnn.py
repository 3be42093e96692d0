"""The RNN operator on the GPU (cuDNN 9's RNN API) against the CPU kernel: every mode x 1 and 2
layers x uni- and bidirectional, forward outputs (output, final states) and the gradients of data,
parameters, state and cell state (through autograd, so _backward_RNN runs), with and without
state outputs; LSTM with projection; float64; the Gluon layers; a 2-layer LSTM model trained 10
steps on each device. float32 on cuDNN uses FMA math (no TF32): GPU and CPU agree to float32
rounding of different summation orders."""
import os
import tempfile

import numpy as np
import pytest

import mx
from mx import base

GPU = mx.gpu(0) if mx.context.num_gpus() > 0 else None
# MX_GPU_TESTS_ON_CPU=1 (tests/gpu/conftest.py) runs these bodies with gpu(0) = cpu(0); the CPU
# computes what cuDNN refuses, so the GPU-only error checks are skipped then.
GPU_ONLY = pytest.mark.skipif(os.environ.get("MX_GPU_TESTS_ON_CPU") == "1", reason="checks a cuDNN limit")
TOL = {"float32": dict(rtol=1e-4, atol=1e-5), "float64": dict(rtol=1e-9, atol=1e-11)}
GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}


def _param_size(mode, C, H, L, D, P=0):
    G, R = GATES[mode], P or H
    return sum(D * (G * H * ((C if l == 0 else D * R) + R) + P * H + 2 * G * H) for l in range(L))


def _head(shape, dtype, k):
    n = int(np.prod(shape))
    return (np.cos(np.arange(n) * 0.37 + k) * 0.5).reshape(shape).astype(dtype)


def _run(arrays, kw, ctx):
    """RNN on ctx under autograd; every output gets a fixed head gradient; returns outputs and the
    gradients of every input, as numpy."""
    xs = [mx.nd.array(a, ctx=ctx, dtype=a.dtype) for a in arrays]
    for x in xs:
        x.attach_grad()
    with mx.autograd.record():
        out = mx.nd.RNN(*xs, **kw)
    outs = out if isinstance(out, (list, tuple)) else [out]
    for o in outs:
        assert o.context == ctx
    heads = [mx.nd.array(_head(o.shape, o.dtype, k), ctx=ctx, dtype=o.dtype) for k, o in enumerate(outs)]
    mx.autograd.backward(outs, head_grads=heads)
    return [o.asnumpy() for o in outs], [x.grad.asnumpy() for x in xs]


def _compare(mode, T, N, C, H, L, bidir, state_outputs=True, dtype="float32", P=0, seed=0):
    rng = np.random.default_rng(seed)
    D = 2 if bidir else 1
    R = P or H
    arrays = [rng.standard_normal((T, N, C)).astype(dtype),
              (rng.standard_normal(_param_size(mode, C, H, L, D, P)) * 0.3).astype(dtype),
              (rng.standard_normal((L * D, N, R)) * 0.5).astype(dtype)]
    if mode == "lstm":
        arrays.append((rng.standard_normal((L * D, N, H)) * 0.5).astype(dtype))
    kw = dict(state_size=H, num_layers=L, bidirectional=bidir, mode=mode, state_outputs=state_outputs)
    if P:
        kw["projection_size"] = P
    cpu = _run(arrays, kw, mx.cpu())
    gpu = _run(arrays, kw, GPU)
    names = [("output", "state_output", "statecell_output"), ("d data", "d parameters", "d state", "d state_cell")]
    for kind, c, g in zip(names, cpu, gpu):
        assert len(c) == len(g)
        for name, a, b in zip(kind, c, g):
            assert a.shape == b.shape and a.dtype == b.dtype, name
            assert np.all(np.isfinite(a)), name
            np.testing.assert_allclose(b, a, err_msg="%s %s" % (name, kw), **TOL[dtype])
    return cpu


@pytest.mark.parametrize("bidir", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("mode", ["rnn_relu", "rnn_tanh", "lstm", "gru"])
def test_rnn_matches_cpu(mode, layers, bidir):
    _compare(mode, T=5, N=3, C=4, H=6, L=layers, bidir=bidir, seed=layers * 2 + bidir)


@pytest.mark.parametrize("mode", ["lstm", "gru"])
def test_rnn_without_state_outputs(mode):
    # Only the output is visible: the state gradients start from zero.
    outs, _ = _compare(mode, T=4, N=2, C=3, H=5, L=2, bidir=True, state_outputs=False, seed=5)
    assert len(outs) == 1


@pytest.mark.parametrize("bidir", [False, True], ids=["uni", "bi"])
def test_lstm_projection(bidir):
    _compare("lstm", T=4, N=3, C=5, H=8, L=2, bidir=bidir, P=3, seed=7)


@pytest.mark.parametrize("mode", ["lstm", "gru", "rnn_tanh"])
def test_rnn_float64(mode):
    _compare(mode, T=4, N=2, C=3, H=5, L=2, bidir=True, dtype="float64", seed=9)


def test_rnn_one_step_and_one_sample():
    _compare("lstm", T=1, N=1, C=2, H=3, L=1, bidir=False, seed=11)


@GPU_ONLY
def test_rnn_state_clip_is_a_clear_error():
    x = mx.nd.ones((3, 2, 4), ctx=GPU)
    w = mx.nd.ones((_param_size("lstm", 4, 5, 1, 1),), ctx=GPU)
    s = mx.nd.zeros((1, 2, 5), ctx=GPU)
    with pytest.raises(base.MXNotSupportedError) as info:
        mx.nd.RNN(x, w, s, s, state_size=5, num_layers=1, mode="lstm", lstm_state_clip_min=-1.0,
                  lstm_state_clip_max=1.0).asnumpy()
    assert "RNN" in str(info.value) and "clip" in str(info.value)


def _copy_params(src, dst, ctx):
    with tempfile.TemporaryDirectory() as d:
        f = os.path.join(d, "net.params")
        src.save_parameters(f)
        dst.load_parameters(f, ctx=ctx)


@pytest.mark.parametrize("layer,kw", [(mx.gluon.rnn.LSTM, dict(num_layers=2)),
                                      (mx.gluon.rnn.GRU, dict(num_layers=2, bidirectional=True)),
                                      (mx.gluon.rnn.RNN, dict(num_layers=1, activation="relu", layout="NTC")),
                                      (mx.gluon.rnn.LSTM, dict(num_layers=1, bidirectional=True, projection_size=3))],
                         ids=["lstm", "gru-bi", "rnn-relu-ntc", "lstmp-bi"])
@pytest.mark.parametrize("hybridize", [False, True], ids=["imperative", "hybrid"])
def test_gluon_layers(layer, kw, hybridize):
    rng = np.random.default_rng(3)
    shape = (2, 5, 4) if kw.get("layout") == "NTC" else (5, 2, 4)
    x = rng.standard_normal(shape).astype(np.float32)
    res = {}
    cpu_net = layer(6, **kw)
    cpu_net.initialize(mx.init.Xavier(), ctx=mx.cpu())
    cpu_net(mx.nd.array(x))
    gpu_net = layer(6, **kw)
    _copy_params(cpu_net, gpu_net, GPU)
    for name, net, ctx in (("cpu", cpu_net, mx.cpu()), ("gpu", gpu_net, GPU)):
        if hybridize:
            net.hybridize()
        xd = mx.nd.array(x, ctx=ctx)
        xd.attach_grad()
        with mx.autograd.record():
            y = net(xd)
        y.backward(mx.nd.array(_head(y.shape, "float32", 1), ctx=ctx))
        grads = [p.grad(ctx).asnumpy() for p in net.collect_params().values()]
        res[name] = [y.asnumpy(), xd.grad.asnumpy()] + grads
    assert len(res["cpu"]) == len(res["gpu"])
    for i, (c, g) in enumerate(zip(res["cpu"], res["gpu"])):
        np.testing.assert_allclose(g, c, rtol=1e-4, atol=1e-5, err_msg=str(i))


class _Tagger(mx.gluon.HybridBlock):
    """2-layer LSTM over (N, T, C) and a Dense on its last step."""

    def __init__(self):
        super().__init__()
        with self.name_scope():
            self.lstm = mx.gluon.rnn.LSTM(16, num_layers=2, layout="NTC")
            self.out = mx.gluon.nn.Dense(5, flatten=True)

    def hybrid_forward(self, F, x):
        h = self.lstm(x)
        return self.out(F.slice_axis(h, axis=1, begin=-1, end=None))


def test_lstm_model_training_matches_cpu():
    # Same initial weights, same 10 batches, Adam: the loss curve and the final weights agree to 1e-4.
    rng = np.random.default_rng(0)
    data = rng.standard_normal((10, 8, 7, 6)).astype(np.float32)
    labels = rng.integers(0, 5, (10, 8)).astype(np.float32)
    mx.random.seed(1)
    nets = {"cpu": _Tagger(), "gpu": _Tagger()}
    nets["cpu"].initialize(mx.init.Xavier(), ctx=mx.cpu())
    nets["cpu"](mx.nd.array(data[0]))
    _copy_params(nets["cpu"], nets["gpu"], GPU)
    losses, params = {}, {}
    for name, ctx in (("cpu", mx.cpu()), ("gpu", GPU)):
        net = nets[name]
        net.hybridize()
        trainer = mx.gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.01})
        loss_fn = mx.gluon.loss.SoftmaxCrossEntropyLoss()
        curve = []
        for step in range(10):
            x, y = mx.nd.array(data[step], ctx=ctx), mx.nd.array(labels[step], ctx=ctx)
            with mx.autograd.record():
                loss = loss_fn(net(x), y)
            loss.backward()
            trainer.step(x.shape[0])
            curve.append(float(loss.mean().asscalar()))
        losses[name] = np.array(curve)
        params[name] = [(k, v.data(ctx).asnumpy()) for k, v in net.collect_params().items()]
    assert np.all(np.isfinite(losses["cpu"])) and losses["cpu"][-1] < losses["cpu"][0]
    np.testing.assert_allclose(losses["gpu"], losses["cpu"], rtol=1e-4, atol=1e-4)
    assert len(params["gpu"]) == len(params["cpu"]) == 10  # 2 layers x (2 weights + 2 biases) + Dense
    for (k, g), (_, c) in zip(params["gpu"], params["cpu"]):
        np.testing.assert_allclose(g, c, rtol=1e-4, atol=1e-4, err_msg=k)


@GPU_ONLY
def test_rnn_projection_as_wide_as_the_state_is_a_clear_error():
    # MX's CPU kernel allows projection_size == state_size; cuDNN only projects to fewer units.
    x = mx.nd.ones((3, 2, 4), ctx=GPU)
    w = mx.nd.ones((_param_size("lstm", 4, 5, 1, 1, 5),), ctx=GPU)
    s = mx.nd.zeros((1, 2, 5), ctx=GPU)
    with pytest.raises(base.MXNotSupportedError) as info:
        mx.nd.RNN(x, w, s, s, state_size=5, num_layers=1, mode="lstm", projection_size=5).asnumpy()
    assert "projection_size" in str(info.value)


# ---- the forward's reserve (cuDNN's reserve space kept in the op's hidden output when it fits)
def _arrays(mode, T, N, C, H, L, D, seed, dtype="float32"):
    rng = np.random.default_rng(seed)
    a = [rng.standard_normal((T, N, C)).astype(dtype),
         (rng.standard_normal(_param_size(mode, C, H, L, D)) * 0.3).astype(dtype),
         (rng.standard_normal((L * D, N, H)) * 0.5).astype(dtype)]
    if mode == "lstm":
        a.append((rng.standard_normal((L * D, N, H)) * 0.5).astype(dtype))
    return a


@pytest.mark.parametrize("mode", ["lstm", "gru", "rnn_tanh"])
def test_recorded_backward_equals_recompute_on_gpu(mode):
    """Autograd's backward (reads the forward's reserve) against _backward_RNN called with an
    empty reserve (reruns the forward), both on the GPU, and against the CPU."""
    T, N, C, H, L = 4, 3, 5, 6, 2
    arrays = _arrays(mode, T, N, C, H, L, 2, seed=7)
    kw = dict(state_size=H, num_layers=L, bidirectional=True, mode=mode)
    xs = [mx.nd.array(a, ctx=GPU, dtype=a.dtype) for a in arrays]
    for x in xs:
        x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.RNN(*xs, **kw)
    head = mx.nd.array(_head(y.shape, "float32", 3), ctx=GPU)
    y.backward(head)
    ref = mx.nd._internal._backward_RNN(*[mx.nd.array(a, ctx=GPU, dtype=a.dtype) for a in arrays], head, y,
                                        mx.nd.zeros((0,), ctx=GPU), **kw)
    for x, r in zip(xs, ref):
        np.testing.assert_allclose(x.grad.asnumpy(), r.asnumpy(), **TOL["float32"])
    xc = [mx.nd.array(a, dtype=a.dtype) for a in arrays]
    for x in xc:
        x.attach_grad()
    with mx.autograd.record():
        yc = mx.nd.RNN(*xc, **kw)
    yc.backward(head.as_in_context(mx.cpu()))
    for x, c in zip(xs, xc):
        np.testing.assert_allclose(x.grad.asnumpy(), c.grad.asnumpy(), **TOL["float32"])


def test_two_forwards_and_retained_backward_on_gpu():
    """Two recorded calls before one backward, then a second backward of the retained graph
    (the backward copies the reserve: cuDNN's data gradient writes to its reserve space)."""
    T, N, C, H, L = 4, 2, 3, 5, 2
    a1 = _arrays("lstm", T, N, C, H, L, 1, seed=11)
    x2 = np.random.default_rng(12).standard_normal((T, N, C)).astype("float32")
    kw = dict(state_size=H, num_layers=L, mode="lstm")

    def run(ctx):
        x1, xb, w, h0, c0 = [mx.nd.array(a, ctx=ctx) for a in [a1[0], x2] + a1[1:]]
        for v in (x1, xb, w):
            v.attach_grad()
        with mx.autograd.record():
            loss = (mx.nd.RNN(x1, w, h0, c0, **kw) * 0.5).sum() + (mx.nd.RNN(xb, w, h0, c0, **kw) ** 2).sum()
        loss.backward(retain_graph=True)
        first = [v.grad.asnumpy().copy() for v in (x1, xb, w)]
        loss.backward()
        return first, [v.grad.asnumpy() for v in (x1, xb, w)]
    g_first, g_second = run(GPU)
    c_first, _ = run(mx.cpu())
    for a, b, c in zip(g_first, g_second, c_first):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(a, c, **TOL["float32"])
