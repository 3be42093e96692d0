"""Issue 15: calls that used to kill the interpreter (segfault, SIGFPE, double free). Each runs
in a subprocess (tests/python/isolated.py), so a regression fails its test instead of the run."""
import json

import numpy as np
import pytest

from isolated import check_python

PRELUDE = """
import json, numpy as np, mx
def outcome(f):
    try:
        r = f()
    except Exception as e:
        return {"exc": type(e).__name__, "mro": [c.__name__ for c in type(e).__mro__], "msg": str(e)}
    return {"value": np.asarray(r.asnumpy() if hasattr(r, "asnumpy") else r).tolist()}
def iadd(x, y):
    x += y
    return x
"""


def run_cases(cases, env=None):
    """cases: {name: python expression}; returns {name: outcome dict} from one subprocess."""
    body = PRELUDE + "res = {}\n" + "".join(
        "res[%r] = outcome(lambda: %s)\n" % (k, v) for k, v in cases.items()) + "print(json.dumps(res))\n"
    out = check_python(body, env=env)
    return json.loads(out.strip().splitlines()[-1])


# ------------------------------------------------------------------ 1. numpy_array (op) nd_array
OPS = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "%": np.mod, "**": np.power}
CMP = {"==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal, ">": np.greater,
       ">=": np.greater_equal}


def test_numpy_array_op_ndarray_uses_reflected_operators():
    n = "np.array([[1.5, -2.0], [3.0, 4.0]])"
    a = "mx.nd.array([[2.0, 3.0], [0.5, 2.0]])"
    cases = {op: "%s %s %s" % (n, op, a) for op in list(OPS) + list(CMP)}
    cases["scalar+"] = "np.float64(2.5) + %s" % a
    cases["scalar-"] = "np.int64(3) - %s" % a
    cases["scalar/"] = "np.float32(3) / %s" % a
    cases["iadd"] = "iadd(%s, %s)" % (n, a)
    cases["type"] = "type(%s + %s).__name__ == 'NDArray'" % (n, a)
    res = run_cases(cases)
    nv = np.array([[1.5, -2.0], [3.0, 4.0]], dtype=np.float32)  # converted to the NDArray's dtype
    av = np.array([[2.0, 3.0], [0.5, 2.0]], dtype=np.float32)
    for op, f in list(OPS.items()) + list(CMP.items()):
        assert "value" in res[op], (op, res[op])
        np.testing.assert_allclose(np.array(res[op]["value"], dtype=np.float32), f(nv, av).astype(np.float32),
                                   rtol=1e-6, err_msg=op)
    np.testing.assert_allclose(res["scalar+"]["value"], 2.5 + av)
    np.testing.assert_allclose(res["scalar-"]["value"], 3 - av)
    np.testing.assert_allclose(res["scalar/"]["value"], 3 / av, rtol=1e-6)
    np.testing.assert_allclose(res["iadd"]["value"], nv + av)
    assert res["type"]["value"] is True


def test_numpy_ufunc_on_ndarray_gives_numpy_result():
    res = run_cases({"add": "np.add(np.ones(3), mx.nd.array([1, 2, 3]))"})
    np.testing.assert_allclose(res["add"]["value"], [2, 3, 4])


# ------------------------------------------------------------------ 2. overflow-checked sizes
def _is(res, cls_name, *fragments):
    assert "exc" in res, res
    assert cls_name in res["mro"], res
    for f in fragments:
        assert f in res["msg"], (f, res)


def test_huge_shapes_fail_cleanly_before_allocating():
    res = run_cases({
        "zeros62": "mx.nd.zeros((2**62,))",
        "ones62": "mx.nd.ones((2**62,))",
        "bcast": "mx.nd.broadcast_to(mx.nd.ones((1, 1)), shape=(2**31, 2**31))",
        "wrap0": "mx.nd.zeros((2**40, 2**40))",
        "wrap0_sum": "mx.nd.zeros((2**40, 2**40)).sum()",
        "empty63": "mx.nd.empty((2**32, 2**31))",
        "eye": "mx.nd.eye(2**31)",
        "full": "mx.nd.full((2**33, 2**33), 1.0)",
        "array_ok": "mx.nd.zeros((0, 2**62)).shape",
    })
    _is(res["zeros62"], "ValueError", "(4611686018427387904,)", "too large")
    _is(res["ones62"], "ValueError", "(4611686018427387904,)")
    _is(res["bcast"], "ValueError", "(2147483648, 2147483648)")
    _is(res["wrap0"], "ValueError", "(1099511627776, 1099511627776)", "64 bits")
    _is(res["wrap0_sum"], "ValueError", "(1099511627776, 1099511627776)")
    _is(res["empty63"], "ValueError", "(4294967296, 2147483648)")
    _is(res["eye"], "ValueError", "(2147483648, 2147483648)")
    assert "MXInternalError" not in res["eye"]["mro"]
    _is(res["full"], "ValueError")
    assert res["array_ok"]["value"] == [0, 2**62]  # no elements: nothing to allocate


