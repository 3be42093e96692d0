"""float16 / bfloat16 computed natively on the GPU, against the CPU (which runs the same 16-bit
inputs through float32 and rounds the result once): GEMM-shaped ops on cuBLAS GemmEx (tensor
cores, float32 accumulation), the TF32 switch for float32 GEMMs, and the multi-precision update
operators and optimizers (float32 master weight, 16-bit weight and gradient read and written by
one kernel). Tolerances: the GPU's float32 accumulation order differs from OpenBLAS's, so a
16-bit result may round to the neighbouring value: float16 ~1e-3 relative, bfloat16 ~1e-2."""
import os

import numpy as np
import pytest

import mx

GPU = mx.gpu(0) if mx.context.num_gpus() > 0 else None
EMULATED = os.environ.get("MX_GPU_TESTS_ON_CPU") == "1"
HALF = ["float16", "bfloat16"]
TOL = {"float16": dict(rtol=2e-3, atol=2e-3), "bfloat16": dict(rtol=2e-2, atol=2e-2),
       "float32": dict(rtol=1e-5, atol=1e-5)}


def _arr(x, dtype, ctx):
    if dtype == "bfloat16":  # numpy has no bfloat16: round on the way in
        return mx.nd.array(x.astype(np.float32), ctx=ctx).astype("bfloat16")
    return mx.nd.array(x, ctx=ctx, dtype=dtype)


def _dt(a):
    """An array's dtype name ('bfloat16' included: numpy has no such dtype)."""
    d = a.dtype
    return str(d) if "bfloat16" in type(d).__name__.lower() else np.dtype(d).name


def _np(a):
    return a.asnumpy() if _dt(a) == "float32" else a.astype("float32").asnumpy()


def _both(f, arrays, dtype, **kw):
    """f on the CPU and on the GPU with the same (rounded) inputs; outputs as float32 numpy."""
    res = []
    for ctx in (mx.cpu(), GPU):
        out = f(*[_arr(a, dtype, ctx) for a in arrays], **kw)
        outs = out if isinstance(out, list) else [out]
        for o in outs:
            assert o.context == ctx and _dt(o) in (dtype, "float32"), (o.dtype, dtype)
        res.append([_np(o) for o in outs])
    return res


GEMM_CASES = [
    ("dot", [(16, 24), (24, 8)], {}),
    ("dot", [(24, 16), (24, 8)], {"transpose_a": True}),
    ("dot", [(16, 24), (8, 24)], {"transpose_b": True}),
    ("dot", [(2, 8, 24), (24, 5)], {}),
    ("dot", [(33,), (33,)], {}),
    ("batch_dot", [(3, 8, 16), (3, 16, 4)], {}),
    ("batch_dot", [(3, 16, 8), (3, 4, 16)], {"transpose_a": True, "transpose_b": True}),
    ("FullyConnected", [(8, 20), (6, 20), (6,)], {"num_hidden": 6}),
    ("FullyConnected", [(2, 3, 20), (6, 20)], {"num_hidden": 6, "no_bias": True, "flatten": False}),
    ("linalg_gemm2", [(2, 8, 16), (2, 16, 4)], {"alpha": 0.5}),
    ("linalg_gemm2", [(16, 8), (4, 16)], {"transpose_a": True, "transpose_b": True}),
    ("linalg_gemm", [(2, 8, 16), (2, 16, 4), (2, 8, 4)], {"alpha": 0.5, "beta": 2.0}),
]


@pytest.mark.parametrize("dtype", HALF)
@pytest.mark.parametrize("case", range(len(GEMM_CASES)), ids=lambda i: "%s-%d" % (GEMM_CASES[i][0], i))
def test_gemm_half_matches_cpu(case, dtype):
    name, shapes, kw = GEMM_CASES[case]
    rng = np.random.default_rng(case)
    arrays = [rng.uniform(-1, 1, s).astype(np.float32) for s in shapes]
    cpu, gpu = _both(getattr(mx.nd, name), arrays, dtype, **kw)
    for c, g in zip(cpu, gpu):
        assert c.shape == g.shape
        np.testing.assert_allclose(g, c, err_msg="%s %s" % (name, dtype), **TOL[dtype])


