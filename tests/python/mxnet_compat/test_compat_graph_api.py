"""MXNet 1.x API semantics outside operators (issue 11, s4): autograd.get_symbol, symbol
composition (Symbol.__call__) and get_children, HybridBlock inputs that are None or nested
lists, SymbolBlock on symbols. References are numpy computations or graph structure."""
import numpy as np
import pytest

import mx
from mx import gluon


# ---------------------------------------------------------------- autograd.get_symbol
def test_get_symbol_counts_recorded_variables_and_evaluates_the_recording():
    x = mx.nd.array([1.5, -2.0])
    z = mx.nd.array([0.5, 3.0])
    x.attach_grad()
    z.attach_grad()
    with mx.autograd.record():
        y = x * x + 2 * z - 1
    s = mx.autograd.get_symbol(y)
    args = s.list_arguments()
    assert len(args) == 2
    # the recorded graph computes the same function of its two variables
    xv, zv = np.array([0.25, 4.0], np.float32), np.array([-1.0, 2.0], np.float32)
    ex = s.bind(mx.cpu(), {args[0]: mx.nd.array(xv), args[1]: mx.nd.array(zv)}, grad_req="null")
    np.testing.assert_allclose(ex.forward()[0].asnumpy(), xv * xv + 2 * zv - 1, rtol=1e-6)


def test_get_symbol_one_variable_used_twice_is_one_argument():
    x = mx.nd.ones((1,))
    x.attach_grad()
    with mx.autograd.record():
        y = x * x + 2 * x - 1
    assert len(mx.autograd.get_symbol(y).list_arguments()) == 1


def test_get_symbol_refuses_unrecorded_arrays():
    with pytest.raises(ValueError, match="get_symbol"):
        mx.autograd.get_symbol(mx.nd.ones((2,)))
    with pytest.raises(TypeError):
        mx.autograd.get_symbol(np.ones(2))


# ---------------------------------------------------------------- Symbol.__call__ / get_children
def _fc_net(prefix):
    net = mx.sym.FullyConnected(name=prefix + "a", num_hidden=3)
    return mx.sym.FullyConnected(data=mx.sym.relu(net), name=prefix + "b", num_hidden=2)


def test_compose_replaces_a_variable_by_another_graph():
    data = mx.sym.var("data")
    net1 = mx.sym.FullyConnected(data=data, name="fc1", num_hidden=4)
    net2 = _fc_net("n2")
    composed = net2(n2a_data=net1, name="composed")
    assert composed.list_arguments() == ["data", "fc1_weight", "fc1_bias", "n2a_weight", "n2a_bias",
                                         "n2b_weight", "n2b_bias"]
    # the original graph is unchanged
    assert net2.list_arguments()[0] == "n2a_data"
    rng = np.random.RandomState(0)
    vals = {n: rng.randn(*s).astype(np.float32)
            for n, s in zip(composed.list_arguments(), composed.infer_shape(data=(5, 6))[0])}
    ex = composed.bind(mx.cpu(), {k: mx.nd.array(v) for k, v in vals.items()}, grad_req="null")
    h = vals["data"] @ vals["fc1_weight"].T + vals["fc1_bias"]
    h = np.maximum(h @ vals["n2a_weight"].T + vals["n2a_bias"], 0)
    ref = h @ vals["n2b_weight"].T + vals["n2b_bias"]
    np.testing.assert_allclose(ex.forward()[0].asnumpy(), ref, rtol=1e-5, atol=1e-5)
    assert len(mx.sym.Group([composed, net1]).list_outputs()) == 2


def test_compose_positional_follows_list_arguments_and_checks_names():
    a, b = mx.sym.var("a"), mx.sym.var("b")
    s = a - b
    c = s(mx.sym.var("p"), mx.sym.var("q"))
    ex = c.bind(mx.cpu(), {"p": mx.nd.array([5.0]), "q": mx.nd.array([2.0])}, grad_req="null")
    assert ex.forward()[0].asnumpy().tolist() == [3.0]
    with pytest.raises(ValueError, match="not an argument"):
        s(zz=mx.sym.var("x"))
    with pytest.raises(TypeError):
        s(mx.sym.var("x"), b=mx.sym.var("y"))
    with pytest.raises(TypeError):
        s(1.0)


def test_get_children_of_groups_lists_each_node_once():
    data = mx.sym.var("data")
    fc1 = mx.sym.FullyConnected(data=data, name="fc1", num_hidden=10)
    net = mx.sym.FullyConnected(data=fc1, name="fc2", num_hidden=100)
    assert net.get_children().list_outputs() == ["fc1_output", "fc2_weight", "fc2_bias"]
    assert net.get_children().get_children().list_outputs() == ["data", "fc1_weight", "fc1_bias"]
    assert net.get_children()["fc2_weight"].get_children() is None
    sliced = mx.sym.SliceChannel(data, num_outputs=3, name="slice")
    assert sliced.get_children().list_outputs() == ["data"]


# ---------------------------------------------------------------- HybridBlock inputs
class _AddOrPass(gluon.HybridBlock):
    def hybrid_forward(self, F, a, b=None):
        if a is None:
            return b * 2
        if b is None:
            return a * 3
        return a + b


@pytest.mark.parametrize("hybrid", [False, True])
def test_hybrid_block_accepts_none_inputs(hybrid):
    blk = _AddOrPass()
    if hybrid:
        blk.hybridize()
    x = np.arange(4, dtype=np.float32)
    np.testing.assert_allclose(blk(None, mx.nd.array(x)).asnumpy(), 2 * x)
    with pytest.raises(ValueError):
        blk(None, None)


def test_hybridized_block_checks_the_input_structure():
    blk = _AddOrPass()
    blk.hybridize()
    x = mx.nd.array([1.0, 2.0])
    np.testing.assert_allclose(blk(x).asnumpy(), [3.0, 6.0])
    np.testing.assert_allclose(blk(x, None).asnumpy(), [3.0, 6.0])  # a trailing None: same trace
    with pytest.raises(ValueError, match="traced"):
        blk(x, x)
    with pytest.raises(ValueError):
        blk(x, mx.sym.var("s"))  # NDArrays and Symbols mixed
    with pytest.raises(ValueError):
        _hybrid(_AddOrPass())(x, 1)  # a scalar input after hybridize


def _hybrid(blk):
    blk.hybridize()
    return blk


def test_nested_list_inputs_without_hybridize():
    class SumLists(gluon.HybridBlock):
        def hybrid_forward(self, F, a, b):
            return sum(a) + (sum(b) if isinstance(b, list) else b)

    blk = SumLists()
    out = blk([mx.nd.ones((3,)), mx.nd.ones((3,))], [mx.nd.ones((3,))] * 3)
    np.testing.assert_allclose(out.asnumpy(), np.full(3, 5.0))
    np.testing.assert_allclose(blk([mx.nd.ones((2,))], 4).asnumpy(), np.full(2, 5.0))


def test_symbol_block_composes_with_symbols():
    net = gluon.nn.HybridSequential()
    net.add(gluon.nn.Dense(3))
    net.initialize()
    inp = mx.sym.var("data")
    sb = gluon.SymbolBlock(net(inp), inp)
    out = sb(mx.sym.var("other") * 2)
    assert "other" in out.list_arguments() and "data" not in out.list_arguments()