def test_allocation_limit_at_the_boundaries():
    """Element counts 2**31, 2**32, 2**62 and 2**63 against a 1 GiB limit (MX_MAX_ALLOC_BYTES):
    counts that fit in int64 but exceed the limit are MemoryError naming the shape and the bytes;
    counts whose bytes overflow 64 bits are ValueError. Nothing large is ever allocated."""
    res = run_cases({
        "e31_i8": "mx.nd.zeros((2**31,), dtype='int8')",
        "e32_u8": "mx.nd.ones((2**16, 2**16), dtype='uint8')",
        "e32_f32": "mx.nd.zeros((2**32,))",
        "e62_i8": "mx.nd.zeros((2**31, 2**31), dtype='int8')",
        "e62_f32": "mx.nd.zeros((2**62,))",
        "e63": "mx.nd.zeros((2**32, 2**31), dtype='int8')",
        "under": "mx.nd.ones((2**20,), dtype='int8').astype('float32').sum()",
        "op_out": "mx.nd.broadcast_to(mx.nd.ones((1,), dtype='int8'), shape=(2**31,))",
    }, env={"MX_MAX_ALLOC_BYTES": str(2**30)})
    _is(res["e31_i8"], "MemoryError", "(2147483648,)", "2147483648 bytes", "int8")
    _is(res["e32_u8"], "MemoryError", "(65536, 65536)", "4294967296 bytes")
    _is(res["e32_f32"], "MemoryError", "(4294967296,)", "17179869184 bytes", "float32")
    _is(res["e62_i8"], "MemoryError", "(2147483648, 2147483648)", "4611686018427387904 bytes")
    _is(res["e62_f32"], "ValueError", "(4611686018427387904,)", "2^64")
    _is(res["e63"], "ValueError", "(4294967296, 2147483648)", "64 bits")
    assert res["under"]["value"] == [2**20]
    _is(res["op_out"], "MemoryError", "(2147483648,)")


def test_shape_inference_keeps_large_counts_exact():
    out = check_python(PRELUDE + """
x = mx.sym.var('x')
y = mx.sym.broadcast_to(x, shape=(2**31, 2**31))
_, outs, _ = y.infer_shape(x=(1, 1))
print(json.dumps(outs[0]))
""")
    assert json.loads(out.strip().splitlines()[-1]) == [2**31, 2**31]


# ------------------------------------------------------------------ 3. INT_MIN / -1, INT_MIN % -1
@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_int_min_divided_by_minus_one(dtype):
    lo = int(np.iinfo(dtype).min)
    A = "mx.nd.array([%d, %d, 7], dtype='%s')" % (lo, lo, dtype)
    B = "mx.nd.array([-1, -1, -1], dtype='%s')" % dtype
    res = run_cases({
        "div": "%s / %s" % (A, B), "mod": "%s %% %s" % (A, B),
        "ediv": "mx.nd.elemwise_div(%s, %s)" % (A, B),
        "bdiv": "mx.nd.broadcast_div(%s.reshape((3, 1)), mx.nd.array([-1], dtype='%s'))" % (A, dtype),
        "bmod": "mx.nd.broadcast_mod(%s.reshape((3, 1)), mx.nd.array([-1], dtype='%s'))" % (A, dtype),
        "sdiv": "%s / -1" % A, "smod": "%s %% -1" % A,
        "rdiv": "mx.nd._internal._rdiv_scalar(%s, scalar=%d)" % (B, lo),
        "rmod": "mx.nd._internal._rmod_scalar(%s, scalar=%d)" % (B, lo),
        "idiv": "(lambda a: (a.__itruediv__(%s), a)[1])(%s)" % (B, A),
    })
    a = np.array([lo, lo, 7], dtype=dtype)
    m1 = np.array([-1, -1, -1], dtype=dtype)
    with np.errstate(all="ignore"):
        q, r = a // m1, a % m1  # numpy wraps: INT_MIN // -1 == INT_MIN, INT_MIN % -1 == 0
    assert q[0] == lo and r[0] == 0
    for k in ("div", "ediv", "sdiv", "idiv"):
        assert res[k]["value"] == q.tolist(), (k, res[k])
    for k in ("mod", "smod"):
        assert res[k]["value"] == r.tolist(), (k, res[k])
    assert res["bdiv"]["value"] == q.reshape(3, 1).tolist()
    assert res["bmod"]["value"] == r.reshape(3, 1).tolist()
    with np.errstate(all="ignore"):
        assert res["rdiv"]["value"] == (np.full(3, lo, dtype) // m1).tolist()
    assert res["rmod"]["value"] == [0, 0, 0]


# ------------------------------------------------------------------ 4. handles released once
def test_del_twice_releases_handles_once():
    out = check_python(PRELUDE + """
import gc
x = mx.nd.ones((2, 3))
y = x + 1
x.__del__(); x.__del__()
r = {"after": outcome(lambda: x.shape)}
s = mx.sym.var('a') * 2
s.__del__(); s.__del__()
v = mx.sym.var('v')
e = (v + 1).simple_bind(mx.cpu(), v=(2,))
e.__del__(); e.__del__()
h = mx.initializer._Handle(mx.init.Uniform(0.1)._core_desc())
h.__del__(); h.__del__()
del x, s, e
gc.collect()
r["y"] = y.asnumpy().tolist()  # other arrays are untouched
print(json.dumps(r))
""")
    r = json.loads(out.strip().splitlines()[-1])
    assert r["y"] == np.full((2, 3), 2.0).tolist()
    assert "exc" in r["after"] and "ValueError" in r["after"]["mro"] and "NULL" in r["after"]["msg"], r["after"]
