"""Depthwise convolution (one input channel per group, MobileNet's layers): forward, data and
weight gradients against a direct float64 numpy convolution. These layers run on oneDNN's own
depthwise kernels where oneDNN is built in, on MX's im2col kernels otherwise."""
import numpy as np
import pytest

import mx


def _conv_ref(x, w, stride, pad, groups):
    """Direct grouped 2-D convolution in float64 and its vector-Jacobian products."""
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    Fg = F // groups
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    OH, OW = (H + 2 * pad - KH) // stride + 1, (W + 2 * pad - KW) // stride + 1
    y = np.zeros((N, F, OH, OW))
    for f in range(F):
        c0 = (f // Fg) * Cg
        for kh in range(KH):
            for kw in range(KW):
                patch = xp[:, c0:c0 + Cg, kh:kh + stride * OH:stride, kw:kw + stride * OW:stride]
                y[:, f] += np.einsum("nchw,c->nhw", patch, w[f, :, kh, kw])
    return y


def _vjp_ref(x, w, dy, stride, pad, groups):
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    Fg = F // groups
    OH, OW = dy.shape[2:]
    dxp = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dw = np.zeros_like(w)
    for f in range(F):
        c0 = (f // Fg) * Cg
        for kh in range(KH):
            for kw in range(KW):
                sl = (slice(None), slice(c0, c0 + Cg), slice(kh, kh + stride * OH, stride),
                      slice(kw, kw + stride * OW, stride))
                dw[f, :, kh, kw] = np.einsum("nchw,nhw->c", xp[sl], dy[:, f])
                dxp[sl] += np.einsum("nhw,c->nchw", dy[:, f], w[f, :, kh, kw])
    return dxp[:, :, pad:pad + H, pad:pad + W], dw


@pytest.mark.parametrize("C,mult,stride,pad,side", [(8, 1, 1, 1, 9), (16, 1, 2, 1, 10), (6, 2, 1, 0, 7),
                                                    (32, 1, 1, 1, 12)])
def test_depthwise_forward_and_gradients(C, mult, stride, pad, side):
    rng = np.random.RandomState(C + stride)
    x64 = rng.randn(3, C, side, side)
    w64 = rng.randn(C * mult, 1, 3, 3)
    x, w = mx.nd.array(x64.astype(np.float32)), mx.nd.array(w64.astype(np.float32))
    x.attach_grad()
    w.attach_grad()
    with mx.autograd.record():
        y = mx.nd.Convolution(x, w, kernel=(3, 3), stride=(stride, stride), pad=(pad, pad),
                              num_filter=C * mult, num_group=C, no_bias=True)
    x32, w32 = x64.astype(np.float32).astype(np.float64), w64.astype(np.float32).astype(np.float64)
    y_ref = _conv_ref(x32, w32, stride, pad, C)
    np.testing.assert_allclose(y.asnumpy(), y_ref, rtol=1e-5, atol=1e-5)
    dy64 = rng.randn(*y_ref.shape)
    y.backward(mx.nd.array(dy64.astype(np.float32)))
    dx_ref, dw_ref = _vjp_ref(x32, w32, dy64.astype(np.float32).astype(np.float64), stride, pad, C)
    np.testing.assert_allclose(x.grad.asnumpy(), dx_ref, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(w.grad.asnumpy(), dw_ref, rtol=1e-5, atol=1e-4)
