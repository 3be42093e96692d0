"""MXNet 1.x operator and NDArray-creation semantics that MXNet programs rely on: 0-d arrays from
numpy scalars, from_numpy's shared memory, zero-size max/min, pooling_convention='same' padding,
num_args filled from the inputs given (UpSampling). References are numpy and MXNet's documented
behaviour."""
import numpy as np
import pytest

import mx


def test_array_from_0d_numpy_keeps_shape():
    a = mx.nd.array(np.ones([]))
    assert a.shape == ()
    np.testing.assert_array_equal(a.asnumpy(), np.ones([]))
    assert mx.nd.array(np.float64(2.5)).asscalar() == 2.5
    # non-contiguous sources are still copied correctly
    src = np.arange(12.0).reshape(3, 4).T
    np.testing.assert_array_equal(mx.nd.array(src).asnumpy(), src)


def test_from_numpy_shares_memory_and_locks_numpy_view():
    src = np.array([[1, 2], [3, 4], [5, 6]], dtype="float32")
    a = mx.nd.from_numpy(src)
    with pytest.raises(ValueError):
        src[2, 1] = 0  # numpy's view is read-only now, as in MXNet
    a[2, 1] = 100
    assert src[2, 1] == 100
    with pytest.raises(ValueError, match="C-contiguous"):
        mx.nd.from_numpy(np.arange(6.0).reshape(2, 3).T)
    np.testing.assert_array_equal(mx.nd.from_numpy(np.arange(6.0).reshape(2, 3).T, zero_copy=False).asnumpy(),
                                  np.arange(6.0).reshape(2, 3).T)


@pytest.mark.parametrize("op", ["max", "min"])
def test_zero_size_max_min_raise(op):
    a = mx.nd.zeros((5, 0))
    with pytest.raises(mx.base.MXNetError, match="zero-size"):
        getattr(a, op)()
    with pytest.raises(mx.base.MXNetError, match="zero-size"):
        getattr(mx.nd, op)(a, axis=1)
    # reducing only non-empty axes of a zero-size array is fine (empty result)
    assert getattr(mx.nd, op)(a, axis=0).shape == (0,)
    np.testing.assert_array_equal(mx.nd.sum(a, axis=1).asnumpy(), np.zeros(5))


def test_pooling_same_convention_computes_its_padding():
    x = np.random.RandomState(0).rand(1, 1, 10).astype("float32")
    out = mx.nd.Pooling(mx.nd.array(x), kernel=(2,), stride=(2,), pad=(0, 0, 0), pool_type="max",
                        pooling_convention="same")
    assert out.shape == (1, 1, 5)
    np.testing.assert_allclose(out.asnumpy(), x.reshape(1, 1, 5, 2).max(-1))
    with pytest.raises(mx.base.MXNetError, match="pad"):
        mx.nd.Pooling(mx.nd.array(x), kernel=(2,), stride=(2,), pad=(2,), pool_type="max",
                      pooling_convention="same")


def test_upsampling_num_args_from_inputs():
    rng = np.random.RandomState(1)
    a = rng.rand(1, 2, 2, 2).astype("float32")
    b = rng.rand(1, 1, 1, 1).astype("float32")
    s = mx.sym.UpSampling(mx.sym.var("a"), mx.sym.var("b"), sample_type="nearest", scale=2)
    out = s.bind(mx.cpu(), {"a": mx.nd.array(a), "b": mx.nd.array(b)}).forward()[0].asnumpy()
    up_a = a.repeat(2, axis=2).repeat(2, axis=3)
    up_b = b.repeat(4, axis=2).repeat(4, axis=3)
    np.testing.assert_allclose(out, np.concatenate([up_a, up_b], axis=1))


def test_setitem_ignores_new_axes():
    x = mx.nd.zeros((3, 4, 2))
    x[None, 0, None, None, 0, 0, None] = 1
    ref = np.zeros((3, 4, 2), dtype="float32")
    ref[None, 0, None, None, 0, 0, None] = 1
    np.testing.assert_array_equal(x.asnumpy(), ref)
    x[None, 1, :, None] = np.arange(8.0).reshape(1, 4, 1, 2)
    ref[None, 1, :, None] = np.arange(8.0).reshape(1, 4, 1, 2)
    np.testing.assert_array_equal(x.asnumpy(), ref)


