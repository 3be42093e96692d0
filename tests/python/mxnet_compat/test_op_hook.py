"""HybridBlock.register_op_hook (MXNet 1.x): after each hybridized call the hook sees every
operator output of the traced graph, and with monitor_all each operator's inputs first, under
MXNet's '<node>_<name>' names; the values are the graph's real intermediates."""
import numpy as np
import pytest

import mx
from mx.gluon import nn


def _run(model, monitor_all, x):
    seen = []
    model.register_op_hook(lambda name, op, arr: seen.append((mx.base.py_str(name), mx.base.py_str(op),
                                                               arr.asnumpy().copy())), monitor_all)
    out = model(x)
    return seen, out


@pytest.mark.parametrize("flags", [{}, dict(static_alloc=True, static_shape=True)])
def test_names_and_values(flags):
    model = nn.HybridSequential(prefix="dense_")
    with model.name_scope():
        model.add(nn.Dense(2))
        model.add(nn.Activation("relu"))
    model.initialize()
    model.hybridize(**flags)
    x = mx.nd.array(np.random.RandomState(0).normal(size=(3, 4)))
    seen, out = _run(model, True, x)
    names = [s[0] for s in seen]
    assert names == ["dense_dense0_fwd_data", "dense_dense0_fwd_weight", "dense_dense0_fwd_bias",
                     "dense_dense0_fwd_output", "dense_relu0_fwd_input0", "dense_relu0_fwd_output"]
    assert [s[1] for s in seen] == ["FullyConnected"] * 4 + ["Activation"] * 2
    w, b = model[0].weight.data().asnumpy(), model[0].bias.data().asnumpy()
    fc = x.asnumpy() @ w.T + b
    np.testing.assert_allclose(seen[3][2], fc, rtol=1e-5)
    np.testing.assert_allclose(seen[5][2], np.maximum(fc, 0), rtol=1e-5)
    np.testing.assert_allclose(seen[5][2], out.asnumpy(), rtol=1e-6)
    seen, _ = _run(model, False, x)
    assert [s[0] for s in seen] == ["dense_dense0_fwd_output", "dense_relu0_fwd_output"]


def test_pooling_and_concat_names_and_running_stats_untouched():
    model = nn.HybridSequential(prefix="pool_")
    with model.name_scope():
        model.add(nn.AvgPool1D())
    model.initialize()
    model.hybridize()
    seen, _ = _run(model, True, mx.nd.ones((2, 3, 4)))
    assert [s[0] for s in seen] == ["pool_pool0_fwd_data", "pool_pool0_fwd_output"] and seen[0][1] == "Pooling"

    class Cat(mx.gluon.HybridBlock):
        def __init__(self, **kw):
            super().__init__(**kw)
            with self.name_scope():
                self.bn = nn.BatchNorm(in_channels=3)

        def hybrid_forward(self, F, x):
            return F.concat(self.bn(x), x, dim=1, name="cat")

    net = Cat(prefix="c_")
    net.initialize()
    net.hybridize()
    x = mx.nd.array(np.random.RandomState(1).normal(size=(4, 3)))
    with mx.autograd.record():
        seen, _ = _run(net, True, x)
    assert [s[0] for s in seen if s[1] == "Concat"] == ["cat_arg0", "cat_arg1", "cat_output"]
    # the hook's rerun must not move BatchNorm's running mean a second time (momentum 0.9)
    np.testing.assert_allclose(net.bn.running_mean.data().asnumpy(), 0.1 * x.asnumpy().mean(0), rtol=1e-5)


def test_executor_monitor_names_as_mxnet():
    # MXNet's test_op_all_names_monitor / test_op_output_names_monitor expectations
    data = mx.sym.Variable("data", shape=(10, 3, 10, 10))
    cases = [(mx.sym.Convolution(data, kernel=(2, 2), num_filter=1, name="conv"),
              ["data", "conv_data", "conv_weight", "conv_weight", "conv_bias", "conv_bias", "conv_output"]),
             (mx.sym.Activation(data, act_type="relu", name="act"), ["data", "act_input0", "act_output"]),
             (mx.sym.concat(data, data, dim=0, name="concat"),
              ["data", "concat_arg0", "data", "concat_arg1", "concat_output"]),
             (mx.sym.UpSampling(data, scale=2, sample_type="nearest", name="upsampling"),
              ["data", "upsampling_arg0", "upsampling_output"]),
             (mx.sym.Pooling(data, kernel=(2, 2), pool_type="avg", name="pooling"),
              ["data", "pooling_data", "pooling_output"])]
    for sym, expected in cases:
        for monitor_all in (True, False):
            names = []
            ex = sym.simple_bind(mx.cpu(), grad_req="null")
            ex.set_monitor_callback(lambda n, a: names.append(mx.base.py_str(n)), monitor_all=monitor_all)
            ex.forward()
            assert names == (expected if monitor_all else expected[-1:])
