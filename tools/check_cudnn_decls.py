#!/usr/bin/env python3
"""Checks libmx's own declarations of the cuDNN API (libmx/src/backends/cuda/cudnn_api.h: the
function-pointer types, enum constants and the AlgoPerf layout) against cuDNN's real headers.

libmx declares what it uses instead of including cudnn.h, so that neither the build nor a
CPU-only install needs the ~700 MB cuDNN wheels; this script is how those declarations are kept
honest. Run it where the headers are present:

    pip download nvidia-cudnn-cu13 --no-deps -d /tmp/cudnn
    (cd /tmp/cudnn && unzip -q -o '*.whl' 'nvidia/cudnn/include/*')
    python3 tools/check_cudnn_decls.py /tmp/cudnn/nvidia/cudnn/include

Without an argument it looks in site-packages/nvidia/cudnn/include (pip install nvidia-cudnn-cu13).
Exit status 0: every declaration matches; 1: mismatches (listed); 2: no headers found.
"""
import glob
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OURS = os.path.join(HERE, "..", "libmx", "src", "backends", "cuda", "cudnn_api.h")

# cuDNN's opaque and scalar types as cudnn_api.h spells them.
TYPE_MAP = {
    "cudnnStatus_t": "Status", "cudnnHandle_t": "Handle", "cudnnTensorDescriptor_t": "TensorDesc",
    "cudnnFilterDescriptor_t": "FilterDesc", "cudnnConvolutionDescriptor_t": "ConvDesc",
    "cudnnPoolingDescriptor_t": "PoolDesc", "cudaStream_t": "Stream",
    "cudnnConvolutionFwdAlgoPerf_t": "AlgoPerf", "cudnnConvolutionBwdDataAlgoPerf_t": "AlgoPerf",
    "cudnnConvolutionBwdFilterAlgoPerf_t": "AlgoPerf",
    "cudnnDropoutDescriptor_t": "DropoutDesc", "cudnnRNNDescriptor_t": "RNNDesc",
    "cudnnRNNDataDescriptor_t": "RNNDataDesc",
}
# Our constants -> cuDNN's enumerators.
ENUMS = {
    "kSuccess": "CUDNN_STATUS_SUCCESS", "kNotSupported": "CUDNN_STATUS_NOT_SUPPORTED",
    "kHostAllocFailed": "CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED",
    "kDeviceAllocFailed": "CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED",
    "kFloat": "CUDNN_DATA_FLOAT", "kDouble": "CUDNN_DATA_DOUBLE", "kHalf": "CUDNN_DATA_HALF",
    "kNCHW": "CUDNN_TENSOR_NCHW", "kDefaultMath": "CUDNN_DEFAULT_MATH", "kTensorOpMath": "CUDNN_TENSOR_OP_MATH",
    "kTensorOpMathAllowConversion": "CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION", "kFmaMath": "CUDNN_FMA_MATH",
    "kNotPropagateNan": "CUDNN_NOT_PROPAGATE_NAN", "kCrossCorrelation": "CUDNN_CROSS_CORRELATION",
    "kPoolMax": "CUDNN_POOLING_MAX", "kPoolAvgIncludePad": "CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING",
    "kPoolAvgExcludePad": "CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING",
    "kPoolMaxDeterministic": "CUDNN_POOLING_MAX_DETERMINISTIC", "kBatchNormSpatial": "CUDNN_BATCHNORM_SPATIAL",
    "kRNNAlgoStandard": "CUDNN_RNN_ALGO_STANDARD", "kRNNRelu": "CUDNN_RNN_RELU", "kRNNTanh": "CUDNN_RNN_TANH",
    "kLSTM": "CUDNN_LSTM", "kGRU": "CUDNN_GRU", "kRNNDoubleBias": "CUDNN_RNN_DOUBLE_BIAS",
    "kUnidirectional": "CUDNN_UNIDIRECTIONAL", "kBidirectional": "CUDNN_BIDIRECTIONAL",
    "kLinearInput": "CUDNN_LINEAR_INPUT", "kRNNDataSeqMajorPacked": "CUDNN_RNN_DATA_LAYOUT_SEQ_MAJOR_PACKED",
    "kFwdModeInference": "CUDNN_FWD_MODE_INFERENCE", "kFwdModeTraining": "CUDNN_FWD_MODE_TRAINING",
    "kWgradModeAdd": "CUDNN_WGRAD_MODE_ADD", "kRNNPaddedIODisabled": "CUDNN_RNN_PADDED_IO_DISABLED",
}
PERF_FIELDS = ["algo", "status", "time", "memory", "determinism", "mathType", "reserved"]


def strip_comments(s):
    s = re.sub(r"/\*.*?\*/", " ", s, flags=re.S)
    return re.sub(r"//[^\n]*", " ", s)


