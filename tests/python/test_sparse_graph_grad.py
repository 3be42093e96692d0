"""Storage types through the graph's backward pass: the executor infers a gradient's storage type
from the bound arrays (w of dot(csr, w) and Embedding(sparse_grad=True)'s weight get row_sparse
gradients), simple_bind and Module allocate such gradients row_sparse, and Module's optimizers then
update lazily. References: storage types and trained weights from MXNet 1.9.1
(tests/data/sparse/make_graph_grad_fixtures.py), values from numpy/scipy."""
import json
import os
import sys

import numpy as np
import pytest
import scipy.sparse as sp

import mx

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "sparse")
sys.path.insert(0, DATA)
from make_graph_grad_fixtures import CASES, OPTIMIZERS, build_case  # noqa: E402  (symbols only, no MXNet)

VEC = np.load(os.path.join(DATA, "graph_grad_vectors.npz"))


@pytest.mark.parametrize("case", CASES)
def test_simple_bind_gradient_stypes_match_mxnet(case):
    sym, shapes, req = build_case(mx.sym, case)
    ex = sym.simple_bind(mx.cpu(), grad_req=req, **shapes)
    want = {k.split("/")[2]: str(VEC[k]) for k in VEC.files if k.startswith("stype/%s/" % case)}
    got = {n: g.stype for n, g in ex.grad_dict.items() if g is not None}
    assert got == want


def _csr(rng, shape, density):
    return sp.random(shape[0], shape[1], density=density, format="csr", random_state=rng, dtype=np.float32)


@pytest.mark.parametrize("req", ["write", "add"])
def test_row_sparse_weight_gradient_values(req):
    rng = np.random.RandomState(3)
    x = _csr(rng, (5, 9), 0.4).toarray()
    x[:, [1, 4, 7]] = 0  # those rows of w get no gradient
    x = sp.csr_matrix(x)
    w = rng.uniform(-1, 1, (9, 3)).astype(np.float32)
    head = rng.uniform(-1, 1, (5, 3)).astype(np.float32)
    out = mx.sym.dot(mx.sym.var("data", stype="csr"), mx.sym.var("w")) * 2
    ex = out.simple_bind(mx.cpu(), grad_req={"w": req}, data=(5, 9), w=(9, 3))
    g = ex.grad_dict["w"]
    assert g.stype == "row_sparse"
    mx.nd.sparse.csr_matrix(x).copyto(ex.arg_dict["data"])
    ex.arg_dict["w"][:] = w
    want = np.zeros((9, 3), np.float32)
    for _ in range(2):
        ex.forward(is_train=True)
        np.testing.assert_allclose(ex.outputs[0].asnumpy(), 2 * (x @ w), rtol=1e-5, atol=1e-6)
        ex.backward(mx.nd.array(head))
        want = (want if req == "add" else 0) + 2 * (x.T @ head)
    g = ex.grad_dict["w"]
    assert g.stype == "row_sparse"
    np.testing.assert_allclose(g.asnumpy(), want, rtol=1e-5, atol=1e-6)
    assert sorted(g.indices.asnumpy().tolist()) == sorted(set(x.indices.tolist()))


def test_embedding_sparse_grad_in_graph_and_dense_grad_array():
    rng = np.random.RandomState(4)
    idx = np.array([3, 1, 3, 0], np.float32)
    head = rng.uniform(-1, 1, (4, 2)).astype(np.float32)
    want = np.zeros((6, 2), np.float32)
    np.add.at(want, idx.astype(int), head)
    out = mx.sym.Embedding(mx.sym.var("i"), mx.sym.var("w"), input_dim=6, output_dim=2, sparse_grad=True)
    ex = out.simple_bind(mx.cpu(), grad_req={"w": "write"}, i=(4,), w=(6, 2))
    ex.arg_dict["i"][:] = idx
    ex.forward(is_train=True)
    ex.backward(mx.nd.array(head))
    g = ex.grad_dict["w"]
    assert g.stype == "row_sparse" and g.indices.asnumpy().tolist() == [0, 1, 3]
    np.testing.assert_allclose(g.asnumpy(), want, rtol=1e-6)
    # bind() with a dense gradient array: the row_sparse value is converted into it (MXNet's fallback)
    gd = mx.nd.zeros((6, 2))
    ex2 = out.bind(mx.cpu(), {"i": mx.nd.array(idx), "w": mx.nd.zeros((6, 2))}, args_grad={"w": gd},
                   grad_req={"w": "write"})
    ex2.forward(is_train=True)
    ex2.backward(mx.nd.array(head))
    assert gd.stype == "default"
    np.testing.assert_allclose(gd.asnumpy(), want, rtol=1e-6)


@pytest.mark.parametrize("k", range(len(OPTIMIZERS)))
def test_module_lazy_updates_match_mxnet(k):
    opt, kw = str(VEC["mod/%d/opt" % k]), json.loads(str(VEC["mod/%d/kwargs" % k]))
    assert (opt, kw) == OPTIMIZERS[k]
    w0 = VEC["mod/%d/w0" % k]
    rows, cols = VEC["mod/%d/x0" % k].shape
    out = w0.shape[1]
    data = mx.sym.var("data", stype="csr")
    net = mx.sym.LinearRegressionOutput(mx.sym.dot(data, mx.sym.var("w", shape=(cols, out))),
                                        mx.sym.var("label"), name="lro")
    mod = mx.mod.Module(net, data_names=["data"], label_names=["label"], context=mx.cpu())
    mod.bind(data_shapes=[("data", (rows, cols))], label_shapes=[("label", (rows, out))])
    mod.init_params(arg_params={"w": mx.nd.array(w0)})
    mod.init_optimizer(optimizer=opt, optimizer_params=kw)
    assert mod._exec_group.grad_arrays[0][0].stype == str(VEC["mod/%d/grad_stype" % k])
    for step in range(3):
        x, y = VEC["mod/%d/x%d" % (k, step)], VEC["mod/%d/y%d" % (k, step)]
        mod.forward(mx.io.DataBatch([mx.nd.array(x).tostype("csr")], [mx.nd.array(y)]), is_train=True)
        mod.backward()
        mod.update()
        np.testing.assert_allclose(mod.get_params()[0]["w"].asnumpy(), VEC["mod/%d/w%d" % (k, step + 1)],
                                   rtol=1e-5, atol=1e-6, err_msg="%s step %d" % (opt, step))
