"""Sparse logistic regression with Module on a LibSVM file (MXNet's sparse linear-classification
example, MX edition): the data variable is csr, so each batch stays sparse from the file to
dot(csr, weight), which runs the csr x dense kernel; the weight's gradient comes from the
csr^T x dense kernel.

The data set is synthetic: each sample has `nnz` active features (value 1) out of `features`,
its label is whether a hidden weight vector gives it a positive score. Run:
    python examples/sparse_logistic_regression.py [--features 5000] [--epochs 5]
It prints the held-out accuracy: 0.932 with the defaults (5000 features, 20 per sample, 40000
training and 4000 held-out samples, 5 epochs; about 9 s on one busy core).
tests/python/test_sparse_symbol.py runs a smaller version (1000 features, 10000 samples: 0.95).
"""
import argparse
import os
import tempfile

import numpy as np

import mx


def write_libsvm(path, rng, w_true, samples, nnz):
    """Samples with `nnz` distinct features each; label 1 where w_true sums positive."""
    features = w_true.shape[0]
    with open(path, "w") as f:
        for _ in range(samples):
            cols = np.sort(rng.choice(features, nnz, replace=False))
            label = 1 if w_true[cols].sum() > 0 else 0
            f.write("%d %s\n" % (label, " ".join("%d:1" % c for c in cols)))


def build(features):
    data = mx.sym.var("data", stype="csr")
    label = mx.sym.var("softmax_label")
    weight = mx.sym.var("weight", shape=(features, 1), init=mx.init.Normal(0.01))
    bias = mx.sym.var("bias", shape=(1,), init=mx.init.Zero())
    score = mx.sym.broadcast_add(mx.sym.dot(data, weight), bias)
    return mx.sym.LogisticRegressionOutput(score, mx.sym.reshape(label, shape=(-1, 1)), name="out")


def accuracy(mod, it):
    it.reset()
    right = total = 0
    for batch in it:
        mod.forward(batch, is_train=False)
        p = mod.get_outputs()[0].asnumpy().reshape(-1)
        y = batch.label[0].asnumpy().reshape(-1)
        n = len(y) - batch.pad
        right += int(((p[:n] > 0.5) == (y[:n] > 0.5)).sum())
        total += n
    return right / total


def main(features=5000, nnz=20, train=40000, test=4000, batch_size=100, epochs=5, lr=1.0, seed=0,
         verbose=True):
    """Train; returns (held-out accuracy, the Module)."""
    rng = np.random.RandomState(seed)
    w_true = rng.normal(size=features)
    tmp = tempfile.mkdtemp(prefix="mx_sparse_lr_")
    train_path, test_path = os.path.join(tmp, "train.libsvm"), os.path.join(tmp, "test.libsvm")
    write_libsvm(train_path, rng, w_true, train, nnz)
    write_libsvm(test_path, rng, w_true, test, nnz)
    train_it = mx.io.LibSVMIter(data_libsvm=train_path, data_shape=(features,), batch_size=batch_size)
    test_it = mx.io.LibSVMIter(data_libsvm=test_path, data_shape=(features,), batch_size=batch_size)
    mod = mx.mod.Module(build(features), data_names=["data"], label_names=["softmax_label"])
    mod.bind(data_shapes=train_it.provide_data, label_shapes=train_it.provide_label)
    mod.init_params()
    mod.init_optimizer(optimizer="sgd", optimizer_params={"learning_rate": lr, "momentum": 0.9,
                                                          "rescale_grad": 1.0 / batch_size})
    for epoch in range(epochs):
        train_it.reset()
        for batch in train_it:
            mod.forward_backward(batch)
            mod.update()
        if verbose:
            print("epoch %d: train accuracy %.4f" % (epoch, accuracy(mod, train_it)))
    acc = accuracy(mod, test_it)
    if verbose:
        print("held-out accuracy %.4f" % acc)
    return acc, mod


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--features", type=int, default=5000)
    ap.add_argument("--epochs", type=int, default=5)
    a = ap.parse_args()
    main(features=a.features, epochs=a.epochs)
