"""mx.init: distributions, fan rules, orthogonality, name dispatch, seeding, errors."""
import json

import numpy as np
import pytest

import mx
from mx.base import check_call, lib


def seed(s):
    if hasattr(mx, "random") and hasattr(mx.random, "seed"):
        mx.random.seed(s)
    else:
        check_call(lib.mx_random_seed(s, -1))


def run(init, name, shape, dtype="float32"):
    arr = mx.nd.zeros(shape, dtype=dtype)
    init(name, arr)
    return arr.asnumpy()


def xavier_scale(shape, factor_type, magnitude):
    # MXNet's fan rule, written independently here: hw = prod(shape[2:]).
    hw = float(np.prod(shape[2:])) if len(shape) > 2 else 1.0
    fan_in, fan_out = shape[1] * hw, shape[0] * hw
    factor = {"avg": (fan_in + fan_out) / 2.0, "in": fan_in, "out": fan_out}[factor_type]
    return np.sqrt(magnitude / factor)


def test_zero_one_constant():
    assert (run(mx.init.Zero(), "a_weight", (3, 4)) == 0).all()
    assert (run(mx.init.One(), "a_weight", (3, 4)) == 1).all()
    assert (run(mx.init.Constant(2.5), "a_weight", (3, 4)) == 2.5).all()
    vals = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(run(mx.init.Constant(vals), "a_weight", (2, 3)), vals)
    assert (run(mx.init.create("zeros"), "a_weight", (2,)) == 0).all()
    assert (run(mx.init.create("ones"), "a_weight", (2,)) == 1).all()


def test_uniform_bounds_and_moments():
    seed(1)
    w = run(mx.init.Uniform(0.5), "x_weight", (200, 250))
    assert w.min() >= -0.5 and w.max() <= 0.5
    assert abs(w.mean()) < 0.01
    # Var of U(-a, a) = a^2 / 3
    assert abs(w.var() - 0.25 / 3) < 0.004


def test_normal_moments():
    seed(2)
    w = run(mx.init.Normal(0.2), "x_weight", (300, 300))
    assert abs(w.mean()) < 0.005
    assert abs(w.std() - 0.2) < 0.004
    # roughly 68% within one sigma
    assert abs((np.abs(w) < 0.2).mean() - 0.6827) < 0.01


@pytest.mark.parametrize("shape", [(64, 32), (16, 8, 3, 3), (20, 10, 5)])
@pytest.mark.parametrize("factor_type", ["avg", "in", "out"])
def test_xavier_uniform_scale(shape, factor_type):
    seed(3)
    scale = xavier_scale(shape, factor_type, 3.0)
    w = run(mx.init.Xavier("uniform", factor_type, 3), "conv_weight", shape)
    assert w.max() <= scale and w.min() >= -scale
    assert w.max() > 0.9 * scale and w.min() < -0.9 * scale
    assert abs(w.std() - scale / np.sqrt(3)) < 0.08 * scale


def test_xavier_gaussian_scale():
    seed(4)
    shape = (128, 64, 3, 3)
    w = run(mx.init.Xavier(rnd_type="gaussian", factor_type="in", magnitude=2), "c_weight", shape)
    assert abs(w.std() - xavier_scale(shape, "in", 2.0)) < 0.02 * xavier_scale(shape, "in", 2.0)


def test_msraprelu():
    seed(5)
    shape = (256, 128)
    slope = 0.25
    w = run(mx.init.MSRAPrelu(factor_type="in", slope=slope), "p_weight", shape)
    expect = xavier_scale(shape, "in", 2.0 / (1 + slope ** 2))
    assert abs(w.std() - expect) < 0.03 * expect
    assert json.loads(mx.init.MSRAPrelu().dumps()) == ["msraprelu", {"factor_type": "avg", "slope": 0.25}]


@pytest.mark.parametrize("shape", [(4, 10), (10, 4), (6, 2, 3), (5, 5)])
@pytest.mark.parametrize("rand_type", ["uniform", "normal"])
def test_orthogonal(shape, rand_type):
    seed(6)
    scale = 1.5
    w = run(mx.init.Orthogonal(scale=scale, rand_type=rand_type), "o_weight", shape)
    m = w.reshape(shape[0], -1).astype(np.float64)
    if m.shape[0] <= m.shape[1]:
        np.testing.assert_allclose(m @ m.T, np.eye(m.shape[0]) * scale ** 2, atol=1e-5)
    else:
        np.testing.assert_allclose(m.T @ m, np.eye(m.shape[1]) * scale ** 2, atol=1e-5)


def test_name_dispatch():
    init = mx.init.Uniform(1.0)
    assert (run(init, "fc1_bias", (5,)) == 0).all()
    assert (run(init, "bn_gamma", (5,)) == 1).all()
    assert (run(init, "bn_beta", (5,)) == 0).all()
    assert (run(init, "bn_moving_mean", (5,)) == 0).all()
    assert (run(init, "bn_moving_var", (5,)) == 1).all()
    assert (run(init, "bn_moving_inv_var", (5,)) == 0).all()
    assert (run(init, "x_moving_avg", (5,)) == 0).all()
    assert (run(init, "q_min", (5,)) == 0).all()
    assert (run(init, "q_max", (5,)) == 1).all()
    w = run(init, "fc1_weight", (50, 5))
    assert w.std() > 0.3
    with pytest.raises(ValueError, match="Unknown initialization pattern"):
        run(init, "mystery", (3,))


