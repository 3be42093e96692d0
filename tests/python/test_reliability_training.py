"""Issue 15: training idioms that went wrong silently: Trainer.step on stale gradients,
Block.summary of a hybridized network, and the Module predict idiom with label_names=None."""
import io
import re
from contextlib import redirect_stdout

import numpy as np
import pytest

import mx
from mx import autograd, gluon
from mx.gluon import nn


# ------------------------------------------------------------------ 12. stale gradients
def _net_and_trainer():
    net = nn.Dense(2, in_units=3)
    net.initialize(mx.init.Xavier())
    return net, gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})


def _step_with_backward(net, trainer, x):
    with autograd.record():
        loss = net(x).sum()
    loss.backward()
    trainer.step(1)


def test_step_without_backward_raises_userwarning_naming_the_parameter():
    net, trainer = _net_and_trainer()
    x = mx.nd.ones((1, 3))
    _step_with_backward(net, trainer, x)
    w0 = net.weight.data().asnumpy().copy()
    with pytest.raises(UserWarning, match=r"Parameter `dense\d+_weight`.*stale|not been updated"):
        trainer.step(1)
    np.testing.assert_array_equal(net.weight.data().asnumpy(), w0)  # nothing was updated
    _step_with_backward(net, trainer, x)  # a new backward makes the gradients fresh again
    assert not np.array_equal(net.weight.data().asnumpy(), w0)


def test_ignore_stale_grad_skips_only_the_stale_parameters():
    a, b = nn.Dense(1, in_units=2), nn.Dense(1, in_units=2)
    a.initialize(mx.init.One())
    b.initialize(mx.init.One())
    params = a.collect_params()
    params.update(b.collect_params())
    trainer = gluon.Trainer(params, "sgd", {"learning_rate": 1.0})
    x = mx.nd.ones((1, 2))
    with autograd.record():
        loss = a(x).sum()  # b is not used: its gradients are stale
    loss.backward()
    with pytest.raises(UserWarning, match=re.escape(b.weight.name)):
        trainer.step(1)
    trainer.step(1, ignore_stale_grad=True)
    np.testing.assert_allclose(a.weight.data().asnumpy(), [[0.0, 0.0]])  # 1 - lr * grad(=1)
    np.testing.assert_allclose(b.weight.data().asnumpy(), [[1.0, 1.0]])  # untouched


def test_hybridized_backward_marks_gradients_fresh():
    net = nn.HybridSequential()
    net.add(nn.Dense(4, in_units=3), nn.Dense(1, in_units=4))
    net.initialize()
    net.hybridize()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    x = mx.nd.ones((2, 3))
    for _ in range(2):
        _step_with_backward(net, trainer, x)
    with pytest.raises(UserWarning):
        trainer.step(2)


# ------------------------------------------------------------------ 13. summary after hybridize
def _summary(net, x):
    buf = io.StringIO()
    with redirect_stdout(buf):
        net.summary(x)
    return buf.getvalue()


def _mlp():
    net = nn.HybridSequential()
    net.add(nn.Dense(16, activation="relu", in_units=8), nn.Dense(4, in_units=16))
    net.initialize()
    return net


def test_summary_of_hybridized_block_equals_the_imperative_one():
    x = mx.nd.ones((5, 8))
    net = _mlp()
    plain = _summary(net, x)
    net.hybridize()
    net(x)  # the cached graph exists
    hybrid = _summary(net, x)
    assert hybrid == plain
    # independent numbers: parameter counts of the two layers and the output shapes
    assert "(5, 16)" in plain and "(5, 4)" in plain
    total = 8 * 16 + 16 + 16 * 4 + 4
    assert "Total params: %d" % total in plain
    # the network is still hybridized and computes the same as before
    w1, b1 = net[0].weight.data().asnumpy(), net[0].bias.data().asnumpy()
    w2, b2 = net[1].weight.data().asnumpy(), net[1].bias.data().asnumpy()
    ref = np.maximum(x.asnumpy() @ w1.T + b1, 0) @ w2.T + b2
    np.testing.assert_allclose(net(x).asnumpy(), ref, rtol=1e-5)
    assert net._active


# ------------------------------------------------------------------ 14. Module predict idiom
def test_module_predict_with_label_names_none():
    data = mx.sym.var("data")
    fc = mx.sym.FullyConnected(data, num_hidden=3, name="fc")
    sym = mx.sym.SoftmaxOutput(fc, name="softmax")  # label input: softmax_label
    assert "softmax_label" in sym.list_arguments()
    rng = np.random.RandomState(0)
    w, b = rng.randn(3, 4).astype(np.float32), rng.randn(3).astype(np.float32)
    arg = {"fc_weight": mx.nd.array(w), "fc_bias": mx.nd.array(b)}
    mod = mx.mod.Module(sym, label_names=None, context=mx.cpu())
    mod.bind(data_shapes=[("data", (2, 4))], for_training=False)
    mod.set_params(arg, {}, allow_missing=True)
    x = rng.randn(2, 4).astype(np.float32)
    mod.forward(mx.io.DataBatch([mx.nd.array(x)]), is_train=False)
    out = mod.get_outputs()[0].asnumpy()
    z = x @ w.T + b
    ref = np.exp(z - z.max(1, keepdims=True))
    ref /= ref.sum(1, keepdims=True)
    np.testing.assert_allclose(out, ref, rtol=1e-5)
    # and through predict() with an iterator
    pred = mod.predict(mx.io.NDArrayIter(x, batch_size=2)).asnumpy()
    np.testing.assert_allclose(pred, ref, rtol=1e-5)


def test_set_params_missing_without_allow_missing_still_raises():
    data = mx.sym.var("data")
    sym = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(data, num_hidden=3, name="fc"), name="softmax")
    mod = mx.mod.Module(sym, label_names=None)
    mod.bind(data_shapes=[("data", (2, 4))], for_training=False)
    with pytest.raises(RuntimeError, match="softmax_label"):
        mod.set_params({"fc_weight": mx.nd.ones((3, 4)), "fc_bias": mx.nd.ones(3)}, {})
