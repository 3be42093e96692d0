#!/usr/bin/env python3
"""Checks libmx's own declarations of the cuBLAS and cuDNN C APIs (libmx/src/backends/cuda/
cublas_api.h and cudnn_api.h: the function-pointer types of `struct Api`, the enum constants, and
cuDNN's AlgoPerf layout) against the libraries' real headers.

libmx declares what it uses instead of including cublas_v2.h / cudnn.h, so that neither the build
nor a CPU-only install needs those wheels (cuDNN's are ~700 MB); this script keeps the
declarations honest. Run it where the headers are present:

    pip download nvidia-cublas --no-deps -d /tmp/cublas
    (cd /tmp/cublas && unzip -q -o '*.whl' 'nvidia/cu13/include/*')
    python3 tools/check_api_decls.py cublas /tmp/cublas/nvidia/cu13/include

    pip download nvidia-cudnn-cu13 --no-deps -d /tmp/cudnn
    (cd /tmp/cudnn && unzip -q -o '*.whl' 'nvidia/cudnn/include/*')
    python3 tools/check_api_decls.py cudnn /tmp/cudnn/nvidia/cudnn/include

Without a directory it looks in site-packages/nvidia (cu13/include for cuBLAS, cudnn/include for
cuDNN). cuBLAS's check also reads library_types.h (cudaDataType) from the same directory, else from
the CUDA runtime wheel. Exit status 0: every declaration matches; 1: mismatches (listed); 2: no headers.
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CUDA_SRC = os.path.join(HERE, "..", "libmx", "src", "backends", "cuda")

# Per library: our header, their headers, the API macro before each function name, their types as
# our header spells them (any other `<prefix>..._t` is an enum, i.e. an int), our constants -> their
# enumerators.
LIBRARIES = {
    "cublas": dict(
        title="cuBLAS", ours="cublas_api.h", headers=("cublas_api.h", "library_types.h"),
        wheel_dir=("cu13", "include"), macro="CUBLASWINAPI", prefix="cublas", version="CUBLAS_VER_MAJOR",
        types={"cublasStatus_t": "Status", "cublasHandle_t": "Handle", "cudaStream_t": "Stream",
               "cudaDataType": "int", "int64_t": "long long int"},
        enums={
            "kSuccess": "CUBLAS_STATUS_SUCCESS", "kAllocFailed": "CUBLAS_STATUS_ALLOC_FAILED",
            "kOpN": "CUBLAS_OP_N", "kOpT": "CUBLAS_OP_T",
            "kR32F": "CUDA_R_32F", "kR64F": "CUDA_R_64F", "kR16F": "CUDA_R_16F", "kR16BF": "CUDA_R_16BF",
            "kCompute32F": "CUBLAS_COMPUTE_32F", "kCompute32FPedantic": "CUBLAS_COMPUTE_32F_PEDANTIC",
            "kCompute32FFastTF32": "CUBLAS_COMPUTE_32F_FAST_TF32", "kCompute64F": "CUBLAS_COMPUTE_64F",
            "kGemmDefault": "CUBLAS_GEMM_DEFAULT", "kDefaultMath": "CUBLAS_DEFAULT_MATH",
            "kPedanticMath": "CUBLAS_PEDANTIC_MATH",
        }),
    "cudnn": dict(
        title="cuDNN", ours="cudnn_api.h",
        headers=("cudnn_graph.h", "cudnn_ops.h", "cudnn_cnn.h", "cudnn_adv.h", "cudnn_version.h"),
        wheel_dir=("cudnn", "include"), macro="CUDNNWINAPI", prefix="cudnn", version="CUDNN_MAJOR",
        types={
            "cudnnStatus_t": "Status", "cudnnHandle_t": "Handle", "cudnnTensorDescriptor_t": "TensorDesc",
            "cudnnFilterDescriptor_t": "FilterDesc", "cudnnConvolutionDescriptor_t": "ConvDesc",
            "cudnnPoolingDescriptor_t": "PoolDesc", "cudaStream_t": "Stream",
            "cudnnConvolutionFwdAlgoPerf_t": "AlgoPerf", "cudnnConvolutionBwdDataAlgoPerf_t": "AlgoPerf",
            "cudnnConvolutionBwdFilterAlgoPerf_t": "AlgoPerf",
            "cudnnDropoutDescriptor_t": "DropoutDesc", "cudnnRNNDescriptor_t": "RNNDesc",
            "cudnnRNNDataDescriptor_t": "RNNDataDesc",
        },
        enums={
            "kSuccess": "CUDNN_STATUS_SUCCESS", "kNotSupported": "CUDNN_STATUS_NOT_SUPPORTED",
            "kHostAllocFailed": "CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED",
            "kDeviceAllocFailed": "CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED",
            "kFloat": "CUDNN_DATA_FLOAT", "kDouble": "CUDNN_DATA_DOUBLE", "kHalf": "CUDNN_DATA_HALF", "kBfloat16": "CUDNN_DATA_BFLOAT16",
            "kNCHW": "CUDNN_TENSOR_NCHW", "kDefaultMath": "CUDNN_DEFAULT_MATH",
            "kTensorOpMath": "CUDNN_TENSOR_OP_MATH",
            "kTensorOpMathAllowConversion": "CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION", "kFmaMath": "CUDNN_FMA_MATH",
            "kNotPropagateNan": "CUDNN_NOT_PROPAGATE_NAN", "kCrossCorrelation": "CUDNN_CROSS_CORRELATION",
            "kPoolMax": "CUDNN_POOLING_MAX", "kPoolAvgIncludePad": "CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING",
            "kPoolAvgExcludePad": "CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING",
            "kPoolMaxDeterministic": "CUDNN_POOLING_MAX_DETERMINISTIC",
            "kBatchNormSpatial": "CUDNN_BATCHNORM_SPATIAL",
            "kRNNAlgoStandard": "CUDNN_RNN_ALGO_STANDARD", "kRNNRelu": "CUDNN_RNN_RELU",
            "kRNNTanh": "CUDNN_RNN_TANH", "kLSTM": "CUDNN_LSTM", "kGRU": "CUDNN_GRU",
            "kRNNDoubleBias": "CUDNN_RNN_DOUBLE_BIAS",
            "kUnidirectional": "CUDNN_UNIDIRECTIONAL", "kBidirectional": "CUDNN_BIDIRECTIONAL",
            "kLinearInput": "CUDNN_LINEAR_INPUT",
            "kRNNDataSeqMajorPacked": "CUDNN_RNN_DATA_LAYOUT_SEQ_MAJOR_PACKED",
            "kFwdModeInference": "CUDNN_FWD_MODE_INFERENCE", "kFwdModeTraining": "CUDNN_FWD_MODE_TRAINING",
            "kWgradModeAdd": "CUDNN_WGRAD_MODE_ADD", "kRNNPaddedIODisabled": "CUDNN_RNN_PADDED_IO_DISABLED",
        },
        # The three AlgoPerf structs must all have the layout of our AlgoPerf.
        structs={s: ["algo", "status", "time", "memory", "determinism", "mathType", "reserved"]
                 for s in ("cudnnConvolutionFwdAlgoPerfStruct", "cudnnConvolutionBwdDataAlgoPerfStruct",
                           "cudnnConvolutionBwdFilterAlgoPerfStruct")}),
}
C_SCALARS = ("int", "float", "double", "char", "void", "long", "unsigned")


def strip_comments(s):
    s = re.sub(r"/\*.*?\*/", " ", s, flags=re.S)
    return re.sub(r"//[^\n]*", " ", s)


def norm_type(param, lib, theirs):
    """A parameter's type without its name or top-level const; their typedefs mapped to ours."""
    param = re.sub(r"\b[A-Za-z_]\w*\s*\[\s*\]", " *", param)  # int dimA[] -> int *
    toks = param.replace("*", " * ").split()
    if toks == ["void"]:
        return None
    type_names = set(C_SCALARS) | set(lib["types"].values())
    if len(toks) > 1 and toks[-1] != "*" and toks[-1] not in type_names and not toks[-1].endswith("_t"):
        toks = toks[:-1]  # the parameter name
    if theirs:
        toks = " ".join(lib["types"].get(t, "int" if re.match(r"^%s\w+_t$" % lib["prefix"], t) else t)
                        for t in toks).split()
    if "*" not in toks:
        toks = [t for t in toks if t != "const"]
    else:  # const after the last * is top-level
        last = len(toks) - 1 - toks[::-1].index("*")
        toks = toks[:last + 1] + [t for t in toks[last + 1:] if t != "const"]
    return " ".join(toks)


