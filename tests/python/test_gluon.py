"""mx.gluon: parameters, blocks, hybridize/export, layers, losses, Trainer, utils."""
import numpy as np
import pytest

import mx
from mx import autograd, gluon
from mx.gluon import nn


def _x(*shape):
    return mx.nd.array(np.random.uniform(-1, 1, size=shape))


# ---------------------------------------------------------------------- naming

def test_prefix_naming_like_mxnet():
    d0, d1 = nn.Dense(3), nn.Dense(3)
    assert d1.prefix != d0.prefix and d0.prefix.startswith("dense") and d0.prefix.endswith("_")
    assert d0.weight.name == d0.prefix + "weight"
    net = nn.HybridSequential(prefix="model_")
    with net.name_scope():
        net.add(nn.Dense(4), nn.Dense(2, activation="relu"), nn.Conv2D(3, 3), nn.BatchNorm())
    names = list(net.collect_params().keys())
    assert names == ["model_dense0_weight", "model_dense0_bias", "model_dense1_weight", "model_dense1_bias",
                     "model_conv0_weight", "model_conv0_bias", "model_batchnorm0_gamma",
                     "model_batchnorm0_beta", "model_batchnorm0_running_mean",
                     "model_batchnorm0_running_var"]
    assert list(net._collect_params_with_prefix()) == [
        "0.weight", "0.bias", "1.weight", "1.bias", "2.weight", "2.bias", "3.gamma", "3.beta",
        "3.running_mean", "3.running_var"]


def test_setattr_registers_children_and_params():
    class Net(gluon.Block):
        def __init__(self, **kw):
            super().__init__(**kw)
            with self.name_scope():
                self.dense0 = nn.Dense(4, in_units=3)
                self.scale = self.params.get("scale", shape=(1,))

        def forward(self, x):
            return self.dense0(x) * self.scale.data()

    net = Net(prefix="n_")
    assert set(net._collect_params_with_prefix()) == {"scale", "dense0.weight", "dense0.bias"}
    assert set(net.collect_params().keys()) == {"n_scale", "n_dense0_weight", "n_dense0_bias"}
    assert set(net.collect_params(".*weight").keys()) == {"n_dense0_weight"}
    with pytest.raises(TypeError, match="Changing attribute type"):
        net.dense0 = 3


# ---------------------------------------------------------------------- parameters

def test_parameter_before_initialize_raises_naming_it():
    d = nn.Dense(3, in_units=2)
    with pytest.raises(RuntimeError, match=d.weight.name):
        d.weight.data()
    with pytest.raises(RuntimeError, match="has not been initialized"):
        d(_x(1, 2))


def test_deferred_init_and_errors():
    d = nn.Dense(5)
    d.initialize()
    with pytest.raises(gluon.DeferredInitializationError, match="deferred"):
        d.weight.data()
    d(_x(2, 7))
    assert d.weight.shape == (5, 7) and d.weight.data().shape == (5, 7)
    p = gluon.Parameter("w", shape=(3, 0))
    with pytest.raises(ValueError, match="invalid shape"):
        p.initialize()
    p = gluon.Parameter("w", shape=(3, 0), allow_deferred_init=True)
    p.shape = (3, 4)
    with pytest.raises(ValueError, match="incompatible"):
        p.shape = (2, 4)


def test_parameter_api():
    p = gluon.Parameter("p", shape=(2, 3), init=mx.init.One(), lr_mult=2.0)
    p.initialize(ctx=mx.cpu())
    np.testing.assert_array_equal(p.data().asnumpy(), np.ones((2, 3)))
    assert p.list_ctx() == [mx.cpu()] and len(p.list_data()) == 1
    p.set_data(mx.nd.full((2, 3), 4.0))
    np.testing.assert_array_equal(p.data().asnumpy(), np.full((2, 3), 4.0))
    with autograd.record():
        y = (p.data() * p.data()).sum()
    y.backward()
    np.testing.assert_allclose(p.grad().asnumpy(), np.full((2, 3), 8.0))
    p.zero_grad()
    assert p.grad().asnumpy().sum() == 0
    p.cast("float64")
    assert p.data().dtype == np.float64 and p.grad().dtype == np.float64
    p.reset_ctx(mx.cpu(0))
    np.testing.assert_array_equal(p.data().asnumpy(), np.full((2, 3), 4.0))
    v = p.var()
    assert v.name == "p" and v.attr("__lr_mult__") == "2.0"
    p.grad_req = "null"
    with pytest.raises(RuntimeError, match="grad_req='null'"):
        p.grad()
    with pytest.raises(ValueError):
        p.grad_req = "sometimes"


