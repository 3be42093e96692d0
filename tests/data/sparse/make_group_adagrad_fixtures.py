"""GroupAdaGrad (mx.optimizer.contrib.GroupAdaGrad) steps made with real Apache MXNet 1.9.1 (run
with /opt/mxnet-venv/bin/python from this folder). Writes group_adagrad_vectors.npz: per case k
the kwargs (JSON), whether the gradients were row_sparse, the start weight w0, three gradients
g0..g2 (dense copies; row_sparse ones hold some rows only) and the weights w1..w3 and state
(history, shape (rows, 1)) h1..h3 after each step; "wd_error" holds MXNet's refusal of wd != 0.
"""
import json
import os

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
CASES = [  # (kwargs, row_sparse gradients)
    (dict(learning_rate=0.1), False),
    (dict(learning_rate=0.2, eps=1e-3, rescale_grad=0.5, clip_gradient=0.4), False),
    (dict(learning_rate=0.1), True),
    (dict(learning_rate=0.2, eps=1e-3, rescale_grad=0.5, clip_gradient=0.4), True),
]

if __name__ == "__main__":
    import mxnet as mx

    rng = np.random.RandomState(1418)
    vec = {}
    for k, (kw, sparse) in enumerate(CASES):
        opt = mx.optimizer.contrib.GroupAdaGrad(**kw)
        w = mx.nd.array(rng.uniform(-1, 1, (6, 4)), dtype="float32")
        state = opt.create_state(0, w)
        vec["%d/kwargs" % k] = np.array(json.dumps(kw, sort_keys=True))
        vec["%d/sparse" % k] = np.array(sparse)
        vec["%d/w0" % k] = w.asnumpy()
        for step in range(3):
            g = rng.uniform(-1.5, 1.5, (6, 4)).astype(np.float32)
            if sparse:
                g[rng.permutation(6)[:3]] = 0
            gnd = mx.nd.array(g).tostype("row_sparse") if sparse else mx.nd.array(g)
            opt.update(0, w, gnd, state)
            vec["%d/g%d" % (k, step)] = g
            vec["%d/w%d" % (k, step + 1)] = w.asnumpy()
            vec["%d/h%d" % (k, step + 1)] = state.asnumpy()
    try:
        o = mx.optimizer.contrib.GroupAdaGrad(wd=0.1)
        w = mx.nd.ones((2, 2))
        o.update(0, w, mx.nd.ones((2, 2)), o.create_state(0, w))
    except AssertionError as e:
        vec["wd_error"] = np.array(str(e))
    np.savez_compressed(os.path.join(here, "group_adagrad_vectors.npz"), **vec)
    print("wrote", len(vec), "arrays")
