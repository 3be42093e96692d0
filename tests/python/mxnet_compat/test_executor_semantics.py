"""MXNet executor semantics: outputs exist from bind, reshape shares memory with the original,
monitor callbacks, output_dict."""
import numpy as np
import pytest

import mx


def _fc():
    x = mx.sym.var("x")
    return mx.sym.FullyConnected(x, num_hidden=4, name="fc")


def test_outputs_exist_at_bind_and_are_rewritten_by_forward():
    ex = _fc().simple_bind(mx.cpu(), x=(5, 3), grad_req="null")
    out = ex.outputs[0]
    assert out.shape == (5, 4)
    x, w, b = (np.random.rand(5, 3), np.random.rand(4, 3), np.random.rand(4))
    for name, v in zip(("x", "fc_weight", "fc_bias"), (x, w, b)):
        ex.arg_dict[name][:] = v
    ex.forward()
    np.testing.assert_allclose(out.asnumpy(), x @ w.T + b, rtol=1e-5)
    ex.arg_dict["x"][:] = 2 * x
    ex.forward()
    np.testing.assert_allclose(out.asnumpy(), 2 * x @ w.T + b, rtol=1e-5)
    np.testing.assert_allclose(ex.output_dict["fc_output"].asnumpy(), out.asnumpy())


def test_reshape_shares_memory_with_original():
    ex = _fc().simple_bind(mx.cpu(), x=(5, 4), grad_req="null")
    ex.arg_dict["x"][:] = 1
    ex.arg_dict["fc_weight"][:] = 1
    ex.arg_dict["fc_bias"][:] = 0
    small = ex.reshape(x=(3, 4))
    small.forward()
    np.testing.assert_array_equal(small.outputs[0].asnumpy(), np.full((3, 4), 4.0))
    np.testing.assert_array_equal(ex.outputs[0].asnumpy()[:3], np.full((3, 4), 4.0))
    # the smaller input is a view of the original's memory
    small.arg_dict["x"][:] = 2
    np.testing.assert_array_equal(ex.arg_dict["x"].asnumpy().reshape(-1)[:12], np.full(12, 2.0))
    assert small.arg_dict["fc_weight"].handle is not None
    ex.arg_dict["fc_weight"][:] = 3
    small.forward()
    np.testing.assert_array_equal(small.outputs[0].asnumpy(), np.full((3, 4), 24.0))
    with pytest.raises(ValueError, match="allow_up_sizing"):
        ex.reshape(x=(7, 4))
    big = ex.reshape(x=(7, 4), allow_up_sizing=True)
    assert big.arg_dict["x"].shape == (7, 4)
    with pytest.raises(mx.MXNetError, match="weight"):
        ex.reshape(fc_weight=(2, 4))


def test_reshape_partial_shaping():
    x, z = mx.sym.var("x"), mx.sym.var("z")
    ex = (x + z).simple_bind(mx.cpu(), x=(5, 4), z=(5, 4), grad_req="null")
    with pytest.raises(ValueError, match="partial_shaping"):
        ex.reshape(x=(3, 4))
    small = ex.reshape(partial_shaping=True, x=(3, 4))
    small.arg_dict["x"][:] = 1
    small.arg_dict["z"][:] = 2
    np.testing.assert_array_equal(small.forward()[0].asnumpy(), np.full((3, 4), 3.0))


def test_monitor_callback_sees_every_node_output():
    x = mx.sym.var("x")
    y = mx.sym.relu(mx.sym.FullyConnected(x, num_hidden=2, name="fc"), name="act")
    ex = y.simple_bind(mx.cpu(), x=(2, 3), grad_req="null")
    ex.arg_dict["x"][:] = np.random.rand(2, 3)
    ex.arg_dict["fc_weight"][:] = np.random.rand(2, 3) - 0.5
    seen = {}
    ex.set_monitor_callback(lambda name, arr: seen.__setitem__(name, arr.asnumpy()))
    ex.forward()
    assert sorted(seen) == ["act_output", "fc_output"]
    np.testing.assert_allclose(seen["act_output"], np.maximum(seen["fc_output"], 0))
    np.testing.assert_allclose(seen["act_output"], ex.outputs[0].asnumpy())
    seen.clear()
    ex.set_monitor_callback(lambda name, arr: seen.__setitem__(name, arr.asnumpy()), monitor_all=True)
    ex.forward()
    assert "x" in seen and "fc_weight" in seen
