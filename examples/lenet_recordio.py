"""MX demo: MXNet 1.x's classic "LeNet on RecordIO" recipe, run unchanged apart from `import mx`.

Step 1 packs Fashion-MNIST (28x28 grey PNGs, label = class) into train/val .rec + .idx files with
mx.recordio.pack_img (skipped when the files already exist).
Step 2 is the MXNet 1.x code: two ImageRecordIter, a LeNet symbol, Module.fit, Module.predict.

    python examples/lenet_recordio.py                      # full data, 10 epochs
    python examples/lenet_recordio.py --limit 2000 --epochs 1

Data: Debian's dataset-fashion-mnist (IDX files in /usr/share/datasets/fashion-mnist) or --data-dir.
"""
import argparse
import gzip
import logging
import os
import struct
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))  # run from a checkout without installing

import mx  # noqa: E402

FASHION_DIRS = ["/usr/share/datasets/fashion-mnist"]
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
           "Ankle boot"]


# ---------------------------------------------------------------- step 1: Fashion-MNIST -> .rec/.idx
def read_idx(path):
    """An unsigned-byte IDX file (gzipped or not) as a numpy array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError("%s: not an unsigned-byte IDX file" % path)
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError("%s: truncated (%d of %d bytes)" % (path, data.size, int(np.prod(dims))))
    return data.reshape(dims)


def find_fashion(data_dir=None):
    """The folder holding the four Fashion-MNIST IDX files and their paths, or (None, None)."""
    stems = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             "val": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
    for folder in ([data_dir] if data_dir else []) + FASHION_DIRS:
        if not folder or not os.path.isdir(folder):
            continue
        found = {}
        for split, (img, lab) in stems.items():
            paths = []
            for stem in (img, lab):
                cands = [os.path.join(folder, n) for n in (stem, stem + ".gz", stem.replace("-idx", ".idx"),
                                                          stem.replace("-idx", ".idx") + ".gz")]
                paths.append(next((p for p in cands if os.path.exists(p)), None))
            found[split] = tuple(paths)
        if all(p for pair in found.values() for p in pair):
            return folder, found
    return None, None


def make_rec(images_path, labels_path, prefix, limit=0, img_fmt=".png"):
    """Write prefix.rec and prefix.idx (one record per image, IRHeader label = class, id = index).
    Skipped when both exist. The files are written under temporary names and renamed at the end, so
    an interrupted run never leaves a half-written pair that a later run would skip."""
    rec, idx = prefix + ".rec", prefix + ".idx"
    if os.path.exists(rec) and os.path.exists(idx):
        print("step 1: %s exists, skipping" % rec)
        return rec, idx
    images, labels = read_idx(images_path), read_idx(labels_path)
    if limit:
        images, labels = images[:limit], labels[:limit]
    os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)
    tmp_rec, tmp_idx = rec + ".tmp", idx + ".tmp"
    tic = time.time()
    writer = mx.recordio.MXIndexedRecordIO(tmp_idx, tmp_rec, "w")
    for i, (img, label) in enumerate(zip(images, labels)):
        header = mx.recordio.IRHeader(0, float(label), i, 0)
        writer.write_idx(i, mx.recordio.pack_img(header, img, quality=95, img_fmt=img_fmt))
    writer.close()
    os.replace(tmp_rec, rec)
    os.replace(tmp_idx, idx)
    print("step 1: wrote %s (%d images, %.1f MB) in %.1f s" % (rec, len(images), os.path.getsize(rec) / 1e6,
                                                              time.time() - tic))
    return rec, idx


# ---------------------------------------------------------------- step 2: the MXNet 1.x code
def lenet():
    data = mx.sym.var('data')
    # first conv layer
    conv1 = mx.sym.Convolution(data=data, kernel=(5, 5), num_filter=20)
    tanh1 = mx.sym.Activation(data=conv1, act_type="tanh")
    pool1 = mx.sym.Pooling(data=tanh1, pool_type="max", kernel=(2, 2), stride=(2, 2))
    # second conv layer
    conv2 = mx.sym.Convolution(data=pool1, kernel=(5, 5), num_filter=50)
    tanh2 = mx.sym.Activation(data=conv2, act_type="tanh")
    pool2 = mx.sym.Pooling(data=tanh2, pool_type="max", kernel=(2, 2), stride=(2, 2))
    # first fully connected layer
    flatten = mx.sym.flatten(data=pool2)
    fc1 = mx.sym.FullyConnected(data=flatten, num_hidden=500)
    tanh3 = mx.sym.Activation(data=fc1, act_type="tanh")
    # second fully connected layer
    fc = mx.sym.FullyConnected(data=tanh3, num_hidden=10)
    # softmax loss
    loss = mx.sym.SoftmaxOutput(data=fc, name='softmax')
    return loss


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.01, help="SGD learning rate (the recipe's 0.01)")
    ap.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (0 for plain SGD)")
    ap.add_argument("--limit", type=int, default=0,
                    help="pack only the first N training and N validation images (0: all)")
    ap.add_argument("--img-fmt", default=".png", choices=[".png", ".jpg"])
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--out", default=os.path.join(HERE, "..", "build", "lenet_recordio"),
                    help="folder for the .rec/.idx files")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    folder, files = find_fashion(args.data_dir)
    if folder is None:
        sys.exit("Fashion-MNIST not found in %s (apt-get install dataset-fashion-mnist, or --data-dir)"
                 % ", ".join(([args.data_dir] if args.data_dir else []) + FASHION_DIRS))
    print("data: Fashion-MNIST from %s" % folder)
    tag = ("_%d" % args.limit if args.limit else "") + ("_jpg" if args.img_fmt == ".jpg" else "")
    train_rec, train_idx = make_rec(*files["train"], os.path.join(args.out, "fashion_train" + tag),
                                    limit=args.limit, img_fmt=args.img_fmt)
    val_rec, val_idx = make_rec(*files["val"], os.path.join(args.out, "fashion_val" + tag),
                                limit=args.limit, img_fmt=args.img_fmt)

    mx.random.seed(42)
    np.random.seed(42)
    batch_size = args.batch_size
    train_iter = mx.io.ImageRecordIter(
        path_imgrec=train_rec, path_imgidx=train_idx, data_shape=(1, 28, 28), batch_size=batch_size,
        shuffle=True, seed=42, scale=1.0 / 255)
    val_iter = mx.io.ImageRecordIter(
        path_imgrec=val_rec, path_imgidx=val_idx, data_shape=(1, 28, 28), batch_size=batch_size,
        shuffle=False, scale=1.0 / 255, round_batch=False)

    loss = lenet()
    # rescale_grad=1/batch_size: SoftmaxOutput's gradient is summed over the batch, and an optimizer
    # object passed to fit is used as is (MXNet 1.x warns "rescale_grad is not normalized" otherwise).
    optimizer = mx.optimizer.SGD(learning_rate=args.lr, momentum=args.momentum, rescale_grad=1.0 / batch_size)
    model = mx.mod.Module(symbol=loss, context=mx.cpu())
    tic = time.time()
    model.fit(train_iter, val_iter, optimizer=optimizer, num_epoch=args.epochs,
              initializer=mx.init.Xavier())
    train_time = time.time() - tic
    print("step 2: trained %d epoch(s) in %.1f s (%.1f s/epoch)" % (args.epochs, train_time,
                                                                   train_time / max(args.epochs, 1)))
    pred = model.predict(val_iter)

    # the labels, in the same order (val_iter does not shuffle; predict drops the padding)
    labels = []
    val_iter.reset()
    for batch in val_iter:
        lab = batch.label[0].asnumpy()
        labels.append(lab[:len(lab) - batch.pad])
    labels = np.concatenate(labels).astype(np.int64)
    probs = pred.asnumpy()
    if probs.shape[0] != labels.shape[0]:
        sys.exit("predict returned %d rows for %d validation images" % (probs.shape[0], labels.shape[0]))
    guess = probs.argmax(axis=1)
    acc = float((guess == labels).mean())
    for i in range(5):
        print("  sample %d: predicted %-12s (p=%.3f), true %s" % (i, CLASSES[guess[i]], probs[i, guess[i]],
                                                                 CLASSES[labels[i]]))
    print("validation accuracy: %.4f (%d images)" % (acc, len(labels)))


if __name__ == "__main__":
    main()
