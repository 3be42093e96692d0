"""Runs the table-driven op harness (op_harness.py) and checks that every registered operator is
either in its table or in its reasoned exclusion list."""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import op_harness as H  # noqa: E402

import mx  # noqa: E402
from mx.ndarray import _internal_ops  # noqa: E402

FORWARD = [(c, dt) for cases in H.TABLE.values() for c in cases for dt in H.case_dtypes(c)]
GRADIENT = [c for cases in H.TABLE.values() for c in cases
            if c.grad is not None and _internal_ops.op_schema(c.op)["differentiable"]]


def test_every_registered_op_is_covered():
    missing = [n for n in _internal_ops.list_ops() if n not in H.TABLE and H.exclusion_reason(n) is None]
    assert not missing, ("ops neither in tests/python/op_harness.py TABLE nor in its EXCLUDED list "
                         "(add a Case, or an exclusion with the reason): %s" % missing)


def test_table_names_are_registered():
    known = set(_internal_ops.list_ops())
    for n in H.TABLE:
        assert n in known, "harness table names unknown op %r" % n


def test_schema_dtypes_are_covered():
    # Every dtype a tabled op's schema claims is exercised by at least one forward case.
    for name, cases in H.TABLE.items():
        if not cases[0].inputs:
            continue
        tested = set(dt for c in cases for dt in H.case_dtypes(c))
        claimed = set(H.schema_dtypes(name))
        assert claimed <= tested, "%s: dtypes %s claimed but not tested" % (name, sorted(claimed - tested))


@pytest.mark.parametrize("case,dtype", FORWARD, ids=["%s-%s" % (c.name, dt) for c, dt in FORWARD])
def test_forward(case, dtype):
    H.check_forward(case, dtype)


@pytest.mark.parametrize("case", GRADIENT, ids=[repr(c) for c in GRADIENT])
def test_gradient(case):
    H.check_grad(case)


def test_aliases_resolve():
    for alias, canon in [("sum_axis", "sum"), ("max_axis", "max"), ("min_axis", "min"), ("_copy", "identity"),
                         ("stop_gradient", "BlockGrad"), ("cast", "Cast"), ("uniform", "_random_uniform"),
                         ("normal", "_random_normal"), ("random_uniform", "_random_uniform"),
                         ("shuffle", "_shuffle"), ("sample_multinomial", "_sample_multinomial")]:
        assert alias in _internal_ops.op_schema(canon)["aliases"], (alias, canon)


def test_second_order_gradients():
    # Composed gradients are differentiable again: d2/dx2 sin = -sin, d2/dx2 exp = exp.
    x = mx.nd.array([0.3, -1.1, 2.0], dtype="float64")
    x.attach_grad()
    for op, d2 in [(mx.nd.sin, lambda v: -np.sin(v)), (mx.nd.exp, np.exp), (mx.nd.tanh,
                   lambda v: -2 * np.tanh(v) * (1 - np.tanh(v) ** 2)), (mx.nd.sigmoid, None)]:
        with mx.autograd.record():
            y = op(x)
            g = mx.autograd.grad([y], [x], create_graph=True)[0]
        g.backward()
        if d2 is not None:
            np.testing.assert_allclose(x.grad.asnumpy(), d2(x.asnumpy()), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("call,words", [
    (lambda: mx.nd.sum(mx.nd.ones((2, 3)), axis=2), ["sum", "axis", "2"]),
    (lambda: mx.nd.max(mx.nd.ones((2, 3)), axis=(0, 0)), ["max", "axis"]),
    (lambda: mx.nd.argmax(mx.nd.ones((2, 3)), axis=-3), ["argmax", "axis", "-3"]),
    (lambda: mx.nd.zeros((2, -1)), ["_zeros", "shape", "-1"]),
    (lambda: mx.nd.norm(mx.nd.ones((2, 3)), ord=3), ["norm", "ord", "3"]),
    (lambda: mx.nd.clip(mx.nd.ones((2,))), ["clip", "a_min"]),
    (lambda: mx.nd.Cast(mx.nd.ones((2,)), dtype="float31"), ["Cast", "dtype", "float31"]),
    (lambda: mx.nd._internal._arange(start=0.0, stop=3.0, step=0.0), ["_arange", "step"]),
    (lambda: mx.nd._internal._eye(N=-2), ["_eye", "N", "-2"]),
    (lambda: mx.nd.sqrt(mx.nd.ones((2,), dtype="int32")), ["sqrt", "int32"]),
])
def test_bad_input_errors(call, words):
    with pytest.raises(mx.MXError) as e:
        call()
    msg = str(e.value)
    for w in words:
        assert w in msg, (w, msg)


def test_python_creation_wrappers():
    np.testing.assert_array_equal(mx.nd.zeros((2, 3), dtype="int32").asnumpy(), np.zeros((2, 3), np.int32))
    np.testing.assert_array_equal(mx.nd.ones(4).asnumpy(), np.ones(4, np.float32))
    np.testing.assert_array_equal(mx.nd.full((2, 2), 3.5).asnumpy(), np.full((2, 2), 3.5, np.float32))
    np.testing.assert_array_equal(mx.nd.arange(0, 5, 2).asnumpy(), np.arange(0, 5, 2, dtype=np.float32))
    np.testing.assert_array_equal(mx.nd.arange(3, repeat=2, dtype="int64").asnumpy(), np.repeat(np.arange(3), 2))
    np.testing.assert_array_equal(mx.nd.zeros_like(mx.nd.ones((2,))).asnumpy(), np.zeros(2, np.float32))


def test_reduce_large_layouts():
    # Exercise the parallel and vectorised paths on bigger arrays against numpy.
    rng = np.random.RandomState(3)
    a = rng.uniform(-1, 1, size=(64, 33, 130)).astype(np.float32)
    x = mx.nd.array(a)
    for axis in [0, 1, 2, (0, 2), (1, 2), (0, 1)]:
        np.testing.assert_allclose(mx.nd.sum(x, axis=axis).asnumpy(), a.astype(np.float64).sum(axis=axis),
                                   rtol=1e-4, atol=1e-3)
        np.testing.assert_array_equal(mx.nd.max(x, axis=axis).asnumpy(), a.max(axis=axis))
    np.testing.assert_allclose(mx.nd.sum(x).asnumpy(), [a.astype(np.float64).sum()], rtol=1e-5)
