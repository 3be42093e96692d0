"""Modules and names MXNet 1.x programs import: mx.test_utils, mx.util, mx.runtime, mx.base,
mx.name, mx.AttrScope (what they return is checked against numpy / expected semantics)."""
import os

import numpy as np
import pytest

import mx
from mx import test_utils as tu


def test_assert_almost_equal_tolerances():
    a = np.array([1.0, 2.0], np.float32)
    tu.assert_almost_equal(mx.nd.array(a), a + 1e-6)
    with pytest.raises(AssertionError):
        tu.assert_almost_equal(mx.nd.array(a), a + 0.1)
    assert tu.almost_equal(a, a + 0.05, rtol=0.1, atol=0)
    assert not tu.almost_equal(a, a + 0.05, rtol=1e-3, atol=1e-3)
    assert tu.same(mx.nd.array(a), a) and not tu.same(a, a[::-1])
    tu.assert_exception(mx.nd.ones((2,)).reshape, mx.MXNetError, (3,))
    with pytest.raises(AssertionError):
        tu.assert_exception(lambda: None, ValueError)


def test_same_array_detects_shared_memory():
    a = mx.nd.zeros((2, 3))
    assert tu.same_array(a, a.reshape((3, 2)))
    assert not tu.same_array(a, a.copy())
    np.testing.assert_array_equal(a.asnumpy(), np.zeros((2, 3)))


def test_random_helpers_shapes():
    s = tu.rand_shape_nd(4, dim=5)
    assert len(s) == 4 and all(1 <= d <= 5 for d in s)
    x, y = tu.rand_shape_2d(3, 4)
    assert 1 <= x <= 3 and 1 <= y <= 4
    a = tu.rand_ndarray((3, 4), dtype=np.float64)
    assert a.shape == (3, 4) and a.dtype == np.float64 and np.abs(a.asnumpy()).max() <= 1
    c = tu.rand_ndarray((30, 40), stype="csr", density=0.2)
    assert c.stype == "csr" and c.shape == (30, 40)
    assert 0.05 < (c.asnumpy() != 0).mean() < 0.4
    with pytest.raises(ValueError):
        tu.rand_ndarray((3, 4), stype="coo")
    d = np.random.rand(3, 4, 5)
    np.testing.assert_allclose(tu.np_reduce(d, (0, 2), True, np.sum), d.sum(axis=(0, 2), keepdims=True))
    assert tu.default_context() == mx.cpu()


def test_symbolic_checks_against_numpy():
    x, y = mx.sym.var("x"), mx.sym.var("y")
    s = x * y + mx.sym.sin(x)
    a, b = np.random.rand(3, 4), np.random.rand(3, 4)
    tu.check_symbolic_forward(s, [a, b], [a * b + np.sin(a)])
    with pytest.raises(AssertionError):
        tu.check_symbolic_forward(s, [a, b], [a * b])
    og = np.random.rand(3, 4)
    tu.check_symbolic_backward(s, [a, b], [og], [og * (b + np.cos(a)), og * a])
    tu.check_symbolic_backward(s, {"x": a, "y": b}, [og], {"x": og * (b + np.cos(a)), "y": og * a},
                               grad_req="add")
    with pytest.raises(AssertionError):
        tu.check_symbolic_backward(s, [a, b], [og], [og * b, og * a])


def test_check_numeric_gradient_finds_wrong_gradients():
    x, y = mx.sym.var("x"), mx.sym.var("y")
    tu.check_numeric_gradient(x * x * y, [np.random.rand(2, 3) + 0.5, np.random.rand(2, 3)])
    # BlockGrad's symbolic gradient is zero, the numeric one is not
    with pytest.raises(AssertionError):
        tu.check_numeric_gradient(mx.sym.BlockGrad(x) * y, [np.random.rand(2, 3) + 0.5, np.random.rand(2, 3)])


def test_environment_restores():
    os.environ.pop("MX_COMPAT_TEST_VAR", None)
    with tu.environment("MX_COMPAT_TEST_VAR", "1"):
        assert os.environ["MX_COMPAT_TEST_VAR"] == "1"
        with tu.environment({"MX_COMPAT_TEST_VAR": None}):
            assert "MX_COMPAT_TEST_VAR" not in os.environ
        assert os.environ["MX_COMPAT_TEST_VAR"] == "1"
    assert "MX_COMPAT_TEST_VAR" not in os.environ


def test_util_np_switches():
    assert not mx.util.is_np_array() and not mx.is_np_shape()
    with mx.np_shape(True):
        assert mx.is_np_shape()
    assert not mx.is_np_shape()

    @mx.util.use_np
    def f():
        return 1
    with pytest.raises(mx.base.MXNotSupportedError, match="numpy array semantics"):
        f()
    with pytest.raises(mx.base.MXNotSupportedError):
        mx.util.set_np()
    mx.util.reset_np()


