"""Aggregated LAMB and AdamW optimizers on the GPU against the CPU. LAMB: each chunk runs
_multi_lamb_update / _multi_mp_lamb_update on the weights' device (optimizer.cc
step_chunk_multi_op; per tensor phase 1, two norms, phase 2); AdamW: a chunk on one GPU is one
multi-tensor launch with each index's bias corrections (step_chunk_on_device), on the CPU index by
index. The element steps are shared; norms (LAMB) are summed in a different order on the GPU,
and FMA contraction may move float32 results by an ulp."""
import numpy as np
import pytest

import mx

GPU = mx.gpu(0) if mx.context.num_gpus() > 0 else None
TOL = {"float16": dict(rtol=2e-3, atol=2e-3), "bfloat16": dict(rtol=2e-2, atol=2e-2),
       "float32": dict(rtol=1e-5, atol=1e-6), "float64": dict(rtol=1e-12, atol=1e-13)}


def _arr(x, dtype, ctx):
    return mx.nd.array(np.asarray(x, np.float32), ctx=ctx).astype(dtype)


def _train(make, dtype, mp, ctx, n=7, steps=3):
    rng = np.random.default_rng(17)
    shapes = [(int(rng.integers(1, 60)),) for _ in range(n)]
    w0 = [rng.uniform(-1, 1, s) for s in shapes]
    gs = [[rng.uniform(-1, 1, s) for s in shapes] for _ in range(steps)]
    opt = make(mp)
    upd = mx.optimizer.get_updater(opt)
    w = [_arr(x, dtype, ctx) for x in w0]
    for step in gs:
        upd(list(range(n)), [_arr(x, dtype, ctx) for x in step], w)
    for x in w:
        assert x.context == ctx
    masters = [upd.states[i][0].asnumpy() for i in range(n)] if mp else []
    return [x.astype("float32").asnumpy() for x in w], masters


CASES = [("float32", False), ("float64", False), ("float16", True), ("bfloat16", True)]


@pytest.mark.parametrize("dtype,mp", CASES)
@pytest.mark.parametrize("agg", ["3", "45"])
def test_aggregated_lamb_matches_cpu(monkeypatch, dtype, mp, agg):
    monkeypatch.setenv("MXNET_OPTIMIZER_AGGREGATION_SIZE", agg)

    def make(mp):
        return mx.optimizer.LAMB(learning_rate=0.02, wd=0.01, clip_gradient=0.9, upper_bound=3.0, multi_precision=mp)
    cpu, gpu = _train(make, dtype, mp, mx.cpu()), _train(make, dtype, mp, GPU)
    for c, g in zip(cpu[0], gpu[0]):
        np.testing.assert_allclose(g, c, **TOL[dtype])
    exact = TOL["float64"] if dtype == "float64" else dict(rtol=1e-4, atol=1e-5)  # norms: device reductions
    for c, g in zip(cpu[1], gpu[1]):
        np.testing.assert_allclose(g, c, **exact)


@pytest.mark.parametrize("dtype,mp", CASES)
def test_aggregated_adamw_matches_cpu(dtype, mp):
    def make(mp):
        opt = mx.optimizer.AdamW(learning_rate=0.01, wd=0.05, clip_gradient=0.8, multi_precision=mp)
        opt.aggregate_num = 4
        return opt
    cpu, gpu = _train(make, dtype, mp, mx.cpu()), _train(make, dtype, mp, GPU)
    for c, g in zip(cpu[0], gpu[0]):
        np.testing.assert_allclose(g, c, **TOL[dtype])
    exact = TOL["float64"] if dtype == "float64" else TOL["float32"]
    for c, g in zip(cpu[1], gpu[1]):
        np.testing.assert_allclose(g, c, **exact)
