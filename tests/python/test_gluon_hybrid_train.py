"""Hybridized blocks under autograd.record(): the executor runs the graph and the tape holds one
node whose backward is the executor's. Gradients must equal the imperative (un-hybridized) ones."""
import numpy as np
import pytest

import mx
from mx import autograd, gluon


def _net(bn=False):
    net = gluon.nn.HybridSequential()
    with net.name_scope():
        net.add(gluon.nn.Conv2D(4, 3, padding=1))
        if bn:
            net.add(gluon.nn.BatchNorm())
        net.add(gluon.nn.Activation("tanh"), gluon.nn.MaxPool2D(2), gluon.nn.Flatten(), gluon.nn.Dense(3))
    net.initialize(mx.init.Xavier(), force_reinit=True)
    return net


def _step(net, x, hybrid, head=None):
    net.hybridize(hybrid)
    with autograd.record():
        y = net(x)
        loss = (y * y).sum() if head is None else (y * head).sum()
    loss.backward()
    return y.asnumpy(), {k: p.grad().asnumpy().copy() for k, p in net.collect_params().items()
                         if p.grad_req != "null"}


def _x(shape=(2, 2, 6, 6), seed=0):
    return mx.nd.array(np.random.RandomState(seed).randn(*shape).astype(np.float32))


def test_hybridized_gradients_equal_imperative():
    mx.random.seed(1)
    net = _net()
    x = _x()
    y0, g0 = _step(net, x, False)
    y1, g1 = _step(net, x, True)
    np.testing.assert_allclose(y1, y0, rtol=1e-5, atol=1e-6)
    for k in g0:
        np.testing.assert_allclose(g1[k], g0[k], rtol=1e-4, atol=1e-5, err_msg=k)
    # it ran through the executor: one recorded binding exists
    assert sum(len(v) for v in net._cached.train_execs.values()) == 1


