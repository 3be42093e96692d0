"""The convolution's bias gradient when the executor keeps its head gradient in oneDNN's blocked
layout (backends/cpu/onednn_conv.cc, sum_bias_blocked / sum_lanes8: per channel, four chains of
double sums over the positions). It must be numpy's float64 sum rounded once to float32.

The head gradient of the first convolution is made exact and known: a second 1x1 convolution
with an identity weight passes its head gradient through unchanged (one product by 1, the rest
by 0), so the first layer's dy, kept blocked between the two backward steps, equals the head the
test gives. Channel counts cover whole 16-blocks, a padded block and the 8-lane units; position
counts that are and are not multiples of 4 (the chains' tail)."""
import numpy as np
import pytest

import mx

S = mx.sym


def _bias_grad(f, hw, monkeypatch, blocked):
    monkeypatch.setenv("MX_EXEC_BLOCKED", "1" if blocked else "0")
    rng = np.random.RandomState(f * 100 + hw)
    n, c = 16, 16
    data = S.Variable("data")
    y1 = S.Convolution(data, num_filter=f, kernel=(3, 3), name="c1")
    y2 = S.Convolution(y1, num_filter=f, kernel=(1, 1), no_bias=True, name="c2")
    args = {"data": mx.nd.array(rng.randn(n, c, hw, hw)),
            "c1_weight": mx.nd.array(rng.randn(f, c, 3, 3) * 0.1),
            "c1_bias": mx.nd.zeros((f,)),
            "c2_weight": mx.nd.array(np.eye(f, dtype=np.float32).reshape(f, f, 1, 1))}
    grads = {k: mx.nd.zeros(v.shape) for k, v in args.items()}
    ex = y2.bind(mx.cpu(), args, args_grad=grads)
    ex.forward(is_train=True)
    o = hw - 2
    # around 1 with a small random part: a float32 running sum would lose the small parts
    head = (1.0 + 1e-3 * rng.randn(n, f, o, o)).astype(np.float32)
    ex.backward([mx.nd.array(head)])
    return grads["c1_bias"].asnumpy(), head.astype(np.float64).sum(axis=(0, 2, 3)).astype(np.float32)


@pytest.mark.parametrize("f", [16, 24, 32, 40])
@pytest.mark.parametrize("hw", [9, 12, 27])  # 49, 100 and 625 positions (blocked and channels-last maps)
def test_blocked_bias_gradient_is_the_float64_sum(f, hw, monkeypatch):
    got, want = _bias_grad(f, hw, monkeypatch, True)
    if mx.runtime.onednn_status()[1]:
        np.testing.assert_array_equal(got, want)
    else:  # MX's own kernel (no oneDNN) sums per chunk in float32
        np.testing.assert_allclose(got, want, rtol=2e-5)


def test_blocked_and_plain_bias_gradients_agree(monkeypatch):
    a, want = _bias_grad(32, 12, monkeypatch, True)
    b, _ = _bias_grad(32, 12, monkeypatch, False)
    np.testing.assert_allclose(a, b, rtol=1e-6)
    np.testing.assert_allclose(a, want, rtol=1e-6)