@pytest.mark.parametrize("dtype", HALF)
@pytest.mark.parametrize("name", ["dot", "batch_dot", "FullyConnected"])
def test_gemm_half_gradients_match_cpu(name, dtype):
    rng = np.random.default_rng(5)
    shapes = {"dot": [(8, 12), (12, 5)], "batch_dot": [(2, 8, 12), (2, 12, 5)],
              "FullyConnected": [(8, 12), (5, 12), (5,)]}[name]
    kw = {"num_hidden": 5} if name == "FullyConnected" else {}
    arrays = [rng.uniform(-1, 1, s).astype(np.float32) for s in shapes]
    head = None
    grads = []
    for ctx in (mx.cpu(), GPU):
        xs = [_arr(a, dtype, ctx) for a in arrays]
        for x in xs:
            x.attach_grad()
        with mx.autograd.record():
            y = getattr(mx.nd, name)(*xs, **kw)
        if head is None:
            head = rng.uniform(-1, 1, y.shape).astype(np.float32)
        y.backward(_arr(head, dtype, ctx))
        grads.append([_np(x.grad) for x in xs])
        assert all(_dt(x.grad) == dtype for x in xs)
    for c, g in zip(*grads):
        np.testing.assert_allclose(g, c, **TOL[dtype])


def test_gemm_float32_tf32_switch(monkeypatch):
    # float32 stays exact FP32 by default; MX_CUDA_TENSOR_OP_MATH_ALLOW_CONVERSION=1 lets cuBLAS
    # round the inputs to TF32 (10-bit mantissa): then about 1e-3 relative.
    rng = np.random.default_rng(11)
    a = rng.uniform(-1, 1, (128, 256)).astype(np.float32)
    b = rng.uniform(-1, 1, (256, 64)).astype(np.float32)
    ref = a.astype(np.float64) @ b.astype(np.float64)
    scale = np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64)
    exact = mx.nd.dot(mx.nd.array(a, ctx=GPU), mx.nd.array(b, ctx=GPU)).asnumpy()
    assert np.max(np.abs(exact - ref) / scale) < 1e-6
    monkeypatch.setenv("MX_CUDA_TENSOR_OP_MATH_ALLOW_CONVERSION", "1")
    tf32 = mx.nd.dot(mx.nd.array(a, ctx=GPU), mx.nd.array(b, ctx=GPU)).asnumpy()
    assert np.max(np.abs(tf32 - ref) / scale) < 2e-3
    monkeypatch.setenv("MX_CUDA_ALLOW_TENSOR_CORE", "0")  # no tensor cores: exact again
    again = mx.nd.dot(mx.nd.array(a, ctx=GPU), mx.nd.array(b, ctx=GPU)).asnumpy()
    assert np.max(np.abs(again - ref) / scale) < 1e-6


@pytest.mark.parametrize("dtype", HALF)
def test_gemm_half_without_tensor_cores(monkeypatch, dtype):
    monkeypatch.setenv("MX_CUDA_ALLOW_TENSOR_CORE", "0")  # pedantic float32 compute, same results
    rng = np.random.default_rng(2)
    arrays = [rng.uniform(-1, 1, (16, 32)).astype(np.float32), rng.uniform(-1, 1, (32, 8)).astype(np.float32)]
    cpu, gpu = _both(mx.nd.dot, arrays, dtype)
    np.testing.assert_allclose(gpu[0], cpu[0], **TOL[dtype])


@pytest.mark.skipif(EMULATED, reason="a GPU-only limitation (the CPU gathers other row axes)")
def test_linalg_gemm_other_row_axis_is_a_clear_error_on_gpu():
    a = mx.nd.ones((4, 3, 5), ctx=GPU)
    with pytest.raises(mx.base.MXNetError, match="axis"):
        mx.nd.linalg_gemm2(a, a, axis=0, transpose_b=True).wait_to_read()


# ---- multi-precision updates: the same float32 formula on both devices, so the float32 master
# and states agree to FMA contraction and the 16-bit outputs are the master rounded once.
MP_OPS = {
    "mp_sgd_update": (0, dict(lr=0.1, wd=0.01, rescale_grad=0.5, clip_gradient=0.3)),
    "mp_sgd_mom_update": (1, dict(lr=0.1, momentum=0.9, wd=0.01)),
    "mp_nag_mom_update": (1, dict(lr=0.1, momentum=0.9, wd=0.02, clip_gradient=0.4)),
}


