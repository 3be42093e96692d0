#!/usr/bin/env python3
"""Checks libmx's own declarations of the cuBLAS API (libmx/src/backends/cuda/cublas_api.h: the
function-pointer types and enum constants) against cuBLAS's real headers.

libmx declares what it uses instead of including cublas_v2.h, so that neither the build nor a
CPU-only install needs the cuBLAS wheel; this script keeps those declarations honest. Run it
where the headers are present:

    pip download nvidia-cublas --no-deps -d /tmp/cublas
    (cd /tmp/cublas && unzip -q -o '*.whl' 'nvidia/cu13/include/*')
    python3 tools/check_cublas_decls.py /tmp/cublas/nvidia/cu13/include

library_types.h (cudaDataType) is read from the same directory, else from the CUDA runtime
wheel's include directory. Without an argument it looks in site-packages/nvidia/cu13/include.
Exit status 0: every declaration matches; 1: mismatches (listed); 2: no headers found.
"""
import glob
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OURS = os.path.join(HERE, "..", "libmx", "src", "backends", "cuda", "cublas_api.h")

# cuBLAS's types as cublas_api.h spells them; enums are ints.
TYPE_MAP = {"cublasStatus_t": "Status", "cublasHandle_t": "Handle", "cudaStream_t": "Stream",
            "cublasOperation_t": "int", "cudaDataType": "int", "cublasComputeType_t": "int",
            "cublasGemmAlgo_t": "int", "cublasMath_t": "int", "int64_t": "long long int"}
ENUMS = {
    "kSuccess": "CUBLAS_STATUS_SUCCESS", "kAllocFailed": "CUBLAS_STATUS_ALLOC_FAILED",
    "kOpN": "CUBLAS_OP_N", "kOpT": "CUBLAS_OP_T",
    "kR32F": "CUDA_R_32F", "kR64F": "CUDA_R_64F", "kR16F": "CUDA_R_16F", "kR16BF": "CUDA_R_16BF",
    "kCompute32F": "CUBLAS_COMPUTE_32F", "kCompute32FPedantic": "CUBLAS_COMPUTE_32F_PEDANTIC",
    "kCompute32FFastTF32": "CUBLAS_COMPUTE_32F_FAST_TF32", "kCompute64F": "CUBLAS_COMPUTE_64F",
    "kGemmDefault": "CUBLAS_GEMM_DEFAULT", "kDefaultMath": "CUBLAS_DEFAULT_MATH",
    "kPedanticMath": "CUBLAS_PEDANTIC_MATH",
}
SCALARS = ("int", "float", "double", "char", "void", "long", "Status", "Handle", "Stream")


def strip_comments(s):
    s = re.sub(r"/\*.*?\*/", " ", s, flags=re.S)
    return re.sub(r"//[^\n]*", " ", s)


def norm_type(param, theirs):
    """A parameter's type without its name or top-level const; their typedefs mapped to ours."""
    toks = param.replace("*", " * ").split()
    if toks == ["void"]:
        return None
    if theirs:
        toks = [TYPE_MAP.get(t, t) for t in toks]
        toks = " ".join(toks).split()
    if len(toks) > 1 and toks[-1] != "*" and toks[-1] not in SCALARS:
        toks = toks[:-1]  # the parameter name
    if "*" not in toks:
        toks = [t for t in toks if t != "const"]
    else:  # const after the last * is top-level
        last = len(toks) - 1 - toks[::-1].index("*")
        toks = toks[:last + 1] + [t for t in toks[last + 1:] if t != "const"]
    return " ".join(toks)


def split_params(s):
    return [p.strip() for p in s.split(",") if p.strip()]


def their_functions(text):
    funcs = {}
    for m in re.finditer(r"([\w\s\*]+?)\s*CUBLASWINAPI\s+(cublas\w+)\s*\(([^;{]*?)\)\s*;", text):
        ret, name, params = m.group(1).strip(), m.group(2), m.group(3)
        ps = [norm_type(p, True) for p in split_params(params)]
        funcs[name] = (norm_type(ret, True), [p for p in ps if p is not None])
    return funcs


def our_functions(text):
    body = re.search(r"struct Api \{(.*?)\n\};", text, re.S).group(1)
    funcs = {}
    for m in re.finditer(r"([\w\s\*]+?)\(\*(\w+)\)\((.*?)\);", body, re.S):
        ret, name, params = m.group(1).strip(), m.group(2), m.group(3)
        ps = [norm_type(p, False) for p in split_params(params)]
        funcs["cublas" + name] = (norm_type(ret, False), [p for p in ps if p is not None])
    return funcs


def find_include():
    try:
        import nvidia  # noqa: F401  (pip's namespace package)
        for p in nvidia.__path__:
            d = os.path.join(p, "cu13", "include")
            if os.path.isfile(os.path.join(d, "cublas_api.h")):
                return d
    except ImportError:
        pass
    return None


def library_types(inc):
    cands = [os.path.join(inc, "library_types.h")]
    try:
        import nvidia  # noqa: F401
        cands += [os.path.join(p, "cu13", "include", "library_types.h") for p in nvidia.__path__]
    except ImportError:
        pass
    for c in cands:
        if os.path.isfile(c):
            return c
    return None


def main():
    inc = sys.argv[1] if len(sys.argv) > 1 else find_include()
    if not inc or not glob.glob(os.path.join(inc, "cublas_api.h")):
        print("check_cublas_decls: no cuBLAS headers found (pass the include directory; see the docstring)")
        return 2
    with open(os.path.join(inc, "cublas_api.h")) as f:
        text = strip_comments(f.read())
    lt = library_types(inc)
    if lt is None:
        print("check_cublas_decls: library_types.h not found (CUDA runtime headers)")
        return 2
    with open(lt) as f:
        text += "\n" + strip_comments(f.read())
    with open(OURS) as f:
        ours = strip_comments(f.read())
    bad = []
    theirs = their_functions(re.sub(r"^\s*#.*$", " ", text, flags=re.M))  # no preprocessor lines
    mine = our_functions(ours)
    for name, decl in sorted(mine.items()):
        if name not in theirs:
            bad.append("%s: not declared in the headers" % name)
        elif decl != theirs[name]:
            bad.append("%s:\n  ours   %s (%s)\n  cuBLAS %s (%s)" % (name, decl[0], ", ".join(decl[1]),
                                                                     theirs[name][0], ", ".join(theirs[name][1])))
    values = {m.group(1): int(m.group(2)) for m in re.finditer(r"\b((?:CUBLAS|CUDA)_[A-Z0-9_]+)\s*=\s*(-?\d+)", text)}
    for ours_name, sym in ENUMS.items():
        m = re.search(r"\b%s\s*=\s*(-?\d+)" % ours_name, ours)
        if not m:
            bad.append("%s: not found in cublas_api.h" % ours_name)
        elif values.get(sym) != int(m.group(1)):
            bad.append("%s = %s but %s = %s" % (ours_name, m.group(1), sym, values.get(sym)))
    ver = re.search(r"#define CUBLAS_VER_MAJOR (\d+)", open(os.path.join(inc, "cublas_api.h")).read())
    print("check_cublas_decls: cuBLAS %s headers in %s: %d functions, %d constants checked"
          % (ver.group(1) if ver else "?", inc, len(mine), len(ENUMS)))
    for b in bad:
        print("MISMATCH", b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