def test_init_attr_overrides_name():
    init = mx.init.Uniform(1.0)
    arr = mx.nd.zeros((3, 4))
    init(mx.init.InitDesc("fc_weight", {"__init__": mx.init.Constant(7).dumps()}), arr)
    assert (arr.asnumpy() == 7).all()
    init(mx.init.InitDesc("fc_bias", {"__init__": '["one", {}]'}), arr)
    assert (arr.asnumpy() == 1).all()
    init(mx.init.InitDesc("running_mean", {"__init__": "zeros"}), arr)
    assert (arr.asnumpy() == 0).all()
    desc = mx.init.InitDesc("fc_weight", {"__init__": ""})
    init(desc, arr)
    assert desc.global_init is init
    assert arr.asnumpy().std() > 0.1


def test_same_seed_same_weights():
    shape = (32, 16, 3, 3)
    for init in [mx.init.Xavier(), mx.init.Normal(1.0), mx.init.Uniform(), mx.init.Orthogonal()]:
        seed(123)
        a = run(init, "k_weight", shape)
        b = run(init, "k_weight", shape)
        seed(123)
        c = run(init, "k_weight", shape)
        np.testing.assert_array_equal(a, c)
        assert not np.array_equal(a, b)


def test_dtypes():
    seed(7)
    w = run(mx.init.Xavier(), "w_weight", (20, 30), dtype="float64")
    scale = xavier_scale((20, 30), "avg", 3.0)
    assert w.dtype == np.float64 and np.abs(w).max() <= scale


def test_dumps_and_create_roundtrip():
    for init in [mx.init.Xavier("gaussian", "in", 2), mx.init.Uniform(0.3), mx.init.Normal(0.1),
                 mx.init.Orthogonal(1.0, "normal"), mx.init.Zero(), mx.init.One(), mx.init.Constant(3)]:
        again = mx.init.create(init.dumps())
        assert type(again) is type(init) and again.dumps() == init.dumps()
    x = mx.init.create('{"name": "xavier", "magnitude": 2}')
    assert isinstance(x, mx.init.Xavier) and x.magnitude == 2
    assert json.loads(mx.init.Xavier(rnd_type="gaussian", factor_type="in", magnitude=2).dumps()) == \
        ["xavier", {"rnd_type": "gaussian", "factor_type": "in", "magnitude": 2}]
    assert mx.initializer is mx.init


def test_mixed():
    init = mx.init.Mixed(["conv.*", ".*"], [mx.init.Constant(3), mx.init.Constant(5)])
    assert (run(init, "conv1_weight", (4, 2)) == 3).all()
    assert (run(init, "fc_weight", (2, 4)) == 5).all()
    # as in MXNet, the matched initializer applies its own name rules: biases stay zero
    assert (run(init, "conv1_bias", (4,)) == 0).all()
    # re.match semantics: anchored at the start only
    assert (run(mx.init.Mixed(["fc", ".*"], ["ones", "zeros"]), "fc9_weight", (2, 2)) == 1).all()
    # Python-defined initializers inside Mixed
    class Seven(mx.init.Initializer):
        def _init_weight(self, _, arr):
            arr[:] = 7.0
    py = mx.init.Mixed(["a.*", ".*"], [Seven(), mx.init.One()])
    assert (run(py, "a_weight", (2,)) == 7).all()
    assert (run(py, "b_weight", (2,)) == 1).all()
    only = mx.init.Mixed(["conv.*"], ["zeros"])
    with pytest.raises(ValueError, match="did not match any pattern"):
        run(only, "fc_weight", (2, 2))


def test_load(tmp_path):
    src = {"arg:fc_weight": mx.nd.array(np.arange(6, dtype=np.float32).reshape(2, 3))}
    init = mx.init.Load(src, default_init=mx.init.One())
    np.testing.assert_array_equal(run(init, "fc_weight", (2, 3)), np.arange(6).reshape(2, 3))
    assert (run(init, "other_weight", (2, 2)) == 1).all()
    with pytest.raises(ValueError):
        run(init, "fc_weight", (3, 3))


def test_custom_subclass():
    @mx.init.register
    class HalfInit(mx.init.Initializer):
        def _init_weight(self, _, arr):
            arr[:] = 0.5

    init = mx.init.create("halfinit")
    assert (run(init, "a_weight", (2, 2)) == 0.5).all()
    assert (run(init, "a_bias", (2,)) == 0).all()
    assert (run(init, "a_gamma", (2,)) == 1).all()


def test_bad_inputs():
    with pytest.raises(ValueError, match="unknown initializer"):
        mx.init.create("nosuchinit")
    with pytest.raises(ValueError, match="unknown initializer"):
        mx.init.create('["nosuchinit", {}]')
    with pytest.raises(ValueError, match="at least 2D"):
        run(mx.init.Xavier(), "fc_weight", (10,))
    with pytest.raises(ValueError, match="rnd_type"):
        mx.init.Xavier(rnd_type="bogus")
    with pytest.raises(ValueError, match="factor_type"):
        mx.init.Xavier(factor_type="bogus")
    with pytest.raises(TypeError):  # Python's own keyword check, as MXNet
        mx.init.create('["uniform", {"scale": 1, "nonsense": 2}]')
    # the core checks descriptions too (what R and Julia get)
    from mx.base import ffi
    out = ffi.new("mx_initializer_t *")
    for bad in (b'["uniform", {"nonsense": 2}]', b'["nosuch", {}]', b'[1, 2]', b'{"sigma": 1}',
                b'["xavier", {"magnitude": "abc"}]', b'["mixed", {"patterns": ["("], "initializers": ["zero"]}]'):
        assert lib.mx_initializer_new(bad, out) == -1, bad
    assert lib.mx_initializer_new(b'["xavier", {"magnitude": 2', out) == -7
    with pytest.raises(ValueError):
        run(mx.init.Constant([1, 2, 3]), "x_weight", (2, 2))
    with pytest.raises(TypeError):
        mx.init.Uniform()("x_weight", np.zeros((2, 2)))
