"""User optimizers: subclasses of mx.optimizer.Optimizer registered with @register run their own
create_state/update (through Updater, Trainer and Module); built-in rules still run in the core."""
import numpy as np
import pytest

import mx


@mx.optimizer.register
class CompatMomentumSGD(mx.optimizer.Optimizer):
    """Reference heavy-ball SGD written in Python, as MXNet users write them."""

    def __init__(self, momentum=0.0, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum

    def create_state(self, index, weight):
        return mx.nd.zeros(weight.shape, ctx=weight.context, dtype=weight.dtype)

    def update(self, index, weight, grad, state):
        self._update_count(index)
        lr, wd = self._get_lr(index), self._get_wd(index)
        g = grad * self.rescale_grad
        if self.clip_gradient is not None:
            g = mx.nd.clip(g, -self.clip_gradient, self.clip_gradient)
        state[:] = self.momentum * state - lr * (g + wd * weight)
        weight[:] += state


def _numpy_momentum(w, grads, lr, mom, wd=0.0, rescale=1.0):
    v = np.zeros_like(w)
    for g in grads:
        v = mom * v - lr * (g * rescale + wd * w)
        w = w + v
    return w


def test_python_optimizer_runs_through_updater():
    opt = mx.optimizer.create("compatmomentumsgd", learning_rate=0.1, momentum=0.9, wd=0.01)
    upd = mx.optimizer.get_updater(opt)
    w0 = np.random.rand(3, 2).astype(np.float32)
    grads = [np.random.rand(3, 2).astype(np.float32) for _ in range(3)]
    w = mx.nd.array(w0)
    for g in grads:
        upd(0, mx.nd.array(g), w)
    np.testing.assert_allclose(w.asnumpy(), _numpy_momentum(w0, grads, 0.1, 0.9, 0.01), rtol=1e-5)
    assert opt.num_update == 3 and opt._index_update_count[0] == 3
    # the same optimizer run by the core's rule gives the same weights
    core = mx.optimizer.SGD(learning_rate=0.1, momentum=0.9, wd=0.01)
    cu = mx.optimizer.get_updater(core)
    w2 = mx.nd.array(w0)
    for g in grads:
        cu(0, mx.nd.array(g), w2)
    np.testing.assert_allclose(w.asnumpy(), w2.asnumpy(), rtol=1e-5)


def test_python_optimizer_in_trainer_and_lr_mult():
    net = mx.gluon.nn.Dense(2, in_units=3)
    net.initialize(mx.init.Constant(0.5))
    net.bias.lr_mult = 0.0
    trainer = mx.gluon.Trainer(net.collect_params(), "compatmomentumsgd", {"learning_rate": 0.2})
    x = mx.nd.array(np.random.rand(4, 3))
    with mx.autograd.record():
        loss = net(x).sum()
    loss.backward()
    w_before, g = net.weight.data().asnumpy(), net.weight.grad().asnumpy()
    b_before = net.bias.data().asnumpy()
    assert np.abs(net.bias.grad().asnumpy()).sum() > 0
    trainer.step(4)
    np.testing.assert_allclose(net.weight.data().asnumpy(), w_before - 0.2 * g / 4, rtol=1e-5)
    np.testing.assert_array_equal(net.bias.data().asnumpy(), b_before)  # lr_mult 0
    assert trainer.learning_rate == pytest.approx(0.2)


def test_abstract_update_and_state_saving_are_clear_errors():
    @mx.optimizer.register
    class CompatNoUpdate(mx.optimizer.Optimizer):
        pass
    opt = mx.optimizer.create("compatnoupdate")
    with pytest.raises(NotImplementedError, match="must define update"):
        mx.optimizer.get_updater(opt)(0, mx.nd.ones((2,)), mx.nd.ones((2,)))
    with pytest.raises(mx.base.MXNotSupportedError):
        mx.optimizer.get_updater(opt).get_states()
