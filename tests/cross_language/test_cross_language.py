"""Python <-> R cross-language tests: checkpoints, optimizer state, random streams and MXNet
1.9.1 files, with Python (ABI mode over MX_LIBRARY) and R (the mx package) on the same libmx.

Environment:
  MX_LIBRARY       libmx.so both languages use (default: build/install/lib/libmx.so).
  MX_HOME          install prefix for building the R package (default: derived from MX_LIBRARY).
  MX_R_LIB         an R library that already holds the mx package built against MX_HOME
                   (default: the package is installed into a temporary library once per run).
  MX_REQUIRE_R=1   fail instead of skip when Rscript is missing.
  MX_FASHION_MNIST directory of the Fashion-MNIST IDX gz files.
"""
import gzip
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HERE = os.path.dirname(os.path.abspath(__file__))
FMNIST = os.environ.get("MX_FASHION_MNIST", "/usr/share/datasets/fashion-mnist")
MXNET_DATA = os.path.join(ROOT, "tests", "data", "mxnet-1.9.1", "module")
os.environ.setdefault("MX_LIBRARY", os.path.join(ROOT, "build", "install", "lib", "libmx.so"))
if os.path.join(ROOT, "python") not in sys.path:
    sys.path.insert(0, os.path.join(ROOT, "python"))
import mx  # noqa: E402


@pytest.fixture(scope="module")
def r_lib(tmp_path_factory):
    if shutil.which("Rscript") is None:
        if os.environ.get("MX_REQUIRE_R") == "1":
            pytest.fail("Rscript not found and MX_REQUIRE_R=1")
        pytest.skip("Rscript not found (set MX_REQUIRE_R=1 to fail instead)")
    if os.environ.get("MX_R_LIB"):
        return os.environ["MX_R_LIB"]
    home = os.environ.get("MX_HOME") or os.path.dirname(os.path.dirname(os.environ["MX_LIBRARY"]))
    libdir = str(tmp_path_factory.mktemp("rlib"))
    src = os.path.join(str(tmp_path_factory.mktemp("rsrc")), "r-package")
    shutil.copytree(os.path.join(ROOT, "r-package"), src,
                    ignore=shutil.ignore_patterns("*.o", "*.so", "Makevars", "config.log"))
    p = subprocess.run(["R", "CMD", "INSTALL", "--no-test-load", "-l", libdir, src],
                       env=dict(os.environ, MX_HOME=home), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        pytest.fail("installing the R package failed:\n" + p.stdout[-4000:])
    return libdir


@pytest.fixture
def run_r(r_lib):
    """run_r(script, *args) -> dict of the 'RESULT key=value' lines the R script prints."""
    def run(script, *args):
        env = dict(os.environ, R_LIBS=r_lib + os.pathsep + os.environ.get("R_LIBS", ""))
        p = subprocess.run(["Rscript", os.path.join(HERE, "r", script)] + [str(a) for a in args],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=900)
        sys.stdout.write(p.stdout)
        if p.returncode != 0:
            pytest.fail("Rscript %s failed (%d):\n%s" % (script, p.returncode, p.stdout[-4000:]))
        out = {}
        for line in p.stdout.splitlines():
            if line.startswith("RESULT "):
                k, _, v = line[7:].partition("=")
                out[k.strip()] = v.strip()
        return out
    return run


def fashion_mnist(kind, n):
    """First n images (float32 / 255, shape (n, 784)) and labels of the IDX gz files."""
    pre = "train" if kind == "train" else "t10k"
    ip = os.path.join(FMNIST, "%s-images-idx3-ubyte.gz" % pre)
    lp = os.path.join(FMNIST, "%s-labels-idx1-ubyte.gz" % pre)
    if not (os.path.exists(ip) and os.path.exists(lp)):
        pytest.skip("Fashion-MNIST not found in %s" % FMNIST)
    with gzip.open(ip, "rb") as f:
        imgs = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 784)[:n]
    with gzip.open(lp, "rb") as f:
        labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)[:n]
    return imgs.astype(np.float32) / 255.0, labels.astype(np.float32)


def mlp_symbol():
    data = mx.sym.Variable("data")
    fc1 = mx.sym.FullyConnected(data, num_hidden=64, name="fc1")
    act = mx.sym.Activation(fc1, act_type="relu", name="relu1")
    fc2 = mx.sym.FullyConnected(act, num_hidden=10, name="fc2")
    return mx.sym.SoftmaxOutput(fc2, name="softmax")


def _report(name, diff, identical):
    print("\n[cross-language] %s: max abs diff %.3g, bit-identical %s" % (name, diff, identical))


def test_python_trains_r_predicts(tmp_path, run_r):
    X, y = fashion_mnist("train", 1000)
    Xt, _ = fashion_mnist("test", 200)
    mx.random.seed(1)
    mod = mx.mod.Module(mlp_symbol(), context=mx.cpu())
    mod.fit(mx.io.NDArrayIter(X, y, batch_size=50), num_epoch=2, optimizer="sgd",
            optimizer_params={"learning_rate": 0.1, "momentum": 0.9}, initializer=mx.init.Xavier(),
            eval_metric="acc", batch_end_callback=lambda *a: None)
    prefix = str(tmp_path / "pymlp")
    mod.save_checkpoint(prefix, 2)
    # same batch size as training: Module.predict with another batch size trips over the bound
    # label shape (a Python-side reshape issue, reported separately)
    pred = mod.predict(mx.io.NDArrayIter(Xt, batch_size=50)).asnumpy()
    acc = float((pred.argmax(1) == fashion_mnist("test", 200)[1]).mean())
    assert acc > 0.6, acc
    mx.nd.save(str(tmp_path / "io.nd"), {"data": mx.nd.array(Xt), "pred": mx.nd.array(pred)})
    r = run_r("predict_checkpoint.R", prefix, 2, tmp_path / "io.nd", 50)
    diff = float(r["max_abs_diff"])
    _report("Python trains, R predicts (test acc %.3f)" % acc, diff, r["identical"])
    assert diff <= 1e-6


