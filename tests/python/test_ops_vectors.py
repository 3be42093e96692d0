"""Replay MXNet 1.9.1's operator vectors (tests/data/mxnet-1.9.1/ops_vectors.json + .npz).

Calling convention (from the file): inputs from the npz, attach_grad where requires_grad, call
mx.nd.<op>(*inputs, **attrs) under mx.autograd.record(train_mode=...), backward with the recorded
head gradients, then compare outputs, input gradients and aux states after the forward.
Tolerances follow tests/data/mxnet-1.9.1/README.md.
"""
import json
import os

import numpy as np
import pytest

import mx

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "data", "mxnet-1.9.1")

with open(os.path.join(DATA, "ops_vectors.json")) as _f:
    SPEC = json.load(_f)
CASES = SPEC["cases"]

_NPZ = None


def npz():
    global _NPZ
    if _NPZ is None:
        _NPZ = dict(np.load(os.path.join(DATA, SPEC["npz_file"])))
    return _NPZ


# README "Tolerances": exact for data movement and integer-valued results; element-wise ops
# rtol 1e-5/atol 1e-6; reductions, softmax, normalisation, convolution, dot, RNN, LRN 1e-4/1e-5.
EXACT_OPS = {
    "Reshape", "slice", "slice_axis", "take", "pick", "split", "SliceChannel", "Concat", "stack",
    "transpose", "tile", "Pad", "Flatten", "SwapAxis", "expand_dims", "squeeze", "repeat",
    "broadcast_to", "broadcast_axis", "one_hot", "argsort", "topk", "sort", "SequenceReverse",
    "SequenceLast", "SequenceMask", "where", "broadcast_equal", "broadcast_greater",
}
ELEMWISE_OPS = {
    "exp", "log", "sqrt", "rsqrt", "square", "abs", "reciprocal", "broadcast_add", "broadcast_sub",
    "broadcast_mul", "broadcast_div", "broadcast_maximum", "broadcast_minimum", "broadcast_power",
    "clip", "smooth_l1", "add_n", "Activation", "LeakyReLU", "Dropout", "LinearRegressionOutput",
    "LogisticRegressionOutput", "MAERegressionOutput",
}


# Data-movement ops whose gradient sums several head-gradient elements into one input element:
# their backward is a reduction (summation order differs by an ulp), compared like element-wise ops.
ACCUMULATING_GRAD_OPS = {"broadcast_to", "broadcast_axis", "tile", "repeat", "take", "pick"}


def tolerance(op, grad=False):
    if grad and op in ACCUMULATING_GRAD_OPS:
        return 1e-5, 1e-6
    if op in EXACT_OPS:
        return 0.0, 0.0
    if op in ELEMWISE_OPS:
        return 1e-5, 1e-6
    return 1e-4, 1e-5


def expected(case, key):
    """The reference value for `key`, using MXNet's native-kernel value where the default build's
    value is inconsistent with its own forward (README: pool_avg_full_nopad)."""
    nk = case.get("native_kernels")
    if isinstance(nk, dict):
        d = nk.get("differs", {}).get(key)
        if d is not None and nk.get("finite_difference_check", {}).get("consistent_with_forward") == "native":
            return npz()[d["native_key"]]
    return npz()[key]


def attr_value(v):
    if isinstance(v, list):
        return tuple(attr_value(x) for x in v)
    return v


def check(actual, want, op, what, grad=False):
    rtol, atol = tolerance(op, grad)
    assert actual.shape == want.shape, "%s: %s shape %s != expected %s" % (op, what, actual.shape, want.shape)
    assert actual.dtype == want.dtype, "%s: %s dtype %s != expected %s" % (op, what, actual.dtype, want.dtype)
    if rtol == 0 and atol == 0:
        np.testing.assert_array_equal(actual, want, err_msg="%s: %s" % (op, what))
    else:
        np.testing.assert_allclose(actual.astype(np.float64), want.astype(np.float64), rtol=rtol, atol=atol,
                                   err_msg="%s: %s" % (op, what))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_op_vector(case):
    op = case["op"]
    fn = getattr(mx.nd, op, None)
    assert fn is not None, "operator %s from the MXNet 1.9.1 vectors is not registered" % op
    data = npz()
    xs = []
    for inp in case["inputs"]:
        v = data[inp["key"]]
        x = mx.nd.array(v, dtype=v.dtype)
        if inp["requires_grad"]:
            x.attach_grad()
        xs.append(x)
    attrs = {k: attr_value(v) for k, v in case["attrs"].items()}
    with mx.autograd.record(train_mode=case["train_mode"]):
        outs = fn(*xs, **attrs)
    if not isinstance(outs, (list, tuple)):
        outs = [outs]
    assert len(outs) == case["num_outputs"], "%s: %d outputs, expected %d" % (op, len(outs), case["num_outputs"])
    for o in case["outputs"]:
        check(outs[o["index"]].asnumpy(), expected(case, o["key"]), op, "output %d" % o["index"])
    for a in case["aux_after"]:
        idx = [i for i, inp in enumerate(case["inputs"]) if inp["name"] == a["name"]][0]
        check(xs[idx].asnumpy(), expected(case, a["key"]), op, "aux %s after forward" % a["name"])
    if case["out_grads"]:
        heads = [outs[g["index"]] for g in case["out_grads"]]
        hgs = [mx.nd.array(data[g["key"]], dtype=data[g["key"]].dtype) for g in case["out_grads"]]
        mx.autograd.backward(heads, head_grads=hgs)
        for g in case["input_grads"]:
            idx = [i for i, inp in enumerate(case["inputs"]) if inp["name"] == g["name"]][0]
            check(xs[idx].grad.asnumpy(), expected(case, g["key"]), op, "gradient of %s" % g["name"], grad=True)
