"""contrib.boolean_mask, MX's first operator whose output shape depends on its input values
(OpDef::shape_from_values): imperative calls, autograd, hybridized Gluon blocks (the executor runs
such graphs node by node) and the symbolic executor, against numpy, finite differences and Apache
MXNet 1.9.1's outputs (tests/data/contrib_detection/make_contrib_detection_fixtures.py)."""
import json
import os

import numpy as np
import pytest

import mx
from mx import gluon

REFS = np.load(os.path.join(os.path.dirname(__file__), "..", "..", "data", "contrib_detection",
                            "contrib_detection_refs.npz"))


def test_matches_mxnet():
    c = {k.split("__", 1)[1]: REFS[k] for k in REFS.files if k.startswith("boolean_mask__")}
    x = mx.nd.array(c["data"])
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.contrib.boolean_mask(x, mx.nd.array(c["index"]))
    y.backward(mx.nd.array(c["head"]))
    np.testing.assert_array_equal(y.asnumpy(), c["out"])
    np.testing.assert_array_equal(x.grad.asnumpy(), c["grad"])


@pytest.mark.parametrize("axis", [0, 1, -1, 2])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "bool"])
def test_numpy_reference_any_axis(axis, dtype):
    rng = np.random.RandomState(axis + 5)
    data = rng.randint(-5, 5, (4, 5, 3)).astype(dtype)
    index = rng.randint(0, 2, data.shape[axis]).astype("int32")
    index[0] = 1
    out = mx.nd.contrib.boolean_mask(mx.nd.array(data, dtype=dtype), mx.nd.array(index, dtype="int32"), axis=axis)
    want = np.compress(index.astype(bool), data, axis=axis)
    assert out.dtype == np.dtype(dtype)
    assert out.shape == want.shape
    np.testing.assert_array_equal(out.asnumpy(), want)


def test_index_of_float_and_bool_dtypes_and_empty_result():
    data = mx.nd.array(np.arange(12).reshape(4, 3))
    for idx in (mx.nd.array([0, 1, 0, 1]), mx.nd.array([0, 1, 0, 1], dtype="bool"),
                mx.nd.array([0.0, 0.5, 0.0, -2.0], dtype="float64")):
        np.testing.assert_array_equal(mx.nd.contrib.boolean_mask(data, idx).asnumpy(), [[3, 4, 5], [9, 10, 11]])
    data.attach_grad()
    with mx.autograd.record():
        out = mx.nd.contrib.boolean_mask(data, mx.nd.zeros(4))
    out.backward()
    assert out.shape == (0, 3)
    assert (data.grad.asnumpy() == 0).all()


def test_gradient_finite_differences_and_accumulation():
    rng = np.random.RandomState(1)
    data = rng.normal(size=(7, 2, 3))
    index = np.array([1, 0, 1, 1, 0, 1, 0.0])
    head = rng.normal(size=(4, 2, 3))
    f = lambda d: float((mx.nd.contrib.boolean_mask(mx.nd.array(d, dtype="float64"), mx.nd.array(index))
                         .asnumpy() * head).sum())
    fd = np.zeros_like(data)
    for i in np.ndindex(*data.shape):
        d1, d2 = data.copy(), data.copy()
        d1[i] += 1e-6
        d2[i] -= 1e-6
        fd[i] = (f(d1) - f(d2)) / 2e-6
    x = mx.nd.array(data, dtype="float64")
    g = mx.nd.zeros(data.shape, dtype="float64")
    mx.autograd.mark_variables([x], [g], grad_reqs="add")
    for _ in range(3):  # grad_req 'add' sums three backward passes, as MXNet's test_boolean_mask
        with mx.autograd.record():
            y = mx.nd.contrib.boolean_mask(x, mx.nd.array(index))
        y.backward(mx.nd.array(head, dtype="float64"))
    np.testing.assert_allclose(g.asnumpy(), 3 * fd, rtol=1e-6, atol=1e-8)


class _Masked(gluon.HybridBlock):
    def __init__(self, **kw):
        super().__init__(**kw)
        with self.name_scope():
            self.dense = gluon.nn.Dense(2, in_units=3)

    def hybrid_forward(self, F, data, index):
        return self.dense(F.contrib.boolean_mask(data, index) * 2)


