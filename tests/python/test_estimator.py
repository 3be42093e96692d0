"""gluon.contrib.estimator: an MLP trained by Estimator.fit on a Fashion-MNIST subset (Debian's
dataset-fashion-mnist) reaches a stated accuracy, checked against numpy argmax of the net's
outputs; early stopping, checkpoints (rotation, best, resume) and event order are verified."""
import glob
import os

import numpy as np
import pytest

import mx
from mx import gluon
from mx.gluon import nn
from mx.gluon.contrib.estimator import (Estimator, EarlyStoppingHandler, CheckpointHandler,
                                        EpochEnd, BatchEnd, TrainBegin, TrainEnd, LoggingHandler)
from mx.gluon.data.vision import datasets

DEBIAN = datasets.DEBIAN_FASHION_MNIST
pytestmark = pytest.mark.skipif(
    not os.path.isfile(os.path.join(DEBIAN, "train-images-idx3-ubyte.gz")),
    reason="Debian's dataset-fashion-mnist is not installed (make deps installs it)")

_CACHE = {}


def _data(n_train=3000, n_val=1000):
    if not _CACHE:
        tr, te = datasets.FashionMNIST(train=True), datasets.FashionMNIST(train=False)
        _CACHE["x"] = tr._data.asnumpy()[:n_train].reshape(n_train, -1).astype(np.float32) / 255
        _CACHE["y"] = tr._label[:n_train].astype(np.float32)
        _CACHE["vx"] = te._data.asnumpy()[:n_val].reshape(n_val, -1).astype(np.float32) / 255
        _CACHE["vy"] = te._label[:n_val].astype(np.float32)
    c = _CACHE
    train = gluon.data.DataLoader(gluon.data.ArrayDataset(c["x"], c["y"]), batch_size=100,
                                  shuffle=True)
    val = gluon.data.DataLoader(gluon.data.ArrayDataset(c["vx"], c["vy"]), batch_size=250)
    return train, val


def _estimator(lr=2e-3):
    mx.random.seed(1)
    net = nn.HybridSequential()
    net.add(nn.Dense(64, activation="relu"), nn.Dense(10))
    net.initialize(mx.init.Xavier())
    net.hybridize()
    trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": lr})
    return Estimator(net, loss=gluon.loss.SoftmaxCrossEntropyLoss(),
                     train_metrics=mx.metric.Accuracy(), trainer=trainer)


class _Recorder(TrainBegin, EpochEnd, BatchEnd, TrainEnd):
    def __init__(self):
        self.events = []

    def train_begin(self, estimator, *a, **k):
        self.events.append("train_begin")

    def batch_end(self, estimator, *a, **k):
        self.events.append("batch")

    def epoch_end(self, estimator, *a, **k):
        self.events.append("epoch")

    def train_end(self, estimator, *a, **k):
        self.events.append("train_end")


def test_fit_reaches_accuracy_and_metrics_match_numpy(capsys):
    train, val = _data()
    est = _estimator()
    rec = _Recorder()
    est.fit(train, val_data=val, epochs=3, event_handlers=[rec])
    assert rec.events[0] == "train_begin" and rec.events[-1] == "train_end"
    assert rec.events.count("epoch") == 3 and rec.events.count("batch") == 3 * 30
    name, acc = est.val_metrics[0].get()
    assert name == "validation accuracy"
    c = _CACHE
    pred = est.net(mx.nd.array(c["vx"])).asnumpy().argmax(axis=1)
    np.testing.assert_allclose(acc, (pred == c["vy"]).mean(), rtol=1e-6)
    print("validation accuracy after 3 epochs: %.4f" % acc)
    assert acc >= 0.75, "3 epochs on 3000 Fashion-MNIST images should give >= 75%% (got %.3f)" % acc
    out = capsys.readouterr().out
    assert "[Epoch 2] Finished" in out and "validation accuracy" in out
    est.evaluate(val)
    assert est.val_metrics[0].get()[1] == acc


def test_fit_by_batches_and_argument_errors():
    train, _ = _data()
    est = _estimator()
    rec = _Recorder()
    est.fit(train, batches=7, event_handlers=[rec])
    assert rec.events.count("batch") == 7
    with pytest.raises(ValueError, match="one and only one"):
        est.fit(train, epochs=1, batches=2)
    with pytest.raises(ValueError, match="DataLoader"):
        est.fit([(1, 2)], epochs=1)
    with pytest.raises(ValueError, match="loss"):
        Estimator(est.net, loss="softmax")


