"""CTCLoss on the GPU against the CPU kernel (both run ops/nn/ctc_kernels.h's per-sample
recursions in double): loss and data gradient, blank first/last, padded labels, data and label
lengths, repeated labels, an impossible alignment (infinite loss, zero gradient), and Gluon's
CTCLoss."""
import numpy as np
import pytest

import mx

GPU = mx.gpu(0) if mx.context.num_gpus() > 0 else None
TOL = {"float32": dict(rtol=1e-5, atol=1e-6), "float64": dict(rtol=1e-12, atol=1e-12)}


def _run(arrays, kw, ctx):
    xs = [mx.nd.array(a, ctx=ctx, dtype=a.dtype) for a in arrays]
    xs[0].attach_grad()
    with mx.autograd.record():
        loss = mx.nd.CTCLoss(*xs, **kw)
    assert loss.context == ctx
    loss.backward(mx.nd.array(np.linspace(0.5, 1.5, loss.shape[0]), ctx=ctx, dtype=loss.dtype))
    return loss.asnumpy(), xs[0].grad.asnumpy()


CASES = [
    dict(blank_label="first"),
    dict(blank_label="last"),
    dict(blank_label="first", use_data_lengths=True),
    dict(blank_label="last", use_label_lengths=True),
    dict(blank_label="first", use_data_lengths=True, use_label_lengths=True),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kw", CASES, ids=[str(i) for i in range(len(CASES))])
def test_ctc_loss_matches_cpu(kw, dtype):
    rng = np.random.default_rng(1)
    T, N, K, U = 12, 4, 6, 4
    x = rng.standard_normal((T, N, K)).astype(dtype)
    first = kw["blank_label"] == "first"
    lo, hi = (1, K) if first else (0, K - 1)
    pad = 0 if first else -1
    label = rng.integers(lo, hi, (N, U)).astype("float32")
    label[0, 2:] = pad            # a shorter label (padding)
    label[1, 1] = label[1, 0]     # a repeated label (needs a blank between)
    label[3, :] = pad             # the empty label
    arrays = [x, label]
    if kw.get("use_data_lengths"):
        arrays.append(np.array([12, 7, 3, 0], dtype="float32"))  # 3 steps cannot hold sample 2's label
    if kw.get("use_label_lengths"):
        arrays.append(np.array([2, 4, 3, 0], dtype="float32"))
    cpu = _run(arrays, kw, mx.cpu())
    gpu = _run(arrays, kw, GPU)
    for name, c, g in zip(("loss", "gradient"), cpu, gpu):
        assert c.shape == g.shape and c.dtype == g.dtype
        np.testing.assert_allclose(g, c, err_msg=name, **TOL[dtype])
    assert np.any(np.isfinite(cpu[0]))


def test_gluon_ctc_loss_matches_cpu():
    rng = np.random.default_rng(2)
    pred = rng.standard_normal((3, 10, 5)).astype("float32")  # NTC
    label = np.array([[1, 2, 2, -1], [3, -1, -1, -1], [4, 1, 3, 2]], dtype="float32")
    res = []
    for ctx in (mx.cpu(), GPU):
        p = mx.nd.array(pred, ctx=ctx)
        p.attach_grad()
        with mx.autograd.record():
            loss = mx.gluon.loss.CTCLoss()(p, mx.nd.array(label, ctx=ctx))
        loss.backward()
        res.append((loss.asnumpy(), p.grad.asnumpy()))
    for c, g in zip(*res):
        np.testing.assert_allclose(g, c, rtol=1e-5, atol=1e-6)
