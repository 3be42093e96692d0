#!/usr/bin/env python3
"""Install what MX's build, tests and demo need; fast when everything is already there.

    python tools/install_deps.py [--extras test,bench] [--no-apt] [--check]

Python packages: [build-system].requires plus [project].dependencies plus the chosen
[project.optional-dependencies] groups of pyproject.toml (the one source of truth), into the
interpreter running this script. Only requirements not already satisfied are handed to pip.

Debian packages: APT_PACKAGES below, through apt-get with --no-install-recommends, only when
missing (`apt-get update` first). Failure is not fatal: a clear message says what falls back.
"""
import argparse
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Debian packages by purpose. A failed install only warns: each purpose names its fallback.
APT_PACKAGES = {
    "demo data (Fashion-MNIST IDX files in /usr/share/datasets/fashion-mnist)": {
        "packages": ["dataset-fashion-mnist"],
        "fallback": "the demo trains on scikit-learn's bundled 8x8 digits instead",
    },
    "codecs libmx links when present (CMakeLists.txt: zlib, libpng, libjpeg)": {
        "packages": ["zlib1g-dev", "libpng-dev", "libjpeg-dev"],
        "fallback": "libmx builds without them; .gz and image decoding raise MX_ERR_UNSUPPORTED",
    },
    "libraries the core builds on (CMakeLists.txt: nlohmann/json parser, official DLPack header)": {
        "packages": ["nlohmann-json3-dev", "libdlpack-dev"],
        "fallback": "none: CMake stops and names the missing package",
    },
    "oneDNN CPU kernels (CMakeLists.txt MX_ONEDNN=AUTO: convolution, pooling, BatchNorm, softmax; GNU OpenMP build, same libgomp as libmx)": {
        "packages": ["libdnnl-dev"],
        "fallback": "libmx builds without oneDNN and runs MX's own im2col+BLAS kernels (slower convolutions)",
    },
    "compiler cache (Makefile: rebuilds and extra build folders reuse compiled objects)": {
        "packages": ["ccache"],
        "fallback": "builds compile every file from scratch",
    },
    "network plots (mx.viz.plot_network renders with Graphviz's dot)": {
        "packages": ["graphviz"],
        "fallback": "plot_network returns the Digraph; rendering it to a file fails",
    },
    "sanitizers and fuzzing (make test-asan, make fuzz: clang, ASan/UBSan/libFuzzer runtimes, libomp)": {
        "packages": ["clang", "libclang-rt-dev", "libomp-dev", "llvm"],
        "fallback": "none: the fuzz and asan suites fail without clang",
    },
    "R front end (r-package/: R CMD check, testthat, cross-language tests)": {
        "packages": ["r-base-core", "r-base-dev", "r-cran-testthat", "r-cran-jsonlite", "r-cran-matrix"],
        "fallback": "none: the R and cross-language suites fail without R",
    },
    "tutorial notebooks and documentation site (R notebook kernel, R vignette, nbsphinx)": {
        "packages": ["r-cran-irkernel", "r-cran-knitr", "r-cran-rmarkdown", "pandoc"],
        "fallback": "none: the notebooks and docs suites fail without them",
    },
    "distributed training (kvstore dist_sync: libmpi.so.40 loaded at run time, mpirun; dist suite)": {
        "packages": ["openmpi-bin", "libopenmpi-dev"],
        "fallback": "dist kvstore types raise a clear error naming libmpi; the dist suite fails",
    },
    "Julia's Pkg (libgit2 of the private Julia 1.5.3 loads libhttp_parser.so.2.9: Pkg.develop)": {
        "packages": ["libhttp-parser2.9"],
        "fallback": "Pkg operations fail in the private Julia; julia --project=julia still works",
    },
    # Julia: bookworm has no julia package; tools/julia/install_julia.sh unpacks bullseye's 1.5.3
    # into build/julia when the Julia suite runs.
}


def load_pyproject():
    path = os.path.join(ROOT, "pyproject.toml")
    try:
        import tomllib  # Python >= 3.11
    except ImportError:  # pragma: no cover - Python 3.9/3.10
        try:
            import tomli as tomllib
        except ImportError:
            subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "tomli"])
            import tomli as tomllib
    with open(path, "rb") as f:
        return tomllib.load(f)