def test_early_stopping():
    train, val = _data()
    est = _estimator()
    rec = _Recorder()
    # a baseline no accuracy can beat: stop after `patience` epochs without improvement
    stop = EarlyStoppingHandler(monitor=est.val_metrics[0], patience=2, baseline=1.01)
    est.fit(train, val_data=val, epochs=10, event_handlers=[stop, rec])
    assert rec.events.count("epoch") == 2 and stop.stop_training and stop.stopped_epoch == 1
    # an improving training loss does not stop a short run
    est2 = _estimator()
    stop2 = EarlyStoppingHandler(monitor=est2.train_metrics[0], patience=1, mode="max")
    rec2 = _Recorder()
    est2.fit(train, epochs=3, event_handlers=[stop2, rec2])
    assert rec2.events.count("epoch") == 3 and not stop2.stop_training


def test_checkpoint_rotation_best_and_resume(tmp_path):
    train, val = _data()
    est = _estimator()
    ckpt = CheckpointHandler(model_dir=str(tmp_path), model_prefix="m", max_checkpoints=2,
                             save_best=True, monitor=est.val_metrics[0])
    est.fit(train, val_data=val, epochs=3, event_handlers=[ckpt])
    names = sorted(os.path.basename(p) for p in glob.glob(str(tmp_path / "m-*")))
    assert names == ["m-best.params", "m-best.states", "m-epoch1batch60.params",
                     "m-epoch1batch60.states", "m-epoch2batch90.params", "m-epoch2batch90.states",
                     "m-symbol.json"]
    x = mx.nd.array(_CACHE["vx"][:20])
    fresh = _estimator().net
    fresh.load_parameters(str(tmp_path / "m-epoch2batch90.params"))
    np.testing.assert_allclose(fresh(x).asnumpy(), est.net(x).asnumpy(), rtol=1e-6)
    sym = mx.sym.load(str(tmp_path / "m-symbol.json"))
    assert set(sym.list_arguments()) == {"data"} | set(est.net.collect_params().keys())
    # resume: 4 epochs requested, 3 done -> one more, saved as epoch 3
    est2 = _estimator()
    resume = CheckpointHandler(model_dir=str(tmp_path), model_prefix="m", max_checkpoints=2,
                               resume_from_checkpoint=True)
    rec = _Recorder()
    est2.fit(train, epochs=4, event_handlers=[resume, rec])
    assert rec.events.count("epoch") == 1
    assert os.path.exists(tmp_path / "m-epoch3batch120.params")


def test_logging_interval_validation():
    with pytest.raises(ValueError, match="log_interval"):
        LoggingHandler(log_interval="often")


def test_batch_processor_customises_fit_and_evaluate():
    from mx.gluon.contrib.estimator import BatchProcessor

    class NoisyInputs(BatchProcessor):
        """Trains on inputs scaled by 0.5 and counts what it saw."""

        def __init__(self):
            self.fit_calls = self.eval_calls = 0

        def fit_batch(self, estimator, train_batch, batch_axis=0):
            self.fit_calls += 1
            x, y = train_batch
            return super().fit_batch(estimator, (x * 0.5, y), batch_axis)

        def evaluate_batch(self, estimator, val_batch, batch_axis=0):
            self.eval_calls += 1
            x, y = val_batch
            return super().evaluate_batch(estimator, (x * 0.5, y), batch_axis)

    _, val = _data()
    c = _CACHE
    train = gluon.data.DataLoader(gluon.data.ArrayDataset(c["x"], c["y"]), batch_size=100)  # in order
    proc = NoisyInputs()
    mx.random.seed(1)
    net = nn.Dense(10, in_units=784)
    net.initialize(mx.init.Xavier())
    w0 = net.weight.data().asnumpy().copy()
    est = Estimator(net, loss=gluon.loss.SoftmaxCrossEntropyLoss(), train_metrics=mx.metric.Accuracy(),
                    trainer=gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1}),
                    batch_processor=proc)
    # one step by hand: the processor's halved inputs decide the gradient
    x, y = next(iter(train))
    est.fit(train, batches=1)
    assert proc.fit_calls == 1
    xs = (x.asnumpy() * 0.5).astype(np.float64)
    logits = xs @ w0.T + 0.0
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y.asnumpy().astype(int)] -= 1
    w_want = w0 - 0.1 * (p.T @ xs) / len(y)
    np.testing.assert_allclose(net.weight.data().asnumpy(), w_want, rtol=1e-4, atol=1e-6)
    est.evaluate(val)
    assert proc.eval_calls == len(val)
    pred = net(mx.nd.array(c["vx"] * 0.5)).asnumpy().argmax(axis=1)
    np.testing.assert_allclose(est.val_metrics[0].get()[1], (pred == c["vy"]).mean(), rtol=1e-6)
    with pytest.raises(ValueError, match="fit_batch"):
        Estimator(net, loss=gluon.loss.L2Loss(), batch_processor=object())
