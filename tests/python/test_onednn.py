"""oneDNN CPU kernels (docs/ONEDNN.md): on odd shapes their results equal MX's own kernels
(im2col + BLAS, reached by switching oneDNN off) and the float64 path (MX's kernels, checked
against finite differences in test_ops_nn.py); the call counter proves oneDNN really ran."""
import numpy as np
import pytest

import mx
from mx import autograd

BUILT = mx.runtime.onednn_status()[0]
needs_onednn = pytest.mark.skipif(not BUILT, reason="libmx built without oneDNN (MX_ONEDNN=OFF or no libdnnl-dev)")
RNG = np.random.RandomState(18)


class onednn_off:
    """MX's own kernels inside the block."""

    def __enter__(self):
        self.prev = mx.runtime.set_onednn_enabled(False)

    def __exit__(self, *exc):
        mx.runtime.set_onednn_enabled(self.prev)


def calls():
    return mx.runtime.onednn_status()[2]


CONV_CASES = [
    dict(x=(2, 3, 9), w=(4, 3, 3), kernel=(3,), stride=(2,), pad=(1,)),                        # 1-D
    dict(x=(2, 4, 7, 6), w=(6, 4, 3, 3), kernel=(3, 3), pad=(1, 1)),
    dict(x=(2, 4, 9, 8), w=(6, 2, 3, 2), kernel=(3, 2), stride=(2, 1), dilate=(2, 1), num_group=2),
    dict(x=(3, 8, 10, 10), w=(8, 1, 3, 3), kernel=(3, 3), stride=(2, 2), pad=(1, 1), num_group=8, no_bias=True),
    dict(x=(2, 16, 5, 5), w=(32, 16, 1, 1), kernel=(1, 1)),                                      # pointwise
    dict(x=(2, 16, 6, 6), w=(8, 16, 1, 1), kernel=(1, 1), stride=(2, 2), no_bias=True),         # last window short
    dict(x=(1, 5, 11, 7), w=(7, 5, 4, 2), kernel=(4, 2), stride=(3, 2), pad=(2, 1), dilate=(1, 3)),
    dict(x=(1, 2, 4, 5, 4), w=(3, 2, 2, 3, 2), kernel=(2, 3, 2), stride=(1, 2, 1), pad=(1, 0, 1)),  # 3-D
    dict(x=(4, 1, 28, 28), w=(16, 1, 5, 5), kernel=(5, 5)),                                     # LeNet's first layer
    dict(x=(2, 32, 14, 14), w=(64, 32, 3, 3), kernel=(3, 3), pad=(1, 1)),
    dict(x=(5, 3, 3, 3), w=(4, 3, 3, 3), kernel=(3, 3), pad=(1, 1)),                            # maps smaller than the kernel
    dict(x=(2, 3, 17, 17), w=(16, 3, 7, 7), kernel=(7, 7), stride=(2, 2), pad=(3, 3)),         # a ResNet stem
    dict(x=(2, 4, 9, 9), w=(6, 2, 3, 3), kernel=(3, 3), pad=(1, 1), num_group=2),               # 2 channels a group
]


def _conv_run(case, dtype, head):
    """Forward output and the gradients of x, w (and b) for the head gradient `head`."""
    no_bias = case.get("no_bias", False)
    kw = {k: case[k] for k in ("kernel", "stride", "pad", "dilate", "num_group") if k in case}
    arrays = [case["_x"], case["_w"]] + ([] if no_bias else [case["_b"]])
    args = [mx.nd.array(a, dtype=dtype) for a in arrays]
    if head is None:  # forward only
        return [mx.nd.Convolution(*args, num_filter=case["w"][0], no_bias=no_bias, **kw).asnumpy()]
    for a in args:
        a.attach_grad()
    with autograd.record():
        y = mx.nd.Convolution(*args, num_filter=case["w"][0], no_bias=no_bias, **kw)
    y.backward(mx.nd.array(head, dtype=dtype))
    return [y.asnumpy()] + [a.grad.asnumpy() for a in args]


@needs_onednn
@pytest.mark.parametrize("case", CONV_CASES, ids=[str(c["x"]) + str(c["kernel"]) for c in CONV_CASES])
def test_convolution_matches_own_kernels(case):
    case = dict(case)
    case["_x"] = RNG.standard_normal(case["x"])
    case["_w"] = RNG.standard_normal(case["w"])
    case["_b"] = RNG.standard_normal(case["w"][0])
    head = RNG.standard_normal(_conv_run(case, "float64", None)[0].shape)
    ref64 = _conv_run(case, "float64", head)
    with onednn_off():
        before = calls()
        own = _conv_run(case, "float32", head)
        assert calls() == before, "oneDNN ran although switched off"
    before = calls()
    got = _conv_run(case, "float32", head)
    # forward + both backward primitives; with fewer than 4 input channels per group the backward
    # stays with MX's kernel (oneDNN's data gradient measured slower there), except for
    # depthwise layers (one channel per group), which oneDNN has kernels for
    groups = case.get("num_group", 1)
    depthwise = groups > 1 and groups == case["x"][1] and case["w"][0] % groups == 0
    cg = case["x"][1] // groups
    assert calls() == before + (3 if cg >= 4 or depthwise else 1), "oneDNN did not run the expected primitives"
    names = ["output", "data grad", "weight grad", "bias grad"]
    for name, g, o, r in zip(names, got, own, ref64):
        scale = max(1.0, float(np.abs(r).max()))
        np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-4 * scale, err_msg="oneDNN vs float64: " + name)
        np.testing.assert_allclose(g, o, rtol=1e-4, atol=1e-4 * scale, err_msg="oneDNN vs MX's kernel: " + name)


