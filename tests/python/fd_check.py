"""Central finite differences (float64) against autograd, shared by the operator tests."""
import numpy as np

import mx

_RNG = np.random.RandomState(0)


def nd(a, dtype=None):
    a = np.asarray(a)
    return mx.nd.array(a, dtype=dtype or a.dtype)


def fd_check(fn, arrays, wrt=None, eps=1e-6, rtol=1e-5, atol=1e-7, train_mode=True, max_points=24,
             rng=None):
    """Compare autograd gradients of sum(fn(*xs) * head) with central differences (float64), at up
    to max_points random elements per input (keeps runtimes small)."""
    rng = _RNG if rng is None else rng
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    wrt = list(range(len(arrays))) if wrt is None else wrt
    xs = [nd(a) for a in arrays]
    for i in wrt:
        xs[i].attach_grad()
    with mx.autograd.record(train_mode=train_mode):
        y = fn(*xs)
    head = rng.standard_normal(y.shape)
    y.backward(nd(head))
    for i in wrt:
        got = xs[i].grad.asnumpy().reshape(-1)
        flat = arrays[i].reshape(-1)
        points = np.arange(flat.size)
        if flat.size > max_points:
            points = np.sort(rng.choice(flat.size, max_points, replace=False))
        num = np.zeros(points.size)
        for pi, j in enumerate(points):
            old = flat[j]
            vals = []
            for d in (eps, -eps):
                flat[j] = old + d
                with mx.autograd.train_mode() if train_mode else mx.autograd.predict_mode():
                    vals.append(float((fn(*[nd(a) for a in arrays]).asnumpy() * head).sum()))
            flat[j] = old
            num[pi] = (vals[0] - vals[1]) / (2 * eps)
        np.testing.assert_allclose(got[points], num, rtol=rtol, atol=atol, err_msg="gradient of input %d" % i)

