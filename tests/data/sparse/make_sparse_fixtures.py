"""Make the sparse-storage fixtures with real Apache MXNet 1.9.1 (run with /opt/mxnet-venv/bin/python
from this folder). Writes:
  mxnet_sparse.params   MXNet's nd.save of a dict of csr / row_sparse / dense arrays (named)
  mxnet_sparse_list.nd  the same format without names (a list)
  mxnet_stale_rsp.nd    a row_sparse array made by sparse_retain: MXNet writes its storage shape
                        with a stale first dimension (0) or not, from run to run (MXNet's
                        asynchronous engine): the committed copy has the stale 0
  sample.libsvm, libsvm_batches.npz   LibSVMIter's batches over two epochs
  expected.npz          per array: its dense values and parts (data, indices, indptr), as numpy
                        saw them through MXNet
  optimizer_vectors.npz sgd / adam lazy_update steps on row_sparse gradients (inputs and results)
"""
import os

import mxnet as mx
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.RandomState(14)


def sparse_dense(shape, density, rows_only=False):
    d = rng.uniform(-2, 2, size=shape)
    mask = rng.rand(shape[0], *([1] * (len(shape) - 1))) if rows_only else rng.rand(*shape)
    return d * (mask < density)


arrays = {
    "csr": mx.nd.array(sparse_dense((5, 7), 0.3), dtype="float32").tostype("csr"),
    "csr_f64": mx.nd.sparse.csr_matrix(sparse_dense((3, 4), 0.5), dtype="float64"),
    "csr_empty": mx.nd.sparse.zeros("csr", (3, 4)),
    "rsp": mx.nd.array(sparse_dense((6, 3), 0.4, rows_only=True), dtype="float32").tostype("row_sparse"),
    "rsp3d": mx.nd.sparse.row_sparse_array(sparse_dense((4, 2, 3), 0.6, rows_only=True), dtype="float64"),
    "rsp_empty": mx.nd.sparse.zeros("row_sparse", (5, 2)),
    "dense": mx.nd.array(rng.uniform(-1, 1, (2, 3)), dtype="float32"),
}
mx.nd.save(os.path.join(here, "mxnet_sparse.params"), arrays)
mx.nd.save(os.path.join(here, "mxnet_sparse_list.nd"), [arrays["csr"], arrays["rsp"]])
src = mx.nd.array(np.array([[0, 1], [0, 0], [2, 3]]), dtype="float32").tostype("row_sparse")
stale = mx.nd.sparse.retain(src, mx.nd.array([0], dtype="int64"))
mx.nd.save(os.path.join(here, "mxnet_stale_rsp.nd"), [stale])

expected = {"stale_dense": stale.asnumpy()}
for k, v in arrays.items():
    expected[k + "/dense"] = v.asnumpy()
    expected[k + "/stype"] = np.array(v.stype)
    if v.stype != "default":
        expected[k + "/data"] = v.data.asnumpy()
        expected[k + "/indices"] = v.indices.asnumpy()
    if v.stype == "csr":
        expected[k + "/indptr"] = v.indptr.asnumpy()
np.savez(os.path.join(here, "expected.npz"), **expected)

# Lazy updates: only the rows present in the row_sparse gradient change (weights, and for
# adam the moments). Three steps per case, the gradient rows differing between steps.
vec = {}
for case, (opt, kw) in enumerate([
        ("sgd", dict(learning_rate=0.1, wd=0.01, momentum=0.0, lazy_update=True)),
        ("sgd", dict(learning_rate=0.1, wd=0.01, momentum=0.9, lazy_update=True)),
        ("adam", dict(learning_rate=0.05, wd=0.01, beta1=0.9, beta2=0.99, epsilon=1e-8, lazy_update=True)),
        ("sgd", dict(learning_rate=0.1, wd=0.01, momentum=0.9, lazy_update=True, clip_gradient=0.5,
                     rescale_grad=0.5)),
]):
    o = mx.optimizer.create(opt, **kw)
    w = mx.nd.array(rng.uniform(-1, 1, (6, 3)), dtype="float32")
    vec["%d/opt" % case] = np.array(opt)
    vec["%d/kwargs" % case] = np.array(repr(sorted(kw.items())))
    vec["%d/w0" % case] = w.asnumpy()
    state = o.create_state(0, w)
    for step, rows in enumerate([[1, 4], [0, 1, 5], [4]]):
        g = np.zeros((6, 3), np.float32)
        g[rows] = rng.uniform(-1, 1, (len(rows), 3))
        vec["%d/g%d" % (case, step)] = g
        o.update(0, w, mx.nd.array(g).tostype("row_sparse"), state)
        vec["%d/w%d" % (case, step + 1)] = w.asnumpy()
np.savez(os.path.join(here, "optimizer_vectors.npz"), **vec)


# LibSVMIter: a small file (unsorted indices, an empty row, a comment-free layout) and the
# batches MXNet makes of it over two epochs (round_batch wraps; the next epoch starts after).
svm = os.path.join(here, "sample.libsvm")
with open(svm, "w") as f:
    f.write("1 0:1.5 3:2\n0 2:-1\n2.5 4:0.5 1:4 2:1\n1\n3 4:7\n-1 0:0.25 1:-2 2:3 3:4 4:5\n")
it = mx.io.LibSVMIter(data_libsvm=svm, data_shape=(5,), batch_size=4)
batches = {}
for ep in range(2):
    for i, b in enumerate(it):
        batches["%d/%d/dense" % (ep, i)] = b.data[0].asnumpy()
        batches["%d/%d/indptr" % (ep, i)] = b.data[0].indptr.asnumpy()
        batches["%d/%d/label" % (ep, i)] = b.label[0].asnumpy()
        batches["%d/%d/pad" % (ep, i)] = np.array(b.pad)
    it.reset()
np.savez(os.path.join(here, "libsvm_batches.npz"), **batches)
print("wrote fixtures to", here)