def test_r_trains_python_predicts(tmp_path, run_r):
    X, y = fashion_mnist("train", 1000)
    Xt, _ = fashion_mnist("test", 200)
    mx.nd.save(str(tmp_path / "train.nd"), {"data": mx.nd.array(X), "label": mx.nd.array(y),
                                            "test": mx.nd.array(Xt)})
    prefix = str(tmp_path / "rmlp")
    r = run_r("train_feedforward.R", tmp_path / "train.nd", prefix, 2, tmp_path / "rpred.nd")
    assert float(r["train_acc"]) > 0.6
    rpred = mx.nd.load(str(tmp_path / "rpred.nd"))["pred"].asnumpy()
    mod = mx.mod.Module.load(prefix, 2, context=mx.cpu())
    mod.bind(data_shapes=[("data", (100, 784))], for_training=False)
    pred = mod.predict(mx.io.NDArrayIter(Xt, batch_size=100)).asnumpy()
    # the same through load_checkpoint + simple_bind
    sym, args, auxs = mx.model.load_checkpoint(prefix, 2)
    ex = sym.simple_bind(mx.cpu(), grad_req="null", data=(200, 784))
    ex.copy_params_from(args, auxs, allow_extra_params=True)
    ex.arg_dict["data"][:] = mx.nd.array(Xt)
    pred2 = ex.forward(is_train=False)[0].asnumpy()
    diff = float(np.abs(pred - rpred).max())
    _report("R trains, Python predicts", diff, bool(np.array_equal(pred, rpred)))
    assert diff <= 1e-6
    assert float(np.abs(pred2 - rpred).max()) <= 1e-5


def test_adam_resume_python_to_r(tmp_path, run_r):
    X, y = fashion_mnist("train", 400)
    bs, hp = 50, {"learning_rate": 0.01, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}

    def train(mod, epochs, begin=0):
        mod.fit(mx.io.NDArrayIter(X, y, batch_size=bs), num_epoch=epochs, begin_epoch=begin,
                optimizer="adam", optimizer_params=hp, initializer=mx.init.Xavier(),
                batch_end_callback=lambda *a: None)

    mx.random.seed(3)
    mod = mx.mod.Module(mlp_symbol(), context=mx.cpu())
    train(mod, 1)  # N = 8 steps
    prefix = str(tmp_path / "adam")
    mod.save_checkpoint(prefix, 1, save_optimizer_states=True)
    assert os.path.exists(prefix + "-0001.states")
    train(mod, 2, begin=1)  # N more steps in Python alone
    ref = {k: v for k, v in mod.get_params()[0].items()}
    mx.nd.save(str(tmp_path / "data.nd"), {"data": mx.nd.array(X), "label": mx.nd.array(y)})
    r = run_r("resume_adam.R", prefix, 1, tmp_path / "data.nd", bs, hp["learning_rate"],
              tmp_path / "rw.nd")
    rw = mx.nd.load(str(tmp_path / "rw.nd"))
    diff = max(float(np.abs(rw[k].asnumpy() - ref[k].asnumpy()).max()) for k in ref)
    ident = all(np.array_equal(rw[k].asnumpy(), ref[k].asnumpy()) for k in ref)
    _report("Adam: Python N steps + R N steps vs Python 2N", diff, ident)
    assert diff <= 1e-6


def test_same_seed_same_streams(tmp_path, run_r):
    mx.random.seed(7)
    w = mx.nd.zeros((64, 784))
    mx.init.Xavier()(mx.init.InitDesc("fc1_weight"), w)
    u = mx.nd.zeros((10, 64))
    mx.init.Uniform(0.07)(mx.init.InitDesc("fc2_weight"), u)
    x = mx.nd.ones((8, 50))
    with mx.autograd.record():
        d = mx.nd.Dropout(x, p=0.5)
    f = str(tmp_path / "py.nd")
    mx.nd.save(f, {"xavier": w, "uniform": u, "dropout": d})
    r = run_r("seed_streams.R", f)
    for k in ("xavier", "uniform", "dropout"):
        print("\n[cross-language] seed 7 %s: max abs diff %s, identical %s" % (k, r[k + "_diff"], r[k + "_identical"]))
        assert float(r[k + "_diff"]) == 0.0
    assert r["dropout_identical"] == "TRUE"


@pytest.mark.parametrize("name", ["mlp", "lenet"])
def test_r_reads_mxnet_191_files(tmp_path, run_r, name):
    d = os.path.join(MXNET_DATA, name)
    inputs = np.load(os.path.join(d, "inputs.npy"))
    outputs = np.load(os.path.join(d, "outputs.npy"))
    f = str(tmp_path / "io.nd")
    mx.nd.save(f, {"data": mx.nd.array(inputs), "pred": mx.nd.array(outputs)})
    r = run_r("predict_checkpoint.R", os.path.join(d, name), 2, f, len(inputs), "1e-4", "1e-5")
    print("\n[cross-language] R predicts MXNet 1.9.1 %s: max abs diff %s" % (name, r["max_abs_diff"]))
    assert r["allclose"] == "TRUE"
