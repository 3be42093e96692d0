"""Depthwise convolution (one input channel per group, MobileNet's layers): forward, data and
weight gradients against a direct float64 numpy convolution (conv_reference.py). These layers
run on oneDNN's own depthwise kernels where oneDNN is built in, on MX's im2col otherwise."""
import numpy as np
import pytest

import mx
from conv_reference import conv_grads_ref, conv_ref


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
    y_ref = conv_ref(x32, w32, None, stride, pad, C)
    np.testing.assert_allclose(y.asnumpy(), y_ref, rtol=1e-5, atol=1e-5)
    dy64 = rng.randn(*y_ref.shape)
    y.backward(mx.nd.array(dy64.astype(np.float32)))
    dx_ref, dw_ref, _ = conv_grads_ref(x32, w32, dy64.astype(np.float32).astype(np.float64), stride, pad, C)
    np.testing.assert_allclose(x.grad.asnumpy(), dx_ref, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(w.grad.asnumpy(), dw_ref, rtol=1e-5, atol=1e-4)
