"""A Module with a row_sparse weight (MXNet's sparse linear classification example style), trained by
real Apache MXNet 1.9.1 (run with /opt/mxnet-venv/bin/python from this folder). Writes
module_rsp.libsvm (synthetic, 40 samples, 30 features, 2 classes) and module_rsp_vectors.npz:
per optimizer k: its name and kwargs, the start weight/bias, and after each epoch the weight
(pulled with all row ids, as the example does before scoring) and bias. Each batch:
mod.prepare(batch, sparse_row_id_fn) pulls the rows the batch uses from the kvstore (which holds
the weight and runs the optimizer), forward_backward, update.
"""
import json
import os

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
NUM_FEATURES, BATCH, EPOCHS = 30, 8, 2
OPTIMIZERS = [
    ("sgd", dict(learning_rate=0.5, wd=0.01, rescale_grad=1.0 / BATCH)),
    ("adagrad", dict(learning_rate=0.3, rescale_grad=1.0 / BATCH)),
    ("ftrl", dict(learning_rate=0.3, lamda1=0.001, rescale_grad=1.0 / BATCH)),
]


def write_libsvm(path):
    rng = np.random.RandomState(1416)
    truth = rng.uniform(-1, 1, NUM_FEATURES)
    with open(path, "w") as f:
        for _ in range(40):
            cols = np.sort(rng.choice(NUM_FEATURES, rng.randint(1, 6), replace=False))
            vals = np.round(rng.uniform(-2, 2, len(cols)), 3)
            label = int(np.dot(truth[cols], vals) > 0)
            f.write("%d %s\n" % (label, " ".join("%d:%g" % (c, v) for c, v in zip(cols, vals))))


def linear_model(sym):
    x = sym.var("data", stype="csr")
    weight = sym.var("weight", shape=(NUM_FEATURES, 2), stype="row_sparse")
    bias = sym.var("bias", shape=(2,))
    return sym.SoftmaxOutput(sym.broadcast_add(sym.dot(x, weight), bias), sym.var("softmax_label"), name="out")


def batch_row_ids(batch):
    return {"weight": batch.data[0].indices}


def all_row_ids(_):
    import mxnet as mx
    return {"weight": mx.nd.arange(0, NUM_FEATURES, dtype="int64")}


if __name__ == "__main__":
    import mxnet as mx

    path = os.path.join(here, "module_rsp.libsvm")
    write_libsvm(path)
    rng = np.random.RandomState(1417)
    vec = {}
    for k, (opt, kw) in enumerate(OPTIMIZERS):
        it = mx.io.LibSVMIter(data_libsvm=path, data_shape=(NUM_FEATURES,), batch_size=BATCH)
        mod = mx.mod.Module(linear_model(mx.sym), data_names=["data"], label_names=["softmax_label"])
        mod.bind(data_shapes=it.provide_data, label_shapes=it.provide_label)
        w0 = rng.uniform(-0.1, 0.1, (NUM_FEATURES, 2)).astype(np.float32)
        b0 = rng.uniform(-0.1, 0.1, (2,)).astype(np.float32)
        mod.init_params(arg_params={"weight": mx.nd.array(w0).tostype("row_sparse"), "bias": mx.nd.array(b0)})
        assert mod._exec_group.param_arrays[0][0].stype == "row_sparse"
        mod.init_optimizer(optimizer=mx.optimizer.create(opt, **kw), kvstore=mx.kv.create("local"))
        vec["%d/opt" % k] = np.array(opt)
        vec["%d/kwargs" % k] = np.array(json.dumps(kw, sort_keys=True))
        vec["%d/w0" % k], vec["%d/b0" % k] = w0, b0
        for epoch in range(EPOCHS):
            it.reset()
            for nb, batch in enumerate(it):
                mod.prepare(batch, sparse_row_id_fn=batch_row_ids)
                if epoch == 0 and nb == 1:  # what prepare pulled: only this batch's rows
                    w = mod._exec_group.param_arrays[0][0]
                    vec["%d/pulled_rows" % k] = w.indices.asnumpy()
                    vec["%d/pulled_batch_cols" % k] = batch.data[0].indices.asnumpy()
                mod.forward_backward(batch)
                mod.update()
            mod.prepare(None, all_row_ids)
            args, _ = mod.get_params()
            vec["%d/w_epoch%d" % (k, epoch)] = args["weight"].asnumpy()
            vec["%d/b_epoch%d" % (k, epoch)] = args["bias"].asnumpy()
    np.savez_compressed(os.path.join(here, "module_rsp_vectors.npz"), **vec)
    print("wrote", len(vec), "arrays")
