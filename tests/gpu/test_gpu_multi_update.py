"""Multi-tensor update operators and LAMB's phases on the GPU against the CPU's host loops.
backends/cuda/optimizer_multi.cu runs one launch per table of up to 32 weights (blockIdx.y =
weight); the element step is the same on both devices, so float32/float64 states and masters
agree to FMA contraction and the 16-bit weights are the master rounded once. 40 weights cross a
table boundary; the preloaded ops read their learning rates from device arrays; a NaN
rescale_grad skips the AdamW step. LAMB phase 2 reads the norms on the device."""
import numpy as np
import pytest

import mx

GPU = mx.gpu(0) if mx.context.num_gpus() > 0 else None
TOL = {"float16": dict(rtol=2e-3, atol=2e-3), "bfloat16": dict(rtol=2e-2, atol=2e-2),
       "float32": dict(rtol=1e-5, atol=1e-6), "float64": dict(rtol=1e-12, atol=1e-13)}

# op: (per-weight states, master copy?, trailing arrays, params)
OPS = {
    "multi_sgd_update": (0, False, None, dict(rescale_grad=0.5, clip_gradient=0.3)),
    "multi_sgd_mom_update": (1, False, None, dict(momentum=0.9)),
    "multi_mp_sgd_update": (0, True, None, dict(rescale_grad=0.7)),
    "multi_mp_sgd_mom_update": (1, True, None, dict(momentum=0.8, clip_gradient=0.5)),
    "preloaded_multi_sgd_mom_update": (1, False, "preloaded", dict(momentum=0.9)),
    "preloaded_multi_mp_sgd_update": (0, True, "preloaded", dict(clip_gradient=0.4)),
    "_multi_adamw_update": (2, False, "rescale", dict(beta1=0.8, beta2=0.99, clip_gradient=0.9)),
    "_multi_mp_adamw_update": (2, True, "rescale", dict(beta1=0.9, beta2=0.999)),
}


def _arr(x, dtype, ctx):
    if dtype == "bfloat16":
        return mx.nd.array(x.astype(np.float32), ctx=ctx).astype("bfloat16")
    return mx.nd.array(x, ctx=ctx, dtype=dtype)


def _run(name, dtype, ctx, n, steps=3):
    nst, mp, trailing, kw = OPS[name]
    rng = np.random.default_rng(11)
    shapes = [(int(rng.integers(1, 200)),) for _ in range(n)]
    lrs = [float(x) for x in rng.uniform(0.01, 0.2, n)]
    wds = [float(x) for x in rng.uniform(0, 0.1, n)]
    kw = dict(kw, num_weights=n)
    if trailing is None:
        kw.update(lrs=lrs, wds=wds)
    elif trailing == "rescale":
        kw.update(lrs=lrs, wds=wds, etas=[float(x) for x in rng.uniform(0.5, 1, n)])
    sdt = "float32" if mp else dtype
    w = [_arr(rng.uniform(-1, 1, s), dtype, ctx) for s in shapes]
    states = [[_arr(rng.uniform(0, 0.1, s), sdt, ctx) for _ in range(nst)] for s in shapes]
    w32 = [x.astype("float32") for x in w]
    fn = getattr(mx.nd._internal, name) if name.startswith("_") else getattr(mx.nd, name)
    for t in range(steps):
        args = []
        for i, s in enumerate(shapes):
            args += [w[i], _arr(rng.uniform(-1, 1, s), dtype, ctx)] + states[i] + ([w32[i]] if mp else [])
        if trailing == "preloaded":
            args += [mx.nd.array(lrs, ctx=ctx), mx.nd.array(wds, ctx=ctx)]
        elif trailing == "rescale":
            args += [mx.nd.array([[1.0, float("nan"), 0.5][t]], ctx=ctx)]
        fn(*args, out=w, **kw)
    for x in w:
        assert x.context == ctx
    return ([x.astype("float32").asnumpy() for x in w], [x.asnumpy() for x in w32] if mp else [],
            [s.astype("float32").asnumpy() for st in states for s in st])


# the plain forms also take float16/bfloat16 weights (MXNet's half_t arithmetic, states in the
# weight's dtype: backends/cuda/optimizer_multi_lowp.cu), every operation rounded on both devices
CASES = [(name, dt) for name, (_, mp, _, _) in sorted(OPS.items())
         for dt in (["float16", "bfloat16", "float32"] if mp else ["float16", "bfloat16", "float32", "float64"])]


@pytest.mark.parametrize("name,dtype", CASES)
@pytest.mark.parametrize("n", [3, 40])
def test_multi_update_matches_cpu(name, dtype, n):
    cpu, gpu = _run(name, dtype, mx.cpu(), n), _run(name, dtype, GPU, n)
    if dtype in ("float16", "bfloat16") and not OPS[name][1]:  # rounded after every operation: bit-identical
        for c, g in zip(cpu[0] + cpu[2], gpu[0] + gpu[2]):
            np.testing.assert_array_equal(g, c)
        return
    for c, g in zip(cpu[0], gpu[0]):
        np.testing.assert_allclose(g, c, **TOL[dtype])
    exact = TOL["float64"] if dtype == "float64" else TOL["float32"]
    for c, g in zip(cpu[1] + cpu[2], gpu[1] + gpu[2]):
        np.testing.assert_allclose(g, c, **exact)


