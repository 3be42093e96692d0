"""Deferred parameter shapes that the traced graph alone cannot give: a hybridized parent holding
an RNN layer (its input size is flattened into one parameter vector) completes them by running
once imperatively in predict mode, with the same numbers and statistics as an imperative net."""
import numpy as np
import pytest

import mx
from mx import gluon


def _net(layer):
    net = gluon.nn.HybridSequential(prefix="n_")
    with net.name_scope():
        net.add(layer())
        net.add(gluon.nn.BatchNorm(axis=2))
        net.add(gluon.nn.Flatten())
        net.add(gluon.nn.Dense(3, activation="relu"))
    return net


@pytest.mark.parametrize("layer", [lambda: gluon.rnn.LSTM(10, bidirectional=True),
                                   lambda: gluon.rnn.GRU(6, num_layers=2),
                                   lambda: gluon.rnn.RNN(4)])
def test_hybridized_parent_infers_rnn_input_size(layer):
    x = mx.nd.random.uniform(shape=(2, 3, 7))
    imperative, hybrid = _net(layer), _net(layer)
    for net in (imperative, hybrid):
        net.initialize(mx.init.Constant(0.05))
    hybrid.hybridize()
    with mx.autograd.record():
        out_i = imperative(x)
    out_i.backward()
    with mx.autograd.record():
        out_h = hybrid(x)
    out_h.backward()
    weights = [p for name, p in hybrid.collect_params().items() if name.endswith("l0_i2h_weight")]
    assert weights and weights[0].shape[1] == 7
    # one training step updated the BatchNorm statistics once (the shape run is in predict mode)
    for stat in ("running_mean", "running_var"):
        np.testing.assert_allclose(getattr(hybrid[1], stat).data().asnumpy(),
                                   getattr(imperative[1], stat).data().asnumpy(), rtol=1e-5, atol=1e-7)
    with mx.autograd.predict_mode():
        np.testing.assert_allclose(hybrid(x).asnumpy(), imperative(x).asnumpy(), rtol=1e-5, atol=1e-6)
    grads = [(name, p.grad().asnumpy()) for name, p in imperative.collect_params().items() if p.grad_req != "null"]
    for name, g in grads:
        np.testing.assert_allclose(hybrid.collect_params()[name].grad().asnumpy(), g, rtol=1e-4, atol=1e-6,
                                   err_msg=name)


def test_shapes_that_cannot_be_known_still_name_the_problem():
    class Broken(gluon.HybridBlock):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.w = self.params.get("w", shape=(0, 0), allow_deferred_init=True)

        def hybrid_forward(self, F, x, w):
            return x + F.sum(w)

    net = Broken()
    net.initialize()
    net.hybridize()
    with pytest.raises(ValueError, match="Deferred initialization failed"):
        net(mx.nd.ones((2, 2)))
