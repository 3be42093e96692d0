"""Symbol fluent methods and positional op parameters, so hybrid_forward code written with
x.reshape(...) / nd.repeat(x, 2) runs on NDArrays and, after hybridize(), on Symbols."""
import numpy as np
import pytest

import mx
from mx.ndarray.fluent import _FLUENT


def test_every_ndarray_fluent_method_exists_on_symbol():
    missing = [n for n in _FLUENT if hasattr(mx.nd.NDArray, n) and not hasattr(mx.sym.Symbol, n)]
    assert not missing
    for n in ("reshape", "astype", "slice", "transpose", "sum", "mean", "expand_dims", "flatten"):
        assert callable(getattr(mx.sym.Symbol, n))


def test_fluent_chain_matches_numpy():
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    x = mx.sym.var("x")
    y = x.reshape((6, 4)).transpose().sum(axis=1).expand_dims(0).astype("float64")
    out = y.eval(x=mx.nd.array(a))[0]
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.asnumpy(), a.reshape(6, 4).T.sum(axis=1)[None])
    z = x.reshape(-1, 4).slice(begin=(1, 0), end=(3, 2)).flatten().mean(axis=0)
    np.testing.assert_allclose(z.eval(x=mx.nd.array(a))[0].asnumpy(), a.reshape(-1, 4)[1:3, 0:2].mean(axis=0))


def test_positional_parameters_nd_and_sym():
    a = np.array([[1, 2], [3, 4]], np.float32)
    np.testing.assert_array_equal(mx.nd.repeat(mx.nd.array(a), 2).asnumpy(), np.repeat(a, 2))
    np.testing.assert_array_equal(mx.nd.clip(mx.nd.array(a), 1.5, 3).asnumpy(), np.clip(a, 1.5, 3))
    np.testing.assert_array_equal(mx.nd.slice_axis(mx.nd.array(a), 1, 0, 1).asnumpy(), a[:, 0:1])
    x = mx.sym.var("x")
    np.testing.assert_array_equal(mx.sym.repeat(x, 2, 0).eval(x=mx.nd.array(a))[0].asnumpy(), np.repeat(a, 2, 0))
    np.testing.assert_array_equal(mx.sym.tile(x, (2, 1)).eval(x=mx.nd.array(a))[0].asnumpy(), np.tile(a, (2, 1)))
    with pytest.raises(TypeError, match="multiple values"):
        mx.nd.repeat(mx.nd.array(a), 2, repeats=3)
    with pytest.raises(TypeError, match="at most"):
        mx.nd.repeat(mx.nd.array(a), 2, 0, 5)


class _Net(mx.gluon.HybridBlock):
    def hybrid_forward(self, F, x):
        return x.reshape((0, -1)).transpose().expand_dims(0).sum(axis=2) * 2


def test_hybridized_block_using_fluent_methods():
    a = np.random.rand(2, 3, 2).astype(np.float32)
    want = a.reshape(2, -1).T[None].sum(axis=2) * 2
    net = _Net()
    np.testing.assert_allclose(net(mx.nd.array(a)).asnumpy(), want, rtol=1e-6)
    net.hybridize()
    np.testing.assert_allclose(net(mx.nd.array(a)).asnumpy(), want, rtol=1e-6)
