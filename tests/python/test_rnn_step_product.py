"""The RNN's per-step recurrent products in float32 run on oneDNN's matmul with the recurrent
weight packed once per call (backends/cpu/onednn_matmul.h); float64 keeps BLAS. The float32
forward and all gradients are checked against the float64 op (whose gradients test_rnn_reserve.py
checks against finite differences), at sizes where the products are real matrices (batch 5,
hidden 7, so N x H x G*H products with N, K and N all distinct), and the oneDNN path must really
have run (its primitive counter grows with the steps)."""
import numpy as np
import pytest

import mx

CASES = [("lstm", 2, True), ("gru", 2, True), ("rnn_tanh", 1, False), ("rnn_relu", 2, False)]
T, N, C, H = 6, 5, 4, 7


def psize(mode, L, D):
    G = {"lstm": 4, "gru": 3}.get(mode, 1)
    return sum(D * (G * H * ((C if l == 0 else D * H) + H) + 2 * G * H) for l in range(L))


def run(arrays, heads, kw, dtype):
    xs = [mx.nd.array(a, dtype=dtype) for a in arrays]
    for x in xs:
        x.attach_grad()
    with mx.autograd.record():
        outs = mx.nd.RNN(*xs, state_outputs=True, **kw)
    mx.autograd.backward(list(outs), [mx.nd.array(h, dtype=dtype) for h in heads])
    return [o.asnumpy().astype(np.float64) for o in outs], [x.grad.asnumpy().astype(np.float64) for x in xs]


@pytest.mark.parametrize("mode,L,bi", CASES)
def test_float32_matches_float64(mode, L, bi):
    rng = np.random.RandomState(3)
    D = 2 if bi else 1
    arrays = [rng.standard_normal((T, N, C)), rng.standard_normal(psize(mode, L, D)) * 0.4,
              rng.standard_normal((L * D, N, H))]
    if mode == "lstm":
        arrays.append(rng.standard_normal((L * D, N, H)))
    if mode == "rnn_relu":
        arrays = [np.abs(a) for a in arrays]
    heads = [rng.standard_normal((T, N, D * H))] + [rng.standard_normal(a.shape) for a in arrays[2:]]
    kw = dict(state_size=H, num_layers=L, mode=mode, bidirectional=bi)
    built, enabled, before = mx.runtime.onednn_status()
    outs32, grads32 = run(arrays, heads, kw, np.float32)
    calls = mx.runtime.onednn_status()[2] - before
    outs64, grads64 = run(arrays, heads, kw, np.float64)
    for a, b in zip(outs32 + grads32, outs64 + grads64):
        assert np.abs(b).max() > 0
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5 * np.abs(b).max())
    if built and enabled:
        # one product a step in the forward and one in the backward, per layer and direction
        assert calls >= 2 * T * L * D