def test_runtime_features_follow_the_build():
    f = mx.runtime.Features()
    assert f.is_enabled("CUDA") == (mx.base.features()["cuda"] is True)
    assert f.is_enabled("openmp") == mx.base.features()["openmp"]
    with pytest.raises(RuntimeError):
        f.is_enabled("NO_SUCH_FEATURE")
    assert [x.name for x in mx.runtime.feature_list()][0] == "CUDA"


def test_base_names():
    from mx.base import NotImplementedForSymbol, string_types, numeric_types, integer_types, _as_list
    assert isinstance("a", string_types) and isinstance(np.float32(1), numeric_types)
    assert isinstance(np.int64(3), integer_types)
    assert _as_list(1) == [1] and _as_list([1]) == [1]
    err = NotImplementedForSymbol(test_base_names, "op")
    assert isinstance(err, mx.MXNetError) and "not implemented for Symbol" in str(err)


def test_name_manager_and_prefix():
    x = mx.sym.var("x")
    with mx.name.NameManager():
        a = mx.sym.FullyConnected(x, num_hidden=2)
        b = mx.sym.FullyConnected(a, num_hidden=2)
    assert b.list_arguments() == ["x", "fullyconnected0_weight", "fullyconnected0_bias",
                                  "fullyconnected1_weight", "fullyconnected1_bias"]
    with mx.name.Prefix("net_"):
        c = mx.sym.FullyConnected(x, num_hidden=2, name="fc")
    assert c.list_arguments() == ["x", "net_fc_weight", "net_fc_bias"]


def test_attr_scope():
    with mx.AttrScope(ctx_group="dev1"):
        v = mx.sym.var("v")
        with mx.AttrScope(lr_mult="0.5"):
            r = mx.sym.relu(v, attr={"ctx_group": "dev2"})
    assert v.attr("ctx_group") == "dev1"
    assert r.attr("ctx_group") == "dev2" and r.attr("lr_mult") == "0.5"
    assert mx.sym.relu(v).attr("ctx_group") is None
    with pytest.raises(ValueError):
        mx.AttrScope(x=1)


def test_random_seed_accepts_negative_seeds():
    mx.random.seed(-5)
    a = mx.nd.random.uniform(shape=(4,)).asnumpy()
    mx.random.seed(-5)
    b = mx.nd.random.uniform(shape=(4,)).asnumpy()
    mx.random.seed(5)
    c = mx.nd.random.uniform(shape=(4,)).asnumpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_gluon_contrib_concurrent_and_pixel_shuffle():
    from mx.gluon.contrib.nn import HybridConcurrent, Identity, PixelShuffle2D
    net = HybridConcurrent(axis=1)
    net.add(Identity())
    net.add(mx.gluon.nn.Dense(3, in_units=2, use_bias=False, weight_initializer=mx.init.One()))
    net.initialize()
    x = np.random.rand(4, 2).astype(np.float32)
    want = np.concatenate([x, np.repeat(x.sum(axis=1, keepdims=True), 3, axis=1)], axis=1)
    np.testing.assert_allclose(net(mx.nd.array(x)).asnumpy(), want, rtol=1e-6)
    net.hybridize()
    np.testing.assert_allclose(net(mx.nd.array(x)).asnumpy(), want, rtol=1e-6)

    f1, f2 = 2, 3
    a = np.random.rand(2, 2 * f1 * f2, 3, 4).astype(np.float32)
    want = np.zeros((2, 2, 3 * f1, 4 * f2), np.float32)
    for c in range(2):
        for i in range(f1):
            for j in range(f2):
                want[:, c, i::f1, j::f2] = a[:, c * f1 * f2 + i * f2 + j]
    np.testing.assert_array_equal(PixelShuffle2D((f1, f2))(mx.nd.array(a)).asnumpy(), want)


def test_unsupported_modules_import_and_explain():
    from mx.contrib.amp import amp
    with pytest.raises(mx.base.MXNotSupportedError, match="mixed precision"):
        amp.init()
    with pytest.raises(mx.base.MXNotSupportedError):
        mx.numpy.zeros


def test_metric_created_from_its_json_config():
    import json
    for name, kw in (("acc", {"axis": 0}), ("f1", {}), ("perplexity", {"ignore_label": -1}), (["acc", "mse"], {})):
        m = mx.metric.create(name, **kw)
        m2 = mx.metric.create(json.dumps(m.get_config()))
        assert m2.get_config() == m.get_config()
    m2.update([mx.nd.array([0, 1])], [mx.nd.array([[0.9, 0.1], [0.2, 0.8]])])
    assert m2.get()[1][0] == 1.0
    with pytest.raises(ValueError):
        mx.metric.create('{"no_metric": 1}')