def declared(ret, params, lib, theirs):
    ps = [norm_type(p, lib, theirs) for p in params.split(",") if p.strip()]
    return norm_type(ret, lib, theirs), [p for p in ps if p is not None]


def their_functions(text, lib):
    text = re.sub(r"^\s*#.*$", " ", text, flags=re.M)  # no preprocessor lines
    pattern = r"([\w\s\*]+?)\s*%s\s+(%s\w+)\s*\(([^;{]*?)\)\s*;" % (lib["macro"], lib["prefix"])
    return {m.group(2): declared(re.sub(r"\w+_DEPRECATED\b", "", m.group(1)).strip(), m.group(3), lib, True)
            for m in re.finditer(pattern, text)}


def our_functions(text, lib):
    body = re.search(r"struct Api \{(.*?)\n\};", text, re.S).group(1)
    return {lib["prefix"] + m.group(2): declared(m.group(1).strip(), m.group(3), lib, False)
            for m in re.finditer(r"([\w\s\*]+?)\(\*(\w+)\)\((.*?)\);", body, re.S)}


def enum_values(text):
    """Enumerator and #define'd integer values, aliases (A = B) resolved."""
    raw = {m.group(1): m.group(2) for m in
           re.finditer(r"\b([A-Z][A-Z0-9_]+)\s*(?:\w+_DEPRECATED_ENUM\s*)?=\s*(-?[A-Za-z0-9_]+)", text)}
    for m in re.finditer(r"#define\s+([A-Z][A-Z0-9_]+)\s+(-?\d+)\s*$", text, re.M):
        raw.setdefault(m.group(1), m.group(2))

    def value(sym, depth=0):
        v = raw.get(sym)
        if v is not None and not v.lstrip("-").isdigit():
            return value(v, depth + 1) if depth < 5 else None
        return int(v) if v is not None else None
    return value