def test_constant():
    c = gluon.Constant("c", [[1.0, 2.0]])
    c.initialize()
    np.testing.assert_array_equal(c.data().asnumpy(), [[1.0, 2.0]])
    assert c.grad_req == "null"


def test_parameterdict(tmp_path):
    pd = gluon.ParameterDict("blk_")
    w = pd.get("weight", shape=(2, 0), allow_deferred_init=True)
    assert w.name == "blk_weight" and pd.get("weight", shape=(2, 5)) is w and w.shape == (2, 5)
    with pytest.raises(ValueError, match="does not match"):
        pd.get("weight", lr_mult=3.0)
    pd.get("bias", shape=(2,), init="zeros")
    pd.initialize(mx.init.Xavier())
    pd.setattr("lr_mult", 0.5)
    assert all(p.lr_mult == 0.5 for p in pd.values())
    fname = str(tmp_path / "pd.params")
    pd.save(fname, strip_prefix="blk_")
    assert set(mx.nd.load(fname)) == {"weight", "bias"}
    pd2 = gluon.ParameterDict("blk_")
    pd2.get("weight", shape=(2, 5))
    pd2.get("bias", shape=(2,))
    pd2.load(fname, restore_prefix="blk_")
    np.testing.assert_array_equal(pd2["blk_weight"].data().asnumpy(), pd["blk_weight"].data().asnumpy())
    pd3 = gluon.ParameterDict("blk_")
    pd3.get("weight", shape=(2, 5))
    with pytest.raises(ValueError, match="not present"):
        pd3.load(fname, restore_prefix="blk_")
    pd3.load(fname, restore_prefix="blk_", ignore_extra=True)
    pd4 = gluon.ParameterDict("blk_")
    pd4.get("other", shape=(1,))
    with pytest.raises(ValueError, match="missing"):
        pd4.load(fname, restore_prefix="blk_", ignore_extra=True)
    other = gluon.ParameterDict("x_")
    other.get("weight", shape=(1,))
    pd.update(other)
    assert "x_weight" in pd


# ---------------------------------------------------------------------- save/load

def _mlp(prefix=None):
    net = nn.HybridSequential(prefix=prefix)
    with net.name_scope():
        net.add(nn.Dense(16, activation="relu"), nn.Dense(4))
    return net


def test_save_load_parameters_and_errors(tmp_path):
    net = _mlp()
    net.initialize()
    x = _x(3, 6)
    ref = net(x).asnumpy()
    fname = str(tmp_path / "mlp.params")
    net.save_parameters(fname)
    assert set(mx.nd.load(fname)) == {"0.weight", "0.bias", "1.weight", "1.bias"}
    net2 = _mlp()
    net2.load_parameters(fname)
    np.testing.assert_allclose(net2(x).asnumpy(), ref, rtol=1e-6)

    bad = nn.HybridSequential()
    with bad.name_scope():
        bad.add(nn.Dense(16, in_units=5, activation="relu"), nn.Dense(4))
    with pytest.raises(ValueError, match=r"0\.weight.*\(16, 5\).*\(16, 6\)|\(16, 5\).*\(16, 6\).*0\.weight"):
        bad.load_parameters(fname)

    small = nn.HybridSequential()
    with small.name_scope():
        small.add(nn.Dense(16, activation="relu"))
    with pytest.raises(ValueError, match="1.weight.*not present.*ignore_extra"):
        small.load_parameters(fname)
    small.load_parameters(fname, ignore_extra=True)

    big = _mlp()
    with big.name_scope():
        big.add(nn.Dense(2))
    with pytest.raises(ValueError, match="2.weight.*missing.*allow_missing"):
        big.load_parameters(fname)
    big.load_parameters(fname, allow_missing=True)

    net64 = _mlp()
    net64.cast("float64")
    with pytest.raises(ValueError, match="dtype incompatible"):
        net64.load_parameters(fname)
    net64.load_parameters(fname, cast_dtype=True)
    assert net64[0].weight.data().dtype == np.float64


# ---------------------------------------------------------------------- hybridize

