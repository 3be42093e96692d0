"""Build step: write the C source of the cffi extension module mx._mx_cffi.

Usage: python _cffi_build.py path/to/c_api.h out.c
"""
import importlib.util
import os
import sys

import cffi


def main(header, out_c):
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location("_mx_cdef", os.path.join(here, "_cdef.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    with open(header, encoding="utf-8") as f:
        cdef = mod.cdef_from_header(f.read())
    ffi = cffi.FFI()
    ffi.cdef(cdef)
    ffi.set_source("mx._mx_cffi", '#include "mx/c_api.h"')
    ffi.emit_c_code(out_c)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
