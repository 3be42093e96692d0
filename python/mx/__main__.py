"""python -m mx --libdir | --includedir | --pkgconfig | --version: where the installed core is,
so R (r-package/configure), Julia and C programs use the libmx that pip installed."""
import argparse
import os
import sys


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m mx", description=__doc__.split("\n\n")[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--libdir", action="store_true", help="folder of libmx.so")
    g.add_argument("--libpath", action="store_true", help="path of libmx.so")
    g.add_argument("--includedir", action="store_true", help="folder holding mx/c_api.h")
    g.add_argument("--pkgconfig", action="store_true",
                   help="folder of mx.pc: PKG_CONFIG_PATH=$(python -m mx --pkgconfig) pkg-config --libs mx")
    g.add_argument("--version", action="store_true", help="package version")
    a = ap.parse_args(argv)
    from . import libinfo
    try:
        if a.libdir:
            print(os.path.dirname(libinfo.find_lib_path()[0]))
        elif a.libpath:
            print(libinfo.find_lib_path()[0])
        elif a.includedir:
            print(libinfo.find_include_path())
        elif a.pkgconfig:
            print(libinfo.find_pkgconfig_path())
        else:
            from . import __version__
            print(__version__)
    except RuntimeError as e:
        print(e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
