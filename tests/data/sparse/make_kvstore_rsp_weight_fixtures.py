"""Optimizers on a kvstore holding a row_sparse weight (what a Trainer / Module with a row_sparse
Parameter does), made with real Apache MXNet 1.9.1 (run with /opt/mxnet-venv/bin/python from this
folder). Writes kvstore_rsp_weight_vectors.npz: per case k the optimizer, its kwargs (JSON), the
start weight w0 (kv.init with its row_sparse form), three row_sparse gradients g0..g2 (dense
copies) pushed to the 'local' store, and after each push the whole weight (row_sparse_pull of
every row) w1..w3. Cases: sgd (with and without momentum) and adam with lazy_update=False (MXNet's
standard update: every row decays / moves) and lazy_update=True (only the pushed rows change).
"""
import json
import os

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
CASES = [
    ("sgd", dict(learning_rate=0.1, wd=0.05, lazy_update=False)),
    ("sgd", dict(learning_rate=0.1, wd=0.05, momentum=0.9, lazy_update=False)),
    ("adam", dict(learning_rate=0.05, wd=0.02, lazy_update=False)),
    ("sgd", dict(learning_rate=0.1, wd=0.05, momentum=0.9, lazy_update=True)),
    ("adam", dict(learning_rate=0.05, wd=0.02, lazy_update=True)),
]
ROWS, COLS = 8, 3

if __name__ == "__main__":
    import mxnet as mx

    rng = np.random.RandomState(1419)
    vec = {}
    for k, (opt, kw) in enumerate(CASES):
        kv = mx.kv.create("local")
        kv.set_optimizer(mx.optimizer.create(opt, **kw))
        w0 = rng.uniform(-1, 1, (ROWS, COLS)).astype(np.float32)
        kv.init("emb", mx.nd.array(w0).tostype("row_sparse"))
        vec["%d/opt" % k] = np.array(opt)
        vec["%d/kwargs" % k] = np.array(json.dumps(kw, sort_keys=True))
        vec["%d/w0" % k] = w0
        for step in range(3):
            g = rng.uniform(-1, 1, (ROWS, COLS)).astype(np.float32)
            g[rng.permutation(ROWS)[:5]] = 0
            kv.push("emb", mx.nd.array(g).tostype("row_sparse"))
            out = mx.nd.sparse.zeros("row_sparse", (ROWS, COLS))
            kv.row_sparse_pull("emb", out=out, row_ids=mx.nd.arange(0, ROWS, dtype="int64"))
            vec["%d/g%d" % (k, step)] = g
            vec["%d/w%d" % (k, step + 1)] = out.asnumpy()
    np.savez_compressed(os.path.join(here, "kvstore_rsp_weight_vectors.npz"), **vec)
    print("wrote", len(vec), "arrays")