def _mp_run(name, dtype, ctx, steps=3):
    rng = np.random.default_rng(4)
    nst, kw = MP_OPS[name]
    w0 = rng.uniform(-1, 1, (7, 33)).astype(np.float32)
    weight = _arr(w0, dtype, ctx)
    weight32 = weight.astype("float32")
    states = [mx.nd.zeros(w0.shape, ctx=ctx) for _ in range(nst)]
    for _ in range(steps):
        g = _arr(rng.uniform(-1, 1, w0.shape).astype(np.float32), dtype, ctx)
        getattr(mx.nd, name)(weight, g, *states, weight32, out=weight, **kw)
    assert weight.context == ctx and _dt(weight) == dtype
    return [_np(weight), weight32.asnumpy()] + [s.asnumpy() for s in states]


@pytest.mark.parametrize("dtype", HALF + ["float32"])
@pytest.mark.parametrize("name", sorted(MP_OPS))
def test_mp_update_op_matches_cpu(name, dtype):
    cpu, gpu = _mp_run(name, dtype, mx.cpu()), _mp_run(name, dtype, GPU)
    np.testing.assert_allclose(gpu[0], cpu[0], **TOL[dtype])
    for c, g in zip(cpu[1:], gpu[1:]):
        np.testing.assert_allclose(g, c, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", HALF)
def test_mp_adamw_matches_cpu(dtype):
    res = []
    for ctx in (mx.cpu(), GPU):
        rng = np.random.default_rng(8)
        w0 = rng.uniform(-1, 1, (5, 21)).astype(np.float32)
        weight = _arr(w0, dtype, ctx)
        weight32, mean, var = weight.astype("float32"), mx.nd.zeros(w0.shape, ctx=ctx), mx.nd.zeros(w0.shape, ctx=ctx)
        for rs in (1.0, 0.5, float("inf"), 2.0):  # inf: a skipped step
            g = _arr(rng.uniform(-1, 1, w0.shape).astype(np.float32), dtype, ctx)
            mx.nd._internal._mp_adamw_update(weight, g, mean, var, weight32, mx.nd.array([rs], ctx=ctx), out=weight,
                                             lr=0.01, eta=0.5, wd=0.1, clip_gradient=0.8)
        res.append([_np(weight), weight32.asnumpy(), mean.asnumpy(), var.asnumpy()])
    np.testing.assert_allclose(res[1][0], res[0][0], **TOL[dtype])
    for c, g in zip(res[0][1:], res[1][1:]):
        np.testing.assert_allclose(g, c, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("dtype", HALF)
@pytest.mark.parametrize("opt,kw", [("sgd", dict(momentum=0.9, wd=0.01)), ("nag", dict(momentum=0.9)),
                                    ("adam", dict(wd=0.01)), ("adamw", dict(wd=0.01)), ("rmsprop", {})])
def test_optimizer_multi_precision_matches_cpu(opt, kw, dtype):
    # Optimizer(multi_precision=True) with 16-bit weights on the GPU: one fused kernel per step
    # (float32 master + states), against the CPU's float32 path.
    rng = np.random.default_rng(6)
    w0 = rng.uniform(-1, 1, (6, 40)).astype(np.float32)
    gs = [rng.uniform(-1, 1, w0.shape).astype(np.float32) for _ in range(3)]
    res = []
    for ctx in (mx.cpu(), GPU):
        upd = mx.optimizer.get_updater(mx.optimizer.create(opt, learning_rate=0.05, multi_precision=True, **kw))
        w = _arr(w0, dtype, ctx)
        for g in gs:
            upd(0, _arr(g, dtype, ctx), w)
        assert _dt(w) == dtype and w.context == ctx
        res.append(_np(w))
    np.testing.assert_allclose(res[1], res[0], **TOL[dtype])


def test_trainer_multi_precision_float16_matches_cpu():
    # gluon: a float16 Dense layer trained with multi_precision SGD on both devices.
    rng = np.random.default_rng(12)
    x = rng.uniform(-1, 1, (16, 10)).astype(np.float32)
    y = rng.uniform(-1, 1, (16, 3)).astype(np.float32)
    res = []
    for ctx in (mx.cpu(), GPU):
        mx.random.seed(3)
        net = mx.gluon.nn.Dense(3, in_units=10)
        net.initialize(mx.init.Xavier(), ctx=ctx)
        net.cast("float16")
        tr = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1, "momentum": 0.9,
                                                            "multi_precision": True})
        xd, yd = mx.nd.array(x, ctx=ctx, dtype="float16"), mx.nd.array(y, ctx=ctx, dtype="float16")
        for _ in range(3):
            with mx.autograd.record():
                loss = ((net(xd) - yd) ** 2).mean()
            loss.backward()
            tr.step(1)
        res.append([_np(p.data()) for p in net.collect_params().values()])
    for c, g in zip(*res):
        np.testing.assert_allclose(g, c, **TOL["float16"])


