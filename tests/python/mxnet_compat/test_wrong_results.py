"""Results that differed from MXNet 1.9.1: max pooling windows lying wholly in padding, PReLU's
default slope."""
import numpy as np

import mx


def _max_pool_full(x, k, s, p, dtype):
    """numpy reference: 'full' convention (ceil), windows clipped to the data; a window with no
    data gives the dtype's lowest finite value (MXNet's result)."""
    n, c, h, w = x.shape
    oh = int(np.ceil((h + 2 * p - k) / s)) + 1
    ow = int(np.ceil((w + 2 * p - k) / s)) + 1
    out = np.full((n, c, oh, ow), np.finfo(dtype).min, dtype)
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * s - p, j * s - p
            rs, cs = slice(max(r0, 0), max(min(r0 + k, h), 0)), slice(max(c0, 0), max(min(c0 + k, w), 0))
            win = x[:, :, rs, cs]
            if win.size:
                out[:, :, i, j] = win.max(axis=(2, 3))
    return out


def test_max_pooling_window_in_padding_gives_lowest_finite():
    for dtype in (np.float32, np.float64):
        x = np.random.uniform(-5, 5, (2, 3, 4, 4)).astype(dtype)
        got = mx.nd.Pooling(mx.nd.array(x, dtype=dtype), kernel=(2, 2), stride=(3, 3), pad=(1, 1),
                            pooling_convention="full", pool_type="max").asnumpy()
        want = _max_pool_full(x, 2, 3, 1, dtype)
        assert np.isfinite(got).all()
        assert (got == np.finfo(dtype).min).any()
        np.testing.assert_array_equal(got, want)


def test_prelu_default_alpha_is_quarter_even_with_global_initializer():
    net = mx.gluon.nn.PReLU()
    net.initialize(mx.init.Xavier())
    np.testing.assert_array_equal(net.alpha.data().asnumpy(), [0.25])
    x = np.array([-2.0, -1.0, 0.5, 3.0], np.float32)
    np.testing.assert_allclose(net(mx.nd.array(x)).asnumpy(), np.where(x > 0, x, 0.25 * x))


def test_symbolic_prelu_slope_starts_at_quarter():
    data = mx.sym.var("data")
    mod = mx.mod.Module(mx.sym.LeakyReLU(data=data, act_type="prelu", name="p"), label_names=None)
    mod.bind(data_shapes=[("data", (4, 6))])
    mod.init_params(mx.init.Xavier())
    np.testing.assert_array_equal(mod.get_params()[0]["p_gamma"].asnumpy(), np.full(6, 0.25, np.float32))
    # an explicit initialiser on the variable wins
    gamma = mx.sym.var("g", init=mx.init.One())
    mod = mx.mod.Module(mx.sym.LeakyReLU(data=data, gamma=gamma, act_type="prelu"), label_names=None)
    mod.bind(data_shapes=[("data", (4, 6))])
    mod.init_params()
    np.testing.assert_array_equal(mod.get_params()[0]["g"].asnumpy(), np.ones(6, np.float32))
