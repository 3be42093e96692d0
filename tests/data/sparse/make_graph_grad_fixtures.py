"""Storage types of graph gradients and Module training with them, from real Apache MXNet 1.9.1
(run with /opt/mxnet-venv/bin/python from this folder). Writes graph_grad_vectors.npz:
- "stype/<case>/<arg>": the storage type MXNet's simple_bind gave grad_dict[arg] (cases built by
  build_case below; tests/python/test_sparse_graph_grad.py builds the same symbols);
- "mod/<k>/...": a Module (dot(csr data, w) + LinearRegressionOutput) trained 3 batches with an
  optimizer: its kwargs, the start weight, the csr batches (dense copies), labels, and w after each
  batch. MXNet's gradient of w is row_sparse, so sgd (lazy_update), adagrad and ftrl only change
  the rows a batch touches (weight decay included).
"""
import json
import os

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))


def build_case(sym, name):
    """Symbol, shapes, grad_req per case (mirrored by the test)."""
    d = sym.var("data", stype="csr")
    w = sym.var("w")
    i = sym.var("i")
    reqw = {"data": "null", "w": "write"}
    if name == "dot":
        return sym.dot(d, w), dict(data=(4, 6), w=(6, 3)), "write"
    if name == "dot_add":
        return sym.dot(d, w), dict(data=(4, 6), w=(6, 3)), {"data": "null", "w": "add"}
    if name == "dot_loss":
        return (sym.LinearRegressionOutput(sym.dot(d, w), sym.var("label")), dict(data=(4, 6), w=(6, 3), label=(4, 3)),
                {"data": "null", "w": "write", "label": "null"})
    if name == "dot_bias":
        return (sym.broadcast_add(sym.dot(d, w), sym.var("b")), dict(data=(4, 6), w=(6, 3), b=(1, 3)),
                {"data": "null", "w": "write", "b": "write"})
    if name == "dot_twice":
        return sym.dot(d, w) + sym.dot(d, w), dict(data=(4, 6), w=(6, 3)), reqw
    if name == "dot_scaled":
        return sym.dot(d, w) * 2, dict(data=(4, 6), w=(6, 3)), reqw
    if name == "dot_and_dense":
        return (sym.dot(d, w) + sym.dot(sym.var("x"), w), dict(data=(4, 6), w=(6, 3), x=(4, 6)),
                {"data": "null", "w": "write", "x": "null"})
    if name == "dot_ta":
        return sym.dot(d, w, transpose_a=True), dict(data=(4, 6), w=(4, 3)), reqw
    if name == "dense_dot_csr":
        return sym.dot(w, d), dict(data=(4, 6), w=(3, 4)), reqw
    if name == "dot_rsp_weight":
        return sym.dot(d, sym.var("w", stype="row_sparse")), dict(data=(4, 6), w=(6, 3)), reqw
    if name == "dot_sum":
        return sym.sum(sym.dot(d, w), axis=1), dict(data=(4, 6), w=(6, 3)), reqw
    reqi = {"i": "null", "w": "write"}
    if name == "embed_sparse":
        return sym.Embedding(i, w, input_dim=6, output_dim=3, sparse_grad=True), dict(i=(4,), w=(6, 3)), reqi
    if name == "embed_sparse_scaled":
        return sym.Embedding(i, w, input_dim=6, output_dim=3, sparse_grad=True) * 3, dict(i=(4,), w=(6, 3)), reqi
    if name == "embed_dense":
        return sym.Embedding(i, w, input_dim=6, output_dim=3), dict(i=(4,), w=(6, 3)), reqi
    if name == "embed_rsp_weight":
        return (sym.Embedding(i, sym.var("w", stype="row_sparse"), input_dim=6, output_dim=3, sparse_grad=True),
                dict(i=(4,), w=(6, 3)), reqi)
    raise KeyError(name)


CASES = ["dot", "dot_add", "dot_loss", "dot_bias", "dot_twice", "dot_scaled", "dot_and_dense", "dot_ta",
         "dense_dot_csr", "dot_rsp_weight", "dot_sum", "embed_sparse", "embed_sparse_scaled", "embed_dense",
         "embed_rsp_weight"]
STYPE_NAMES = {"0": "default", "1": "row_sparse", "2": "csr"}

OPTIMIZERS = [
    ("sgd", dict(learning_rate=0.1, wd=0.05)),
    ("sgd", dict(learning_rate=0.1, wd=0.05, momentum=0.9)),
    ("adagrad", dict(learning_rate=0.2, eps=1e-6)),
    ("ftrl", dict(learning_rate=0.1, lamda1=0.01, beta=1.0, wd=0.02)),
    ("adam", dict(learning_rate=0.05, wd=0.01)),
]

if __name__ == "__main__":
    import mxnet as mx  # only here: the test imports build_case / CASES / OPTIMIZERS without MXNet

    vec = {}
    for name in CASES:
        s, shapes, req = build_case(mx.sym, name)
        # MXNet's simple_bind wants every argument's storage type once any is given
        sd = {a: "default" for a in s.list_arguments()}
        for n, at in s.attr_dict().items():
            if "__storage_type__" in at and n in sd:
                sd[n] = STYPE_NAMES[at["__storage_type__"]]
        ex = s.simple_bind(mx.cpu(), grad_req=req, stype_dict=sd, **shapes)
        for a, g in ex.grad_dict.items():
            if g is not None:
                vec["stype/%s/%s" % (name, a)] = np.array(g.stype)

    rng = np.random.RandomState(1415)
    rows, cols, out = 8, 10, 2
    for k, (opt, kw) in enumerate(OPTIMIZERS):
        data = mx.sym.var("data", stype="csr")
        net = mx.sym.LinearRegressionOutput(mx.sym.dot(data, mx.sym.var("w", shape=(cols, out))), mx.sym.var("label"), name="lro")
        mod = mx.mod.Module(net, data_names=["data"], label_names=["label"], context=mx.cpu())
        mod.bind(data_shapes=[("data", (rows, cols))],
                 label_shapes=[("label", (rows, out))])
        w0 = rng.uniform(-1, 1, (cols, out)).astype(np.float32)
        mod.init_params(arg_params={"w": mx.nd.array(w0)})
        mod.init_optimizer(optimizer=opt, optimizer_params=kw)
        vec["mod/%d/opt" % k] = np.array(opt)
        vec["mod/%d/kwargs" % k] = np.array(json.dumps(kw, sort_keys=True))
        vec["mod/%d/w0" % k] = w0
        vec["mod/%d/grad_stype" % k] = np.array(mod._exec_group.grad_arrays[0][0].stype)
        for step in range(3):
            x = rng.uniform(-1, 1, (rows, cols)).astype(np.float32)
            x[:, rng.permutation(cols)[:5]] = 0  # half of w's rows are untouched in each batch
            x[rng.uniform(size=x.shape) < 0.3] = 0
            y = rng.uniform(-1, 1, (rows, out)).astype(np.float32)
            batch = mx.io.DataBatch([mx.nd.array(x).tostype("csr")], [mx.nd.array(y)])
            mod.forward(batch, is_train=True)
            mod.backward()
            mod.update()
            vec["mod/%d/x%d" % (k, step)] = x
            vec["mod/%d/y%d" % (k, step)] = y
            vec["mod/%d/w%d" % (k, step + 1)] = mod.get_params()[0]["w"].asnumpy()
    np.savez_compressed(os.path.join(here, "graph_grad_vectors.npz"), **vec)
    print("wrote", len(vec), "arrays")
