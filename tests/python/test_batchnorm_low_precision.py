"""BatchNorm with float16/bfloat16 data keeps float32 gamma, beta and statistics, as MXNet's does
(Gluon's BatchNorm.cast leaves its parameters float32), in graphs (hybridized Gluon, bind) as well
as imperatively. References: numpy float64 on the same (rounded) inputs."""
import numpy as np
import pytest

import mx

EPS = 1e-3


def _bn_reference(x, gamma, beta, eps=EPS):
    x = x.astype(np.float64)
    mean = x.mean(axis=(0, 2, 3))
    var = x.var(axis=(0, 2, 3))
    xhat = (x - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + eps)
    return xhat * gamma[None, :, None, None] + beta[None, :, None, None], mean, var, xhat


@pytest.mark.parametrize("low", ["float16"])
def test_infer_type_keeps_float32_parameters(low):
    s = mx.sym.BatchNorm(mx.sym.var("data"), name="bn", output_mean_var=True)
    args, outs, aux = s.infer_type(data=low)
    assert [np.dtype(t).name for t in args] == [low, "float32", "float32"]
    assert [np.dtype(t).name for t in outs] == [low, "float32", "float32"]
    assert [np.dtype(t).name for t in aux] == ["float32", "float32"]
    args, outs, aux = s.infer_type(data="float64")
    assert {np.dtype(t).name for t in args + outs + aux} == {"float64"}


def test_wrong_parameter_dtype_names_it():
    s = mx.sym.BatchNorm(mx.sym.var("data"), name="bn")
    with pytest.raises(mx.base.MXNetError, match="BatchNorm: input 1 has dtype int32 but float32"):
        s.infer_type(data="float16", bn_gamma="int32")


def test_bound_training_step_float16_data():
    rng = np.random.RandomState(0)
    x16 = rng.randn(4, 3, 5, 5).astype(np.float16)
    gamma, beta = rng.rand(3).astype(np.float32) + 0.5, rng.randn(3).astype(np.float32)
    s = mx.sym.BatchNorm(mx.sym.var("data"), name="bn", eps=EPS, momentum=0.8, fix_gamma=False)
    args = {"data": mx.nd.array(x16, dtype="float16"), "bn_gamma": mx.nd.array(gamma), "bn_beta": mx.nd.array(beta)}
    grads = {"data": mx.nd.zeros(x16.shape, dtype="float16"), "bn_gamma": mx.nd.zeros(3), "bn_beta": mx.nd.zeros(3)}
    aux = {"bn_moving_mean": mx.nd.zeros(3), "bn_moving_var": mx.nd.ones(3)}
    ex = s.bind(mx.cpu(), args, args_grad=grads, aux_states=aux)
    out = ex.forward(is_train=True)[0]
    assert out.dtype == np.float16
    ref, mean, var, xhat = _bn_reference(x16, gamma, beta)
    np.testing.assert_allclose(out.asnumpy().astype(np.float64), ref, rtol=2e-3, atol=4e-3)
    np.testing.assert_allclose(aux["bn_moving_mean"].asnumpy(), 0.2 * mean, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(aux["bn_moving_var"].asnumpy(), 0.8 + 0.2 * var, rtol=1e-4, atol=1e-5)
    dy = rng.randn(*x16.shape).astype(np.float16)
    ex.backward(mx.nd.array(dy, dtype="float16"))
    assert grads["bn_gamma"].dtype == np.float32 and grads["data"].dtype == np.float16
    dy64 = dy.astype(np.float64)
    np.testing.assert_allclose(grads["bn_beta"].asnumpy(), dy64.sum(axis=(0, 2, 3)), rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(grads["bn_gamma"].asnumpy(), (dy64 * xhat).sum(axis=(0, 2, 3)), rtol=1e-3, atol=2e-3)
    m = x16[:, 0].size
    dxhat = dy64 * gamma[None, :, None, None]
    dx = (dxhat - dxhat.mean(axis=(0, 2, 3), keepdims=True)
          - xhat * (dxhat * xhat).sum(axis=(0, 2, 3), keepdims=True) / m) / np.sqrt(var + EPS)[None, :, None, None]
    np.testing.assert_allclose(grads["data"].asnumpy().astype(np.float64), dx, rtol=5e-3, atol=5e-3)


@pytest.mark.parametrize("low,tol", [("float16", 2e-3)])
def test_cast_gluon_net_hybridized_equals_imperative(low, tol):
    mx.random.seed(1)
    nn = mx.gluon.nn
    net = nn.HybridSequential()
    net.add(nn.Conv2D(8, 3, padding=1), nn.BatchNorm(), nn.Activation("relu"), nn.Dense(4))
    net.initialize(mx.init.Xavier())
    x = mx.nd.random.uniform(shape=(2, 3, 6, 6))
    ref = net(x).asnumpy()
    net.cast(low)
    assert net[1].gamma.data().dtype == np.float32 and net[0].weight.data().dtype == np.dtype(low)
    imperative = net(x.astype(low))
    net.hybridize()
    hybrid = net(x.astype(low))
    assert hybrid.dtype == np.dtype(low)
    np.testing.assert_array_equal(hybrid.astype("float32").asnumpy(), imperative.astype("float32").asnumpy())
    scale = np.abs(ref).max()
    assert np.abs(hybrid.astype("float32").asnumpy() - ref).max() < tol * 10 * scale
    # one multi-precision training step through the graph keeps BatchNorm's parameters float32
    trainer = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1, "multi_precision": True})
    with mx.autograd.record():
        loss = net(x.astype(low)).astype("float32").sum()
    loss.backward()
    trainer.step(2)
    assert net[1].gamma.data().dtype == np.float32
    assert np.isfinite(net(x.astype(low)).astype("float32").asnumpy()).all()


def test_astype_is_differentiable():
    # MXNet records astype: the gradient comes back in the source dtype.
    x = mx.nd.array([[1.0, -2.0, 3.0]], dtype="float16")
    x.attach_grad()
    with mx.autograd.record():
        loss = (x * x).astype("float32").sum()
    loss.backward()
    assert x.grad.dtype == np.float16
    np.testing.assert_array_equal(x.grad.asnumpy(), np.array([[2.0, -4.0, 6.0]], np.float16))