def _convnet():
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Conv2D(4, 3, padding=1, activation="relu"), nn.BatchNorm(), nn.MaxPool2D(),
                nn.Conv2D(4, 3, strides=2), nn.GlobalAvgPool2D(), nn.Flatten(), nn.Dense(3))
    return net


def test_hybridized_equals_imperative():
    net = _convnet()
    net.initialize(mx.init.Xavier())
    x = _x(2, 3, 10, 10)
    ref = net(x).asnumpy()
    net.hybridize(static_alloc=True, static_shape=True)
    np.testing.assert_allclose(net(x).asnumpy(), ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(net(x).asnumpy(), ref, rtol=1e-5, atol=1e-6)
    x2 = _x(5, 3, 10, 10)  # a new input shape binds another executor
    net.hybridize(active=False)
    ref2 = net(x2).asnumpy()
    net.hybridize()
    np.testing.assert_allclose(net(x2).asnumpy(), ref2, rtol=1e-5, atol=1e-6)


def test_hybridized_deferred_init():
    net = _mlp()
    net.initialize()
    net.hybridize()
    out = net(_x(2, 9))
    assert out.shape == (2, 4) and net[0].weight.shape == (16, 9)


def test_hybridized_autograd_matches_imperative():
    net = _convnet()
    net.initialize(mx.init.Xavier())
    x = _x(2, 3, 8, 8)
    params = net.collect_params()

    def grads():
        with autograd.record():
            y = net(x)
            loss = (y * y).sum()
        loss.backward()
        return {k: p.grad().asnumpy().copy() for k, p in params.items() if p.grad_req != "null"}, \
            y.asnumpy()

    g_imp, y_imp = grads()
    net.hybridize()
    g_hyb, y_hyb = grads()
    np.testing.assert_allclose(y_hyb, y_imp, rtol=1e-5, atol=1e-6)
    assert g_imp.keys() == g_hyb.keys() and len(g_imp) == 8
    for k in g_imp:
        np.testing.assert_allclose(g_hyb[k], g_imp[k], rtol=1e-4, atol=1e-5)


def test_hybridized_wrong_number_of_inputs():
    class Two(gluon.HybridBlock):
        def hybrid_forward(self, F, a, b):
            return a + b

    blk = Two()
    blk.hybridize()
    a = _x(2, 3)
    np.testing.assert_allclose(blk(a, a).asnumpy(), 2 * a.asnumpy())
    with pytest.raises((ValueError, TypeError)):
        blk(a)
    with pytest.raises(ValueError, match="traced with 2 inputs"):
        blk(a, a, a)


def test_multiple_outputs_hybridized():
    class Split(gluon.HybridBlock):
        def __init__(self, **kw):
            super().__init__(**kw)
            with self.name_scope():
                self.fc = nn.Dense(4, in_units=3)

        def hybrid_forward(self, F, x):
            y = self.fc(x)
            return F.relu(y), F.sigmoid(y)

    blk = Split()
    blk.initialize()
    x = _x(2, 3)
    a, b = blk(x)
    blk.hybridize()
    a2, b2 = blk(x)
    np.testing.assert_allclose(a2.asnumpy(), a.asnumpy(), rtol=1e-6)
    np.testing.assert_allclose(b2.asnumpy(), b.asnumpy(), rtol=1e-6)


def test_export_and_symbolblock(tmp_path):
    net = _convnet()
    net.initialize(mx.init.Xavier())
    x = _x(2, 3, 8, 8)
    with pytest.raises(RuntimeError, match="hybridize"):
        net.export(str(tmp_path / "n"))
    net.hybridize()
    ref = net(x).asnumpy()
    sym_file, params_file = net.export(str(tmp_path / "n"), 2)
    assert sym_file.endswith("n-symbol.json") and params_file.endswith("n-0002.params")
    keys = set(mx.nd.load(params_file))
    bn = net[1].prefix
    assert "aux:%srunning_mean" % bn in keys and "arg:%sgamma" % bn in keys
    sb = gluon.SymbolBlock.imports(sym_file, ["data"], params_file)
    np.testing.assert_allclose(sb(x).asnumpy(), ref, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="expects 1 inputs"):
        sb(x, x)
    # a SymbolBlock trains: under autograd it runs op by op
    params = sb.collect_params()
    with autograd.record():
        y = sb(x)
    y.backward()
    assert params[net[0].weight.name].grad().asnumpy().any()
    # the traced symbol also builds a SymbolBlock directly
    out = net(mx.sym.var("data"))
    sb2 = gluon.SymbolBlock(out, mx.sym.var("data"), params=net.collect_params())
    np.testing.assert_allclose(sb2(x).asnumpy(), ref, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------- training

def test_mlp_trains_with_trainer():
    np.random.seed(0)
    n, d, k = 64, 10, 3
    centers = np.random.randn(k, d) * 3
    labels = np.random.randint(0, k, n)
    feats = centers[labels] + np.random.randn(n, d) * 0.5
    x, y = mx.nd.array(feats), mx.nd.array(labels)
    net = _mlp()
    with net.name_scope():
        net.add(nn.Dense(k))
    net.initialize(mx.init.Xavier())
    net.hybridize()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1, "momentum": 0.9})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    losses = []
    for _ in range(30):
        with autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        trainer.step(n)
        losses.append(loss.mean().asscalar())
    assert losses[-1] < 0.5 * losses[0]
    acc = (net(x).asnumpy().argmax(1) == labels).mean()
    assert acc > 0.9


