"""The manylinux wheel end to end (`make test-wheel`, which builds it first into dist/):

* `auditwheel show` calls it manylinux, and it carries libpng/libjpeg/libgomp/OpenBLAS in mx.libs/
  (zlib belongs to the manylinux baseline that every such system has);
* installed into a fresh venv (no pip inside: pip runs from its own wheel), a tiny Gluon model
  trains, is saved, reloaded and predicts; PNG and JPEG decode with the bundled codecs;
* `ldd` of the installed libmx resolves no codec or OpenMP library from the system;
* `python -m mx --libdir/--includedir/--pkgconfig` give a C program everything to build and run;
* R's configure finds that libmx through `python3 -m mx` (MX_HOME unset) and the package works
  from a fresh library; Julia's loader finds it the same way from a fresh depot.
"""
import glob
import io
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
WHEEL_DIR = pathlib.Path(os.environ.get("MX_WHEEL_DIR", ROOT / "dist"))
JULIA = ROOT / "build" / "julia" / "bin" / "julia"
SYSTEM_LIBS = ("libpng", "libjpeg", "libgomp", "libscipy_openblas")


def _wheel():
    found = sorted(glob.glob(str(WHEEL_DIR / "mx-*manylinux*.whl")))
    assert found, "no manylinux wheel in %s: run `make wheel` (or `make test-wheel`)" % WHEEL_DIR
    return pathlib.Path(found[-1])


def _run(cmd, env=None, cwd=None, timeout=900):
    r = subprocess.run([str(c) for c in cmd], env=env, cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=timeout)
    assert r.returncode == 0, "%s failed:\n%s" % (" ".join(map(str, cmd)), r.stdout[-4000:])
    return r.stdout


def _clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MX_", "JULIA_", "R_LIBS")) and k not in ("PYTHONPATH", "LD_LIBRARY_PATH")}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    """A fresh venv without pip; the wheel installed with pip run from pip's own wheel."""
    d = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", "--without-pip", d / "v"])
    py = d / "v" / "bin" / "python"
    import ensurepip
    pipwhl = glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), "_bundled", "pip-*.whl"))[0]
    pip = [py, os.path.join(pipwhl, "pip"), "install", "-q", "--disable-pip-version-check"]
    _run(pip + ["--no-deps", _wheel()], env=_clean_env())
    with zipfile.ZipFile(_wheel()) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        deps = [l.split(":", 1)[1].strip() for l in z.read(meta).decode().splitlines()
                if l.startswith("Requires-Dist:") and "extra ==" not in l]
    _run(pip + deps, env=_clean_env())   # numpy, cffi, scipy-openblas32 from the package index
    return py


def test_auditwheel_calls_it_manylinux_and_it_bundles_codecs_and_openmp():
    out = " ".join(_run([sys.executable, "-m", "auditwheel", "show", _wheel()]).split())
    assert re.search(r'is consistent with the following platform tag: "manylinux_\d+_\d+_x86_64"', out), out
    with zipfile.ZipFile(_wheel()) as z:
        libs = [os.path.basename(n) for n in z.namelist() if n.startswith("mx.libs/")]
    for prefix in SYSTEM_LIBS:
        assert any(l.startswith(prefix) for l in libs), (prefix, libs)


def test_installed_libmx_needs_no_system_codecs_or_openmp(venv):
    site = _run([venv, "-c", "import mx, os; print(os.path.dirname(mx.__file__))"], env=_clean_env(),
                cwd="/").strip()
    assert site.startswith(str(venv.parents[1])), site
    for lib in [os.path.join(site, "libmx.so")] + glob.glob(os.path.join(site, "_mx_cffi*.so")):
        ldd = _run(["ldd", lib])
        for line in ldd.splitlines():
            if any(line.strip().startswith(p) for p in SYSTEM_LIBS):
                assert "mx.libs" in line, "%s resolves %s from the system" % (lib, line.strip())
        assert "not found" not in ldd


def test_tiny_model_trains_saves_and_predicts_from_the_venv(venv, tmp_path):
    from PIL import Image
    rs = np.random.RandomState(0)
    img = rs.randint(0, 256, size=(7, 5, 3)).astype(np.uint8)
    for fmt in ("png", "jpeg"):
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, format=fmt.upper(), quality=95)
        (tmp_path / ("img." + fmt)).write_bytes(buf.getvalue())
        np.save(tmp_path / ("img_%s.npy" % fmt), np.asarray(Image.open(io.BytesIO(buf.getvalue()))))
    script = textwrap.dedent("""
        import json, sys
        import numpy as np
        import mx
        from mx import autograd, gluon
        d = sys.argv[1]
        rs = np.random.RandomState(1)
        X = rs.randn(200, 4).astype(np.float32)
        y = (X[:, 0] + X[:, 1] > 0).astype(np.float32)
        net = gluon.nn.HybridSequential()
        net.add(gluon.nn.Dense(16, activation="relu"), gluon.nn.Dense(2))
        net.initialize(mx.init.Xavier())
        net.hybridize()
        loss = gluon.loss.SoftmaxCrossEntropyLoss()
        tr = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.05})
        for epoch in range(20):
            for i in range(0, 200, 50):
                xb, yb = mx.nd.array(X[i:i + 50]), mx.nd.array(y[i:i + 50])
                with autograd.record():
                    l = loss(net(xb), yb)
                l.backward()
                tr.step(50)
        net.export(d + "/tiny")
        blk = gluon.SymbolBlock.imports(d + "/tiny-symbol.json", ["data"], d + "/tiny-0000.params")
        pred = blk(mx.nd.array(X)).asnumpy()
        dec = {f: gluon.data.vision.datasets.imdecode(open(d + "/img." + f, "rb").read()).asnumpy().tolist()
               for f in ("png", "jpeg")}
        json.dump({"file": mx.__file__, "acc": float((pred.argmax(1) == y).mean()),
                   "same": bool(np.array_equal(pred, net(mx.nd.array(X)).asnumpy())), "dec": dec},
                  open(d + "/out.json", "w"))
    """)
    (tmp_path / "run.py").write_text(script)
    _run([venv, tmp_path / "run.py", tmp_path], env=_clean_env(), cwd="/")
    out = json.loads((tmp_path / "out.json").read_text())
    assert out["file"].startswith(str(venv.parents[1]))
    assert out["acc"] > 0.9 and out["same"]
    assert np.array_equal(np.array(out["dec"]["png"], np.uint8), np.load(tmp_path / "img_png.npy"))
    jpeg = np.array(out["dec"]["jpeg"], np.int16) - np.load(tmp_path / "img_jpeg.npy")
    assert np.abs(jpeg).max() <= 2