def test_generalized_negative_binomial_moments():
    mx.random.seed(7)
    mu, alpha = 4.0, 0.5
    x = mx.nd.random.generalized_negative_binomial(mu, alpha, shape=(40000,)).asnumpy().astype("float64")
    assert np.all(x == np.round(x)) and x.min() >= 0
    assert abs(x.mean() - mu) < 0.1
    assert abs(x.var() - (mu + alpha * mu * mu)) / (mu + alpha * mu * mu) < 0.05
    p = mx.nd.random.generalized_negative_binomial(3.0, 0.0, shape=(40000,)).asnumpy()  # alpha 0: Poisson
    assert abs(p.mean() - 3.0) < 0.05 and abs(p.var() - 3.0) < 0.15
    s = mx.sym.random.generalized_negative_binomial(mu=2.0, alpha=0.3, shape=(5,))
    assert s.bind(mx.cpu(), {}).forward()[0].shape == (5,)
    with pytest.raises(mx.base.MXNetError, match="alpha"):
        mx.nd.random.generalized_negative_binomial(1.0, -1.0, shape=(2,))


def test_image_normalize_per_channel_and_gradient():
    rng = np.random.RandomState(8)
    x = rng.rand(2, 3, 4, 5).astype("float32")
    mean, std = (0.1, 0.5, 0.9), (0.5, 2.0, 4.0)
    out = mx.nd.image.normalize(mx.nd.array(x), mean=mean, std=std)
    ref = (x - np.array(mean, "float32")[None, :, None, None]) / np.array(std, "float32")[None, :, None, None]
    np.testing.assert_allclose(out.asnumpy(), ref, rtol=1e-5, atol=1e-6)
    xa = mx.nd.array(x[0])
    xa.attach_grad()
    with mx.autograd.record():
        y = mx.nd.image.normalize(xa, mean=0.5, std=2.0)
    y.backward()
    np.testing.assert_allclose(xa.grad.asnumpy(), np.full(x[0].shape, 0.5), rtol=1e-6)
    s = mx.sym.image.normalize(mx.sym.var("data"), mean=mean, std=std)
    np.testing.assert_allclose(s.bind(mx.cpu(), {"data": mx.nd.array(x)}).forward()[0].asnumpy(), ref, rtol=1e-5, atol=1e-6)
    with pytest.raises(mx.base.MXNetError, match="channel"):
        mx.nd.image.normalize(mx.nd.array(x), mean=(1.0, 2.0), std=(1.0, 1.0))


def test_prelu_gamma_broadcast_over_leading_axes():
    rng = np.random.RandomState(9)
    x = rng.uniform(-1, 1, (3, 4, 2, 5))
    gam = rng.uniform(0.1, 0.9, (3, 4))  # MXNet places it on axes (0, 1)
    xa, ga = mx.nd.array(x, dtype="float64"), mx.nd.array(gam, dtype="float64")
    xa.attach_grad()
    ga.attach_grad()
    with mx.autograd.record():
        y = mx.nd.LeakyReLU(xa, ga, act_type="prelu")
    y.backward()
    g4 = gam[:, :, None, None]
    np.testing.assert_allclose(y.asnumpy(), np.where(x > 0, x, g4 * x))
    np.testing.assert_allclose(xa.grad.asnumpy(), np.where(x > 0, 1.0, np.broadcast_to(g4, x.shape)))
    np.testing.assert_allclose(ga.grad.asnumpy(), np.where(x > 0, 0.0, x).sum(axis=(2, 3)))
    with pytest.raises(mx.base.MXNetError, match="gamma"):
        mx.nd.LeakyReLU(xa, mx.nd.ones((2, 5)), act_type="prelu")


def test_cast_gradient_of_integer_input():
    x = mx.sym.var("x", dtype="int32")
    ex = mx.sym.Cast(x, dtype="float32").simple_bind(mx.cpu(), x=(2, 3), axis=0)  # non-shape keywords ignored
    ex.forward(is_train=True)
    head = np.array([[1.7, -2.2, 3.0], [0.4, 5.9, -6.1]], dtype="float32")
    ex.backward([mx.nd.array(head)])
    assert ex.grad_arrays[0].dtype == np.int32
    np.testing.assert_array_equal(ex.grad_arrays[0].asnumpy(), head.astype("int32"))


