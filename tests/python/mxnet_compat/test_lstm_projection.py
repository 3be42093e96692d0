"""LSTM with projection_size (LSTMP) in the core RNN operator and gluon.rnn.LSTM: against Apache
MXNet 1.9.1's outputs (tests/data/contrib_detection/make_contrib_detection_fixtures.py; MXNet runs
LSTMP forward only on the CPU), a numpy LSTMP written here, and finite differences for the
gradient (which MX adds)."""
import json
import os

import numpy as np
import pytest

import mx
from finite_differences import central_gradient

REFS = np.load(os.path.join(os.path.dirname(__file__), "..", "..", "data", "contrib_detection",
                            "contrib_detection_refs.npz"))


def _case(name):
    c = {k.split("__", 1)[1]: REFS[k] for k in REFS.files if k.startswith(name + "__")}
    c["kwargs"] = json.loads(str(c["kwargs"]))
    return c


def _sig(x):
    return 1 / (1 + np.exp(-x))


def _lstmp_np(x, h0, c0, params, num_layers, bidirectional):
    """Direct LSTMP: gates from x W_i2h^T + b_i2h + r W_h2h^T + b_h2h, c = f c + i g, r = W_h2r (o tanh c)."""
    D = 2 if bidirectional else 1
    inp, hs, cs = x.astype(np.float64), [], []
    for layer in range(num_layers):
        outs = []
        for k, d in enumerate("lr"[:D]):
            p = {g: params["param_%s%d_%s" % (d, layer, g)].astype(np.float64)
                 for g in ("i2h_weight", "h2h_weight", "i2h_bias", "h2h_bias", "h2r_weight")}
            r, c = h0[layer * D + k].astype(np.float64), c0[layer * D + k].astype(np.float64)
            ys = [None] * len(inp)
            steps = range(len(inp)) if d == "l" else reversed(range(len(inp)))
            for t in steps:
                a = inp[t] @ p["i2h_weight"].T + p["i2h_bias"] + r @ p["h2h_weight"].T + p["h2h_bias"]
                i, f, g, o = np.split(a, 4, axis=1)
                c = _sig(f) * c + _sig(i) * np.tanh(g)
                r = (_sig(o) * np.tanh(c)) @ p["h2r_weight"].T
                ys[t] = r
            outs.append(np.stack(ys))
            hs.append(r)
            cs.append(c)
        inp = np.concatenate(outs, axis=2)
    return inp, np.stack(hs), np.stack(cs)


@pytest.mark.parametrize("i", range(3))
@pytest.mark.parametrize("hybridize", [False, True])
def test_gluon_lstm_projection_matches_mxnet(i, hybridize):
    c = _case("lstmp%d" % i)
    kw = c["kwargs"]
    net = mx.gluon.rnn.LSTM(5, num_layers=kw["num_layers"], projection_size=3, bidirectional=kw["bidirectional"],
                            input_size=4, prefix="lstmp_")
    net.initialize()
    for name, p in net.collect_params().items():
        p.set_data(mx.nd.array(c["param_" + name[len("lstmp_"):]]))
    if hybridize:
        net.hybridize()
    out, (h, cell) = net(mx.nd.array(c["x"]), [mx.nd.array(c["h0"]), mx.nd.array(c["c0"])])
    np.testing.assert_allclose(out.asnumpy(), c["out"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h.asnumpy(), c["h"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(cell.asnumpy(), c["c"], rtol=1e-5, atol=1e-6)
    ref = _lstmp_np(c["x"], c["h0"], c["c0"], c, kw["num_layers"], kw["bidirectional"])
    for got, want in zip((out, h, cell), ref):
        np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-4, atol=1e-5)
    assert [s["shape"] for s in net.state_info(2)] == [h.shape, cell.shape]


def test_rnn_op_projection_gradient_finite_differences():
    rng = np.random.RandomState(5)
    kw = dict(state_size=4, num_layers=2, mode="lstm", projection_size=2, bidirectional=True, state_outputs=True)
    T, N, C = 3, 2, 3
    nparam = 2 * (16 * (C + 2) + 2 * 4 + 32) + 2 * (16 * (4 + 2) + 2 * 4 + 32)
    vals = [rng.normal(0, 0.5, s) for s in ((T, N, C), (nparam,), (4, N, 2), (4, N, 4))]
    heads = [rng.normal(size=s) for s in ((T, N, 4), (4, N, 2), (4, N, 4))]

    def f(*v):
        outs = mx.nd.RNN(*[mx.nd.array(a, dtype="float64") for a in v], **kw)
        return sum(float((o.asnumpy() * h).sum()) for o, h in zip(outs, heads))

    arrs = [mx.nd.array(a, dtype="float64") for a in vals]
    for a in arrs:
        a.attach_grad()
    with mx.autograd.record():
        outs = mx.nd.RNN(*arrs, **kw)
    assert [o.shape for o in outs] == [(T, N, 4), (4, N, 2), (4, N, 4)]
    mx.autograd.backward(outs, [mx.nd.array(h, dtype="float64") for h in heads])
    for k, name in enumerate(["data", "parameters", "state", "state_cell"]):
        fd = central_gradient(f, vals, k)
        np.testing.assert_allclose(arrs[k].grad.asnumpy(), fd, rtol=1e-5, atol=1e-7, err_msg=name)


def test_projection_training_step_and_errors():
    net = mx.gluon.rnn.LSTM(6, projection_size=2, layout="NTC")
    net.initialize()
    trainer = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    x = mx.nd.array(np.random.RandomState(0).normal(size=(3, 4, 5)))
    with mx.autograd.record():
        loss = (net(x) ** 2).sum()
    loss.backward()
    assert net.l0_h2r_weight.shape == (2, 6) and net.l0_h2h_weight.shape == (24, 2)
    before = net.l0_h2r_weight.data().asnumpy().copy()
    trainer.step(1)
    assert np.abs(net.l0_h2r_weight.data().asnumpy() - before).max() > 0
    with pytest.raises(ValueError, match="projection_size"):
        mx.gluon.rnn.LSTM(4, projection_size=5)
    with pytest.raises(mx.MXNetError, match="projection_size"):
        mx.nd.RNN(mx.nd.ones((2, 1, 3)), mx.nd.ones((100,)), mx.nd.ones((1, 1, 4)), state_size=4, num_layers=1,
                  mode="gru", projection_size=2)
