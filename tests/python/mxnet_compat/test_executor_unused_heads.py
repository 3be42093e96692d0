"""Executor.backward ignores the head gradients of outputs that have no gradient path (MXNet
neither checks nor reads them: its test_shape_array/test_size_array/test_order pass head gradients
of the wrong shape there); heads that are read are still checked. mx.base.py_str accepts the str
names MX's monitor callbacks pass."""
import numpy as np
import pytest

import mx


def test_unused_head_gradient_is_not_checked():
    x = mx.sym.var("x")
    ex = mx.sym.shape_array(x).simple_bind(mx.cpu(), x=(3, 4, 5))
    ex.forward(is_train=True)
    ex.backward(mx.nd.ones((7,)))  # wrong shape, never read
    np.testing.assert_array_equal(ex.outputs[0].asnumpy(), [3, 4, 5])
    assert (ex.grad_dict["x"].asnumpy() == 0).all()


def test_used_head_gradient_is_checked_and_applied():
    x = mx.sym.var("x")
    ex = mx.sym.Group([mx.sym.sum(x * 2), mx.sym.size_array(x)]).simple_bind(mx.cpu(), x=(2, 2))
    ex.forward(is_train=True)
    ex.backward([mx.nd.array([3.0]), mx.nd.ones((9,))])
    np.testing.assert_array_equal(ex.grad_dict["x"].asnumpy(), np.full((2, 2), 6.0))
    with pytest.raises(mx.MXNetError, match="head gradient 0"):
        ex.backward([mx.nd.ones((3,)), mx.nd.ones((9,))])


def test_argsort_head_gradient_of_wrong_shape():
    # MXNet's test_order: topk(ret_typ='indices') has no gradient; a head of the data's shape is ignored
    x = mx.sym.var("x")
    ex = mx.sym.topk(x, axis=1, k=1, ret_typ="indices").simple_bind(mx.cpu(), x=(5, 5))
    ex.forward(is_train=True, x=mx.nd.array(np.random.RandomState(0).rand(5, 5)))
    ex.backward(mx.nd.ones((5, 5)))
    assert (ex.grad_dict["x"].asnumpy() == 0).all()


def test_py_str_accepts_python_strings():
    assert mx.base.py_str("conv_output") == "conv_output"
    assert mx.base.py_str(b"conv_output") == "conv_output"