def test_depth_space_refuse_zero_size_dims():
    with pytest.raises(mx.base.MXNetError, match="zero-size"):
        mx.nd.depth_to_space(mx.nd.zeros((1, 4, 0, 3)), 2)
    with pytest.raises(mx.base.MXNetError, match="zero-size"):
        mx.nd.space_to_depth(mx.nd.zeros((1, 0, 4, 4)), 2)


def test_integer_modulo_gradient_is_zero():
    a, b = mx.sym.var("a"), mx.sym.var("b")
    c = mx.sym.cast(a, dtype="int32") % mx.sym.cast(b, dtype="int32")
    av, bv = np.array([[7.0, 9.0]]), np.array([[2.0, 4.0]])
    ga, gb = mx.nd.ones((1, 2)), mx.nd.ones((1, 2))
    ex = c.bind(mx.cpu(), {"a": mx.nd.array(av), "b": mx.nd.array(bv)}, args_grad={"a": ga, "b": gb})
    np.testing.assert_array_equal(ex.forward(is_train=True)[0].asnumpy(), np.array([[1, 1]]))
    ex.backward([mx.nd.ones((1, 2), dtype="int32")])
    np.testing.assert_array_equal(ga.asnumpy(), np.zeros((1, 2)))
    np.testing.assert_array_equal(gb.asnumpy(), np.zeros((1, 2)))


