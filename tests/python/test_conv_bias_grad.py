"""The convolution's bias gradient on the oneDNN path (backends/cpu/onednn_conv.cc, sum_bias) is the
sum of the head gradient over samples and positions, accumulated in double in 32 lanes: it must equal
numpy's float64 sum rounded once to float32 (MX's own kernel, without oneDNN: within 2e-5), for spatial sizes that are and are not multiples of
the lane count (a float32 running sum over ~10^5 terms drifts by ~1e-5 relative, and a lost tail
element by far more)."""
import numpy as np
import pytest

import mx
from mx import autograd


@pytest.mark.parametrize("hw,kernel", [((14, 14), (3, 3)), ((34, 34), (3, 3)), ((9, 9), (1, 1)), ((40, 40), (5, 5))])
def test_bias_gradient_is_the_float64_sum(hw, kernel):
    rng = np.random.RandomState(3)
    n, c, f = 24, 4, 5
    x = mx.nd.array(rng.randn(n, c, *hw))
    w = mx.nd.array(rng.randn(f, c, *kernel) * 0.1)
    b = mx.nd.zeros((f,))
    b.attach_grad()
    oh, ow = hw[0] - kernel[0] + 1, hw[1] - kernel[1] + 1
    # values around 1 with a small random part: a float32 running sum loses the small parts
    head = (1.0 + 1e-3 * rng.randn(n, f, oh, ow)).astype(np.float32)
    with autograd.record():
        y = mx.nd.Convolution(x, w, b, kernel=kernel, num_filter=f)
    y.backward(mx.nd.array(head))
    want = head.astype(np.float64).sum(axis=(0, 2, 3)).astype(np.float32)
    if mx.runtime.onednn_status()[1]:
        np.testing.assert_array_equal(b.grad.asnumpy(), want)
    else:  # MX's own kernel (no oneDNN) sums per chunk in float32
        np.testing.assert_allclose(b.grad.asnumpy(), want, rtol=2e-5)
