"""Reference steps of MXNet 1.9.1's LAMB optimizer through its Updater (the path Trainer and
Module take): with aggregate_num > 1 the Updater hands LAMB chunks of weights (grouped by dtype),
which it steps with _multi_lamb_update / _multi_mp_lamb_update, counting each index then reading
its rate; aggregate_num 1 steps one by one (lamb_update_phase1/2). For
tests/python/test_optimizer_aggregate.py. Run with /opt/mxnet-venv/bin/python from this folder:
writes lamb_aggregate.npz."""
import json
import os

import numpy as np

SHAPES = [(7,), (3, 4), (2, 2, 3), (5,), (6, 2)]
STEPS = 3

# name, dtype, multi_precision, MXNET_OPTIMIZER_AGGREGATION_SIZE, optimizer kwargs
CASES = [
    ("f32_agg", "float32", False, "45", dict(learning_rate=0.02, wd=0.01, beta1=0.85, beta2=0.98, epsilon=1e-6,
                                             lower_bound=0.05, upper_bound=5.0, rescale_grad=0.5)),
    ("f32_agg2_sched", "float32", False, "2", dict(learning_rate=0.05, wd=0.02, clip_gradient=0.6,
                                                   sched=dict(step=2, factor=0.5))),
    ("f32_single", "float32", False, "1", dict(learning_rate=0.05, wd=0.02)),
    ("f16_mp_agg", "float16", True, "45", dict(learning_rate=0.03, wd=0.01, bias_correction=False)),
    ("f16_mp_agg3", "float16", True, "3", dict(learning_rate=0.03, wd=0.0, upper_bound=2.0)),
]


def run(case, dtype, mp, env, kw):
    os.environ["MXNET_OPTIMIZER_AGGREGATION_SIZE"] = env
    import mxnet as mx
    kw = dict(kw)
    sched = kw.pop("sched", None)
    if sched:
        kw["lr_scheduler"] = mx.lr_scheduler.FactorScheduler(step=sched["step"], factor=sched["factor"],
                                                             base_lr=kw["learning_rate"])
    opt = mx.optimizer.LAMB(multi_precision=mp, **kw)
    upd = mx.optimizer.get_updater(opt)
    rng = np.random.RandomState(sum(map(ord, case)))
    out = {}
    w = [mx.nd.array(rng.uniform(-1, 1, s).astype(dtype), dtype=dtype) for s in SHAPES]
    for i, x in enumerate(w):
        out["%s/w%d/init" % (case, i)] = x.asnumpy()
    for t in range(STEPS):
        g = [rng.uniform(-1, 1, s).astype(dtype) for s in SHAPES]
        upd(list(range(len(SHAPES))), [mx.nd.array(x, dtype=dtype) for x in g], w)
        for i in range(len(SHAPES)):
            out["%s/g%d/step%d" % (case, i, t)] = g[i]
            out["%s/w%d/step%d" % (case, i, t)] = w[i].asnumpy()
            st = upd.states[i]
            if mp:
                out["%s/w32_%d/step%d" % (case, i, t)] = st[0].asnumpy()
                st = st[1]
            out["%s/mean%d/step%d" % (case, i, t)] = st[0].asnumpy()
            out["%s/var%d/step%d" % (case, i, t)] = st[1].asnumpy()
    return out, opt.aggregate_num


def main():
    out, meta = {}, {}
    for case, dtype, mp, env, kw in CASES:
        arrays, agg = run(case, dtype, mp, env, kw)
        out.update(arrays)
        meta[case] = dict(dtype=dtype, mp=mp, env=env, kw=kw, n=len(SHAPES), steps=STEPS, aggregate_num=agg)
    out["meta"] = np.array(json.dumps(meta))
    np.savez_compressed("lamb_aggregate.npz", **out)


if __name__ == "__main__":
    main()
