"""Reference steps of MXNet 1.9.1's multi-tensor update operators (multi_sgd_update,
multi_sgd_mom_update, multi_mp_sgd_update, multi_mp_sgd_mom_update, preloaded_multi_*,
_multi_adamw_update, _multi_mp_adamw_update) for tests/python/test_multi_update_ops.py.
Run with /opt/mxnet-venv/bin/python from this folder: writes multi_update.npz. Each case runs
STEPS steps in place (out = the weights) from seeded random arrays and keeps every array after
each step."""
import json

import mxnet as mx
import numpy as np

STEPS = 3
SHAPES = [(5,), (2, 3), (4, 1, 2)]

# name, op, per-weight state names, master copy?, trailing (None / "preloaded" / "rescale"), params, dtype
CASES = [
    ("sgd", "multi_sgd_update", [], False, None, dict(rescale_grad=0.5, clip_gradient=-1.0), "float32"),
    ("sgd_clip", "multi_sgd_update", [], False, None, dict(rescale_grad=1.5, clip_gradient=0.4), "float64"),
    ("sgd_mom", "multi_sgd_mom_update", ["mom"], False, None, dict(momentum=0.9, rescale_grad=0.7), "float32"),
    ("mp_sgd", "multi_mp_sgd_update", [], True, None, dict(rescale_grad=0.5, clip_gradient=0.6), "float16"),
    ("mp_sgd_mom", "multi_mp_sgd_mom_update", ["mom"], True, None, dict(momentum=0.8, clip_gradient=0.5),
     "float16"),
    ("mp_sgd_mom_f32", "multi_mp_sgd_mom_update", ["mom"], True, None, dict(momentum=0.8), "float32"),
    ("pre_sgd", "preloaded_multi_sgd_update", [], False, "preloaded", dict(rescale_grad=0.9), "float32"),
    ("pre_sgd_mom", "preloaded_multi_sgd_mom_update", ["mom"], False, "preloaded",
     dict(momentum=0.7, clip_gradient=0.3), "float32"),
    ("pre_mp_sgd", "preloaded_multi_mp_sgd_update", [], True, "preloaded", dict(rescale_grad=2.0), "float16"),
    ("pre_mp_sgd_mom", "preloaded_multi_mp_sgd_mom_update", ["mom"], True, "preloaded", dict(momentum=0.6),
     "float16"),
    ("adamw", "_multi_adamw_update", ["mean", "var"], False, "rescale",
     dict(beta1=0.8, beta2=0.95, epsilon=1e-6, clip_gradient=0.9), "float32"),
    ("mp_adamw", "_multi_mp_adamw_update", ["mean", "var"], True, "rescale", dict(beta1=0.9, beta2=0.99), "float16"),
]


