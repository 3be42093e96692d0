"""An MLP trains on gpu(0) exactly as on cpu(0): Gluon, hybridized, 20 steps of SGD with momentum
and of Adam, same seed (so the same initial weights and dropout masks), losses within 1e-4 at
every step. Every op of the step runs on the GPU: FullyConnected (cuBLAS), Activation, Dropout,
log_softmax/pick/mean of SoftmaxCrossEntropyLoss, their backward ops and the optimizer update."""
import numpy as np
import pytest

import mx
from mx import gluon

GPU = mx.gpu(0) if mx.context.num_gpus() > 0 else None


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 20)).astype("float32")
    y = rng.integers(0, 5, (64,)).astype("float32")
    return x, y


def _train(ctx, opt, opt_kw, steps=20):
    mx.random.seed(1234)
    net = gluon.nn.HybridSequential()
    net.add(gluon.nn.Dense(32, activation="relu", in_units=20), gluon.nn.Dropout(0.2),
            gluon.nn.Dense(16, activation="tanh", in_units=32), gluon.nn.Dense(5, in_units=16))
    net.initialize(mx.init.Xavier(), ctx=ctx)
    net.hybridize()
    trainer = gluon.Trainer(net.collect_params(), opt, opt_kw)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    x, y = _data()
    xs, ys = mx.nd.array(x, ctx=ctx), mx.nd.array(y, ctx=ctx)
    losses = []
    for _ in range(steps):
        with mx.autograd.record():
            loss = loss_fn(net(xs), ys)
        loss.backward()
        trainer.step(x.shape[0])
        losses.append(float(loss.mean().asnumpy().reshape(-1)[0]))
    params = [v.data(ctx).asnumpy() for v in net.collect_params().values()]  # in creation order
    for v in net.collect_params().values():
        assert v.data(ctx).context == ctx
    return np.array(losses), params


@pytest.mark.parametrize("opt,kw", [("sgd", {"learning_rate": 0.1, "momentum": 0.9}),
                                    ("adam", {"learning_rate": 0.01})])
def test_mlp_trains_on_gpu_like_cpu(opt, kw):
    cpu_losses, cpu_params = _train(mx.cpu(), opt, kw)
    gpu_losses, gpu_params = _train(GPU, opt, kw)
    assert cpu_losses[-1] < cpu_losses[0] * 0.9  # it learns
    np.testing.assert_allclose(gpu_losses, cpu_losses, rtol=1e-4, atol=1e-4)
    assert len(gpu_params) == len(cpu_params) == 6
    for k, (g, c) in enumerate(zip(gpu_params, cpu_params)):
        np.testing.assert_allclose(g, c, rtol=1e-3, atol=1e-4, err_msg="parameter %d" % k)
