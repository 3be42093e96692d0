"""MX demo: train an MLP on Fashion-MNIST with mx.nd + mx.autograd, save a checkpoint, reload it
and predict.

Data: Debian's dataset-fashion-mnist (IDX files in /usr/share/datasets/fashion-mnist), or
--data-dir; without either it falls back to scikit-learn's bundled 8x8 digits.
"""
import argparse
import gzip
import os
import struct
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))  # run from a checkout without installing

import mx  # noqa: E402
from mx.progress import ProgressBar  # noqa: E402

FASHION_DIRS = ["/usr/share/datasets/fashion-mnist"]
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
           "Ankle boot"]


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4:
        raise ValueError("%s: not an IDX file (too short)" % path)
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError("%s: not an unsigned-byte IDX file" % path)
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError("%s: truncated (%d of %d bytes)" % (path, data.size, int(np.prod(dims))))
    return data.reshape(dims)


def find_idx(folder, stem):
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        p = os.path.join(folder, name)
        if os.path.exists(p):
            return p
    return None


def load_fashion(folder):
    files = {k: find_idx(folder, s) for k, s in [
        ("xtr", "train-images-idx3-ubyte"), ("ytr", "train-labels-idx1-ubyte"),
        ("xte", "t10k-images-idx3-ubyte"), ("yte", "t10k-labels-idx1-ubyte")]}
    if not all(files.values()):
        return None
    x_tr = read_idx(files["xtr"]).reshape(-1, 784).astype(np.float32) / 255.0
    x_te = read_idx(files["xte"]).reshape(-1, 784).astype(np.float32) / 255.0
    return x_tr, read_idx(files["ytr"]).astype(np.float32), x_te, read_idx(files["yte"]).astype(np.float32)


def load_data(data_dir):
    for folder in ([data_dir] if data_dir else []) + FASHION_DIRS:
        if folder and os.path.isdir(folder):
            d = load_fashion(folder)
            if d is not None:
                print("data: Fashion-MNIST from %s" % folder)
                return d + ("Fashion-MNIST",)
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        sys.exit("No Fashion-MNIST found (apt-get install dataset-fashion-mnist) and scikit-learn is "
                 "not installed for the digits fallback.")
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.float32)
    rng = np.random.RandomState(0)
    idx = rng.permutation(len(x))
    x, y = x[idx], y[idx]
    n = int(len(x) * 0.8)
    print("data: Fashion-MNIST not installed; using scikit-learn's digits (8x8)")
    return x[:n], y[:n], x[n:], y[n:], "digits"


def build_params(n_in, hidden, n_out):
    shapes = {"fc1_weight": (hidden, n_in), "fc1_bias": (hidden,), "fc2_weight": (hidden, hidden),
              "fc2_bias": (hidden,), "fc3_weight": (n_out, hidden), "fc3_bias": (n_out,)}
    init = mx.init.Xavier(rnd_type="gaussian", factor_type="in", magnitude=2)
    params = {}
    for name, shape in shapes.items():
        params[name] = mx.nd.empty(shape)
        init(mx.init.InitDesc(name), params[name])
    return params


def forward(p, x):
    h = mx.nd.relu(mx.nd.FullyConnected(x, p["fc1_weight"], p["fc1_bias"], num_hidden=p["fc1_bias"].shape[0]))
    h = mx.nd.relu(mx.nd.FullyConnected(h, p["fc2_weight"], p["fc2_bias"], num_hidden=p["fc2_bias"].shape[0]))
    return mx.nd.FullyConnected(h, p["fc3_weight"], p["fc3_bias"], num_hidden=p["fc3_bias"].shape[0])


def mlp_symbol(hidden, n_out):
    """The same network as `forward` as a symbol (plus softmax), so the checkpoint carries its graph
    for Module, R (mx.model.load) and Julia (MX.load_checkpoint)."""
    net = mx.sym.var("data")
    for i in (1, 2):
        net = mx.sym.Activation(mx.sym.FullyConnected(net, num_hidden=hidden, name="fc%d" % i), act_type="relu")
    net = mx.sym.FullyConnected(net, num_hidden=n_out, name="fc3")
    return mx.sym.SoftmaxOutput(net, name="softmax")


def evaluate(p, x, y, batch=1000):
    metric = mx.metric.Accuracy()
    for i in range(0, len(x), batch):
        out = forward(p, mx.nd.array(x[i:i + batch]))
        metric.update([mx.nd.array(y[i:i + batch])], [out])
    return metric.get()[1]