@needs_onednn
def test_convolution_data_grad_skipped_for_first_layer():
    # Only the weight gradient is wanted (an image layer: 1 input channel): oneDNN runs forward +
    # backward-weights, and the weight gradient still matches MX's kernel.
    x = mx.nd.array(RNG.standard_normal((3, 1, 8, 8)), dtype="float32")
    w = mx.nd.array(RNG.standard_normal((6, 1, 3, 3)), dtype="float32")
    b = mx.nd.array(RNG.standard_normal(6), dtype="float32")
    head = mx.nd.array(RNG.standard_normal((3, 6, 6, 6)), dtype="float32")

    def grads():
        w.attach_grad()
        b.attach_grad()
        with autograd.record():
            y = mx.nd.Convolution(x, w, b, kernel=(3, 3), num_filter=6)
        y.backward(head)
        return w.grad.asnumpy(), b.grad.asnumpy()

    with onednn_off():
        own = grads()
    before = calls()
    got = grads()
    assert calls() == before + 2
    for g, o in zip(got, own):
        np.testing.assert_allclose(g, o, rtol=1e-4, atol=1e-3)


def test_switch_and_threads_api():
    built, enabled = mx.runtime.onednn_status()[:2]
    assert built == BUILT
    if not BUILT:
        with pytest.raises(mx.base.MXNotSupportedError, match="without oneDNN"):
            mx.runtime.set_onednn_enabled(True)
    else:
        prev = mx.runtime.set_onednn_enabled(False)
        assert prev == enabled and mx.runtime.onednn_status()[1] is False
        mx.runtime.set_onednn_enabled(prev)
        assert mx.runtime.onednn_status()[1] == prev
    assert mx.runtime.Features().is_enabled("MKLDNN") == BUILT
    n = mx.get_num_threads()
    assert n >= 1
    mx.set_num_threads(1)
    assert mx.get_num_threads() == 1
    mx.set_num_threads(0)  # back to the default
    assert mx.get_num_threads() == n
    with pytest.raises(TypeError):
        mx.set_num_threads("2")
    with pytest.raises(ValueError, match="num_threads"):
        mx.set_num_threads(-1)


POOL_CASES = [
    dict(kernel=(2, 2), stride=(2, 2), pool_type="max"),
    dict(kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="max", pooling_convention="full"),
    dict(kernel=(3, 3), stride=(1, 1), pad=(1, 1), pool_type="avg"),
    dict(kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="avg", count_include_pad=False,
         pooling_convention="full"),
    dict(kernel=(2, 2), stride=(2, 2), pool_type="avg", pooling_convention="full"),  # reaches past the pad: MX's
    dict(kernel=(2, 2), stride=(2, 2), pool_type="max", pooling_convention="same"),
    dict(kernel=(3,), stride=(2,), pad=(1,), pool_type="max"),
    dict(kernel=(2, 3, 2), stride=(2, 1, 2), pool_type="avg"),
    dict(pool_type="max", global_pool=True),
    dict(pool_type="avg", global_pool=True),
    dict(kernel=(2, 2), stride=(2, 2), pool_type="sum"),  # MX's kernel (oneDNN has no sum pooling)
]


@needs_onednn
@pytest.mark.parametrize("relu", [False, True], ids=["random", "ties"])
@pytest.mark.parametrize("case", POOL_CASES, ids=[str(sorted(c.items())) for c in POOL_CASES])
def test_pooling_matches_own_kernels(case, relu):
    nsp = len(case.get("kernel", (0, 0)))
    x = RNG.standard_normal((2, 5) + (9, 8, 7)[:nsp])
    if relu:  # many equal maxima (zeros): the gradient must go to the same element as MX's kernel
        x = np.maximum(x, 0)

    def run(dtype):
        a = mx.nd.array(x, dtype=dtype)
        a.attach_grad()
        with autograd.record():
            y = mx.nd.Pooling(a, **case)
        head = np.random.RandomState(1).standard_normal(y.shape)
        y.backward(mx.nd.array(head, dtype=dtype))
        return y.asnumpy(), a.grad.asnumpy()

    ref = run("float64")
    with onednn_off():
        own = run("float32")
    before = calls()
    got = run("float32")
    expect_onednn = case["pool_type"] in ("max", "avg") and case.get("pooling_convention") != "full" \
        or case["pool_type"] == "max" or case.get("count_include_pad") is False
    assert (calls() > before) == expect_onednn
    for g, o, r in zip(got, own, ref):
        np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(g, o, rtol=1e-5, atol=1e-5)



@pytest.mark.parametrize("user,want", [({}, "None 10000"), ({"OMP_WAIT_POLICY": "active"}, "active None"),
                                       ({"GOMP_SPINCOUNT": "123"}, "None 123")],
                         ids=["default", "policy-set", "spincount-set"])
def test_import_sets_brief_spin_unless_user_chose(user, want):
    # libgomp reads these once, when libmx loads it: the package sets a brief spin before that,
    # and leaves a user's own choice alone.
    import os
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env.update(user)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    code = "import os, mx; print(os.environ.get('OMP_WAIT_POLICY'), os.environ.get('GOMP_SPINCOUNT'))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == want.split()
