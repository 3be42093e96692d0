"""Packaging and loading: version, ABI check, devices, the ABI-mode fallback, the header cffi reads."""
import os
import re
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import mx
from mx import base

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEADER = os.path.join(ROOT, "libmx", "include", "mx", "c_api.h")


def _pyproject_version():
    with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as f:
        text = f.read()
    m = re.search(r'^\[project\][^\[]*?^version\s*=\s*"([^"]+)"', text, re.M | re.S)
    assert m, "no [project] version in pyproject.toml"
    return m.group(1)


def _libmx_path():
    """The libmx.so this process loaded (the in-place or installed copy, or MX_LIBRARY)."""
    if os.environ.get("MX_LIBRARY"):
        return os.environ["MX_LIBRARY"]
    return os.path.join(os.path.dirname(mx.__file__), "libmx.so")


def _run(code, env_extra, cwd):
    env = dict(os.environ)
    env.update(env_extra)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, cwd=cwd,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)


# ------------------------------------------------------------------ versions
def test_version_matches_pyproject_and_core():
    assert mx.__version__ == _pyproject_version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", mx.__version__)
    a = base.ffi.new("int[3]")
    base.lib.mx_version(a, a + 1, a + 2)
    assert "%d.%d.%d" % (a[0], a[1], a[2]) == mx.__version__


def test_abi_version_matches():
    assert base.lib.mx_abi_version() == base.ABI_VERSION
    with open(HEADER, encoding="utf-8") as f:
        m = re.search(r"MX_ABI_VERSION\s*=\s*(\d+)", f.read())
    assert m and int(m.group(1)) == base.ABI_VERSION


def test_features():
    f = base.features()
    assert isinstance(f, dict)
    assert isinstance(f["cuda"], bool)
    assert "blas" in f


# ------------------------------------------------------------------ ABI check at load
_FAKE_LIB = "int mx_abi_version(void) { return 999; }\n"


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler")
def test_abi_mismatch_is_refused(tmp_path, monkeypatch):
    """A library reporting another ABI version is refused at import with a clear message."""
    # cc, and the child loading a plain (unsanitized) fake library, must not inherit make
    # test-asan's sanitizer runtime
    monkeypatch.delenv("LD_PRELOAD", raising=False)
    src = tmp_path / "fake.c"
    src.write_text(_FAKE_LIB)
    lib = tmp_path / "libmx_fake.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(lib), str(src)], check=True)
    r = _run("""
        try:
            import mx
        except ImportError as e:
            print("REFUSED:", e)
        else:
            print("LOADED")
        """, {"MX_LIBRARY": str(lib), "PYTHONPATH": os.path.dirname(os.path.dirname(mx.__file__))},
        cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "REFUSED:" in out, out
    assert "999" in out and str(base.ABI_VERSION) in out, out


def test_missing_library_is_clear_import_error(tmp_path):
    r = _run("import mx", {"MX_LIBRARY": str(tmp_path / "nope" / "libmx.so"),
                           "PYTHONPATH": os.path.dirname(os.path.dirname(mx.__file__))},
             cwd=str(tmp_path))
    assert r.returncode != 0
    assert "ImportError" in r.stderr and "libmx.so" in r.stderr, r.stderr[-2000:]


# ------------------------------------------------------------------ ABI-mode fallback
def test_abi_mode_fallback_works(tmp_path):
    """MX_LIBRARY opens a libmx build in cffi's ABI mode from the header; results are the same."""
    lib = _libmx_path()
    if not os.path.exists(lib):
        pytest.skip("no libmx.so next to the package (%s)" % lib)
    r = _run("""
        import mx
        a = mx.nd.array([1.0, 2.0, 3.0])
        print(type(mx.base.lib).__name__, (a + 1).asnumpy().tolist(), mx.__version__)
        """, {"MX_LIBRARY": lib, "PYTHONPATH": os.path.dirname(os.path.dirname(mx.__file__))},
        cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr[-3000:]
    kind, rest = r.stdout.split(" ", 1)
    assert kind.startswith("FFILibrary"), kind  # cffi's ABI mode (API mode's type is "Lib")
    assert "[2.0, 3.0, 4.0]" in rest
    assert mx.__version__ in rest


def test_header_is_cffi_parseable():
    """c_api.h stays within what cffi's cdef() accepts (the ABI-mode fallback depends on it)."""
    import cffi
    from mx import _cdef
    with open(HEADER, encoding="utf-8") as f:
        cdef = _cdef.cdef_from_header(f.read())
    ffi = cffi.FFI()
    ffi.cdef(cdef)
    for fn in ("mx_abi_version", "mx_last_error", "mx_ndarray_new", "mx_op_invoke"):
        assert fn in cdef
    assert ffi.typeof("mx_ndarray_t")


def test_packaged_header_when_installed():
    """An installed package carries mx/include/mx/c_api.h, identical to the source header."""
    pkg = os.path.dirname(mx.__file__)
    packaged = os.path.join(pkg, "include", "mx", "c_api.h")
    if not os.path.exists(packaged):
        pytest.skip("running from the checkout: the header is packaged by the wheel build only")
    with open(packaged, encoding="utf-8") as f, open(HEADER, encoding="utf-8") as g:
        assert f.read() == g.read()


# ------------------------------------------------------------------ devices
def test_no_gpu_here():
    import ctypes
    try:
        ctypes.CDLL("libcuda.so.1")
        pytest.skip("an NVIDIA driver is installed here")
    except OSError:
        pass  # no driver: a CUDA build must report 0 GPUs too
    assert mx.context.num_gpus() == 0
    assert mx.num_gpus() == 0


def test_gpu_raises_clear_error_without_gpu():
    if mx.context.num_gpus() > 0:
        pytest.skip("a GPU is present")
    with pytest.raises(base.MXNotSupportedError) as info:
        mx.gpu()
    msg = str(info.value)
    assert "gpu(0)" in msg and ("CUDA" in msg or "GPU" in msg)
    assert isinstance(info.value, NotImplementedError)


def test_cpu_context():
    assert mx.cpu() == mx.Context("cpu", 0)
    assert mx.current_context() == mx.cpu()
    with mx.Context("cpu", 0) as c:
        assert mx.current_context() == c
    with pytest.raises(ValueError):
        mx.Context("tpu", 0)


# ------------------------------------------------------------------ the smallest real use
def test_hello_ndarray():
    a = mx.nd.array([1, 2])
    b = a + 1
    assert b.asnumpy().tolist() == [2.0, 3.0]
    assert b.dtype == np.float32
    assert "NDArray 2 @cpu(0)" in repr(b)