def test_trainer_api(tmp_path):
    net = nn.Dense(2, in_units=3)
    net.initialize()
    trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.01})
    assert trainer.learning_rate == pytest.approx(0.01)
    trainer.set_learning_rate(0.02)
    assert trainer.learning_rate == pytest.approx(0.02)
    x = _x(4, 3)
    for _ in range(2):
        with autograd.record():
            loss = net(x).sum()
        loss.backward()
        trainer.step(4)
    fname = str(tmp_path / "t.states")
    trainer.save_states(fname)
    with open(fname, "rb") as f:
        assert not f.read(2).startswith(b"\x80")  # not a pickle
    w = net.weight.data().asnumpy().copy()

    def one_step(tr):
        with autograd.record():
            loss = net(x).sum()
        loss.backward()
        tr.step(4)
        return net.weight.data().asnumpy().copy()

    after = one_step(trainer)
    net.weight.set_data(mx.nd.array(w))
    t2 = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.02})
    t2.load_states(fname)
    np.testing.assert_allclose(one_step(t2), after, rtol=1e-6)
    with pytest.raises(ValueError):
        gluon.Trainer([1, 2], "sgd")
    with pytest.raises(ValueError):
        gluon.Trainer("bad", "sgd")


def test_trainer_skips_null_grad_and_reports_uninitialized():
    net = nn.BatchNorm(in_channels=2)
    net.initialize()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 1.0})
    with autograd.record():
        y = net(_x(3, 2)).sum()
    y.backward()
    trainer.step(1)
    d = nn.Dense(2, in_units=2)
    t = gluon.Trainer(d.collect_params(), "sgd")
    with pytest.raises(RuntimeError, match=d.weight.name):
        t.step(1)


# ---------------------------------------------------------------------- layers

def test_dense_matches_numpy():
    d = nn.Dense(3, in_units=4, use_bias=True)
    d.initialize(mx.init.Normal(1.0))
    x = _x(2, 4)
    ref = x.asnumpy() @ d.weight.data().asnumpy().T + d.bias.data().asnumpy()
    np.testing.assert_allclose(d(x).asnumpy(), ref, rtol=1e-5, atol=1e-6)
    d2 = nn.Dense(3, flatten=False, in_units=4, use_bias=False)
    d2.initialize()
    assert d2(_x(2, 5, 4)).shape == (2, 5, 3)
    assert "bias" not in d2._reg_params


@pytest.mark.parametrize("layer,shape,out_shape", [
    (lambda: nn.Conv1D(4, 3), (2, 3, 9), (2, 4, 7)),
    (lambda: nn.Conv2D(4, (3, 2), strides=(2, 1), padding=1), (2, 3, 8, 8), (2, 4, 4, 9)),
    (lambda: nn.Conv3D(2, 3, padding=1), (1, 2, 4, 4, 4), (1, 2, 4, 4, 4)),
    (lambda: nn.MaxPool1D(2), (2, 3, 8), (2, 3, 4)),
    (lambda: nn.AvgPool2D(3, 2, 1), (2, 3, 8, 8), (2, 3, 4, 4)),
    (lambda: nn.MaxPool3D(2), (1, 2, 4, 4, 4), (1, 2, 2, 2, 2)),
    (lambda: nn.GlobalMaxPool1D(), (2, 3, 8), (2, 3, 1)),
    (lambda: nn.GlobalAvgPool3D(), (1, 2, 4, 4, 4), (1, 2, 1, 1, 1)),
    (lambda: nn.Embedding(10, 4), None, (2, 3, 4)),
    (lambda: nn.Flatten(), (2, 3, 4), (2, 12)),
    (lambda: nn.Dropout(0.3), (2, 3), (2, 3)),
    (lambda: nn.Identity(), (2, 3), (2, 3)),
    (lambda: nn.Activation("tanh"), (2, 3), (2, 3)),
    (lambda: nn.Swish(), (2, 3), (2, 3)),
])
def test_layer_shapes_hybrid_and_imperative(layer, shape, out_shape):
    blk = layer()
    blk.initialize()
    x = mx.nd.array(np.random.randint(0, 10, (2, 3))) if shape is None else _x(*shape)
    y = blk(x)
    assert y.shape == out_shape
    blk.hybridize()
    np.testing.assert_allclose(blk(x).asnumpy(), y.asnumpy(), rtol=1e-5, atol=1e-6)


