"""Optimizer steps on row_sparse gradients made with real Apache MXNet 1.9.1 (run with
/opt/mxnet-venv/bin/python from this folder). Writes sparse_optimizer_vectors.npz: per case the
optimizer name, its kwargs (repr of sorted items), the start weight w0, three gradients g0..g2
(dense copies of the row_sparse gradients MXNet was given; their rows differ from step to step)
and the weights w1..w3 after each step.

Cases: adagrad (MXNet's sparse kernel for dense or row_sparse weights: only the gradient's rows
change), ftrl (its sparse kernel only for row_sparse weight and states, as a kvstore holding a
row_sparse Parameter has them; a dense weight takes the dense rule), sgd/adam with
lazy_update=False (weight decay and moments everywhere: the dense rule), rmsprop (no sparse
kernel: MXNet's storage fallback densifies the gradient). weight_stype says which weight. adagrad with wd != 0
is refused by MXNet (no sparse dispatch with wd != 0): "adagrad_wd_error" keeps its message line.
"""
import os

import mxnet as mx
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.RandomState(1414)

CASES = [  # (optimizer, kwargs[, weight storage type: row_sparse weights as a Trainer's kvstore keeps them])
    ("adagrad", dict(learning_rate=0.1, eps=1e-7)),
    ("adagrad", dict(learning_rate=0.2, eps=1e-6, clip_gradient=0.3, rescale_grad=0.5)),
    ("ftrl", dict(learning_rate=0.1, lamda1=0.01, beta=1.0, wd=0.01)),
    ("ftrl", dict(learning_rate=0.3, lamda1=0.05, beta=0.5, clip_gradient=0.4, rescale_grad=2.0)),
    ("sgd", dict(learning_rate=0.1, wd=0.01, momentum=0.9, lazy_update=False)),
    ("adam", dict(learning_rate=0.05, wd=0.01, lazy_update=False)),
    ("rmsprop", dict(learning_rate=0.01, wd=0.01)),
    ("ftrl", dict(learning_rate=0.1, lamda1=0.01, beta=1.0, wd=0.01), "row_sparse"),
    ("ftrl", dict(learning_rate=0.3, lamda1=0.05, beta=0.5, clip_gradient=0.4, rescale_grad=2.0), "row_sparse"),
    ("adagrad", dict(learning_rate=0.1, eps=1e-7), "row_sparse"),
]

vec = {}
for case, (opt, kw, *wst) in enumerate(CASES):
    wst = wst[0] if wst else "default"
    o = mx.optimizer.create(opt, **kw)
    w = mx.nd.array(rng.uniform(-1, 1, (7, 3)), dtype="float32").tostype(wst)
    vec["%d/opt" % case] = np.array(opt)
    vec["%d/kwargs" % case] = np.array(repr(sorted(kw.items())))
    vec["%d/weight_stype" % case] = np.array(wst)
    vec["%d/w0" % case] = w.asnumpy()
    state = o.create_state(0, w)
    for step, rows in enumerate([[1, 4], [0, 1, 6], [4]]):
        g = np.zeros((7, 3), np.float32)
        g[rows] = rng.uniform(-1, 1, (len(rows), 3))
        vec["%d/g%d" % (case, step)] = g
        o.update(0, w, mx.nd.array(g).tostype("row_sparse"), state)
        vec["%d/w%d" % (case, step + 1)] = w.asnumpy()
vec["count"] = np.array(len(CASES))

o = mx.optimizer.create("adagrad", learning_rate=0.1, wd=0.01)
w = mx.nd.ones((3, 2))
try:
    o.update(0, w, mx.nd.ones((3, 2)).tostype("row_sparse"), o.create_state(0, w))
    w.wait_to_read()
    vec["adagrad_wd_error"] = np.array("")
except mx.base.MXNetError as e:
    vec["adagrad_wd_error"] = np.array([ln for ln in str(e).splitlines() if "Check failed" in ln][0].strip())
np.savez(os.path.join(here, "sparse_optimizer_vectors.npz"), **vec)
print("wrote", os.path.join(here, "sparse_optimizer_vectors.npz"), vec["adagrad_wd_error"])
