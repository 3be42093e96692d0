"""LayerNorm, InstanceNorm, GroupNorm, L2Normalization, sort / argsort / topk (with the
_take/_scatter_along_axis adjoints) and SequenceMask / SequenceReverse / SequenceLast on the GPU
against the CPU kernels: forward outputs and the gradients of every differentiable input (through
autograd, so the backward ops run too). Both devices run the same functors (ops/nn/norm_kernels.h,
ops/sort_kernels.h) in double, summing in the same order: results agree to rounding."""
import numpy as np
import pytest

import mx

GPU = mx.gpu(0) if mx.context.num_gpus() > 0 else None
TOL = {"float32": dict(rtol=1e-5, atol=1e-6), "float64": dict(rtol=1e-12, atol=1e-12)}


def _head(shape, dtype, k=0):
    n = int(np.prod(shape)) if shape else 1
    return (np.cos(np.arange(n) * 0.37 + k) * 0.5).reshape(shape).astype(dtype)


def _run(fn, arrays, kwargs, ctx, grads):
    xs = [mx.nd.array(a, ctx=ctx, dtype=a.dtype) for a in arrays]
    for i in grads:
        xs[i].attach_grad()
    with mx.autograd.record():
        out = fn(*xs, **kwargs)
    outs = out if isinstance(out, (list, tuple)) else [out]
    for o in outs:
        assert o.context == ctx
    if grads:
        mx.autograd.backward([outs[0]], head_grads=[mx.nd.array(_head(outs[0].shape, outs[0].dtype), ctx=ctx,
                                                                 dtype=outs[0].dtype)])
    return [o.asnumpy() for o in outs], [xs[i].grad.asnumpy() for i in grads]


def _compare(fn, arrays, kwargs, grads=(), tol=None, what=""):
    cpu = _run(fn, arrays, kwargs, mx.cpu(), list(grads))
    gpu = _run(fn, arrays, kwargs, GPU, list(grads))
    tol = tol or TOL.get(str(arrays[0].dtype), dict(rtol=0, atol=0))
    for kind, c, g in zip(("output", "gradient"), cpu, gpu):
        assert len(c) == len(g)
        for i, (a, b) in enumerate(zip(c, g)):
            assert a.shape == b.shape and a.dtype == b.dtype, (what, kind, i)
            np.testing.assert_allclose(b, a, err_msg="%s %s %d %s" % (what, kind, i, kwargs), **tol)
    return cpu


NORMS = [
    (mx.nd.LayerNorm, (4, 7), dict(axis=-1), 7),
    (mx.nd.LayerNorm, (3, 5, 6), dict(axis=1, eps=1e-3), 5),
    (mx.nd.LayerNorm, (2, 3, 4, 5), dict(axis=0, output_mean_var=True), 2),
    (mx.nd.InstanceNorm, (2, 3, 5), dict(), 3),
    (mx.nd.InstanceNorm, (3, 4, 3, 5), dict(eps=1e-5), 4),
    (mx.nd.GroupNorm, (2, 6, 4, 3), dict(num_groups=3), 3),
    (mx.nd.GroupNorm, (3, 4, 5), dict(num_groups=1, output_mean_var=True), 1),
    (mx.nd.GroupNorm, (2, 4), dict(num_groups=2), 2),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op,shape,kw,g", NORMS, ids=[str(i) for i in range(len(NORMS))])
def test_normalization(op, shape, kw, g, dtype):
    rng = np.random.default_rng(len(shape) * 10 + g)
    arrays = [rng.standard_normal(shape).astype(dtype) * 2 + 0.5,
              rng.standard_normal((g,)).astype(dtype), rng.standard_normal((g,)).astype(dtype)]
    _compare(op, arrays, kw, grads=[0, 1, 2], what=op.__name__)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,mode", [((3, 8), "instance"), ((2, 3, 4, 5), "instance"), ((2, 4, 3, 3), "channel"),
                                        ((3, 5), "channel"), ((2, 3, 4, 5), "spatial"), ((2, 3, 6), "spatial")])
def test_l2_normalization(shape, mode, dtype):
    rng = np.random.default_rng(len(shape))
    _compare(mx.nd.L2Normalization, [rng.standard_normal(shape).astype(dtype)], dict(mode=mode), grads=[0])