def _lamb_run(mp, dtype, ctx):
    rng = np.random.default_rng(21)
    w0 = rng.uniform(-1, 1, (9, 37))
    w = _arr(w0, dtype, ctx)
    sdt = "float32" if mp else dtype
    mean, var = mx.nd.zeros(w0.shape, ctx=ctx, dtype=sdt), mx.nd.zeros(w0.shape, ctx=ctx, dtype=sdt)
    w32 = w.astype("float32")
    gs = []
    for t in range(1, 4):
        g = _arr(rng.uniform(-1, 1, w0.shape), dtype, ctx)
        if mp:
            d = mx.nd.mp_lamb_update_phase1(w, g, mean, var, w32, t=t, wd=0.01, clip_gradient=0.8)
            mx.nd.mp_lamb_update_phase2(w, d, w32.norm(), d.norm(), w32, out=w, lr=0.05, upper_bound=2.0)
        else:
            d = mx.nd.lamb_update_phase1(w, g, mean, var, t=t, wd=0.01, rescale_grad=0.5)
            mx.nd.lamb_update_phase2(w, d, w.norm(), d.norm(), out=w, lr=0.05, lower_bound=0.5)
        assert d.context == ctx
        gs.append(d.asnumpy())
    return [w.astype("float32").asnumpy(), mean.asnumpy(), var.asnumpy()] + gs


@pytest.mark.parametrize("mp,dtype", [(False, "float32"), (False, "float64"), (True, "float16"),
                                      (True, "bfloat16"), (True, "float32")])
def test_lamb_phases_match_cpu(mp, dtype):
    cpu, gpu = _lamb_run(mp, dtype, mx.cpu()), _lamb_run(mp, dtype, GPU)
    np.testing.assert_allclose(gpu[0], cpu[0], **TOL[dtype])
    # the norms come from the devices' own reductions (summation order): float32 agreement
    exact = TOL["float64"] if dtype == "float64" else dict(rtol=1e-4, atol=1e-5)
    for c, g in zip(cpu[1:], gpu[1:]):
        np.testing.assert_allclose(g, c, **exact)


def _multi_lamb_run(mp, dtype, ctx, n):
    rng = np.random.default_rng(31)
    shapes = [(int(rng.integers(1, 300)),) for _ in range(n)]
    w = [_arr(rng.uniform(-1, 1, s), dtype, ctx) for s in shapes]
    sdt = "float32" if mp else dtype
    mean = [mx.nd.zeros(s, ctx=ctx, dtype=sdt) for s in shapes]
    var = [mx.nd.zeros(s, ctx=ctx, dtype=sdt) for s in shapes]
    w32 = [x.astype("float32") for x in w]
    op = mx.nd._internal._multi_mp_lamb_update if mp else mx.nd._internal._multi_lamb_update
    lrs = [float(x) for x in rng.uniform(0.01, 0.1, n)]
    wds = [float(x) for x in rng.uniform(0, 0.05, n)]
    for t in range(1, 4):
        args = []
        for i, s in enumerate(shapes):
            args += [w[i], _arr(rng.uniform(-1, 1, s), dtype, ctx), mean[i], var[i]] + ([w32[i]] if mp else [])
        op(*args, out=w, num_tensors=n, step_count=[t] * n, learning_rates=lrs, wds=wds, clip_gradient=0.9,
           upper_bound=5.0)
    return [x.astype("float32").asnumpy() for x in w], [x.asnumpy() for x in mean + var + (w32 if mp else [])]


@pytest.mark.parametrize("mp,dtype", [(False, "float32"), (False, "float64"), (True, "float16"), (True, "bfloat16")])
def test_multi_lamb_matches_cpu(mp, dtype):
    cpu, gpu = _multi_lamb_run(mp, dtype, mx.cpu(), 5), _multi_lamb_run(mp, dtype, GPU, 5)
    for c, g in zip(cpu[0], gpu[0]):
        np.testing.assert_allclose(g, c, **TOL[dtype])
    exact = TOL["float64"] if dtype == "float64" else dict(rtol=1e-4, atol=1e-5)  # norms: device reductions
    for c, g in zip(cpu[1], gpu[1]):
        np.testing.assert_allclose(g, c, **exact)


@pytest.mark.parametrize("dtype,mp", [("float32", False), ("float64", False), ("float16", True), ("bfloat16", True)])
@pytest.mark.parametrize("agg,momentum", [(4, 0.9), (40, 0.0), (40, 0.9)])
def test_aggregated_sgd_optimizer_matches_cpu(dtype, mp, agg, momentum):
    # Optimizer.update with a list on one GPU: each chunk of aggregate_num weights is one
    # multi-tensor launch (optimizer.cc step_chunk_on_device) instead of one launch per weight
    rng = np.random.default_rng(41)
    shapes = [(int(rng.integers(1, 100)),) for _ in range(40)]
    w0 = [rng.uniform(-1, 1, s) for s in shapes]
    gs = [[rng.uniform(-1, 1, s) for s in shapes] for _ in range(3)]
    res = []
    for ctx in (mx.cpu(), GPU):
        opt = mx.optimizer.SGD(learning_rate=0.05, momentum=momentum, wd=0.01, multi_precision=mp,
                               clip_gradient=0.8)
        opt.aggregate_num = agg
        upd = mx.optimizer.get_updater(opt)
        w = [_arr(x, dtype, ctx) for x in w0]
        for step in gs:
            upd(list(range(40)), [_arr(x, dtype, ctx) for x in step], w)
        res.append([x.astype("float32").asnumpy() for x in w])
    for c, g in zip(*res):
        np.testing.assert_allclose(g, c, **TOL[dtype])
