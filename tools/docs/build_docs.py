#!/usr/bin/env python3
"""Build the documentation site into BUILD_DIR/docs/html (`make docs`), warnings as errors.

    python3 tools/docs/build_docs.py [--build-dir build] [--no-julia]

Steps: copy docs/site/ (hand-written pages, conf.py) into BUILD_DIR/docs/src; generate there the
operator reference (op registry), the C ABI reference (c_api.h), the R reference (Rd pages rendered
to HTML), the Julia reference (docstrings, through pandoc) and the tutorials (the executed copies
from BUILD_DIR/notebooks/executed when `make test-notebooks` has run, else the stripped sources);
then sphinx-build -W. Needs `make build` first (the op registry and the Julia package load libmx).
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS = os.path.join(ROOT, "tools", "docs")


def run(cmd, **kw):
    print("build_docs: " + " ".join(cmd), flush=True)
    subprocess.check_call(cmd, **kw)


def rst_title(text, ch="="):
    return [text, ch * len(text), ""]


def r_vignettes(out, build, env):
    """Render r-package/vignettes/*.Rmd to HTML (rmarkdown, Debian) against the package in build/rlib."""
    rlib = os.path.join(build, "rlib")
    if not os.path.isdir(os.path.join(rlib, "mx")):
        os.makedirs(rlib, exist_ok=True)
        run(["R", "CMD", "INSTALL", "--preclean", "-l", rlib, os.path.join(ROOT, "r-package")],
            env=dict(env, MX_HOME=os.path.join(build, "install")), stdout=subprocess.DEVNULL)
    dst = os.path.join(out, "vignettes")
    os.makedirs(dst, exist_ok=True)
    for rmd in sorted(glob.glob(os.path.join(ROOT, "r-package", "vignettes", "*.Rmd"))):
        run(["Rscript", "-e", "rmarkdown::render(commandArgs(TRUE)[1], output_dir = commandArgs(TRUE)[2], "
             "intermediates_dir = tempdir(), quiet = TRUE)", rmd, dst], env=dict(env, R_LIBS=rlib))


def r_reference(src, env, build):
    out = os.path.join(src, "_extra", "r")
    run(["Rscript", os.path.join(TOOLS, "gen_r_reference.R"), os.path.join(ROOT, "r-package", "man"), out], env=env)
    r_vignettes(out, build, env)
    rows = [l.split("\t") for l in open(os.path.join(out, "index.tsv")).read().splitlines() if l]
    lines = rst_title("R reference") + [
        "The help pages of the R package ``mx`` (``r-package/man``), rendered from their Rd sources by "
        "``tools/docs/gen_r_reference.R``. The ``mx.nd.<op>`` pages are generated from the op registry "
        "(``r-package/tools/gen-op-docs.R``), like the :doc:`operators`. In R, ``?mx.nd.Convolution`` "
        "shows the same page.", ""]
    vignettes = sorted(glob.glob(os.path.join(out, "vignettes", "*.html")))
    if vignettes:
        lines += ["Vignettes (``r-package/vignettes``, rendered with knitr/rmarkdown): "
                  + ", ".join("`%s <../r/vignettes/%s>`__" % (os.path.basename(v)[:-5], os.path.basename(v))
                              for v in vignettes) + ".", ""]
    lines += [".. list-table::", "   :header-rows: 1", "   :widths: 35 65", "", "   * - page", "     - title"]
    for f, name, title in rows:
        lines += ["   * - `%s <../r/%s>`__" % (name.replace("`", ""), f), "     - %s" % title.replace("*", "\\*")]
    return lines


def julia_reference(src, env, build):
    jl = subprocess.run([os.path.join(ROOT, "tools", "julia", "install_julia.sh")], stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, text=True)
    julia = jl.stdout.strip().splitlines()[-1] if jl.stdout.strip() else ""
    if jl.returncode != 0 or not os.path.isfile(julia):
        sys.exit("build_docs: the Julia reference needs Julia (tools/julia/install_julia.sh failed):\n" + jl.stderr[-1500:])
    md = os.path.join(src, "_julia_reference.md")
    run([julia, "--startup-file=no", "--project=" + os.path.join(ROOT, "julia"),
         os.path.join(TOOLS, "gen_julia_reference.jl"), md],
        env=dict(env, MX_LIBRARY=os.path.join(build, "libmx.so")))
    rst = subprocess.check_output(["pandoc", "-f", "markdown", "-t", "rst", md], text=True)
    os.remove(md)
    return rst.splitlines()


def _same_cells(executed, source):
    """Whether an executed copy was run from the current source (same cells, outputs aside)."""
    def cells(path):
        with open(path, encoding="utf-8") as f:
            nb = json.load(f)
        return [(c["cell_type"], "".join(c["source"]) if isinstance(c["source"], list) else c["source"])
                for c in nb["cells"]]
    return cells(executed) == cells(source)


def tutorials(src, build):
    dst = os.path.join(src, "tutorials")
    os.makedirs(dst, exist_ok=True)
    executed = os.path.join(build, "notebooks", "executed")
    names = sorted(os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "docs", "tutorials", "*.ipynb")))
    n_exec = 0
    for n in names:
        e = os.path.join(executed, n)
        if os.path.isfile(e) and _same_cells(e, os.path.join(ROOT, "docs", "tutorials", n)):
            shutil.copy(e, dst)
            n_exec += 1
        else:
            shutil.copy(os.path.join(ROOT, "docs", "tutorials", n), dst)
    note = ("The notebooks below were executed by the notebooks suite (``make test-notebooks``, "
            "``tests/notebooks``) when this site was built; the sources in ``docs/tutorials`` are kept "
            "without outputs." if n_exec == len(names) else
            "**%d of %d notebooks are shown without outputs**: run ``make test-notebooks`` before "
            "``make docs`` to render the executed copies." % (len(names) - n_exec, len(names)))
    lines = rst_title("Tutorials") + [note, "", ".. toctree::", "   :maxdepth: 1", ""]
    lines += ["   " + n[:-len(".ipynb")] for n in names]
    with open(os.path.join(dst, "index.rst"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("build_docs: %d tutorials (%d executed copies)" % (len(names), n_exec))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-dir", default=os.environ.get("BUILD_DIR", "build"))
    a = ap.parse_args()
    build = os.path.join(ROOT, a.build_dir) if not os.path.isabs(a.build_dir) else a.build_dir
    if not os.path.isfile(os.path.join(ROOT, "python", "mx", "libmx.so")):
        sys.exit("build_docs: run `make build` first")
    start = time.time()
    src = os.path.join(build, "docs", "src")
    html = os.path.join(build, "docs", "html")
    shutil.rmtree(src, ignore_errors=True)
    shutil.copytree(os.path.join(ROOT, "docs", "site"), src)
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"), MX_ROOT=ROOT)
    api = os.path.join(src, "api")
    run([sys.executable, os.path.join(TOOLS, "gen_op_reference.py"), api], env=env)
    run([sys.executable, os.path.join(TOOLS, "gen_c_api_reference.py"), os.path.join(api, "c_api.rst")], env=env)
    with open(os.path.join(api, "r.rst"), "w") as f:
        f.write("\n".join(r_reference(src, env, build)) + "\n")
    with open(os.path.join(api, "julia.rst"), "w") as f:
        f.write("\n".join(julia_reference(src, env, build)) + "\n")
    tutorials(src, build)
    shutil.rmtree(html, ignore_errors=True)
    run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", "-d",
         os.path.join(build, "docs", "doctrees"), src, html], env=env)
    print("build_docs: site in %s (%.0f s)" % (os.path.relpath(html, ROOT), time.time() - start))


if __name__ == "__main__":
    main()
