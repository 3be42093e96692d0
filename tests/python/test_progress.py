"""mx.progress.ProgressBar: throttled redraws, the rate measured from the first update, one log
line per 10 % off a terminal, tqdm in Jupyter; Module.fit's callback and the Estimator's
ProgressHandler draw through it."""
import io
import sys

import numpy as np
import pytest

import mx
from mx.progress import ProgressBar


class _Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


class _TTY(io.StringIO):
    def isatty(self):
        return True


def test_terminal_redraws_are_throttled_and_final_state_drawn():
    clock, out = _Clock(), _TTY()
    bar = ProgressBar(1000, prefix="E0", stream=out, min_interval=0.25, clock=clock)
    for _ in range(1000):
        clock.t += 0.01  # 100 batches a second for 10 s
        bar.update(1, acc=0.5)
    bar.close()
    # at most one draw per 0.25 s of the 10 s, plus the first and the final one
    assert 38 <= bar.draws <= 42
    last = out.getvalue().rstrip("\n").split("\r")[-1]
    assert "100% 1000/1000" in last and "acc=0.5000" in last


def test_rate_is_measured_from_the_first_update():
    clock, out = _Clock(), _TTY()
    bar = ProgressBar(50, stream=out, min_interval=0.0, clock=clock)
    clock.t += 2.0  # a slow first batch (binding, allocation)
    bar.update(1)
    assert bar.rate() == pytest.approx(0.5)  # that batch alone
    for _ in range(10):
        clock.t += 0.1
        bar.update(1)
    assert bar.rate() == pytest.approx(10.0)  # not diluted by the first batch's 2 s
    assert "10.0 it/s" in out.getvalue().split("\r")[-1]


def test_logs_get_one_line_per_tenth():
    clock, out = _Clock(), io.StringIO()
    bar = ProgressBar(200, stream=out, clock=clock)
    for _ in range(200):
        clock.t += 0.001
        bar.update(1)
    lines = out.getvalue().splitlines()
    assert len(lines) == 11 and "0% 1/200" in lines[0] and "100% 200/200" in lines[-1]


def test_jupyter_uses_tqdm(monkeypatch):
    tqdm_auto = pytest.importorskip("tqdm.auto")
    monkeypatch.setitem(sys.modules, "ipykernel", type(sys)("ipykernel"))
    bar = ProgressBar(5, prefix="Epoch 0")
    assert isinstance(bar._tqdm, tqdm_auto.tqdm)
    for _ in range(5):
        bar.update(1, loss=0.25)
    assert bar._tqdm.n == 5 and bar._tqdm.postfix == "loss=0.25"
    bar.close()


def test_module_fit_progress_callback(capsys):
    data = mx.sym.var("data")
    net = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(data, num_hidden=3, name="fc"), name="softmax")
    x = np.random.RandomState(0).uniform(size=(40, 4)).astype(np.float32)
    y = (x[:, 0] * 3).astype(np.int32).astype(np.float32)
    it = mx.io.NDArrayIter(x, y, batch_size=10)
    mod = mx.mod.Module(net)
    mod.fit(it, num_epoch=1, batch_end_callback=mx.callback.ProgressBar(4))
    out = capsys.readouterr().out
    assert "4/4" in out and "it/s" in out


def test_estimator_progress_handler(capsys):
    from mx import gluon
    from mx.gluon.contrib.estimator import Estimator, ProgressHandler
    net = gluon.nn.Dense(3)
    x = np.random.RandomState(1).uniform(size=(30, 4)).astype(np.float32)
    y = (x[:, 0] * 3).astype(np.int32).astype(np.float32)
    loader = gluon.data.DataLoader(gluon.data.ArrayDataset(x, y), batch_size=10)
    est = Estimator(net, gluon.loss.SoftmaxCrossEntropyLoss(), initializer=mx.init.Xavier())
    est.fit(loader, epochs=2, event_handlers=[ProgressHandler(metrics=est.train_metrics)])
    out = capsys.readouterr().out
    assert out.count("3/3") == 2 and "training accuracy=" in out