def test_python_m_mx_paths_build_a_c_program(venv, tmp_path):
    env = _clean_env()
    libdir = _run([venv, "-m", "mx", "--libdir"], env=env, cwd="/").strip()
    incdir = _run([venv, "-m", "mx", "--includedir"], env=env, cwd="/").strip()
    pcdir = _run([venv, "-m", "mx", "--pkgconfig"], env=env, cwd="/").strip()
    assert os.path.isfile(os.path.join(libdir, "libmx.so"))
    assert os.path.isfile(os.path.join(incdir, "mx", "c_api.h"))
    flags = _run(["pkg-config", "--cflags", "--libs", "mx"], env=dict(env, PKG_CONFIG_PATH=pcdir)).split()
    version = _run(["pkg-config", "--modversion", "mx"], env=dict(env, PKG_CONFIG_PATH=pcdir)).strip()
    assert version == _run([venv, "-m", "mx", "--version"], env=env, cwd="/").strip()
    src = tmp_path / "abi.c"
    src.write_text("#include <mx/c_api.h>\n#include <stdio.h>\n"
                   "int main(void) { printf(\"%d\\n\", mx_abi_version()); "
                   "return mx_abi_version() == MX_ABI_VERSION ? 0 : 1; }\n")
    _run(["cc", src, "-o", tmp_path / "abi"] + flags)
    assert _run([tmp_path / "abi"], env=env).strip() == "1"


def test_r_package_installs_against_the_pip_installed_core(venv, tmp_path):
    if not shutil.which("R"):
        pytest.fail("R is not installed (make deps installs it)")
    shutil.copytree(ROOT / "r-package", tmp_path / "r-package",
                    ignore=shutil.ignore_patterns("*.o", "*.so", "Makevars"))
    (tmp_path / "rlib").mkdir()
    env = _clean_env(MX_PYTHON=str(venv))
    out = _run(["R", "CMD", "INSTALL", "-l", tmp_path / "rlib", tmp_path / "r-package"], env=env)
    assert "using libmx from %s -m mx" % venv in out
    libdir = _run([venv, "-m", "mx", "--libdir"], env=env, cwd="/").strip()
    r = textwrap.dedent("""
        library(mx)
        x <- mx.nd.array(matrix(1:6, 2, 3))
        y <- as.array(x + 1)
        stopifnot(all(y == matrix(2:7, 2, 3)))
        cat("OK", sum(y), "\\n")
    """)
    res = _run(["Rscript", "-e", r], env=dict(env, R_LIBS=str(tmp_path / "rlib")))
    assert "OK 27" in res
    so = glob.glob(str(tmp_path / "rlib" / "mx" / "libs" / "mx.so"))[0]
    assert os.path.join(libdir, "libmx.so") in _run(["ldd", so])


@pytest.mark.skipif(not JULIA.exists(), reason="no private Julia in build/julia (tools/julia/install_julia.sh)")
def test_julia_finds_the_pip_installed_core_from_a_fresh_depot(venv, tmp_path):
    (tmp_path / "env").mkdir()
    (tmp_path / "t.jl").write_text(textwrap.dedent("""
        using Pkg
        Pkg.develop(path=ARGS[1])
        using MX
        println("LIB=", MX.libmx_path())
        println("SUM=", sum(Array(MX.nd.ones((2, 3)) .+ 1)))
    """))
    env = _clean_env(MX_PYTHON=str(venv), JULIA_DEPOT_PATH=str(tmp_path / "depot"),
                     JULIA_PKG_OFFLINE="true", JULIA_PROJECT=str(tmp_path / "env"))
    out = _run([JULIA, "--startup-file=no", tmp_path / "t.jl", ROOT / "julia"], env=env, cwd=str(tmp_path))
    libdir = _run([venv, "-m", "mx", "--libdir"], env=_clean_env(), cwd="/").strip()
    assert "LIB=" + os.path.join(libdir, "libmx.so") in out
    assert "SUM=12.0" in out
