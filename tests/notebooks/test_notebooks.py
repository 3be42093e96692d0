"""Execute every tutorial notebook in docs/tutorials with nbclient; a cell error fails its test.

Run by `make test-notebooks` (suite.notebooks) after `make build`. Notebooks run in name order in
one working folder, build/notebooks/ (04b reads what 04a wrote), and the executed copies are kept in
build/notebooks/executed/ (the documentation site renders those when they exist). Python notebooks
use this interpreter's ipykernel; R notebooks the Debian IRkernel, registered here into
build/jupyter (JUPYTER_PATH), never into the user's Jupyter folders. The R package is installed
into build/rlib and Julia is the private one tools/julia/install_julia.sh provides.
"""
import glob
import os
import shutil
import subprocess
import time

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("BUILD_DIR", "build"))
WORK = os.path.join(BUILD, "notebooks")
EXECUTED = os.path.join(WORK, "executed")
NOTEBOOKS = sorted(glob.glob(os.path.join(ROOT, "docs", "tutorials", "*.ipynb")))
# Each notebook is written to finish in under a minute on two idle cores; the cap is twice that so a
# busy machine does not fail the suite, while a notebook that grew far past its budget still does.
TIME_CAP_S = float(os.environ.get("MX_NOTEBOOK_TIME_CAP", "120"))
TIMES = {}


def _kernel(path):
    return nbformat.read(path, as_version=4).metadata.get("kernelspec", {}).get("name", "python3")


def _register_irkernel():
    """Copy IRkernel's kernel spec into build/jupyter/kernels/ir (found through JUPYTER_PATH)."""
    src = subprocess.run(["Rscript", "-e", 'cat(system.file("kernelspec", package = "IRkernel"))'],
                         stdout=subprocess.PIPE, text=True).stdout.strip()
    if not src or not os.path.isfile(os.path.join(src, "kernel.json")):
        pytest.fail("R notebooks need IRkernel (Debian r-cran-irkernel; `make deps` installs it)")
    dst = os.path.join(BUILD, "jupyter", "kernels", "ir")
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)


def _install_r_package():
    rlib = os.path.join(BUILD, "rlib")
    os.makedirs(rlib, exist_ok=True)
    log = os.path.join(WORK, "r-install.log")
    with open(log, "w") as f:
        r = subprocess.run(["R", "CMD", "INSTALL", "--preclean", "-l", rlib, os.path.join(ROOT, "r-package")],
                           stdout=f, stderr=subprocess.STDOUT,
                           env=dict(os.environ, MX_HOME=os.path.join(BUILD, "install")))
    if r.returncode != 0:
        pytest.fail("installing the R package for the R notebooks failed; see %s" % log)
    return rlib


def _julia():
    r = subprocess.run([os.path.join(ROOT, "tools", "julia", "install_julia.sh")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    path = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
    if r.returncode != 0 or not os.path.isfile(path):
        pytest.fail("notebook 4b predicts in Julia, and Julia could not be installed:\n" + r.stderr[-2000:])
    return path


@pytest.fixture(scope="session")
def kernel_env():
    if not os.path.isfile(os.path.join(ROOT, "python", "mx", "libmx.so")):
        pytest.fail("run `make build` first (python/mx/libmx.so is missing)")
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(EXECUTED)
    env = {"PYTHONPATH": os.path.join(ROOT, "python"),
           "MX_LIBRARY": os.path.join(BUILD, "libmx.so"),
           "MX_HOME": os.path.join(BUILD, "install"),
           "MX_ROOT": ROOT,
           "JUPYTER_PATH": os.path.join(BUILD, "jupyter"),
           "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    if any(_kernel(p) == "ir" for p in NOTEBOOKS):
        _register_irkernel()
        env["R_LIBS"] = _install_r_package()
        env["MX_JULIA"] = _julia()
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # kernels inherit this process's environment
    yield env
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[os.path.basename(p) for p in NOTEBOOKS])
def test_notebook_runs(path, kernel_env):
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name=_kernel(path),
                                     resources={"metadata": {"path": WORK}})
    start = time.time()
    try:
        client.execute()
    finally:
        TIMES[os.path.basename(path)] = time.time() - start
        nbformat.write(nb, os.path.join(EXECUTED, os.path.basename(path)))
    elapsed = TIMES[os.path.basename(path)]
    assert elapsed < TIME_CAP_S, "%s took %.0f s (budget: under a minute on two cores)" % (path, elapsed)
    images = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    outputs = sum(len(c.outputs) for c in nb.cells if c.cell_type == "code")
    assert outputs > 0, "%s printed nothing" % path
    if "fashion_mnist" in path:
        assert images >= 4, "%s: expected the sample, curve, confusion-matrix and misclassified plots" % path