# ---- element-wise families natively in float16/bfloat16 (every op whose schema lists them in
# gpu_dtypes and whose inputs test_gpu_ops.py knows how to make): GPU vs the CPU's float32 run.
def _half_elementwise_params():
    if GPU is None:
        return []
    from mx.ndarray.register import _ops
    from test_gpu_ops import ELSEWHERE, SPECIAL, _cases
    out = []
    for name in _ops.list_ops():
        s = _ops.op_schema(name)
        if not s["has_gpu_kernel"] or "float16" not in s.get("gpu_dtypes", []):
            continue
        if name in ELSEWHERE or name in SPECIAL or _cases(name, s) is None:
            continue  # GEMMs and updates are above; others have their own files
        for dtype in HALF:
            out.append(pytest.param(name, dtype, id="%s-%s" % (name, dtype)))
    return out


@pytest.mark.parametrize("name,dtype", _half_elementwise_params())
def test_elementwise_half_matches_cpu(name, dtype):
    import zlib
    from mx.ndarray.register import _ops, make_op_function
    from test_gpu_ops import _cases, _kwargs
    s = _ops.op_schema(name)
    f = make_op_function(name, s)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    for shapes in _cases(name, s):
        if s["inputs"] == ["out_grad", "lhs", "rhs"]:
            shapes = [np.broadcast_shapes(shapes[1], shapes[2]), shapes[1], shapes[2]]
        arrays = [rng.uniform(0.1, 0.9, sh).astype(np.float32) for sh in shapes]
        kw = _kwargs(name, s, "float32")
        if name == "Cast":
            kw["dtype"] = dtype
        cpu, gpu = _both(f, arrays, dtype, **kw)
        for c, g in zip(cpu, gpu):
            np.testing.assert_allclose(g, c, equal_nan=True, err_msg="%s %s %s" % (name, dtype, shapes),
                                       **TOL[dtype])


def test_every_elementwise_family_is_native_half():
    # The unary/binary/broadcast/scalar families and their fused backward ops list float16 and
    # bfloat16 in gpu_dtypes (computed natively), so invoke_raw no longer casts through float32.
    from mx.ndarray.register import _ops
    for name in ("exp", "relu", "sigmoid", "elemwise_add", "broadcast_mul", "_plus_scalar", "_rminus_scalar",
                 "_backward_broadcast_maximum", "_backward_tan", "broadcast_greater", "dot", "batch_dot",
                 "FullyConnected", "_backward_FullyConnected", "linalg_gemm", "linalg_gemm2"):
        s = _ops.op_schema(name)
        assert s["has_gpu_kernel"] and set(s["gpu_dtypes"]) >= {"float16", "bfloat16"}, name


# ---- dtype conversion on the GPU (Cast, amp_cast, astype): a kernel, every pair of dtypes.
ALL_DTYPES = ["float32", "float64", "float16", "bfloat16", "uint8", "int8", "int32", "int64", "bool"]


def _values(dtype, rng):
    # Non-negative and in every type's range: a negative value converted to uint8 is undefined
    # behaviour in C++ (the CPU and the GPU may then differ legitimately).
    if dtype == "bool":
        return rng.integers(0, 2, (3, 41)).astype(np.float32)
    if dtype in ("uint8", "int8", "int32", "int64"):
        return rng.integers(0, 100, (3, 41)).astype(np.float32)
    return rng.uniform(0, 70, (3, 41)).astype(np.float32)