def norm_type(param, theirs):
    """A parameter's type without its name, top-level const, or enum names (enums are ints)."""
    param = re.sub(r"\b[A-Za-z_]\w*\s*\[\s*\]", " *", param)  # int dimA[] -> int *
    p = " ".join(param.replace("*", " * ").split())
    toks = p.split()
    if toks == ["void"]:
        return None
    if len(toks) > 1 and re.match(r"^[A-Za-z_]\w*$", toks[-1]) and toks[-1] != "*" and toks[-2] not in ("const",) + ("unsigned",):
        if not (toks[-1] in ("int", "float", "double", "char") or toks[-1].endswith("_t") or toks[-1] in ("Status", "Handle", "TensorDesc", "FilterDesc", "ConvDesc", "PoolDesc", "Stream", "AlgoPerf", "DropoutDesc", "RNNDesc", "RNNDataDesc")):
            toks = toks[:-1]  # the parameter name
    out = []
    for t in toks:
        if theirs and t in TYPE_MAP:
            t = TYPE_MAP[t]
        elif theirs and re.match(r"^cudnn\w+_t$", t):
            t = "int"  # an enum
        out.append(t)
    if "*" not in out:
        out = [t for t in out if t != "const"]
    else:  # const after the last * is top-level
        last = len(out) - 1 - out[::-1].index("*")
        out = out[:last + 1] + [t for t in out[last + 1:] if t != "const"]
    return " ".join(out)


def split_params(s):
    return [p.strip() for p in s.split(",") if p.strip()]


def their_functions(text):
    funcs = {}
    for m in re.finditer(r"(?:CUDNN_DEPRECATED\s+)?([\w\s\*]+?)\s*CUDNNWINAPI\s+(cudnn\w+)\s*\(([^;{]*?)\)\s*;", text):
        ret, name, params = m.group(1), m.group(2), m.group(3)
        ret = ret.replace("CUDNN_DEPRECATED", "").strip()
        funcs[name] = (norm_type(ret, True), [norm_type(p, True) for p in split_params(params)])
    return funcs


def our_functions(text):
    body = re.search(r"struct Api \{(.*?)\n\};", text, re.S).group(1)
    funcs = {}
    for m in re.finditer(r"([\w\s\*]+?)\(\*(\w+)\)\((.*?)\);", body, re.S):
        ret, name, params = m.group(1).strip(), m.group(2), m.group(3)
        ps = [norm_type(p, False) for p in split_params(params)]
        funcs["cudnn" + name] = (norm_type(ret, False), [p for p in ps if p is not None])
    return funcs


def main():
    inc = sys.argv[1] if len(sys.argv) > 1 else None
    if inc is None:
        try:
            import nvidia  # noqa: F401  (pip's namespace package)
            for p in nvidia.__path__:
                if os.path.isdir(os.path.join(p, "cudnn", "include")):
                    inc = os.path.join(p, "cudnn", "include")
        except ImportError:
            pass
    if not inc or not glob.glob(os.path.join(inc, "cudnn_ops.h")):
        print("check_cudnn_decls: no cuDNN headers found (pass the include directory; see the docstring)")
        return 2
    text = ""
    for h in ("cudnn_graph.h", "cudnn_ops.h", "cudnn_cnn.h", "cudnn_adv.h", "cudnn_version.h"):
        with open(os.path.join(inc, h)) as f:
            text += strip_comments(f.read()) + "\n"
    with open(OURS) as f:
        ours = strip_comments(f.read())
    bad = []
    theirs = their_functions(text)
    mine = our_functions(ours)
    for name, (ret, params) in sorted(mine.items()):
        if name not in theirs:
            bad.append("%s: not declared in the headers" % name)
            continue
        tret, tparams = theirs[name]
        tparams = [p for p in tparams if p is not None]
        if (ret, params) != (tret, tparams):
            bad.append("%s:\n  ours   %s (%s)\n  cuDNN  %s (%s)" % (name, ret, ", ".join(params), tret, ", ".join(tparams)))
    values = {}
    for m in re.finditer(r"\b(CUDNN_[A-Z0-9_]+)\s*(?:CUDNN_DEPRECATED_ENUM\s*)?=\s*([A-Za-z0-9_]+)", text):
        values[m.group(1)] = m.group(2)
    for m in re.finditer(r"#define\s+(CUDNN_[A-Z0-9_]+)\s+(\d+)\s*$", text, re.M):  # flags such as CUDNN_RNN_PADDED_IO_*
        values.setdefault(m.group(1), m.group(2))
    def value(sym, depth=0):
        v = values.get(sym)
        if v is not None and not v.lstrip("-").isdigit() and depth < 5:
            return value(v, depth + 1)
        return int(v) if v is not None else None
    for ours_name, sym in ENUMS.items():
        m = re.search(r"\b%s\s*=\s*(-?\d+)" % ours_name, ours)
        if not m:
            bad.append("%s: not found in cudnn_api.h" % ours_name)
        elif value(sym) != int(m.group(1)):
            bad.append("%s = %s but %s = %s" % (ours_name, m.group(1), sym, value(sym)))
    for perf in ("cudnnConvolutionFwdAlgoPerfStruct", "cudnnConvolutionBwdDataAlgoPerfStruct",
                 "cudnnConvolutionBwdFilterAlgoPerfStruct"):
        m = re.search(r"typedef struct %s \{(.*?)\}" % perf, text, re.S)
        fields = re.findall(r"(\w+)\s*(?:\[\d+\])?\s*;", m.group(1)) if m else []
        if fields != PERF_FIELDS:
            bad.append("%s fields %s, AlgoPerf has %s" % (perf, fields, PERF_FIELDS))
    ver = re.search(r"#define CUDNN_MAJOR (\d+)", text)
    print("check_cudnn_decls: cuDNN %s headers in %s: %d functions, %d constants, 3 structs checked"
          % (ver.group(1) if ver else "?", inc, len(mine), len(ENUMS)))
    for b in bad:
        print("MISMATCH", b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