def main():
    out, meta = {}, {}
    for ci, (name, op, states, mp, trailing, params, dtype) in enumerate(CASES):
        rng = np.random.RandomState(100 + ci)
        n = len(SHAPES)
        lrs = [float(x) for x in rng.uniform(0.05, 0.3, n).astype(np.float32)]
        wds = [float(x) for x in rng.uniform(0.0, 0.1, n).astype(np.float32)]
        etas = [float(x) for x in rng.uniform(0.5, 1.0, n).astype(np.float32)]
        weights = [rng.uniform(-1, 1, s).astype(dtype) for s in SHAPES]
        st = {s: [(rng.uniform(0, 0.5, sh) if s == "var" else rng.uniform(-0.2, 0.2, sh)).astype(np.float32 if mp
              else dtype) for sh in SHAPES] for s in states}
        w32 = [w.astype(np.float32) for w in weights]
        nd_w = [mx.nd.array(w, dtype=dtype) for w in weights]
        nd_s = {s: [mx.nd.array(a, dtype=a.dtype) for a in v] for s, v in st.items()}
        nd_w32 = [mx.nd.array(a, dtype=np.float32) for a in w32]
        for i in range(n):
            out["%s/w%d/init" % (name, i)] = weights[i]
            for s in states:
                out["%s/%s%d/init" % (name, s, i)] = st[s][i]
        kw = dict(params)
        if trailing == "rescale":
            kw.update(lrs=lrs, wds=wds, etas=etas)
        elif trailing is None:
            kw.update(lrs=lrs, wds=wds)
        for t in range(STEPS):
            grads = [rng.uniform(-1, 1, s).astype(dtype) for s in SHAPES]
            nd_g = [mx.nd.array(g, dtype=dtype) for g in grads]
            args = []
            for i in range(n):
                args += [nd_w[i], nd_g[i]] + [nd_s[s][i] for s in states] + ([nd_w32[i]] if mp else [])
            if trailing == "preloaded":
                args += [mx.nd.array(lrs, dtype=np.float32), mx.nd.array(wds, dtype=np.float32)]
            elif trailing == "rescale":
                args += [mx.nd.array([1.0 / (t + 1)], dtype=np.float32)]
            fn = getattr(mx.nd._internal, op) if op.startswith("_") else getattr(mx.nd, op)
            fn(*args, out=nd_w, num_weights=n, **kw)
            for i in range(n):
                out["%s/g%d/step%d" % (name, i, t)] = grads[i]
                out["%s/w%d/step%d" % (name, i, t)] = nd_w[i].asnumpy()
                for s in states:
                    out["%s/%s%d/step%d" % (name, s, i, t)] = nd_s[s][i].asnumpy()
                if mp:
                    out["%s/w32_%d/step%d" % (name, i, t)] = nd_w32[i].asnumpy()
        meta[name] = dict(op=op, states=states, mp=mp, trailing=trailing, params=params, dtype=dtype, lrs=lrs,
                          wds=wds, etas=etas, n=n, steps=STEPS,
                          rescale=[1.0 / (t + 1) for t in range(STEPS)] if trailing == "rescale" else None)
    # _adamw_update (one weight, no master copy): weight, mean, var after each step
    rng = np.random.RandomState(99)
    w, m, v = (mx.nd.array(rng.uniform(-1, 1, (3, 4)).astype(np.float32)), mx.nd.zeros((3, 4)),
               mx.nd.zeros((3, 4)))
    out["adamw_single/w/init"] = w.asnumpy()
    for t, rs in enumerate([1.0, 0.5, float("nan"), 2.0]):
        g = rng.uniform(-1, 1, (3, 4)).astype(np.float32)
        mx.nd._internal._adamw_update(w, mx.nd.array(g), m, v, mx.nd.array([rs]), out=w, lr=0.01, eta=0.7, wd=0.05,
                                      beta1=0.85, beta2=0.99, epsilon=1e-7, clip_gradient=0.6)
        out["adamw_single/g/step%d" % t] = g
        out["adamw_single/rescale/step%d" % t] = np.array([rs], np.float32)
        for k, a in (("w", w), ("mean", m), ("var", v)):
            out["adamw_single/%s/step%d" % (k, t)] = a.asnumpy()
    # lamb_update_phase1/2 (float32) and mp_lamb_update_phase1/2 (float16 weight): the optimizer's
    # two-phase step with r1 = weight.norm(), r2 = g.norm()
    for name, mp, dtype, p1, p2 in [
            ("lamb", False, "float32", dict(beta1=0.8, beta2=0.95, epsilon=1e-6, wd=0.01, rescale_grad=0.5,
                                            clip_gradient=0.7), dict(lr=0.05, lower_bound=0.1, upper_bound=3.0)),
            ("lamb_nobc", False, "float32", dict(wd=0.0, bias_correction=False), dict(lr=0.1)),
            ("mp_lamb", True, "float16", dict(beta1=0.9, beta2=0.99, wd=0.02), dict(lr=0.05, upper_bound=1.0))]:
        rng = np.random.RandomState(7)
        w0 = rng.uniform(-1, 1, (4, 5)).astype(dtype)
        w, m, v = mx.nd.array(w0, dtype=dtype), mx.nd.zeros((4, 5)), mx.nd.zeros((4, 5))
        w32 = mx.nd.array(w0.astype(np.float32))
        out["%s/w/init" % name] = w0
        for t in range(3):
            g = rng.uniform(-1, 1, (4, 5)).astype(dtype)
            out["%s/grad/step%d" % (name, t)] = g
            if mp:
                d = mx.nd.mp_lamb_update_phase1(w, mx.nd.array(g, dtype=dtype), m, v, w32, t=t + 1, **p1)
                r1, r2 = w32.norm(), d.norm()
                mx.nd.mp_lamb_update_phase2(w, d, r1, r2, w32, out=w, **p2)
            else:
                d = mx.nd.lamb_update_phase1(w, mx.nd.array(g, dtype=dtype), m, v, t=t + 1, **p1)
                r1, r2 = w.norm(), d.norm()
                mx.nd.lamb_update_phase2(w, d, r1, r2, out=w, **p2)
            for k, a in (("g", d), ("r1", r1), ("r2", r2), ("w", w), ("mean", m), ("var", v), ("w32", w32)):
                out["%s/%s/step%d" % (name, k, t)] = a.asnumpy()
        meta[name] = dict(mp=mp, dtype=dtype, p1=p1, p2=p2)
    # _multi_lamb_update / _multi_mp_lamb_update through mxnet.ndarray.contrib's wrappers
    for name, mp, dtype, kw in [
            ("multi_lamb", False, "float32", dict(beta1=0.85, beta2=0.98, epsilon=1e-6, rescale_grad=0.5,
                                                  clip_gradient=0.8, lower_bound=0.2, upper_bound=4.0)),
            ("multi_mp_lamb", True, "float16", dict(bias_correction=False))]:
        rng = np.random.RandomState(17)
        n = len(SHAPES)
        ws = [rng.uniform(-1, 1, s).astype(dtype) for s in SHAPES]
        nd_w = [mx.nd.array(w, dtype=dtype) for w in ws]
        ms = [mx.nd.zeros(s) for s in SHAPES]
        vs = [mx.nd.zeros(s) for s in SHAPES]
        w32 = [mx.nd.array(w.astype(np.float32)) for w in ws]
        lrs = [0.05, 0.1, 0.02]
        wds = [0.01, 0.0, 0.05]
        for i in range(n):
            out["%s/w%d/init" % (name, i)] = ws[i]
        for t in range(3):
            gs = [rng.uniform(-1, 1, s).astype(dtype) for s in SHAPES]
            nd_g = [mx.nd.array(g, dtype=dtype) for g in gs]
            steps = [t + 1, t + 2, t + 1]
            if mp:
                mx.nd.contrib.multi_mp_lamb_update(nd_w, nd_g, ms, vs, w32, step_count=steps, lrs=lrs, wds=wds,
                                                    out=nd_w, **kw)
            else:
                mx.nd.contrib.multi_lamb_update(nd_w, nd_g, ms, vs, step_count=steps, lrs=lrs, wds=wds, out=nd_w,
                                                **kw)
            for i in range(n):
                out["%s/g%d/step%d" % (name, i, t)] = gs[i]
                for k, a in (("w", nd_w), ("mean", ms), ("var", vs), ("w32_", w32)):
                    out["%s/%s%d/step%d" % (name, k, i, t)] = a[i].asnumpy()
        meta[name] = dict(mp=mp, dtype=dtype, kw=kw, lrs=lrs, wds=wds, n=n)
    out["meta"] = np.array(json.dumps(meta))
    np.savez_compressed("multi_update.npz", **out)
    print("wrote", len(out), "arrays (mxnet", mx.__version__ + ")")


if __name__ == "__main__":
    main()