@pytest.mark.parametrize("flags", [{}, dict(static_alloc=True), dict(static_alloc=True, static_shape=True)])
def test_hybridized_block_forward_backward(flags):
    rng = np.random.RandomState(2)
    data = rng.normal(size=(5, 3)).astype("float32")
    net = _Masked()
    net.initialize()
    w, b = net.dense.weight.data().asnumpy(), net.dense.bias.data().asnumpy()
    net.hybridize(**flags)
    for index in ([1, 0, 1, 1, 0], [0, 1, 0, 0, 0]):  # the output's length changes between calls
        x = mx.nd.array(data)
        x.attach_grad()
        with mx.autograd.record():
            y = net(x, mx.nd.array(index))
        y.backward()
        kept = data[np.array(index, bool)]
        np.testing.assert_allclose(y.asnumpy(), (2 * kept) @ w.T + b, rtol=1e-5)
        want_grad = np.zeros_like(data)
        want_grad[np.array(index, bool)] = 2 * w.sum(0)
        np.testing.assert_allclose(x.grad.asnumpy(), want_grad, rtol=1e-5)
        np.testing.assert_allclose(net.dense.weight.grad().asnumpy(), np.ones((2, 1)) * (2 * kept).sum(0), rtol=1e-5)
    # inference (not recording) through the same block
    out = net(mx.nd.array(data), mx.nd.array([0, 0, 1, 0, 0]))
    np.testing.assert_allclose(out.asnumpy(), (2 * data[2:3]) @ w.T + b, rtol=1e-5)


def test_mxnet_test_dynamic_shape():
    # MXNet's tests/python/unittest/test_dynamic_shape.py, in MX's words
    class Block(gluon.HybridBlock):
        def hybrid_forward(self, F, data, index):
            return F.contrib.boolean_mask(data, index)

    block = Block()
    block.hybridize()
    data = mx.nd.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    data.attach_grad()
    with mx.autograd.record():
        result = block(data, mx.nd.array([0, 1, 1]))
    result.backward()
    np.testing.assert_array_equal(result.asnumpy(), [[4, 5, 6], [7, 8, 9]])
    np.testing.assert_array_equal(data.grad.asnumpy(), [[0, 0, 0], [1, 1, 1], [1, 1, 1]])


def test_symbol_bind_runs_node_by_node_and_simple_bind_refuses():
    x, m = mx.sym.var("x"), mx.sym.var("m")
    masked = mx.sym.contrib.boolean_mask(x, m)
    s = mx.sym.sum(mx.sym.broadcast_mul(masked, x.slice_axis(axis=0, begin=0, end=1)), axis=1)
    # as MXNet: the output shape is unknown to static inference
    assert masked.infer_shape_partial(x=(4, 3), m=(4,))[1] in ([()], [None])
    with pytest.raises(mx.MXNetError, match="boolean_mask"):
        s.simple_bind(mx.cpu(), x=(4, 3), m=(4,))
    data = np.arange(12, dtype="float32").reshape(4, 3)
    for req in ("write", "add"):
        grad = mx.nd.ones((4, 3))
        ex = s.bind(mx.cpu(), {"x": mx.nd.array(data), "m": mx.nd.array([1, 0, 0, 1])},
                    args_grad={"x": grad}, grad_req={"x": req, "m": "null"})
        out = ex.forward(is_train=True)[0].asnumpy()
        np.testing.assert_allclose(out, (data[[0, 3]] * data[0]).sum(1))
        head = np.array([1.0, -2.0], "float32")
        ex.backward(mx.nd.array(head))
        want = np.zeros((4, 3), "float32")
        want[[0, 3]] = head[:, None] * data[0]
        want[0] += (head[:, None] * data[[0, 3]]).sum(0)
        np.testing.assert_allclose(grad.asnumpy(), want + (1 if req == "add" else 0))
        with pytest.raises(mx.MXNetError, match="head gradient"):
            ex.backward(mx.nd.ones((3,)))


def test_bad_input():
    data = mx.nd.ones((4, 3))
    with pytest.raises(mx.MXNetError, match="index has 3 entries"):
        mx.nd.contrib.boolean_mask(data, mx.nd.ones(3))
    with pytest.raises(mx.MXNetError, match="1-dimensional"):
        mx.nd.contrib.boolean_mask(data, mx.nd.ones((4, 1)))
    with pytest.raises(mx.MXNetError, match="axis 2"):
        mx.nd.contrib.boolean_mask(data, mx.nd.ones(4), axis=2)
    with pytest.raises(mx.MXNetError, match="at least 1 dimension"):
        mx.nd.contrib.boolean_mask(mx.nd.array(1.0), mx.nd.ones(1))
    with pytest.raises(mx.MXNetError, match="index has 3 entries"):
        s = mx.sym.contrib.boolean_mask(mx.sym.var("d"), mx.sym.var("i"))
        s.infer_shape_partial(d=(4, 3), i=(3,))
