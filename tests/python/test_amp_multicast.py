"""amp_multicast against real MXNet 1.9.1: the output dtype of every input-dtype combination
(tests/data/amp/amp_multicast.json, from MXNet's type inference), values equal to numpy's cast,
gradients cast back to each input's dtype, and a clear error for a wrong num_outputs."""
import json
import os

import numpy as np
import pytest

import mx

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "..", "data", "amp", "amp_multicast.json")) as f:
    CASES = json.load(f)["dtypes"]


def test_output_dtypes_match_mxnet():
    assert len(CASES) == 310
    for c in CASES:
        ins = [mx.nd.array(np.arange(1, 5), dtype=d) for d in c["in"]]
        outs = mx.nd.amp_multicast(*ins, num_outputs=len(ins), cast_narrow=c["cast_narrow"])
        outs = outs if isinstance(outs, list) else [outs]
        assert [np.dtype(o.dtype).name for o in outs] == c["out"], c


def test_symbolic_type_inference_matches_mxnet():
    for c in CASES[::7]:
        names = ["x%d" % i for i in range(len(c["in"]))]
        sym = mx.sym.amp_multicast(*[mx.sym.var(v) for v in names], num_outputs=len(names),
                                   cast_narrow=c["cast_narrow"])
        _, outs, _ = sym.infer_type(**dict(zip(names, c["in"])))
        assert [np.dtype(o).name for o in outs] == c["out"], c


@pytest.mark.parametrize("narrow", [False, True])
def test_values_are_numpy_casts(narrow):
    x = np.array([1.0001, -2.5, 65519.0, 3e-8, 0.1], dtype=np.float32)
    h = np.array([0.5, 1.5, -7.0, 2.0, 1024.0], dtype=np.float16)
    a, b = mx.nd.amp_multicast(mx.nd.array(x), mx.nd.array(h, dtype="float16"), num_outputs=2, cast_narrow=narrow)
    want = np.float16 if narrow else np.float32
    assert a.dtype == want and b.dtype == want
    np.testing.assert_array_equal(a.asnumpy(), x.astype(want))
    np.testing.assert_array_equal(b.asnumpy(), h.astype(want))


def test_gradients_cast_back_to_input_dtypes():
    x = mx.nd.array(np.linspace(-1, 1, 6), dtype="float32")
    h = mx.nd.array(np.linspace(0, 2, 6), dtype="float16")
    i = mx.nd.array(np.arange(6), dtype="int32")
    for v in (x, h):
        v.attach_grad()
    with mx.autograd.record():
        a, b, c = mx.nd.amp_multicast(x, h, i, num_outputs=3)
        loss = (a * 2).sum() + (b * 3).sum() + c.astype("float32").sum()
    loss.backward()
    assert x.grad.dtype == np.float32 and h.grad.dtype == np.float16
    np.testing.assert_array_equal(x.grad.asnumpy(), np.full(6, 2.0, np.float32))
    np.testing.assert_array_equal(h.grad.asnumpy(), np.full(6, 3.0, np.float16))


def test_wrong_num_outputs_is_an_error():
    x = mx.nd.ones((2,))
    with pytest.raises(mx.base.MXNetError, match="num_outputs"):
        mx.nd.amp_multicast(x, x, num_outputs=3)
