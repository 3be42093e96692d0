"""Arrays passed to imperative ops by keyword (MXNet style: `elemwise_add(lhs=..., rhs=...)`).

The arrays are created inside the call, so the op's keyword dict holds the only reference: a
front end that drops it before the core runs the op reads freed memory. Every op the registry
lists is tried with keyword inputs named from its schema; results must equal the positional call.
"""
import numpy as np
import pytest

import mx
from mx.ndarray import _internal_ops as _ops

SHAPES = [(2, 3), (3,), (2, 3, 4, 5)]


def _candidates():
    for name in _ops.list_ops():
        s = _ops.op_schema(name)
        if s["hidden"] or s["variadic_input"] or s["random"] or not s["inputs"]:
            continue
        yield name, s


def _fn(name):
    return getattr(mx.nd, name, None) or getattr(mx.nd._internal, name)


def _outputs(res):
    return [r.asnumpy() for r in (res if isinstance(res, list) else [res])]


def test_every_op_accepts_keyword_inputs():
    exercised, mismatched = [], []
    rng = np.random.RandomState(0)
    for name, s in _candidates():
        all_names = list(s["inputs"]) + list(s["aux"])
        fn = _fn(name)
        # all inputs first, then without trailing optional ones (softmax's `length`)
        tries = [(all_names[:k], shape) for k in range(len(all_names), 0, -1) for shape in SHAPES]
        for names, shape in tries:
            data = [rng.uniform(0.2, 0.9, size=shape).astype(np.float32) for _ in names]
            try:
                want = _outputs(fn(*[mx.nd.array(d) for d in data]))
            except (mx.MXNetError, TypeError, ValueError):
                continue
            # the arrays exist only in the call's keyword dict
            got = _outputs(fn(**{k: mx.nd.array(d) for k, d in zip(names, data)}))
            exercised.append(name)
            if len(got) != len(want) or not all(
                    np.array_equal(g, w, equal_nan=True) for g, w in zip(got, want)):
                mismatched.append(name)
            break
    assert not mismatched, "keyword inputs gave other results than positional ones: %s" % mismatched
    # elementwise, broadcast, unary maths, reductions, shape ops, activations...
    assert len(exercised) >= 100, exercised
    for fam in ("elemwise_add", "broadcast_mul", "exp", "sum", "transpose", "relu", "softmax", "where"):
        assert fam in exercised, fam


def test_issue_examples_by_keyword():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    got = mx.nd.elemwise_add(lhs=mx.nd.array(a), rhs=mx.nd.ones((2, 3)))
    np.testing.assert_array_equal(got.asnumpy(), a + 1)

    x = np.random.uniform(-1, 1, (4, 5)).astype(np.float32)
    w = np.random.uniform(-1, 1, (3, 5)).astype(np.float32)
    b = np.random.uniform(-1, 1, (3,)).astype(np.float32)
    got = mx.nd.FullyConnected(data=mx.nd.array(x), weight=mx.nd.array(w), bias=mx.nd.array(b), num_hidden=3)
    np.testing.assert_allclose(got.asnumpy(), x @ w.T + b, rtol=1e-5, atol=1e-6)

    c = np.array([1, 0, 1], np.float32)
    got = mx.nd.where(condition=mx.nd.array(c), x=mx.nd.array([1, 2, 3]), y=mx.nd.array([7, 8, 9]))
    np.testing.assert_array_equal(got.asnumpy(), np.where(c, [1, 2, 3], [7, 8, 9]))


def test_ctc_loss_lengths_by_keyword_match_positional():
    acts = np.random.uniform(-1, 1, (6, 2, 4)).astype(np.float32)
    label = np.array([[1, 2], [3, 0]], np.float32)
    dl, ll = np.array([6, 5], np.float32), np.array([2, 1], np.float32)
    kw = dict(use_data_lengths=True, use_label_lengths=True)
    want = mx.nd.CTCLoss(mx.nd.array(acts), mx.nd.array(label), mx.nd.array(dl), mx.nd.array(ll), **kw)
    got = mx.nd.CTCLoss(data=mx.nd.array(acts), label=mx.nd.array(label), data_lengths=mx.nd.array(dl),
                        label_lengths=mx.nd.array(ll), **kw)
    np.testing.assert_array_equal(got.asnumpy(), want.asnumpy())
    # a sample whose data length is shorter must give another loss than the full length
    full = mx.nd.CTCLoss(mx.nd.array(acts), mx.nd.array(label), label_lengths=mx.nd.array(ll),
                         use_label_lengths=True)
    assert got.asnumpy()[1] != pytest.approx(full.asnumpy()[1])
    np.testing.assert_allclose(got.asnumpy()[0], full.asnumpy()[0], rtol=1e-6)


def test_mixed_positional_and_keyword_inputs():
    x = np.random.uniform(-1, 1, (2, 4)).astype(np.float32)
    w = np.random.uniform(-1, 1, (3, 4)).astype(np.float32)
    got = mx.nd.FullyConnected(mx.nd.array(x), weight=mx.nd.array(w), no_bias=True, num_hidden=3)
    np.testing.assert_allclose(got.asnumpy(), x @ w.T, rtol=1e-5, atol=1e-6)


def test_keyword_input_errors():
    with pytest.raises(TypeError, match="multiple values for input 'lhs'"):
        mx.nd.elemwise_add(mx.nd.ones((2,)), mx.nd.ones((2,)), lhs=mx.nd.ones((2,)))
    with pytest.raises(TypeError, match="input 'rhs'"):
        mx.nd.elemwise_add(lhs=mx.nd.ones((2,)), rhs=np.ones(2))
