"""Hybridized Gluon blocks with csr inputs: the cached graph is bound to csr arguments, so the
sparse kernels run (dot(csr, dense)); under autograd the weight gradient is row_sparse when the
Parameter asks for it (grad_stype='row_sparse'), as MXNet 1.9.1's CachedOp. References: scipy."""
import numpy as np
import pytest
import scipy.sparse as sp

import mx
from mx import autograd, gluon


class SparseLinear(gluon.HybridBlock):
    def __init__(self, in_units, units, grad_stype="default", **kw):
        super().__init__(**kw)
        with self.name_scope():
            self.weight = self.params.get("weight", shape=(in_units, units), grad_stype=grad_stype)
            self.bias = self.params.get("bias", shape=(units,), init=mx.init.Zero())

    def hybrid_forward(self, F, x, weight, bias):
        return F.broadcast_add(F.dot(x, weight), bias)


def _data(seed):
    rng = np.random.RandomState(seed)
    x = sp.random(6, 12, density=0.25, format="csr", random_state=rng, dtype=np.float32)
    x = x.toarray()
    x[:, [0, 5, 9]] = 0  # rows of the weight no sample uses
    return sp.csr_matrix(x), rng.uniform(-1, 1, (6, 3)).astype(np.float32)


@pytest.mark.parametrize("grad_stype", ["default", "row_sparse"])
def test_hybridized_block_csr_input_forward_backward(grad_stype):
    x, head = _data(0)
    net = SparseLinear(12, 3, grad_stype=grad_stype)
    net.initialize(mx.init.Uniform(0.5))
    net.hybridize()
    w = net.weight.data().asnumpy()
    xin = mx.nd.sparse.csr_matrix(x)
    out = net(xin)  # inference binding: csr argument
    np.testing.assert_allclose(out.asnumpy(), x @ w, rtol=1e-5, atol=1e-6)
    with autograd.record():
        out = net(xin)
    out.backward(mx.nd.array(head))
    np.testing.assert_allclose(out.asnumpy(), x @ w, rtol=1e-5, atol=1e-6)
    g = net.weight.grad()
    assert g.stype == grad_stype
    np.testing.assert_allclose(g.asnumpy(), x.T @ head, rtol=1e-5, atol=1e-6)
    if grad_stype == "row_sparse":  # only the rows the batch used
        assert g.indices.asnumpy().tolist() == sorted(set(x.indices.tolist()))
    np.testing.assert_allclose(net.bias.grad().asnumpy(), head.sum(0), rtol=1e-5, atol=1e-6)


def test_hybridized_sparse_training_lazy_sgd_matches_numpy():
    x, _ = _data(1)
    y = np.random.RandomState(2).uniform(-1, 1, (6, 3)).astype(np.float32)
    net = SparseLinear(12, 3, grad_stype="row_sparse")
    net.initialize(mx.init.Uniform(0.5))
    net.hybridize()
    w = net.weight.data().asnumpy().copy()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1, "wd": 0.1})
    xin = mx.nd.sparse.csr_matrix(x)
    with autograd.record():
        loss = ((net(xin) - mx.nd.array(y)) ** 2).sum()
    loss.backward()
    trainer.step(1)
    g = 2 * x.T @ (x @ w - y)  # bias starts at zero
    used = sorted(set(x.indices.tolist()))
    want = w.copy()
    want[used] -= 0.1 * (g[used] + 0.1 * w[used])  # lazy: weight decay only on the gradient's rows
    np.testing.assert_allclose(net.weight.data().asnumpy(), want, rtol=1e-5, atol=1e-6)


def test_hybridized_block_runs_the_csr_kernel():
    x, _ = _data(3)
    net = SparseLinear(12, 3)
    net.initialize()
    net.hybridize()
    out = net(mx.nd.sparse.csr_matrix(x))
    (ex, _), = net._cached.execs.values()  # one inference binding
    assert ex.arg_dict[net._cached.input_names[0]].stype == "csr"
    # a dense input of the same shape is another signature: a dense binding, the same numbers
    out2 = net(mx.nd.array(x.toarray()))
    assert len(net._cached.execs) == 2
    np.testing.assert_allclose(out2.asnumpy(), out.asnumpy(), rtol=1e-6)
