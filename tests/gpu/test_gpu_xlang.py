"""A model trained in Python on the GPU, then used by the other front ends (issue 12):
* its checkpoint (weights + Adam state) resumed on the CPU in R gives the weights Python gets
  resuming it on the CPU;
* R and Julia predict with it on the GPU (mx.ctx.gpu(0) / MX.gpu(0)) what Python predicted on the GPU.
The R and Julia halves run where Rscript (and the build's install prefix) / Julia exist and skip
with the reason elsewhere (the device machines' bundle run has neither). Under the CPU emulation
(MX_GPU_TESTS_ON_CPU=1) Python's "GPU" is the CPU and R/Julia are told to use the CPU, which
checks these tests' own code."""
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
GPU = mx.gpu(0) if mx.context.num_gpus() > 0 else None
DEVICE = "cpu" if os.environ.get("MX_GPU_TESTS_ON_CPU") == "1" else "gpu"
BS, HP = 20, {"learning_rate": 0.01, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}


def _mlp():
    data = mx.sym.Variable("data")
    h = mx.sym.Activation(mx.sym.FullyConnected(data, num_hidden=32, name="fc1"), act_type="relu", name="relu1")
    return mx.sym.SoftmaxOutput(mx.sym.FullyConnected(h, num_hidden=4, name="fc2"), name="softmax")


def _fit(mod, X, y, begin, end):
    mod.fit(mx.io.NDArrayIter(X, y, batch_size=BS), begin_epoch=begin, num_epoch=end, optimizer="adam",
            optimizer_params=HP, initializer=mx.init.Xavier(), batch_end_callback=lambda *a: None)


@pytest.fixture(scope="module")
def ckpt():
    """Python trains one epoch on the GPU and writes prefix py-0001 (with the Adam state) and its
    GPU prediction of Xt."""
    rng = np.random.RandomState(0)
    X = rng.randn(200, 12).astype(np.float32)
    y = np.argmax(X[:, :4] + 0.3 * rng.randn(200, 4), axis=1).astype(np.float32)
    Xt = rng.randn(40, 12).astype(np.float32)
    d = pathlib.Path(tempfile.mkdtemp(prefix="mx_gpu_xlang_"))
    mx.random.seed(5)
    mod = mx.mod.Module(_mlp(), context=GPU)
    _fit(mod, X, y, 0, 1)
    prefix = str(d / "py")
    mod.save_checkpoint(prefix, 1, save_optimizer_states=True)
    assert os.path.exists(prefix + "-0001.states")
    pred = mod.predict(mx.io.NDArrayIter(Xt, batch_size=10))
    assert pred.context == GPU
    pred = pred.asnumpy()
    mx.nd.save(str(d / "data.nd"), {"data": mx.nd.array(X), "label": mx.nd.array(y)})
    mx.nd.save(str(d / "io.nd"), {"data": mx.nd.array(Xt), "pred": mx.nd.array(pred)})
    for name, a in (("Xt", Xt),):
        np.ascontiguousarray(a).tofile(str(d / (name + ".bin")))
        (d / (name + ".shape")).write_text(",".join(str(s) for s in a.shape))
    yield dict(dir=d, prefix=prefix, X=X, y=y, Xt=Xt, pred=pred)
    shutil.rmtree(str(d), ignore_errors=True)


