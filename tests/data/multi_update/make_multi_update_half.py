"""Reference steps of MXNet 1.9.1's plain multi-tensor update operators with float16 weights
(multi_sgd_update, multi_sgd_mom_update, preloaded_multi_sgd(_mom)_update, _multi_adamw_update):
MXNet computes them in float16 (mshadow half_t: every operation rounded to float16, the
learning rates and other scalars held as float16; the preloaded forms' lrs/wds stay float32).
For tests/python/test_multi_update_half.py. Run with /opt/mxnet-venv/bin/python from this
folder: writes multi_update_half.npz. Each case runs STEPS steps in place from seeded random
arrays and keeps every array after each step."""
import json

import mxnet as mx
import numpy as np

STEPS = 4
SHAPES = [(64,), (8, 9), (5, 1, 7)]

# name, op, per-weight state names, trailing (None / "preloaded" / "rescale"), params
CASES = [
    ("sgd", "multi_sgd_update", [], None, dict(rescale_grad=0.5)),
    ("sgd_clip", "multi_sgd_update", [], None, dict(rescale_grad=1.5, clip_gradient=0.4)),
    ("sgd_mom", "multi_sgd_mom_update", ["mom"], None, dict(momentum=0.9, rescale_grad=0.7)),
    ("sgd_mom_clip", "multi_sgd_mom_update", ["mom"], None, dict(momentum=0.8, clip_gradient=0.3)),
    ("pre_sgd", "preloaded_multi_sgd_update", [], "preloaded", dict(rescale_grad=0.9)),
    ("pre_sgd_mom_clip", "preloaded_multi_sgd_mom_update", ["mom"], "preloaded",
     dict(momentum=0.7, clip_gradient=0.3, rescale_grad=1.3)),
    ("adamw", "_multi_adamw_update", ["mean", "var"], "rescale", dict(beta1=0.8, beta2=0.95, epsilon=1e-3)),
    ("adamw_clip", "_multi_adamw_update", ["mean", "var"], "rescale",
     dict(beta1=0.9, beta2=0.99, epsilon=1e-4, clip_gradient=0.5)),
]


def main():
    out, meta = {}, {}
    dtype = "float16"
    for ci, (name, op, states, trailing, params) in enumerate(CASES):
        rng = np.random.RandomState(300 + ci)
        n = len(SHAPES)
        lrs = [float(x) for x in rng.uniform(0.05, 0.3, n).astype(np.float32)]
        wds = [float(x) for x in rng.uniform(0.0, 0.1, n).astype(np.float32)]
        etas = [float(x) for x in rng.uniform(0.5, 1.0, n).astype(np.float32)]
        weights = [rng.uniform(-1, 1, s).astype(dtype) for s in SHAPES]
        st = {s: [(rng.uniform(0, 0.5, sh) if s == "var" else rng.uniform(-0.2, 0.2, sh)).astype(dtype)
                  for sh in SHAPES] for s in states}
        nd_w = [mx.nd.array(w, dtype=dtype) for w in weights]
        nd_s = {s: [mx.nd.array(a, dtype=dtype) for a in v] for s, v in st.items()}
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
            args = []
            for i in range(n):
                args += [nd_w[i], mx.nd.array(grads[i], dtype=dtype)] + [nd_s[s][i] for s in states]
            if trailing == "preloaded":
                args += [mx.nd.array(lrs, dtype=np.float32), mx.nd.array(wds, dtype=np.float32)]
            elif trailing == "rescale":
                args += [mx.nd.array([1.0 / (t + 1)], dtype=dtype)]  # (MXNet: one dtype for every input)
            fn = getattr(mx.nd._internal, op) if op.startswith("_") else getattr(mx.nd, op)
            fn(*args, out=nd_w, num_weights=n, **kw)
            for i in range(n):
                out["%s/g%d/step%d" % (name, i, t)] = grads[i]
                out["%s/w%d/step%d" % (name, i, t)] = nd_w[i].asnumpy()
                for s in states:
                    out["%s/%s%d/step%d" % (name, s, i, t)] = nd_s[s][i].asnumpy()
        meta[name] = dict(op=op, states=states, trailing=trailing, params=params, lrs=lrs, wds=wds, etas=etas,
                          n=n, steps=STEPS,
                          rescale=[1.0 / (t + 1) for t in range(STEPS)] if trailing == "rescale" else None)
    out["meta"] = np.array(json.dumps(meta))
    np.savez_compressed("multi_update_half.npz", **out)


if __name__ == "__main__":
    main()
