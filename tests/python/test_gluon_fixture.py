"""Gluon against Apache MXNet 1.9.1's fixture (tests/data/mxnet-1.9.1/gluon/): the same
HybridSequential rebuilt in MX loads the three saved forms and predicts MXNet's outputs."""
import os

import numpy as np
import pytest

import mx
from mx import gluon
from mx.gluon import nn

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "mxnet-1.9.1", "gluon")
RTOL, ATOL = 1e-4, 1e-5


def _build():
    net = nn.HybridSequential(prefix="net_")
    with net.name_scope():
        net.add(nn.Conv2D(8, 3, padding=1), nn.BatchNorm(), nn.Activation("relu"), nn.MaxPool2D(),
                nn.Flatten(), nn.Dense(32), nn.Dropout(0.5), nn.Dense(10))
    return net


@pytest.fixture
def data():
    return mx.nd.array(np.load(os.path.join(DATA, "inputs.npy"))), np.load(os.path.join(DATA, "outputs.npy"))


def test_names_match_mxnet():
    net = _build()
    saved = mx.nd.load(os.path.join(DATA, "hybrid_net.collect_params.params"))
    assert list(net.collect_params().keys()) == list(saved.keys())
    structural = mx.nd.load(os.path.join(DATA, "hybrid_net.params"))
    assert sorted(net._collect_params_with_prefix().keys()) == sorted(structural.keys())


@pytest.mark.parametrize("hybridize", [False, True])
def test_load_parameters_predicts(data, hybridize):
    x, ref = data
    net = _build()
    net.load_parameters(os.path.join(DATA, "hybrid_net.params"))
    if hybridize:
        net.hybridize()
    np.testing.assert_allclose(net(x).asnumpy(), ref, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(net(x).asnumpy(), ref, rtol=RTOL, atol=ATOL)  # cached executor again


def test_collect_params_load_predicts(data):
    x, ref = data
    net = _build()
    net.collect_params().load(os.path.join(DATA, "hybrid_net.collect_params.params"))
    np.testing.assert_allclose(net(x).asnumpy(), ref, rtol=RTOL, atol=ATOL)


def test_symbolblock_imports_predicts(data):
    x, ref = data
    sb = gluon.SymbolBlock.imports(os.path.join(DATA, "hybrid_net-symbol.json"), ["data"],
                                   os.path.join(DATA, "hybrid_net-0000.params"))
    np.testing.assert_allclose(sb(x).asnumpy(), ref, rtol=RTOL, atol=ATOL)
    with mx.autograd.record(train_mode=False):  # the graph interpreted op by op, recorded
        out = sb(x)
    np.testing.assert_allclose(out.asnumpy(), ref, rtol=RTOL, atol=ATOL)


def test_reexport_roundtrip(data, tmp_path):
    x, ref = data
    net = _build()
    net.load_parameters(os.path.join(DATA, "hybrid_net.params"))
    net.hybridize()
    net(x)
    prefix = str(tmp_path / "again")
    net.export(prefix, 7)
    saved = mx.nd.load(prefix + "-0007.params")
    ref_keys = mx.nd.load(os.path.join(DATA, "hybrid_net-0000.params")).keys()
    assert sorted(saved.keys()) == sorted(ref_keys)
    sb = gluon.SymbolBlock.imports(prefix + "-symbol.json", ["data"], prefix + "-0007.params")
    np.testing.assert_allclose(sb(x).asnumpy(), ref, rtol=RTOL, atol=ATOL)


def test_resume_training_from_fixture(data):
    """Loaded parameters train on: gradients reach every trainable parameter."""
    x, _ = data
    net = _build()
    net.load_parameters(os.path.join(DATA, "hybrid_net.params"))
    net.hybridize()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    label = mx.nd.array(np.arange(4) % 10)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    before = net[0].weight.data().asnumpy().copy()
    with mx.autograd.record():
        loss = loss_fn(net(x), label)
    loss.backward()
    trainer.step(4)
    assert not np.allclose(before, net[0].weight.data().asnumpy())
