"""MX demo: a Gluon LeNet on Fashion-MNIST, written as MXNet 1.x Gluon code (`import mx`).

gluon.data.vision.FashionMNIST reads the local IDX files, a DataLoader (worker processes) batches
them through transforms.ToTensor, a hybridized HybridSequential trains with autograd + Trainer
(progress bar per epoch), and test accuracy is measured after every epoch. The trained network is
saved with save_parameters and exported (symbol + params) for SymbolBlock.imports, Module, R or
Julia.

    python examples/gluon_fashion_mnist.py                      # full data, 10 epochs
    python examples/gluon_fashion_mnist.py --limit 2000 --epochs 1

Data: Debian's dataset-fashion-mnist (IDX files in /usr/share/datasets/fashion-mnist) or --data-dir.
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))  # run from a checkout without installing

import mx  # noqa: E402
from mx import autograd, gluon  # noqa: E402
from mx.gluon.data.vision import transforms  # noqa: E402
from mx.progress import ProgressBar  # noqa: E402


def lenet():
    net = gluon.nn.HybridSequential(prefix="lenet_")
    with net.name_scope():
        net.add(gluon.nn.Conv2D(20, kernel_size=5, activation="relu"),
                gluon.nn.MaxPool2D(pool_size=2, strides=2),
                gluon.nn.Conv2D(50, kernel_size=5, activation="relu"),
                gluon.nn.MaxPool2D(pool_size=2, strides=2),
                gluon.nn.Flatten(),
                gluon.nn.Dense(500, activation="relu"),
                gluon.nn.Dense(10))
    return net


def evaluate(net, loader):
    metric = mx.metric.Accuracy()
    for data, label in loader:
        metric.update([label], [net(data)])
    return metric.get()[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--num-workers", type=int, default=1, help="DataLoader worker processes")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N train/test images")
    ap.add_argument("--no-hybridize", action="store_true")
    ap.add_argument("--out", default=os.path.join(HERE, "out"), help="folder for the saved model")
    args = ap.parse_args()

    mx.random.seed(42)
    to_tensor = transforms.ToTensor()  # HWC uint8 -> CHW float32 in [0, 1]
    train = gluon.data.vision.FashionMNIST(root=args.data_dir, train=True)
    test = gluon.data.vision.FashionMNIST(root=args.data_dir, train=False)
    if args.limit:
        train, test = train.take(args.limit), test.take(args.limit)
    train_loader = gluon.data.DataLoader(train.transform_first(to_tensor), batch_size=args.batch_size,
                                         shuffle=True, last_batch="discard", num_workers=args.num_workers)
    test_loader = gluon.data.DataLoader(test.transform_first(to_tensor), batch_size=256,
                                        num_workers=args.num_workers)

    net = lenet()
    net.initialize(mx.init.Xavier(magnitude=2.24))
    if not args.no_hybridize:
        net.hybridize()
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": args.lr, "momentum": 0.9, "wd": 1e-4})

    print("Gluon LeNet on Fashion-MNIST: %d train / %d test images, %d epochs, hybridized=%s"
          % (len(train), len(test), args.epochs, not args.no_hybridize))
    acc = 0.0
    for epoch in range(args.epochs):
        tic = time.time()
        train_acc = mx.metric.Accuracy()
        bar = ProgressBar(len(train_loader), prefix="epoch %d" % (epoch + 1))
        total_loss, seen = 0.0, 0
        for data, label in train_loader:
            with autograd.record():
                out = net(data)
                loss = loss_fn(out, label)
            loss.backward()
            trainer.step(data.shape[0])
            train_acc.update([label], [out])
            total_loss += loss.sum().asscalar()
            seen += data.shape[0]
            bar.update(1, loss=total_loss / seen, acc=train_acc.get()[1])
        bar.close()
        acc = evaluate(net, test_loader)
        print("epoch %d: train loss %.4f, train accuracy %.4f, test accuracy %.4f, %.1f s (%.0f samples/s)"
              % (epoch + 1, total_loss / seen, train_acc.get()[1], acc, time.time() - tic,
                 seen / (time.time() - tic)))

    os.makedirs(args.out, exist_ok=True)
    prefix = os.path.join(args.out, "gluon_lenet")
    net.save_parameters(prefix + ".params")
    if not args.no_hybridize:
        net.export(prefix)  # gluon_lenet-symbol.json + gluon_lenet-0000.params
        imported = gluon.SymbolBlock.imports(prefix + "-symbol.json", ["data"], prefix + "-0000.params")
        x = next(iter(test_loader))[0]
        same = (imported(x) - net(x)).abs().max().asscalar() < 1e-5
        print("exported model re-imported, same predictions: %s" % same)
    print("test accuracy: %.4f (%d images)" % (acc, len(test)))


if __name__ == "__main__":
    main()
