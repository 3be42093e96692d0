"""Julia finds the Python package's libmx and installs offline:

* `Pkg.develop(path="julia")` in a fresh depot with JULIA_PKG_OFFLINE=true (the private Julia's
  libgit2 needs libhttp_parser.so.2.9, and its wrapper carries an empty registry so Pkg does not
  clone General);
* with MX_LIBRARY unset, `using MX` loads the libmx that `python3 -m mx --libdir` names (here the
  in-place build in python/mx, through MX_PYTHON).
Skipped without the private Julia (tools/julia/install_julia.sh)."""
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
JULIA = ROOT / "build" / "julia" / "bin" / "julia"

SCRIPT = textwrap.dedent("""
    using Pkg
    Pkg.develop(path=ARGS[1])
    using MX
    println("LIB=", MX.libmx_path())
    x = MX.nd.ones((2, 3))
    println("TYPE=", typeof(x))
    println("SUM=", sum(Array(x)))
""")


@pytest.mark.skipif(not JULIA.exists(), reason="no private Julia in build/julia")
def test_pkg_develop_offline_in_fresh_depot_finds_python_libmx(tmp_path):
    py = tmp_path / "python3"
    py.write_text("#!/bin/sh\nPYTHONPATH=%s exec %s \"$@\"\n" % (ROOT / "python", sys.executable))
    py.chmod(0o755)
    (tmp_path / "env").mkdir()
    script = tmp_path / "dev.jl"
    script.write_text(SCRIPT)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MX_", "JULIA_"))}
    env.update(JULIA_DEPOT_PATH=str(tmp_path / "depot"), JULIA_PKG_OFFLINE="true",
               JULIA_PROJECT=str(tmp_path / "env"), MX_PYTHON=str(py))
    r = subprocess.run([str(JULIA), "--startup-file=no", str(script), str(ROOT / "julia")], env=env,
                       cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stdout[-3000:]
    assert "Cloning registry" not in r.stdout
    lines = dict(l.split("=", 1) for l in r.stdout.splitlines() if "=" in l and l.split("=")[0].isupper())
    assert os.path.realpath(lines["LIB"]) == os.path.realpath(str(ROOT / "python" / "mx" / "libmx.so"))
    assert lines["TYPE"].startswith("NDArray{Float32,2}")
    assert float(lines["SUM"]) == 6.0
    assert (tmp_path / "env" / "Manifest.toml").read_text().count('path = "%s"' % (ROOT / "julia")) == 1