def test_batchnorm_running_stats_are_aux():
    bn = nn.BatchNorm()
    bn.initialize()
    x = _x(4, 3, 2, 2)
    with autograd.record():
        bn(x)
    assert bn.running_mean.grad_req == "null" and bn.running_var.grad_req == "null"
    mean = x.asnumpy().mean(axis=(0, 2, 3))
    np.testing.assert_allclose(bn.running_mean.data().asnumpy(), 0.1 * mean, rtol=1e-4, atol=1e-6)
    y = bn(x)  # predict mode uses the running stats
    assert y.shape == x.shape


def test_activations_with_numpy():
    x = _x(3, 4)
    a = x.asnumpy()
    for blk, ref in [(nn.Activation("relu"), np.maximum(a, 0)),
                     (nn.Activation("sigmoid"), 1 / (1 + np.exp(-a))),
                     (nn.Swish(2.0), a / (1 + np.exp(-2 * a)))]:
        np.testing.assert_allclose(blk(x).asnumpy(), ref, rtol=1e-5, atol=1e-6)


def test_optional_op_layers_run_or_raise_clearly():
    """Layers over ops that a libmx build may lack raise a clear NotImplementedError."""
    x = _x(2, 3, 4, 4)
    for make in [lambda: nn.LeakyReLU(0.1), lambda: nn.PReLU(), lambda: nn.ELU(), lambda: nn.SELU(),
                 lambda: nn.GELU(), lambda: nn.LayerNorm(), lambda: nn.InstanceNorm(),
                 lambda: nn.GroupNorm(), lambda: nn.Conv2DTranspose(2, 3),
                 lambda: nn.ReflectionPad2D(1)]:
        blk = make()
        blk.initialize()
        try:
            y = blk(x)
        except NotImplementedError as e:
            assert "is not registered" in str(e)
            continue
        assert y.shape[0] == 2


def test_leaky_relu_family():
    x = _x(3, 4)
    a = x.asnumpy()
    np.testing.assert_allclose(nn.LeakyReLU(0.1)(x).asnumpy(), np.where(a > 0, a, 0.1 * a), rtol=1e-5)
    np.testing.assert_allclose(nn.ELU(1.0)(x).asnumpy(), np.where(a > 0, a, np.expm1(a)), rtol=1e-5,
                               atol=1e-6)
    p = nn.PReLU()
    p.initialize()
    np.testing.assert_allclose(p(x).asnumpy(), np.where(a > 0, a, 0.25 * a), rtol=1e-5)


def test_conv_transpose():
    blk = nn.Conv2DTranspose(2, 3, strides=2, in_channels=3)
    blk.initialize()
    assert blk.weight.shape == (3, 2, 3, 3)
    assert blk(_x(1, 3, 4, 4)).shape == (1, 2, 9, 9)


def test_lambda_sequential_summary(capsys):
    seq = nn.Sequential()
    with seq.name_scope():
        seq.add(nn.Dense(4, in_units=3), nn.Lambda("relu"), nn.Lambda(lambda x: x * 2))
    seq.initialize()
    x = _x(2, 3)
    y = seq(x)
    ref = np.maximum(seq[0](x).asnumpy(), 0) * 2
    np.testing.assert_allclose(y.asnumpy(), ref, rtol=1e-6)
    hl = nn.HybridLambda(lambda F, x: F.relu(x))
    hl.hybridize()
    np.testing.assert_allclose(hl(x).asnumpy(), np.maximum(x.asnumpy(), 0))
    with pytest.raises(ValueError, match="HybridBlock"):
        nn.HybridSequential().add(nn.Lambda("relu"))
    seq.summary(x)
    assert "Total params: 16" in capsys.readouterr().out
    assert len(seq) == 3 and isinstance(seq[1:], nn.Sequential)


