"""Hand-written training loops as in MXNet's tutorials: updating a weight in place outside
autograd.record() (w -= lr * w.grad, an *_update op with out=w, w[:] = ...) keeps it a variable
whose gradient the next backward fills."""
import numpy as np
import pytest

import mx


def _update_sub(w, lr):
    w -= lr * w.grad


def _update_op(w, lr):
    mx.nd.sgd_update(w, w.grad, lr=lr, out=w)


def _update_setitem(w, lr):
    w[:] = w - lr * w.grad


@pytest.mark.parametrize("update", [_update_sub, _update_op, _update_setitem])
def test_in_place_updates_keep_the_weight_a_variable(update):
    w0 = np.array([1.0, -2.0, 0.5], dtype=np.float32)
    w = mx.nd.array(w0)
    w.attach_grad()
    expect = w0.astype(np.float64)
    for _ in range(3):
        with mx.autograd.record():
            loss = (w * w).sum()
        loss.backward()
        np.testing.assert_allclose(w.grad.asnumpy(), 2 * expect, rtol=1e-6)
        update(w, 0.1)
        expect = expect - 0.1 * 2 * expect
    np.testing.assert_allclose(w.asnumpy(), expect, rtol=1e-6)