def python_requirements(extras):
    py = load_pyproject()
    reqs = list(py.get("build-system", {}).get("requires", []))
    reqs += py["project"].get("dependencies", [])
    groups = py["project"].get("optional-dependencies", {})
    for e in extras:
        if e not in groups:
            sys.exit("install_deps: pyproject.toml has no optional-dependencies group %r (has: %s)"
                     % (e, ", ".join(sorted(groups))))
        reqs += groups[e]
    seen, out = set(), []
    for r in reqs:
        if r not in seen:
            seen.add(r)
            out.append(r)
    return out


def unsatisfied(reqs):
    """The requirements not met by what is installed (all of them if `packaging` is missing)."""
    try:
        from importlib.metadata import PackageNotFoundError, version
        from packaging.requirements import Requirement
    except ImportError:
        return list(reqs)
    missing = []
    for r in reqs:
        req = Requirement(r)
        if req.marker is not None and not req.marker.evaluate():
            continue
        try:
            have = version(req.name)
        except PackageNotFoundError:
            missing.append(r)
            continue
        if req.specifier and not req.specifier.contains(have, prereleases=True):
            missing.append(r)
    return missing


def install_python(extras, check_only):
    reqs = python_requirements(extras)
    todo = unsatisfied(reqs)
    if not todo:
        print("install_deps: Python requirements satisfied (%d)" % len(reqs))
        return True
    if check_only:
        print("install_deps: missing Python requirements: %s" % " ".join(todo))
        return False
    print("install_deps: pip install %s" % " ".join(todo), flush=True)
    env = dict(os.environ, PIP_ROOT_USER_ACTION="ignore", PIP_DISABLE_PIP_VERSION_CHECK="1")
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q"] + todo, env=env)
    return True


def dpkg_installed(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    return r.returncode == 0 and "install ok installed" in r.stdout


def install_apt(check_only):
    if not shutil.which("dpkg-query"):
        print("install_deps: not a Debian system; skipping Debian packages")
        return
    missing = {purpose: [p for p in spec["packages"] if not dpkg_installed(p)]
               for purpose, spec in APT_PACKAGES.items()}
    missing = {k: v for k, v in missing.items() if v}
    if not missing:
        print("install_deps: Debian packages present (%s)"
              % " ".join(p for s in APT_PACKAGES.values() for p in s["packages"]))
        return
    pkgs = [p for v in missing.values() for p in v]
    if check_only:
        print("install_deps: missing Debian packages: %s" % " ".join(pkgs))
        return
    sudo = [] if os.geteuid() == 0 else (["sudo", "-n"] if shutil.which("sudo") else None)
    ok = False
    if sudo is None or not shutil.which("apt-get"):
        print("install_deps: cannot run apt-get (not root, no sudo)")
    else:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        print("install_deps: apt-get install %s" % " ".join(pkgs), flush=True)
        upd = subprocess.run(sudo + ["apt-get", "update", "-qq"], env=env, stdin=subprocess.DEVNULL)
        if upd.returncode != 0:
            print("install_deps: apt-get update failed (exit %d); trying the install anyway"
                  % upd.returncode)
        ins = subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "--no-install-recommends"]
                             + pkgs, env=env, stdin=subprocess.DEVNULL)
        ok = ins.returncode == 0
    if not ok:
        for purpose, pk in missing.items():
            print("install_deps: WARNING: could not install %s for %s; %s"
                  % (" ".join(pk), purpose, APT_PACKAGES[purpose]["fallback"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--extras", default="test", help="comma-separated optional-dependency groups")
    ap.add_argument("--no-apt", action="store_true", help="skip Debian packages")
    ap.add_argument("--check", action="store_true", help="only report what is missing")
    ap.add_argument("--print", action="store_true", help="print the Python requirements and exit")
    a = ap.parse_args()
    extras = [e for e in a.extras.split(",") if e]
    if a.print:
        print("\n".join(python_requirements(extras)))
        return 0
    ok = install_python(extras, a.check)
    if not a.no_apt:
        install_apt(a.check)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
