"""Where the installed core lives, for programs and other languages that link or load it:
``python -m mx --libdir`` (R's configure, Julia's loader), ``--includedir``, ``--pkgconfig``.

Paths come from this package's own folder: pip puts libmx.so, include/mx/c_api.h and
pkgconfig/mx.pc there (a development build copies the same files into python/mx)."""
import os

_HERE = os.path.dirname(os.path.abspath(__file__))


def find_lib_path():
    """[path of libmx.so] this package loads (MX_LIBRARY when set, else the packaged one)."""
    explicit = os.environ.get("MX_LIBRARY")
    path = explicit or os.path.join(_HERE, "libmx.so")
    if not os.path.isfile(path):
        raise RuntimeError("mx: no libmx.so at %s (%s)" % (
            path, "MX_LIBRARY" if explicit else "build with 'make build' or 'pip install .'"))
    return [path]


def find_include_path():
    """The folder holding mx/c_api.h (the packaged copy, else the source tree's)."""
    for cand in (os.path.join(_HERE, "include"),
                 os.path.normpath(os.path.join(_HERE, "..", "..", "libmx", "include"))):
        if os.path.isfile(os.path.join(cand, "mx", "c_api.h")):
            return cand
    raise RuntimeError("mx: c_api.h is not packaged next to %s" % _HERE)


def find_pkgconfig_path():
    """The folder holding mx.pc, for PKG_CONFIG_PATH (its paths are relative to itself)."""
    return os.path.join(_HERE, "pkgconfig")
