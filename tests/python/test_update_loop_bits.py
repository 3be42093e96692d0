"""The host loop of the element-wise update rules (ops/formulas/optimizer.h, run_update_host) runs
vectorised over restrict pointers. Vector sqrt / div / mul / add round like the scalar float32
operations, so the result must be, bit for bit, numpy's float32 evaluation of the same formula in
the same order (a contracted multiply-add or a reordered expression fails). Checked in place
(out = weight, the optimizer objects' case) and into a separate output, for lengths that are not
multiples of any vector width; a state overlapping the gradient partially (views of one buffer)
takes the element-by-element loop, whose result is the sequential one."""
import numpy as np
import pytest

import mx

F = np.float32


def np_adam(w, g, m, v, lr, b1, b2, eps, wd, rescale):
    gi = F(rescale) * g + F(wd) * w
    m = F(b1) * m + (F(1) - F(b1)) * gi
    v = F(b2) * v + (F(1) - F(b2)) * gi * gi
    return w - F(lr) * m / (np.sqrt(v) + F(eps)), m, v


def np_sgd_mom(w, g, mom, lr, momentum, wd, rescale):
    mom = F(momentum) * mom - F(lr) * F(wd) * w - F(lr) * (F(rescale) * g)
    return w + mom, mom


@pytest.mark.parametrize("n", [1, 7, 1003])
@pytest.mark.parametrize("in_place", [True, False])
def test_adam_update_bits(n, in_place):
    rng = np.random.RandomState(n)
    w, g, m = (rng.randn(n).astype(F) for _ in range(3))
    v = rng.rand(n).astype(F)
    kw = dict(lr=0.01, beta1=0.9, beta2=0.99, epsilon=1e-6, wd=0.03, rescale_grad=0.5)
    W, G, M, V = (mx.nd.array(a) for a in (w, g, m, v))
    out = W if in_place else mx.nd.zeros((n,))
    mx.nd.adam_update(W, G, M, V, out=out, **kw)
    ew, em, ev = np_adam(w, g, m, v, 0.01, 0.9, 0.99, 1e-6, 0.03, 0.5)
    np.testing.assert_array_equal(out.asnumpy(), ew)
    np.testing.assert_array_equal(M.asnumpy(), em)
    np.testing.assert_array_equal(V.asnumpy(), ev)
    if not in_place:
        np.testing.assert_array_equal(W.asnumpy(), w)  # the weight itself is untouched


@pytest.mark.parametrize("n", [5, 130])
def test_sgd_mom_update_bits(n):
    rng = np.random.RandomState(n)
    w, g, mom = (rng.randn(n).astype(F) for _ in range(3))
    W, G, MOM = (mx.nd.array(a) for a in (w, g, mom))
    mx.nd.sgd_mom_update(W, G, MOM, out=W, lr=0.1, momentum=0.9, wd=0.01, rescale_grad=2.0)
    ew, em = np_sgd_mom(w, g, mom, 0.1, 0.9, 0.01, 2.0)
    np.testing.assert_array_equal(W.asnumpy(), ew)
    np.testing.assert_array_equal(MOM.asnumpy(), em)


def test_partially_overlapping_views_update_sequentially():
    # grad = buf[0:n], momentum (a state, updated in place) = buf[1:n+1]: the momentum element
    # i-1, written at step i-1, is the gradient element i read at step i. (An output overlapping
    # an input goes through a temporary in ops/imperative.cc; states do not.)
    n = 40
    rng = np.random.RandomState(0)
    buf = rng.randn(n + 1).astype(F)
    w = rng.randn(n).astype(F)
    B, W = mx.nd.array(buf), mx.nd.array(w)
    mx.nd.sgd_mom_update(W, B[0:n], B[1:n + 1], out=W, lr=0.1, momentum=0.9)
    want_w, want_b = w.copy(), buf.copy()
    for i in range(n):  # element by element, as the loop runs
        nw, nm = np_sgd_mom(want_w[i:i + 1], want_b[i:i + 1], want_b[i + 1:i + 2], 0.1, 0.9, 0.0, 1.0)
        want_w[i], want_b[i + 1] = nw[0], nm[0]
    np.testing.assert_array_equal(W.asnumpy(), want_w)
    np.testing.assert_array_equal(B.asnumpy(), want_b)