@pytest.mark.parametrize("src", ALL_DTYPES)
def test_cast_every_dtype_pair_matches_cpu(src):
    rng = np.random.default_rng(ALL_DTYPES.index(src))
    x = _values(src, rng)
    for dst in ALL_DTYPES:
        outs = []
        for ctx in (mx.cpu(), GPU):
            a = mx.nd.array(x, ctx=ctx).astype(src)
            for y in (mx.nd.Cast(a, dtype=dst), a.astype(dst), mx.nd.amp_cast(a, dtype=dst)):
                assert y.context == ctx
                outs.append(y.astype("float64").asnumpy())
        n = len(outs) // 2
        for c, g in zip(outs[:n], outs[n:]):
            np.testing.assert_array_equal(g, c, err_msg="%s -> %s" % (src, dst))


def test_cast_gradient_on_gpu_matches_cpu():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (5, 6)).astype(np.float32)
    grads = []
    for ctx in (mx.cpu(), GPU):
        a = mx.nd.array(x, ctx=ctx)
        a.attach_grad()
        with mx.autograd.record():
            y = mx.nd.amp_cast(a, dtype="float16") * 3
            z = mx.nd.Cast(y, dtype="float32").sum()
        z.backward()
        grads.append(a.grad.asnumpy())
    np.testing.assert_array_equal(grads[1], grads[0])


# ---- Activation and the softmax family natively in float16/bfloat16 (forward and gradient).
NN_CASES = [
    ("Activation", (6, 33), {"act_type": "relu"}), ("Activation", (6, 33), {"act_type": "sigmoid"}),
    ("Activation", (6, 33), {"act_type": "tanh"}), ("Activation", (6, 33), {"act_type": "softrelu"}),
    ("Activation", (6, 33), {"act_type": "softsign"}),
    ("softmax", (5, 40), {}), ("softmax", (4, 7, 9), {"axis": 1}), ("softmax", (5, 40), {"temperature": 2.0}),
    ("log_softmax", (5, 40), {}), ("softmin", (3, 4, 20), {}),
]


@pytest.mark.parametrize("dtype", HALF)
@pytest.mark.parametrize("case", range(len(NN_CASES)), ids=lambda i: "%s-%d" % (NN_CASES[i][0], i))
def test_nn_ops_half_forward_and_gradient_match_cpu(case, dtype):
    name, shape, kw = NN_CASES[case]
    rng = np.random.default_rng(case)
    x = rng.uniform(-3, 3, shape).astype(np.float32)
    head = rng.uniform(-1, 1, shape).astype(np.float32)
    res = []
    for ctx in (mx.cpu(), GPU):
        a = _arr(x, dtype, ctx)
        a.attach_grad()
        with mx.autograd.record():
            y = getattr(mx.nd, name)(a, **kw)
        y.backward(_arr(head, dtype, ctx))
        assert _dt(y) == dtype and _dt(a.grad) == dtype
        res.append([_np(y), _np(a.grad)])
    for c, g in zip(*res):
        np.testing.assert_allclose(g, c, **TOL[dtype])


@pytest.mark.parametrize("dtype", HALF)
def test_dropout_half_same_mask_as_cpu(dtype):
    # Same seed -> the same Philox words -> the same mask on both devices; p = 0.5 keeps the
    # scale (2) exact in 16 bits, so outputs are equal too.
    x = np.random.default_rng(0).uniform(-1, 1, (8, 50)).astype(np.float32)
    res = []
    for ctx in (mx.cpu(), GPU):
        mx.random.seed(42)
        a = _arr(x, dtype, ctx)
        with mx.autograd.record(train_mode=True):
            y = mx.nd.Dropout(a, p=0.5)
        assert _dt(y) == dtype
        res.append(_np(y))
    np.testing.assert_array_equal(res[1], res[0])
    assert 0.3 < np.mean(res[0] == 0) < 0.7