def test_binary_helpers_with_numbers_match_numpy():
    a, b = np.array([1.0, 5.0, -2.0], np.float32), np.array([3.0, 2.0, -2.0], np.float32)
    na, nb = mx.nd.array(a), mx.nd.array(b)
    np.testing.assert_array_equal(mx.nd.maximum(na, nb).asnumpy(), np.maximum(a, b))
    np.testing.assert_array_equal(mx.nd.minimum(na, 2).asnumpy(), np.minimum(a, 2))
    np.testing.assert_allclose(mx.nd.power(2, na).asnumpy(), np.power(2, a))
    np.testing.assert_allclose(mx.nd.hypot(na, 3).asnumpy(), np.hypot(a, 3), rtol=1e-6)
    np.testing.assert_array_equal(mx.nd.greater(2, na).asnumpy(), (2 > a).astype(np.float32))
    assert mx.nd.maximum(3, 4) == 4
    x = mx.sym.var("x")
    np.testing.assert_allclose(mx.sym.power(x, 2).eval(x=na)[0].asnumpy(), a ** 2)
    np.testing.assert_array_equal(mx.sym.maximum(x, mx.sym.var("y")).eval(x=na, y=nb)[0].asnumpy(), np.maximum(a, b))
    with pytest.raises(TypeError):
        mx.nd.maximum("a", na)


def test_sym_random_matches_nd_random():
    mx.random.seed(11)
    s = mx.sym.random.normal(loc=1, scale=2, shape=(3, 4)).eval()[0].asnumpy()
    mx.random.seed(11)
    n = mx.nd.random.normal(loc=1, scale=2, shape=(3, 4)).asnumpy()
    np.testing.assert_array_equal(s, n)
    u = mx.sym.random.uniform(-1, 1, shape=(1000,)).eval()[0].asnumpy()
    assert u.min() >= -1 and u.max() < 1 and abs(u.mean()) < 0.1


def test_infer_shape_unknown_gives_nones_like_mxnet():
    data, prev = mx.sym.var("data"), mx.sym.var("prev")
    out = mx.sym.FullyConnected(data, num_hidden=3) + mx.sym.FullyConnected(prev, num_hidden=3)
    with pytest.warns(UserWarning, match="prev"):
        assert out.infer_shape(data=(2, 4)) == (None, None, None)
    assert out.infer_shape(data=(2, 4), prev=(2, 5))[1] == [(2, 3)]
    with pytest.raises(mx.MXNetError):
        out.infer_shape(data=(2, 4), prev=(3, 5))


def test_symbol_pickle_bool_abs():
    import pickle
    x = mx.sym.var("x")
    y = pickle.loads(pickle.dumps(abs(x) * 2))
    np.testing.assert_array_equal(y.eval(x=mx.nd.array([-1.5, 2]))[0].asnumpy(), [3, 4])
    with pytest.raises(mx.base.NotImplementedForSymbol):
        bool(x)


def test_parameterless_op_ignores_keywords_as_mxnet():
    a = np.array([[1.0], [-1.0]], np.float32)
    got = mx.nd.broadcast_maximum(mx.nd.array([0.0]), mx.nd.array(a), axis=1)
    np.testing.assert_array_equal(got.asnumpy(), np.maximum(0, a))


def test_inplace_shape_methods_share_memory():
    a = np.arange(1, 31, dtype=np.float32).reshape(2, 3, 5)
    t = mx.nd.array(a)
    view, copy = t.flatten(inplace=True), t.flatten()
    s = mx.nd.array(np.ones((1, 3), np.float32)).squeeze(axis=0)
    e = t.expand_dims(axis=1, inplace=True)
    assert view.shape == (2, 15) and e.shape == (2, 1, 3, 5) and s.shape == (3,)
    t[0] = -1
    np.testing.assert_array_equal(view.asnumpy()[0], np.full(15, -1.0))
    np.testing.assert_array_equal(e.asnumpy()[0, 0], np.full((3, 5), -1.0))
    np.testing.assert_array_equal(copy.asnumpy(), a.reshape(2, 15))


def test_numpy_array_as_tuple_parameter_and_load_frombuffer(tmp_path):
    got = mx.nd.broadcast_to(mx.nd.ones((1, 2)), shape=np.array([3, 2]))
    assert got.shape == (3, 2)
    a = np.random.rand(2, 3).astype(np.float32)
    f = str(tmp_path / "x.nd")
    mx.nd.save(f, {"a": mx.nd.array(a)})
    with open(f, "rb") as fh:
        back = mx.nd.load_frombuffer(fh.read())
    np.testing.assert_array_equal(back["a"].asnumpy(), a)


def test_use_np_shape_and_contrib_aliases():
    @mx.use_np_shape
    def f():
        return mx.is_np_shape()
    assert f() is True and not mx.is_np_shape()
    assert mx.contrib.ndarray is mx.nd.contrib and mx.contrib.symbol is mx.sym.contrib
