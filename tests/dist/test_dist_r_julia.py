"""R and Julia: 2-3 workers training an MLP or a small CNN (convolution, relu, max-pool, two
fully-connected layers) with FeedForward.create / MX.fit (kvstore dist_sync), SGD with momentum
or Adam, end with the same parameters as one process training on the concatenated batches."""
import os
import shutil
import subprocess

import pytest

from dist_helpers import PY, ROOT, check_timeline, launch, run_single

BUILD = os.path.join(ROOT, os.environ.get("BUILD_DIR", "build"))


def load_params(path):
    import mx
    return {k.split(":")[-1]: v.asnumpy() for k, v in mx.nd.load(path).items()}


def assert_same(got, want, what):
    import numpy as np
    assert sorted(got) == sorted(want), (what, sorted(got), sorted(want))
    for k in want:
        err = float(np.max(np.abs(got[k] - want[k])))
        assert err <= 1e-6, "%s: parameter %s differs by %g" % (what, k, err)


def r_env():
    lib = os.environ.get("MX_R_LIB", os.path.join(BUILD, "rlib"))
    home = os.environ.get("MX_HOME", os.path.join(BUILD, "install"))
    if not os.path.isdir(os.path.join(lib, "mx")):  # the r suite has not run yet: install it
        os.makedirs(lib, exist_ok=True)
        p = subprocess.run(["R", "CMD", "INSTALL", "-l", lib, "r-package"], cwd=ROOT,
                           env=dict(os.environ, MX_HOME=home), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        assert p.returncode == 0, p.stdout.decode("utf-8", "replace")
    return {"R_LIBS": lib, "MX_HOME": home}


def overlap_env(tmp_path):
    """Overlap on, a bucket per key, and a timeline (closed by the workers) showing it."""
    return {"MX_KVSTORE_OVERLAP": "1", "MX_KVSTORE_BUCKET_BYTES": "64",
            "MX_KVSTORE_TIMELINE": str(tmp_path / "trace.json")}


@pytest.mark.parametrize("opt,n,model,overlap", [("sgd", 2, "mlp", False), ("adam", 3, "mlp", True),
                                                 ("sgd", 3, "lenet", False), ("adam", 2, "lenet", True)])
def test_r_feedforward_dist_sync(tmp_path, opt, n, model, overlap):
    env = r_env()
    ref, dist = str(tmp_path / "ref"), str(tmp_path / "dist")
    script = "tests/dist/worker_train.R"
    rc, out, _ = run_single(["Rscript", script, opt, "local", str(n), ref, model], env=env)
    assert rc == 0, out
    if overlap:  # FeedForward.create reduces with pushpull_grads: during backward, one key a bucket
        env = dict(env, **overlap_env(tmp_path))
    rc, out, _ = launch(n, ["Rscript", script, opt, "dist_sync", str(n), dist, model], env=env)
    assert rc == 0, out
    want = load_params(ref + ".0.params")
    for r in range(n):
        assert_same(load_params("%s.%d.params" % (dist, r)), want, "R %s %s rank %d" % (model, opt, r))
    if overlap:
        check_timeline(tmp_path, n, ("pushpull_grads",))


def julia_exe():
    j = shutil.which("julia")
    if j:
        return j
    p = subprocess.run([os.path.join(ROOT, "tools", "julia", "install_julia.sh")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT)
    lines = p.stdout.decode().strip().splitlines()
    if p.returncode != 0 or not lines:
        pytest.skip("Julia is not available here: the Julia dist test did not run")
    return lines[-1]


# Julia starts slowly (about a minute per job here): two cases cover both optimizers, both
# worker counts and both networks.
@pytest.mark.parametrize("opt,n,model", [("sgd", 2, "mlp"), ("adam", 3, "lenet")])
def test_julia_fit_dist_sync(tmp_path, opt, n, model):
    j = julia_exe()
    env = {"MX_LIBRARY": os.environ.get("MX_LIBRARY", os.path.join(BUILD, "libmx.so"))}
    ref, dist = str(tmp_path / "ref"), str(tmp_path / "dist")
    cmd = [j, "--startup-file=no", "--project=julia", "tests/dist/worker_train.jl", opt]
    rc, out, _ = run_single(cmd + ["local", str(n), ref, model], env=env, timeout=300)
    assert rc == 0, out
    rc, out, _ = launch(n, cmd + ["dist_sync", str(n), dist, model], env=dict(env, **overlap_env(tmp_path)),
                        timeout=300)
    assert rc == 0, out
    want = load_params(ref + ".0-0001.params")
    for r in range(n):
        assert_same(load_params("%s.%d-0001.params" % (dist, r)), want, "Julia %s %s rank %d" % (model, opt, r))
    check_timeline(tmp_path, n, ("pushpull_grads",))  # MX.fit reduced during backward