# ---- reductions natively in float16/bfloat16 (float loads, the float reducer's double accumulator).
RED_CASES = [((4, 5, 6), {}), ((4, 5, 6), {"axis": 2}), ((4, 5, 6), {"axis": 0}), ((3, 4, 5, 6), {"axis": (1, 3)}),
             ((300, 70), {"axis": 1, "keepdims": True}), ((2, 0, 3), {"axis": 1})]


@pytest.mark.parametrize("dtype", HALF)
@pytest.mark.parametrize("name", ["sum", "mean", "prod", "max", "min", "nansum", "nanprod", "norm"])
def test_reductions_half_match_cpu(name, dtype):
    rng = np.random.default_rng(len(name))
    for shape, kw in RED_CASES:
        if 0 in shape and name in ("max", "min"):
            continue  # no identity: an error on both devices
        if name == "norm" and "keepdims" not in kw and isinstance(kw.get("axis"), tuple):
            continue
        lo = 0.9 if "prod" in name else -1.0  # products of many factors near 1 stay in range
        x = rng.uniform(lo, 1.1 if "prod" in name else 1.0, shape).astype(np.float32)
        cpu, gpu = _both(getattr(mx.nd, name), [x], dtype, **kw)
        np.testing.assert_allclose(gpu[0], cpu[0], err_msg="%s %s %s" % (name, shape, kw), **TOL[dtype])


@pytest.mark.parametrize("narrow", [False, True])
def test_amp_multicast_on_gpu_matches_cpu(narrow):
    rng = np.random.default_rng(3)
    x = rng.uniform(-100, 100, (4, 9)).astype(np.float32)
    res = []
    for ctx in (mx.cpu(), GPU):
        outs = mx.nd.amp_multicast(mx.nd.array(x, ctx=ctx), mx.nd.array(x, ctx=ctx, dtype="float16"),
                                   mx.nd.array(x, ctx=ctx).astype("bfloat16"), num_outputs=3, cast_narrow=narrow)
        assert all(o.context == ctx for o in outs)
        res.append([(_dt(o), _np(o)) for o in outs])
    for (dc, c), (dg, g) in zip(*res):
        assert dc == dg
        np.testing.assert_array_equal(g, c)


# ---- clip / hard_sigmoid / smooth_l1 (forward and gradient), where and add_n in 16 bits.
@pytest.mark.parametrize("dtype", HALF)
@pytest.mark.parametrize("name,kw", [("clip", {"a_min": -0.3, "a_max": 0.6}), ("hard_sigmoid", {"alpha": 0.3, "beta": 0.4}),
                                     ("smooth_l1", {"scalar": 1.5})])
def test_param_unary_half_matches_cpu(name, kw, dtype):
    rng = np.random.default_rng(9)
    x = rng.uniform(-2, 2, (7, 30)).astype(np.float32)
    head = rng.uniform(-1, 1, x.shape).astype(np.float32)
    res = []
    for ctx in (mx.cpu(), GPU):
        a = _arr(x, dtype, ctx)
        a.attach_grad()
        with mx.autograd.record():
            y = getattr(mx.nd, name)(a, **kw)
        y.backward(_arr(head, dtype, ctx))
        assert _dt(y) == dtype
        res.append([_np(y), _np(a.grad)])
    for c, g in zip(*res):
        np.testing.assert_allclose(g, c, **TOL[dtype])


@pytest.mark.parametrize("dtype", HALF)
def test_where_and_add_n_half_match_cpu(dtype):
    rng = np.random.default_rng(10)
    cond = (rng.uniform(0, 1, (6, 20)) > 0.5).astype(np.float32)
    xs = [rng.uniform(-1, 1, (6, 20)).astype(np.float32) for _ in range(4)]
    res = []
    for ctx in (mx.cpu(), GPU):
        c, a, b = _arr(cond, dtype, ctx), _arr(xs[0], dtype, ctx), _arr(xs[1], dtype, ctx)
        w = mx.nd.where(c, a, b)
        s = mx.nd.add_n(*[_arr(x, dtype, ctx) for x in xs])
        assert _dt(w) == dtype and _dt(s) == dtype
        res.append([_np(w), _np(s)])
    np.testing.assert_array_equal(res[1][0], res[0][0])
    np.testing.assert_allclose(res[1][1], res[0][1], **TOL[dtype])
