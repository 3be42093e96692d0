"""Cross-language checks between the Python and Julia front ends (julia_cross.jl is the Julia half).

* a checkpoint written by Python predicts the same numbers in Julia;
* a checkpoint written by Julia predicts the same numbers in Python;
* Python's Adam state (prefix-0002.states) resumed in Julia gives the weights of uninterrupted
  Python training;
* MX.seed!(7) and mx.random.seed(7) give the same initial weights.

Needs Julia (tools/julia/install_julia.sh, or JULIA=/path/to/julia) and MX_LIBRARY pointing at the
libmx both sides use; skipped when Julia is missing.
"""
import os
import pathlib
import shutil
import subprocess
import tempfile

import numpy as np
import pytest

import mx

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent
TOL = 1e-6


def _julia():
    j = os.environ.get("JULIA")
    if j and os.path.exists(j):
        return j
    p = ROOT / "build" / "julia" / "bin" / "julia"
    if p.exists():
        return str(p)
    return shutil.which("julia")


def _writebin(d, name, a):
    a = np.ascontiguousarray(a, dtype=np.float32)
    a.tofile(str(d / (name + ".bin")))
    (d / (name + ".shape")).write_text(",".join(str(s) for s in a.shape))


def _readbin(d, name):
    shp = tuple(int(s) for s in (d / (name + ".shape")).read_text().strip().split(","))
    return np.fromfile(str(d / (name + ".bin")), dtype=np.float32).reshape(shp)


def _net():
    data = mx.sym.Variable("data")
    fc1 = mx.sym.FullyConnected(data, num_hidden=16, name="fc1")
    act = mx.sym.Activation(fc1, act_type="relu", name="relu1")
    fc2 = mx.sym.FullyConnected(act, num_hidden=3, name="fc2")
    return mx.sym.SoftmaxOutput(fc2, name="softmax")


def _data():
    rs = np.random.RandomState(0)
    X = rs.randn(60, 4).astype(np.float32)
    Y = (np.argmax(X[:, :3], axis=1)).astype(np.float32)
    Xt = rs.randn(20, 4).astype(np.float32)
    return X, Y, Xt


def _train(X, Y, epochs):
    mx.random.seed(7)
    it = mx.io.NDArrayIter(X, Y, batch_size=10, shuffle=False)
    mod = mx.mod.Module(_net(), context=mx.cpu())
    mod.fit(it, num_epoch=epochs, optimizer="adam", optimizer_params={"learning_rate": 0.01},
            initializer=mx.init.Xavier(magnitude=2.0))
    return mod


def _predict(sym, arg, aux, Xt):
    mod = mx.mod.Module(sym, context=mx.cpu())
    mod.bind(data_shapes=[("data", (10, Xt.shape[1]))], for_training=False)
    mod.set_params(arg, aux)
    return mod.predict(mx.io.NDArrayIter(Xt, batch_size=10)).asnumpy()


@pytest.fixture(scope="module")
def run():
    julia = _julia()
    if not julia:
        pytest.skip("Julia is not installed (tools/julia/install_julia.sh)")
    # a private folder: pytest's shared basetemp may be pruned by concurrent pytest runs
    d = pathlib.Path(tempfile.mkdtemp(prefix="mx_julia_cross_"))
    X, Y, Xt = _data()
    for n, a in (("X", X), ("Y", Y), ("Xt", Xt)):
        _writebin(d, n, a)
    mod = _train(X, Y, 2)
    mod.save_checkpoint(str(d / "py"), 2, save_optimizer_states=True)
    full = _train(X, Y, 4)
    env = dict(os.environ)
    r = subprocess.run([julia, "--startup-file=no", "--project=" + str(ROOT / "julia"),
                        str(HERE / "julia_cross.jl"), str(d)], env=env, capture_output=True, text=True,
                       timeout=1800)
    assert r.returncode == 0, r.stdout + r.stderr
    yield d, X, Y, Xt, full
    shutil.rmtree(str(d), ignore_errors=True)


def _maxdiff(a, b):
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))))


def test_python_checkpoint_predicts_same_in_julia(run):
    d, X, Y, Xt, _ = run
    sym, arg, aux = mx.model.load_checkpoint(str(d / "py"), 2)
    py = _predict(sym, arg, aux, Xt)
    jl = _readbin(d, "jl_pred_of_py")
    diff = _maxdiff(py, jl)
    print("python ckpt -> julia predict: max |diff| = %g, bit-identical: %s" % (diff, np.array_equal(py, jl)))
    assert jl.shape == py.shape
    assert diff <= TOL


def test_julia_checkpoint_predicts_same_in_python(run):
    d, X, Y, Xt, _ = run
    sym, arg, aux = mx.model.load_checkpoint(str(d / "jl"), 4)
    py = _predict(sym, arg, aux, Xt)
    jl = _readbin(d, "jl_pred_own")
    diff = _maxdiff(py, jl)
    print("julia ckpt -> python predict: max |diff| = %g, bit-identical: %s" % (diff, np.array_equal(py, jl)))
    assert diff <= TOL
    assert os.path.exists(str(d / "jl-0004.states"))


def test_adam_state_resumes_in_julia(run):
    d, X, Y, Xt, full = run
    want, _ = full.get_params()
    _, got, _ = mx.model.load_checkpoint(str(d / "jl"), 4)
    assert sorted(want) == sorted(got)
    worst = max(_maxdiff(want[k].asnumpy(), got[k].asnumpy()) for k in want)
    same = all(np.array_equal(want[k].asnumpy(), got[k].asnumpy()) for k in want)
    print("adam resume python 2 epochs + julia 2 epochs vs python 4 epochs: max |diff| = %g, bit-identical: %s"
          % (worst, same))
    assert worst <= TOL


def test_same_seed_same_initial_weights(run):
    d, X, Y, Xt, _ = run
    mx.random.seed(7)
    mod = mx.mod.Module(_net(), context=mx.cpu())
    mod.bind(data_shapes=[("data", (10, 4))], label_shapes=[("softmax_label", (10,))])
    mod.init_params(initializer=mx.init.Xavier(magnitude=2.0))
    want, _ = mod.get_params()
    got, _ = mx.model.load_params(str(d / "jlinit"), 0)
    assert sorted(want) == sorted(got)
    worst = max(_maxdiff(want[k].asnumpy(), got[k].asnumpy()) for k in want)
    same = all(np.array_equal(want[k].asnumpy(), got[k].asnumpy()) for k in want)
    print("seed 7 initial weights python vs julia: max |diff| = %g, bit-identical: %s" % (worst, same))
    assert worst <= TOL
    assert any(float(np.abs(v.asnumpy()).max()) > 0 for v in got.values())