def _keys(shape, dtype, rng, nan=False, ties=False):
    if dtype in ("int32", "int64", "uint8", "int8"):
        return rng.integers(0, 20, shape).astype(dtype)
    x = rng.standard_normal(shape)
    if ties:
        x = np.round(x * 2) / 2
    if nan:
        x.ravel()[::7] = np.nan
    return x.astype(dtype)


SORTS = [((4, 9), dict(axis=-1)), ((5, 3, 4), dict(axis=1)), ((3, 4, 2), dict(axis=0, is_ascend=False)),
         ((6, 5), dict(axis=None))]


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int32", "int64", "uint8"])
@pytest.mark.parametrize("shape,kw", SORTS, ids=[str(i) for i in range(len(SORTS))])
def test_sort_and_argsort(shape, kw, dtype):
    rng = np.random.default_rng(3)
    x = _keys(shape, dtype, rng, ties=True)
    grads = [0] if dtype in ("float32", "float64") else []
    _compare(mx.nd.sort, [x], kw, grads=grads, what="sort")
    for idt in ("float32", "int32", "int64", "float16"):
        _compare(mx.nd.argsort, [x], dict(kw, dtype=idt), what="argsort")


@pytest.mark.parametrize("ascend", [True, False])
def test_sort_nan_order(ascend):
    rng = np.random.default_rng(4)
    x = _keys((5, 11), "float32", rng, nan=True)
    _compare(mx.nd.argsort, [x], dict(is_ascend=ascend), what="argsort NaN")
    _compare(mx.nd.sort, [x], dict(is_ascend=ascend), tol=dict(rtol=0, atol=0, equal_nan=True), what="sort NaN")


TOPK = [((4, 10), dict(k=3)), ((4, 10), dict(k=2, ret_typ="value", is_ascend=True)),
        ((3, 6, 5), dict(k=2, axis=1, ret_typ="both")), ((3, 6, 5), dict(k=4, axis=-1, ret_typ="mask")),
        ((2, 7), dict(k=0, ret_typ="both", dtype="int32")), ((4, 5), dict(k=3, axis=None, ret_typ="value")),
        ((6, 4), dict(k=1, axis=0, dtype="float16"))]


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
@pytest.mark.parametrize("shape,kw", TOPK, ids=[str(i) for i in range(len(TOPK))])
def test_topk(shape, kw, dtype):
    rng = np.random.default_rng(5)
    x = _keys(shape, dtype, rng)
    grads = [0] if dtype != "int32" and kw.get("ret_typ") in ("value", "both") else []
    _compare(mx.nd.topk, [x], kw, grads=grads, what="topk")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_take_along_axis_pair(dtype):
    # _take_along_axis and its adjoint with repeated indices (additions in order on both devices)
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 5, 4)).astype(dtype)
    idx = rng.integers(-1, 6, (3, 7, 4)).astype("int64")  # out of range: clipped
    _compare(lambda a, i: mx.nd._internal._take_along_axis(a, i, axis=1), [x, idx], {}, grads=[0])


SEQ = [((5, 3, 4), dict(axis=0)), ((3, 5, 2), dict(axis=1)), ((6, 2), dict(axis=0)), ((2, 6, 2, 3), dict(axis=1))]


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "float16"])
@pytest.mark.parametrize("use_len", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("shape,kw", SEQ, ids=[str(i) for i in range(len(SEQ))])
def test_sequence_ops(shape, kw, use_len, dtype):
    rng = np.random.default_rng(7)
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    B = shape[1] if kw["axis"] == 0 else shape[0]
    T = shape[kw["axis"]]
    arrays = [x]
    kw = dict(kw, use_sequence_length=use_len)
    if use_len:
        arrays.append(np.array([(b * 2 + 1) % (T + 1) for b in range(B)], dtype="float32"))  # 0 .. T, one 0
    grads = [0] if dtype in ("float32", "float64") else []
    _compare(mx.nd.SequenceMask, arrays, dict(kw, value=-2.5), grads=grads, what="SequenceMask")
    _compare(mx.nd.SequenceReverse, arrays, kw, grads=grads, what="SequenceReverse")
    _compare(mx.nd.SequenceLast, arrays, kw, grads=grads, what="SequenceLast")