def find_header(name, inc, lib):
    dirs = [inc] if inc else []
    try:
        import nvidia  # noqa: F401  (pip's namespace package)
        dirs += [os.path.join(p, *lib["wheel_dir"]) for p in nvidia.__path__]
        dirs += [os.path.join(p, "cu13", "include") for p in nvidia.__path__]  # library_types.h
    except ImportError:
        pass
    for d in dirs:
        if os.path.isfile(os.path.join(d, name)):
            return os.path.join(d, name)
    return None


def check(lib_name, inc):
    lib = LIBRARIES[lib_name]
    text = ""
    for h in lib["headers"]:
        path = find_header(h, inc, lib)
        if path is None:
            print("check_api_decls: %s not found (pass the include directory; see the docstring)" % h)
            return 2
        with open(path) as f:
            text += strip_comments(f.read()) + "\n"
    with open(os.path.join(CUDA_SRC, lib["ours"])) as f:
        ours = strip_comments(f.read())
    bad = []
    theirs, mine = their_functions(text, lib), our_functions(ours, lib)
    for name, decl in sorted(mine.items()):
        if name not in theirs:
            bad.append("%s: not declared in the headers" % name)
        elif decl != theirs[name]:
            bad.append("%s:\n  ours   %s (%s)\n  %-6s %s (%s)" % (name, decl[0], ", ".join(decl[1]), lib["title"],
                                                                 theirs[name][0], ", ".join(theirs[name][1])))
    value = enum_values(text)
    for ours_name, sym in lib["enums"].items():
        m = re.search(r"\b%s\s*=\s*(-?\d+)" % ours_name, ours)
        if not m:
            bad.append("%s: not found in %s" % (ours_name, lib["ours"]))
        elif value(sym) != int(m.group(1)):
            bad.append("%s = %s but %s = %s" % (ours_name, m.group(1), sym, value(sym)))
    for struct, expected in lib.get("structs", {}).items():
        m = re.search(r"typedef struct %s \{(.*?)\}" % struct, text, re.S)
        fields = re.findall(r"(\w+)\s*(?:\[\d+\])?\s*;", m.group(1)) if m else []
        if fields != expected:
            bad.append("%s fields %s, ours %s" % (struct, fields, expected))
    ver = re.search(r"#define %s (\d+)" % lib["version"], text)
    print("check_api_decls: %s %s headers: %d functions, %d constants, %d structs checked"
          % (lib["title"], ver.group(1) if ver else "?", len(mine), len(lib["enums"]), len(lib.get("structs", {}))))
    for b in bad:
        print("MISMATCH", b)
    return 1 if bad else 0


def main(argv):
    if not argv or argv[0] not in LIBRARIES:
        print("usage: check_api_decls.py {%s} [INCLUDE_DIR]" % "|".join(LIBRARIES))
        return 2
    return check(argv[0], argv[1] if len(argv) > 1 else None)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