def predict(p, x):
    return mx.nd.softmax(forward(p, mx.nd.array(x))).asnumpy()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--optimizer", default="adam")
    ap.add_argument("--lr", type=float, default=0.001)
    ap.add_argument("--limit", type=int, default=0, help="use only this many training samples")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--out", default=os.path.join(HERE, "..", "build", "demo"))
    args = ap.parse_args()

    mx.random.seed(42)
    x_tr, y_tr, x_te, y_te, name = load_data(args.data_dir)
    if args.limit:
        x_tr, y_tr = x_tr[:args.limit], y_tr[:args.limit]
    # Standardise pixels with the training set's statistics (data preparation, kept with the data).
    mean, std = float(x_tr.mean()), float(x_tr.std())
    x_tr, x_te = (x_tr - mean) / std, (x_te - mean) / std
    n_classes = 10
    params = build_params(x_tr.shape[1], args.hidden, n_classes)
    names = sorted(params)
    for v in params.values():
        v.attach_grad()
    bs = args.batch_size
    extra = {"momentum": 0.9} if args.optimizer in ("sgd", "nag") else {}
    opt = mx.optimizer.create(args.optimizer, learning_rate=args.lr, wd=1e-4, rescale_grad=1.0 / bs,
                              param_idx2name=dict(enumerate(names)), **extra)
    updater = mx.optimizer.get_updater(opt)
    rng = np.random.RandomState(0)
    for epoch in range(args.epochs):
        order = rng.permutation(len(x_tr))
        nb = len(x_tr) // bs
        bar = ProgressBar(nb, prefix="epoch %d" % (epoch + 1))
        metric = mx.metric.Accuracy()
        tic = time.time()
        for b in range(nb):
            idx = order[b * bs:(b + 1) * bs]
            x = mx.nd.array(x_tr[idx])
            y = mx.nd.array(y_tr[idx])
            with mx.autograd.record():
                out = forward(params, x)
                loss = -mx.nd.pick(mx.nd.log_softmax(out), y)
            loss.backward()
            updater(list(range(len(names))), [params[k].grad for k in names], [params[k] for k in names])
            metric.update([y], [out])
            if b % 20 == 0 or b == nb - 1:
                bar.update(20 if b % 20 == 0 and b else (b % 20) + 1, acc=metric.get()[1])
        bar.close()
        test_acc = evaluate(params, x_te, y_te)
        print("epoch %d: train accuracy %.4f, test accuracy %.4f, %.0f samples/s" % (
            epoch + 1, metric.get()[1], test_acc, nb * bs / (time.time() - tic)))

    os.makedirs(args.out, exist_ok=True)
    prefix = os.path.join(args.out, "fashion_mlp")
    ckpt = "%s-%04d.params" % (prefix, args.epochs)
    mx.nd.save(ckpt, {"arg:" + k: v for k, v in params.items()})
    opt_file = "%s-%04d.states" % (prefix, args.epochs)
    updater.save(opt_file)
    print("saved %s" % ckpt)

    loaded = {k[4:]: v for k, v in mx.nd.load(ckpt).items()}
    sample = x_te[:5]
    p_before = predict(params, sample)
    p_after = predict(loaded, sample)
    same = np.array_equal(p_before, p_after)
    print("reloaded %s: predictions identical to the trained model: %s" % (ckpt, same))
    for i in range(len(sample)):
        k = int(p_after[i].argmax())
        label = CLASSES[k] if name == "Fashion-MNIST" else str(k)
        print("  sample %d: predicted %-12s (p=%.3f), true %s" % (
            i, label, p_after[i, k], CLASSES[int(y_te[i])] if name == "Fashion-MNIST" else int(y_te[i])))
    np.save(os.path.join(args.out, "predictions.npy"), p_after)
    # For the R and Julia halves of `make demo`: the graph, and the samples with these predictions.
    mlp_symbol(args.hidden, n_classes).save("%s-symbol.json" % prefix)
    mx.nd.save(os.path.join(args.out, "demo_io.nd"), {"data": mx.nd.array(sample), "pred": mx.nd.array(p_after)})
    final = evaluate(loaded, x_te, y_te)
    print("test accuracy of the reloaded model: %.4f" % final)
    if not same:
        sys.exit("reloaded model predicts differently")


if __name__ == "__main__":
    main()