def test_input_gradient_and_two_calls_in_one_recording():
    net = _net()
    a, b = _x(seed=1), _x(seed=2)
    for hybrid in (False, True):
        net.hybridize(hybrid)
        a.attach_grad()
        with autograd.record():
            loss = (net(a) * net(b)).sum()  # the second call needs a second binding
        loss.backward()
        if not hybrid:
            ga, gw = a.grad.asnumpy().copy(), net[0].weight.grad().asnumpy().copy()
    np.testing.assert_allclose(a.grad.asnumpy(), ga, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(net[0].weight.grad().asnumpy(), gw, rtol=1e-4, atol=1e-5)
    pools = net._cached.train_execs
    assert sorted(len(v) for v in pools.values()) == [1, 1]  # a tracked, b not: two signatures
    # after backward the bindings are free again and get reused
    with autograd.record():
        loss = (net(a) * net(b)).sum()
    loss.backward()
    assert sorted(len(v) for v in pools.values()) == [1, 1]
    with autograd.record():
        s = net(b).sum() + net(b).sum()  # same signature twice while pending
    s.backward()
    assert max(len(v) for v in pools.values()) == 2


def test_batchnorm_running_stats_and_grad_req():
    x = _x((4, 2, 6, 6), seed=3)
    nets = []
    for hybrid in (False, True):
        mx.random.seed(5)
        net = _net(bn=True)
        net[0].weight.grad_req = "null"  # frozen layer: no gradient
        _step(net, x, hybrid)
        nets.append(net)
    for (k0, p0), (k1, p1) in zip(nets[0].collect_params().items(), nets[1].collect_params().items()):
        np.testing.assert_allclose(p1.data().asnumpy(), p0.data().asnumpy(), rtol=1e-5, atol=1e-6, err_msg=k0)
        if p0.grad_req != "null":
            np.testing.assert_allclose(p1.grad().asnumpy(), p0.grad().asnumpy(), rtol=1e-4, atol=1e-5, err_msg=k0)
    rm = [n for n in nets[1].collect_params().keys() if n.endswith("running_mean")][0]
    assert np.abs(nets[1].collect_params()[rm].data().asnumpy()).max() > 0  # updated in training


def test_grad_req_changed_after_hybridized_training():
    net = _net()
    x = _x(seed=8)
    net[0].weight.grad_req = "null"
    net.hybridize()
    _step(net, x, True)
    net[0].weight.grad_req = "write"  # unfrozen: the next call needs a binding that computes it
    _, g1 = _step(net, x, True)
    _, g0 = _step(net, x, False)
    np.testing.assert_allclose(g1[net[0].weight.name], g0[net[0].weight.name], rtol=1e-4, atol=1e-5)
    assert np.abs(g1[net[0].weight.name]).max() > 0


def test_grad_req_add_accumulates_and_trainer_steps():
    net = _net()
    x = _x(seed=4)
    for p in net.collect_params().values():
        p.grad_req = "add"
    net.hybridize()
    for _ in range(2):
        with autograd.record():
            loss = (net(x) ** 2).sum()
        loss.backward()
    g2 = net[0].weight.grad().asnumpy().copy()
    net.collect_params().zero_grad()
    with autograd.record():
        loss = (net(x) ** 2).sum()
    loss.backward()
    np.testing.assert_allclose(g2, 2 * net[0].weight.grad().asnumpy(), rtol=1e-5, atol=1e-6)
    for p in net.collect_params().values():
        p.grad_req = "write"
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    w0 = net[0].weight.data().asnumpy().copy()
    with autograd.record():
        loss = (net(x) ** 2).sum()
    loss.backward()
    g = net[0].weight.grad().asnumpy().copy()
    trainer.step(1)
    np.testing.assert_allclose(net[0].weight.data().asnumpy(), w0 - 0.1 * g, rtol=1e-5, atol=1e-6)


def test_autograd_grad_returns_copies_and_create_graph_is_refused():
    net = _net()
    x = _x(seed=6)
    x.attach_grad()
    net.hybridize()
    with autograd.record():
        y = (net(x) ** 2).sum()
    (gx,) = autograd.grad(y, [x], retain_graph=False)
    first = gx.asnumpy().copy()
    with autograd.record():
        y2 = (net(x * 2) ** 2).sum()
    y2.backward()  # reuses the binding: the earlier result must not change
    np.testing.assert_array_equal(gx.asnumpy(), first)
    with autograd.record():
        y3 = (net(x) ** 2).sum()
    with pytest.raises(mx.base.MXError, match="create_graph"):
        autograd.grad(y3, [x], create_graph=True)


def test_symbolblock_imports_trains_through_executor(tmp_path):
    net = _net()
    x = _x(seed=7)
    net.hybridize()
    net(x)
    net.export(str(tmp_path / "m"))
    sb = gluon.SymbolBlock.imports(str(tmp_path / "m-symbol.json"), ["data"], str(tmp_path / "m-0000.params"))
    _, g_net = _step(net, x, True)
    with autograd.record():
        y = sb(x)
        loss = (y * y).sum()
    loss.backward()
    for (k, p) in sb.collect_params().items():
        np.testing.assert_allclose(p.grad().asnumpy(), g_net[k], rtol=1e-4, atol=1e-5, err_msg=k)


def test_forward_taped_errors():
    data = mx.sym.var("data")
    ex = (data * 2.0).bind(mx.cpu(), {"data": mx.nd.zeros((2, 3))}, args_grad={"data": mx.nd.zeros((2, 3))})
    x = mx.nd.ones((2, 3))
    x.attach_grad()
    with autograd.record():
        (y,) = ex.forward_taped(True, [x], [0])
    assert ex.busy
    with autograd.record():
        with pytest.raises(mx.base.MXError, match="waiting for its backward"):
            ex.forward_taped(True, [x], [0])
    y.backward()
    assert not ex.busy
    np.testing.assert_allclose(x.grad.asnumpy(), np.full((2, 3), 2.0))
    with pytest.raises(ValueError, match="shape"):
        ex.forward_taped(True, [mx.nd.ones((3, 3))], [0])
    with pytest.raises(ValueError, match="out of range"):
        ex.forward_taped(True, [x], [5])
    # a plain forward while a recorded call is pending makes that call's backward fail clearly
    with autograd.record():
        (y,) = ex.forward_taped(True, [x], [0])
    ex.forward(is_train=True)
    with pytest.raises(mx.base.MXError, match="ran again"):
        y.backward()
