"""MXNet's contrib operators (mx.nd.contrib / mx.sym.contrib) against Apache MXNet 1.9.1's outputs and
gradients (tests/data/contrib, made by make_contrib_vectors.py with a real MXNet) and numpy."""
import json
import os

import numpy as np
import pytest

import mx

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "contrib", "mxnet_contrib_vectors.npz")
VECTORS = np.load(DATA)
MANIFEST = json.loads(str(VECTORS["manifest"]))
TOL = {"float64": (1e-9, 1e-11), "float32": (1e-5, 1e-6)}


def case_ids():
    return ["%d-%s-%s" % (i, c["op"], ",".join("%s=%s" % kv for kv in sorted(c["params"].items())))
            for i, c in enumerate(MANIFEST)]


@pytest.mark.parametrize("index", range(len(MANIFEST)), ids=case_ids())
def test_matches_mxnet(index):
    case = MANIFEST[index]
    dtype = case["dtype"]
    rtol, atol = TOL[dtype]
    xs = [mx.nd.array(VECTORS["%d_in%d" % (index, j)], dtype=dtype) for j in range(case["n_in"])]
    for j in case["grad_of"]:
        xs[j].attach_grad()
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in case["params"].items()}
    with mx.autograd.record():
        out = getattr(mx.nd.contrib, case["op"])(*xs, **params)
    np.testing.assert_allclose(out.asnumpy(), VECTORS["%d_out" % index], rtol=rtol, atol=atol)
    if case["grad_of"]:
        out.backward(mx.nd.array(VECTORS["%d_head" % index], dtype=dtype))
        for j in case["grad_of"]:
            np.testing.assert_allclose(xs[j].grad.asnumpy(), VECTORS["%d_grad%d" % (index, j)], rtol=rtol,
                                       atol=atol * 10, err_msg="gradient of input %d" % j)


def test_predicates_and_allclose_against_numpy():
    v = np.array([np.nan, np.inf, -np.inf, 0.0, -1.5], dtype=np.float32)
    x = mx.nd.array(v)
    np.testing.assert_array_equal(mx.nd.contrib.isnan(x).asnumpy(), np.isnan(v).astype(np.float32))
    np.testing.assert_array_equal(mx.nd.contrib.isinf(x).asnumpy(), np.isinf(v).astype(np.float32))
    np.testing.assert_array_equal(mx.nd.contrib.isfinite(x).asnumpy(), np.isfinite(v).astype(np.float32))
    a = np.array([1.0, 2.0, 3.0])
    for b in (a + 1e-9, a + 1e-3, np.array([1.0, 2.0, np.nan])):
        got = mx.nd.contrib.allclose(mx.nd.array(a, dtype="float64"), mx.nd.array(b, dtype="float64"))
        assert got.dtype == np.uint8 and got.shape == ()
        assert bool(got.asnumpy()) == np.allclose(a, b)


def test_attention_ops_compose_like_multi_head_attention():
    # selfatt_qk + softmax + selfatt_valatt equals a numpy multi-head attention on the same projections.
    rng = np.random.RandomState(2)
    seq, batch, heads, hd = 5, 2, 3, 4
    qkv = rng.uniform(-1, 1, (seq, batch, heads * 3 * hd)).astype(np.float32)
    scores = mx.nd.contrib.interleaved_matmul_selfatt_qk(mx.nd.array(qkv), heads=heads)
    att = mx.nd.softmax(scores, axis=-1)
    out = mx.nd.contrib.interleaved_matmul_selfatt_valatt(mx.nd.array(qkv), att, heads=heads).asnumpy()
    t = qkv.reshape(seq, batch, heads, 3, hd)
    q, k, v = (np.transpose(t[:, :, :, i, :], (1, 2, 0, 3)) for i in range(3))  # (batch, heads, seq, hd)
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(hd)
    s = np.exp(s - s.max(-1, keepdims=True))
    s /= s.sum(-1, keepdims=True)
    ref = np.transpose(s @ v, (2, 0, 1, 3)).reshape(seq, batch, heads * hd)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)


def test_symbolic_contrib_namespace_and_executor():
    x = mx.sym.var("x")
    y = mx.sym.contrib.AdaptiveAvgPooling2D(mx.sym.contrib.BilinearResize2D(x, height=4, width=4), output_size=2)
    ex = y.simple_bind(mx.cpu(), x=(1, 1, 2, 2))
    ex.arg_dict["x"][:] = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    ex.forward()
    # align_corners resize of a bilinear ramp keeps it a ramp; each 2x2 bin averages it.
    ramp = np.array([[1 + (i / 3) * 2 + j / 3 for j in range(4)] for i in range(4)])
    ref = ramp.reshape(2, 2, 2, 2).mean(axis=(1, 3))
    np.testing.assert_allclose(ex.outputs[0].asnumpy()[0, 0], ref, rtol=1e-5)


@pytest.mark.parametrize("call,fragment", [
    (lambda: mx.nd.contrib.index_copy(mx.nd.zeros((4, 2)), mx.nd.array([5]), mx.nd.ones((1, 2))), "out of range"),
    (lambda: mx.nd.contrib.index_copy(mx.nd.zeros((4, 2)), mx.nd.array([1]), mx.nd.ones((2, 2))), "one row per index"),
    (lambda: mx.nd.contrib.interleaved_matmul_selfatt_qk(mx.nd.ones((2, 3, 7)), heads=2), "multiple of"),
    (lambda: mx.nd.contrib.BilinearResize2D(mx.nd.ones((2, 3)), height=2, width=2), "4-D"),
    (lambda: mx.nd.contrib.BilinearResize2D(mx.nd.ones((1, 1, 2, 2)), mode="odd_scale"), "scale_height"),
    (lambda: mx.nd.contrib.AdaptiveAvgPooling2D(mx.nd.ones((1, 1, 2, 2)), output_size=(1, 2, 3)), "1 or 2"),
    (lambda: mx.nd.contrib.arange_like(mx.nd.ones((2,)), repeat=0), "repeat"),
])
def test_bad_input_is_a_clear_error(call, fragment):
    with pytest.raises(mx.MXNetError, match=fragment):
        call()