def test_group_norm_gamma_per_group_as_mxnet():
    rng = np.random.RandomState(10)
    x = rng.standard_normal((2, 6, 3))
    g, b = np.array([0.5, 2.0, -1.0]), np.array([0.1, 0.2, 0.3])
    y = mx.nd.GroupNorm(mx.nd.array(x, dtype="float64"), mx.nd.array(g, dtype="float64"),
                        mx.nd.array(b, dtype="float64"), num_groups=3, eps=1e-5).asnumpy()
    xr = x.reshape(2, 3, -1)
    ref = (xr - xr.mean(-1, keepdims=True)) / np.sqrt(xr.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(y, (ref * g[None, :, None] + b[None, :, None]).reshape(x.shape), rtol=1e-10)
    blk = mx.gluon.nn.GroupNorm(num_groups=3)
    blk.initialize()
    blk(mx.nd.array(x))
    assert blk.gamma.shape == (3,) and blk.beta.shape == (3,)  # MXNet 1.x checkpoints load


def test_per_element_samplers():
    mx.random.seed(11)
    mu, sigma = mx.nd.array([0.0, 10.0]), mx.nd.array([1.0, 0.5])
    s = mx.nd.random.normal(mu, sigma, shape=(20000,)).asnumpy()
    assert s.shape == (2, 20000)
    np.testing.assert_allclose(s.mean(1), [0.0, 10.0], atol=0.03)
    np.testing.assert_allclose(s.std(1), [1.0, 0.5], rtol=0.03)
    assert mx.nd.sample_normal(mu=mx.nd.array([10.0]), sigma=mx.nd.array([0.5])).shape == (1,)
    assert mx.nd.sample_normal(mu=mx.nd.array([10.0]), sigma=mx.nd.array([0.5]), shape=1).shape == (1, 1)
    u = mx.nd.random.uniform(mx.nd.array([[0.0], [5.0]]), mx.nd.array([[1.0], [6.0]]), shape=(4000,)).asnumpy()
    assert u.shape == (2, 1, 4000) and (u[0] >= 0).all() and (u[0] < 1).all() and (u[1] >= 5).all() and (u[1] < 6).all()
    g = mx.nd.random.gamma(mx.nd.array([2.0, 9.0]), mx.nd.array([1.5, 0.5]), shape=(20000,)).asnumpy()
    np.testing.assert_allclose(g.mean(1), [3.0, 4.5], rtol=0.03)
    e = mx.nd.random.exponential(mx.nd.array([2.0]), shape=(20000,)).asnumpy()  # scale 2: mean 2
    np.testing.assert_allclose(e.mean(), 2.0, rtol=0.03)
    p = mx.nd.random.poisson(mx.nd.array([3.0, 30.0]), shape=(20000,)).asnumpy()
    np.testing.assert_allclose(p.mean(1), [3.0, 30.0], rtol=0.03)
    sym = mx.sym.random.normal(mx.sym.var("m"), mx.sym.var("s"), shape=(3,))
    assert sym.bind(mx.cpu(), {"m": mu, "s": sigma}).forward()[0].shape == (2, 3)
    with pytest.raises(TypeError):
        mx.nd.random.normal(mu, 1.0)  # all arrays or all numbers, as MXNet
    with pytest.raises(mx.base.MXNetError, match="sigma"):
        mx.nd.random.normal(mu, mx.nd.array([1.0, -1.0]))


def test_get_operator_arguments_lists_inputs_then_parameters():
    a = mx.operator.get_operator_arguments("Activation")
    assert a.names == ["data", "act_type"] and a.narg == 2
    assert a.types == ["NDArray-or-Symbol", "{'relu', 'sigmoid', 'softrelu', 'softsign', 'tanh'}, required"]
    fc = mx.operator.get_operator_arguments("FullyConnected")
    assert fc.names[:3] == ["data", "weight", "bias"] and "num_hidden" in fc.names
    assert fc.types[fc.names.index("no_bias")].startswith("boolean, optional, default=")


def test_arange_integer_dtype_steps_in_the_dtype():
    for dt in ("int32", "int64", "uint8"):
        out = mx.nd.arange(1.3, 456.6, 1.3, dtype=dt).asnumpy()
        np.testing.assert_array_equal(out, np.arange(1.3, 456.6, 1.3, dtype=dt))
    np.testing.assert_allclose(mx.nd.arange(1.3, 10.0, 1.3).asnumpy(), np.arange(1.3, 10.0, 1.3, dtype="float32"),
                               rtol=1e-6)


def test_diag_offset_outside_the_matrix_raises():
    a = mx.nd.array(np.arange(12.0).reshape(3, 4))
    np.testing.assert_array_equal(mx.nd.diag(a, k=3).asnumpy(), np.diag(np.arange(12.0).reshape(3, 4), 3))
    assert mx.nd.diag(a, k=4).shape == (0,)  # at the edge: empty, as numpy
    with pytest.raises(mx.base.MXNetError, match="does not exist"):
        mx.nd.diag(a, k=5)


def test_from_numpy_twice_shares_again():
    src = np.arange(6.0, dtype="float32").reshape(2, 3)
    a = mx.nd.from_numpy(src)
    b = mx.nd.from_numpy(src)  # read-only after the first share; still shareable
    b[0, 0] = 42
    assert a[0, 0].asscalar() == 42 and src[0, 0] == 42
    ro = np.arange(3.0)
    ro.flags["WRITEABLE"] = False
    view = ro[:]
    with pytest.raises(ValueError, match="read-only"):
        mx.nd.from_numpy(np.frombuffer(b"\x00" * 8, dtype="float64"))
    np.testing.assert_array_equal(mx.nd.from_numpy(view, zero_copy=False).asnumpy(), ro)


def test_broadcast_like_refuses_empty_axes():
    a, b = mx.nd.ones((1, 2)), mx.nd.ones((3, 2))
    assert mx.nd.broadcast_like(a, b).shape == (3, 2)
    assert mx.nd.broadcast_like(a, b, lhs_axes=(0,), rhs_axes=(0,)).shape == (3, 2)
    with pytest.raises(mx.base.MXNetError, match="empty tuple"):
        mx.nd.broadcast_like(a, b, lhs_axes=(), rhs_axes=())


def test_optimizer_updates_sparse_weights_through_dense_fallback():
    rng = np.random.RandomState(12)
    w0, g0 = rng.uniform(-1, 1, (4, 3)).astype("float32"), rng.uniform(-1, 1, (4, 3)).astype("float32")
    dense_w = mx.nd.array(w0)
    sparse_w = mx.nd.array(w0).tostype("csr")
    for w in (dense_w, sparse_w):
        opt = mx.optimizer.SGD(learning_rate=0.1, momentum=0.9, wd=0.01)
        st = opt.create_state_multi_precision(0, w)
        opt.update_multi_precision(0, w, mx.nd.array(g0), st)
    assert sparse_w.stype == "csr"
    np.testing.assert_allclose(sparse_w.tostype("default").asnumpy(), dense_w.asnumpy(), rtol=1e-6)
    # reference: one momentum step from zero state
    np.testing.assert_allclose(dense_w.asnumpy(), w0 - 0.1 * (g0 + 0.01 * w0), rtol=1e-5, atol=1e-7)