def test_apply_and_cast():
    net = _mlp()
    net.initialize()
    net(_x(1, 3))
    seen = []
    net.apply(lambda b: seen.append(type(b).__name__))
    assert seen.count("Dense") == 2
    net.cast("float64")
    assert net[0].weight.data().dtype == np.float64
    assert net(mx.nd.array(np.ones((1, 3)), dtype="float64")).dtype == np.float64


# ---------------------------------------------------------------------- losses

def _np_log_softmax(a):
    a = a - a.max(-1, keepdims=True)
    return a - np.log(np.exp(a).sum(-1, keepdims=True))


def test_losses_match_numpy():
    p, l = np.random.randn(4, 5), np.random.randn(4, 5)
    P, L = mx.nd.array(p), mx.nd.array(l)
    sw = np.random.rand(4, 1)
    cases = [
        (gluon.loss.L2Loss(), 0.5 * (l - p) ** 2),
        (gluon.loss.L1Loss(), np.abs(l - p)),
        (gluon.loss.HuberLoss(rho=0.5), np.where(np.abs(l - p) > 0.5, np.abs(l - p) - 0.25,
                                                  np.abs(l - p) ** 2 / (2 * 0.5))),
        (gluon.loss.HingeLoss(), np.maximum(0, 1 - p * l)),
        (gluon.loss.SquaredHingeLoss(), np.maximum(0, 1 - p * l) ** 2),
        (gluon.loss.LogisticLoss(), np.log1p(np.exp(-p * l))),
    ]
    for loss_fn, elem in cases:
        np.testing.assert_allclose(loss_fn(P, L).asnumpy(), elem.mean(1), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(gluon.loss.L1Loss(weight=2.0)(P, L, mx.nd.array(sw)).asnumpy(),
                               (2 * sw * np.abs(l - p)).mean(1), rtol=1e-5)
    y = np.random.randint(0, 5, 4)
    ce = gluon.loss.SoftmaxCrossEntropyLoss()(P, mx.nd.array(y)).asnumpy()
    np.testing.assert_allclose(ce, -_np_log_softmax(p)[np.arange(4), y], rtol=1e-5)
    onehot = np.eye(5)[y]
    ce2 = gluon.loss.SoftmaxCrossEntropyLoss(sparse_label=False)(P, mx.nd.array(onehot)).asnumpy()
    np.testing.assert_allclose(ce2, ce, rtol=1e-5)
    z = (np.random.rand(4, 5) > 0.5).astype(np.float64)
    bce = gluon.loss.SigmoidBinaryCrossEntropyLoss()(P, mx.nd.array(z)).asnumpy()
    sig = 1 / (1 + np.exp(-p))
    ref = -(z * np.log(sig) + (1 - z) * np.log(1 - sig))
    np.testing.assert_allclose(bce, ref.mean(1), rtol=1e-4)
    bce_s = gluon.loss.SigmoidBinaryCrossEntropyLoss(from_sigmoid=True)(mx.nd.array(sig), mx.nd.array(z))
    np.testing.assert_allclose(bce_s.asnumpy(), ref.mean(1), rtol=1e-4)
    pw = np.random.rand(5) + 0.5
    bce_w = gluon.loss.SigmoidBinaryCrossEntropyLoss()(P, mx.nd.array(z), None, mx.nd.array(pw))
    ref_w = -(pw * z * np.log(sig) + (1 - z) * np.log(1 - sig))
    np.testing.assert_allclose(bce_w.asnumpy(), ref_w.mean(1), rtol=1e-4)
    q = np.exp(_np_log_softmax(l))
    kl = gluon.loss.KLDivLoss()(mx.nd.array(_np_log_softmax(p)), mx.nd.array(q)).asnumpy()
    np.testing.assert_allclose(kl, (q * (np.log(q + 1e-12) - _np_log_softmax(p))).mean(1), rtol=1e-4)
    neg = np.random.randn(4, 5)
    tl = gluon.loss.TripletLoss()(P, L, mx.nd.array(neg)).asnumpy()
    np.testing.assert_allclose(tl, np.maximum(((l - p) ** 2 - (neg - p) ** 2).sum(1) + 1, 0), rtol=1e-4)
    pn = gluon.loss.PoissonNLLLoss()(P, mx.nd.array(np.abs(l))).asnumpy()
    np.testing.assert_allclose(pn, (np.exp(p) - np.abs(l) * p).mean(), rtol=1e-4)
    lab = np.array([1, -1, 1, -1])
    cos = (p * l).sum(1) / (np.linalg.norm(p, axis=1) * np.linalg.norm(l, axis=1))
    ce_ref = np.where(lab == 1, 1 - cos, np.maximum(cos, 0))
    cel = gluon.loss.CosineEmbeddingLoss()(P, L, mx.nd.array(lab)).asnumpy().reshape(-1)
    np.testing.assert_allclose(cel, ce_ref, rtol=1e-4, atol=1e-6)


def test_loss_hybridized_equals_imperative():
    P, y = _x(4, 5), mx.nd.array([0, 1, 2, 3])
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    ref = loss(P, y).asnumpy()
    loss.hybridize()
    np.testing.assert_allclose(loss(P, y).asnumpy(), ref, rtol=1e-6)


# ---------------------------------------------------------------------- utils

def test_split_and_load_and_clip():
    x = _x(6, 2)
    parts = gluon.utils.split_data(x, 3)
    assert [p.shape for p in parts] == [(2, 2)] * 3
    np.testing.assert_array_equal(parts[1].asnumpy(), x.asnumpy()[2:4])
    with pytest.raises(ValueError, match="evenly"):
        gluon.utils.split_data(x, 4)
    uneven = gluon.utils.split_data(x, 4, even_split=False)
    assert [p.shape[0] for p in uneven] == [2, 2, 1, 1]  # numpy array_split sections, as MXNet 1.9.1
    loaded = gluon.utils.split_and_load(x, [mx.cpu()])
    assert len(loaded) == 1 and loaded[0].shape == (6, 2)
    a, b = mx.nd.array([3.0, 0.0]), mx.nd.array([[4.0]])
    norm = gluon.utils.clip_global_norm([a, b], 1.0)
    assert norm == pytest.approx(5.0)
    np.testing.assert_allclose(a.asnumpy(), [0.6, 0.0], rtol=1e-5)
    np.testing.assert_allclose(b.asnumpy(), [[0.8]], rtol=1e-5)
    c = mx.nd.array([0.1])
    gluon.utils.clip_global_norm([c], 1.0)
    np.testing.assert_allclose(c.asnumpy(), [0.1], rtol=1e-5)


def test_symbolblock_save_load_parameters(tmp_path):
    net = _mlp()
    net.initialize()
    net.hybridize()
    x = _x(2, 3)
    ref = net(x).asnumpy()
    prefix = str(tmp_path / "m")
    net.export(prefix)
    sb = gluon.SymbolBlock.imports(prefix + "-symbol.json", "data", prefix + "-0000.params")
    fname = str(tmp_path / "sb.params")
    sb.save_parameters(fname)
    sb2 = gluon.SymbolBlock.imports(prefix + "-symbol.json", ["data"])
    sb2.load_parameters(fname)
    np.testing.assert_allclose(sb2(x).asnumpy(), ref, rtol=1e-6)


def test_norm_layers():
    x = _x(2, 4, 3, 3)
    a = x.asnumpy().astype(np.float64)

    def norm(v, axes, eps):
        return (v - v.mean(axes, keepdims=True)) / np.sqrt(v.var(axes, keepdims=True) + eps)

    cases = [(nn.LayerNorm(), norm(a, (3,), 1e-5)),
             (nn.InstanceNorm(), norm(a, (2, 3), 1e-5)),
             (nn.GroupNorm(num_groups=2), norm(a.reshape(2, 2, -1), (2,), 1e-5).reshape(a.shape))]
    for blk, ref in cases:
        blk.initialize()
        np.testing.assert_allclose(blk(x).asnumpy(), ref, rtol=1e-3, atol=1e-4)
        blk.hybridize()
        np.testing.assert_allclose(blk(x).asnumpy(), ref, rtol=1e-3, atol=1e-4)
    pad = nn.ReflectionPad2D(1)
    np.testing.assert_allclose(pad(x).asnumpy(), np.pad(a, ((0, 0), (0, 0), (1, 1), (1, 1)), "reflect"),
                               rtol=1e-6)
