"""The examples/ scripts run end to end (short runs on Fashion-MNIST, as subprocesses)."""
import os
import re
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "examples")
FASHION = "/usr/share/datasets/fashion-mnist"

needs_fashion = pytest.mark.skipif(
    not os.path.isdir(FASHION) or not any(n.startswith("train-images") for n in os.listdir(FASHION)),
    reason="Fashion-MNIST IDX files not installed in %s (apt-get install dataset-fashion-mnist)" % FASHION)


def run_example(name, *args, timeout=120):
    env = dict(os.environ)
    if not env.get("MX_TEST_INSTALLED"):
        env["PYTHONPATH"] = os.path.join(ROOT, "python") + os.pathsep + env.get("PYTHONPATH", "")
    tic = time.time()
    proc = subprocess.run([sys.executable, os.path.join(EXAMPLES, name)] + list(args), env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
    return proc, time.time() - tic


@needs_fashion
def test_lenet_recordio(tmp_path):
    proc, secs = run_example("lenet_recordio.py", "--limit", "2000", "--epochs", "1", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stdout[-4000:]
    for split in ("train", "val"):
        for ext in (".rec", ".idx"):
            assert (tmp_path / ("fashion_%s_2000%s" % (split, ext))).exists()
    m = re.search(r"validation accuracy: ([0-9.]+) \((\d+) images\)", proc.stdout)
    assert m, proc.stdout[-4000:]
    assert int(m.group(2)) == 2000
    assert float(m.group(1)) > 0.5, proc.stdout[-4000:]
    assert secs < 60, "lenet_recordio.py --limit 2000 --epochs 1 took %.0f s" % secs
    # a second run reuses the .rec/.idx files
    proc, _ = run_example("lenet_recordio.py", "--limit", "2000", "--epochs", "1", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "exists, skipping" in proc.stdout


@needs_fashion
def test_train_fashion_mnist(tmp_path):
    proc, _ = run_example("train_fashion_mnist.py", "--limit", "3000", "--epochs", "1", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "predictions identical to the trained model: True" in proc.stdout, proc.stdout[-4000:]


@needs_fashion
def test_gluon_fashion_mnist(tmp_path):
    proc, secs = run_example("gluon_fashion_mnist.py", "--limit", "2000", "--epochs", "1", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert re.search(r"epoch 1 \[#+\] 100% 31/31", proc.stdout), proc.stdout[-4000:]  # progress bar
    m = re.search(r"test accuracy: ([0-9.]+) \((\d+) images\)", proc.stdout)
    assert m, proc.stdout[-4000:]
    assert int(m.group(2)) == 2000
    assert float(m.group(1)) > 0.45, proc.stdout[-4000:]
    assert "exported model re-imported, same predictions: True" in proc.stdout
    for f in ("gluon_lenet.params", "gluon_lenet-symbol.json", "gluon_lenet-0000.params"):
        assert (tmp_path / f).exists()
    assert secs < 60, "gluon_fashion_mnist.py --limit 2000 --epochs 1 took %.0f s" % secs