@pytest.fixture(scope="module")
def run_r(tmp_path_factory):
    if shutil.which("Rscript") is None:
        pytest.skip("Rscript not found: the R half runs on a GPU machine with R and the build environment")
    home = os.environ.get("MX_HOME") or str(ROOT / "build" / "install")
    if not os.path.exists(os.path.join(home, "include", "mx", "c_api.h")):
        pytest.skip("no MX install prefix at %s (make build makes it; or set MX_HOME)" % home)
    libdir = os.environ.get("MX_R_LIB")
    if not libdir:
        libdir = str(tmp_path_factory.mktemp("rlib"))
        src = os.path.join(str(tmp_path_factory.mktemp("rsrc")), "r-package")
        shutil.copytree(str(ROOT / "r-package"), src, ignore=shutil.ignore_patterns("*.o", "*.so", "Makevars", "config.log"))
        p = subprocess.run(["R", "CMD", "INSTALL", "--no-test-load", "-l", libdir, src], env=dict(os.environ, MX_HOME=home),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert p.returncode == 0, "installing the R package failed:\n" + p.stdout[-4000:]

    def run(script, *args):
        env = dict(os.environ, R_LIBS=libdir + os.pathsep + os.environ.get("R_LIBS", ""))
        p = subprocess.run(["Rscript", script] + [str(a) for a in args], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=600)
        assert p.returncode == 0, "Rscript %s failed (%d):\n%s" % (script, p.returncode, p.stdout[-4000:])
        return {k.strip(): v.strip() for k, _, v in (l[7:].partition("=") for l in p.stdout.splitlines()
                                                      if l.startswith("RESULT "))}
    return run


def test_python_gpu_checkpoint_resumed_on_cpu_in_r(ckpt, run_r):
    # Python's own CPU resume of the GPU checkpoint is the reference (same CPU kernels as R's).
    ref_mod = mx.mod.Module.load(ckpt["prefix"], 1, load_optimizer_states=True, context=mx.cpu())
    _fit(ref_mod, ckpt["X"], ckpt["y"], 1, 2)
    ref = ref_mod.get_params()[0]
    out = ckpt["dir"] / "rw.nd"
    run_r(str(ROOT / "tests" / "cross_language" / "r" / "resume_adam.R"), ckpt["prefix"], 1, ckpt["dir"] / "data.nd",
          BS, HP["learning_rate"], out)
    rw = mx.nd.load(str(out))
    assert sorted(rw) == sorted(ref)
    diff = max(float(np.abs(rw[k].asnumpy() - ref[k].asnumpy()).max()) for k in ref)
    moved = max(float(np.abs(rw[k].asnumpy() - v.asnumpy()).max())
                for k, v in mx.model.load_checkpoint(ckpt["prefix"], 1)[1].items())
    print("\n[gpu xlang] GPU checkpoint + 1 epoch Adam on the CPU: R vs Python max |diff| %g (weights moved %g)"
          % (diff, moved))
    assert moved > 1e-4 and diff <= 1e-6


def test_r_predicts_on_gpu(ckpt, run_r):
    r = run_r(str(HERE / "r" / "predict_on_device.R"), ckpt["prefix"], 1, ckpt["dir"] / "io.nd", 10, DEVICE)
    print("\n[gpu xlang] R predicts on %s: max |diff| to Python's GPU prediction %s" % (r["device"], r["max_abs_diff"]))
    assert r["device"] == DEVICE and float(r["max_abs_diff"]) <= 1e-5


def _julia():
    j = os.environ.get("JULIA")
    if j and os.path.exists(j):
        return j
    p = ROOT / "build" / "julia" / "bin" / "julia"
    return str(p) if p.exists() else shutil.which("julia")


def test_julia_predicts_on_gpu(ckpt):
    julia = _julia()
    if not julia:
        pytest.skip("Julia not found: the Julia half runs on a GPU machine with Julia (tools/julia/install_julia.sh)")
    p = subprocess.run([julia, "--startup-file=no", "--project=" + str(ROOT / "julia"), str(HERE / "julia" / "predict_on_device.jl"),
                        str(ckpt["dir"]), DEVICE], capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stdout + p.stderr
    d = ckpt["dir"]
    shp = tuple(int(s) for s in (d / "jl_pred.shape").read_text().strip().split(","))
    jl = np.fromfile(str(d / "jl_pred.bin"), dtype=np.float32).reshape(shp)
    diff = float(np.abs(jl - ckpt["pred"]).max())
    print("\n[gpu xlang] Julia predicts on %s: max |diff| to Python's GPU prediction %g" % (DEVICE, diff))
    assert jl.shape == ckpt["pred"].shape and diff <= 1e-5
