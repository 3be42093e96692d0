"""The bad-call table of the Python sweep (tests/python/test_bad_call_sweep.py). Each entry is a
wrong call and what must come out: an exception of the listed type whose message matches, or a
value checked against numpy. Importing this module runs nothing; the runner calls case.fn()."""
import gzip
import os
import struct
import tempfile
import threading

import numpy as np

import mx
from case import Case

CASES = []
TMP = tempfile.mkdtemp(prefix="mx_badcalls_")


def bad(group, name, fn, raises, match=None):
    CASES.append(Case(group, name, fn, raises=raises, match=match))


def good(group, name, fn, value=None, check=None):
    CASES.append(Case(group, name, fn, value=value, check=check))


def tmp(name):
    return os.path.join(TMP, name)


def A(x, dtype="float32"):
    return mx.nd.array(np.asarray(x), dtype=dtype)


X23 = np.arange(6, dtype=np.float32).reshape(2, 3)
VE, TE, IE, OE, ME = ValueError, TypeError, IndexError, OSError, MemoryError
SHAPE = "shape|dimension|dims|size"

# ====================================================================== creation
for fn_name in ("zeros", "ones", "empty"):
    f = getattr(mx.nd, fn_name)
    bad("creation", "%s negative dim" % fn_name, lambda f=f: f((2, -3)), VE, r"-3|>= 0|negative")
    bad("creation", "%s negative int" % fn_name, lambda f=f: f(-1), VE, r"-1|>= 0|negative")
    bad("creation", "%s string shape" % fn_name, lambda f=f: f("abc"), (TE, VE))
    bad("creation", "%s float dim" % fn_name, lambda f=f: f((2.5, 3)), (TE, VE))
    bad("creation", "%s bad dtype name" % fn_name, lambda f=f: f((2,), dtype="float7"), TE, "float7")
    bad("creation", "%s object dtype" % fn_name, lambda f=f: f((2,), dtype=object), TE, "dtype")
    bad("creation", "%s complex dtype" % fn_name, lambda f=f: f((2,), dtype=np.complex64), TE, "dtype")
    bad("creation", "%s gpu context" % fn_name, lambda f=f: f((2,), ctx=mx.gpu(0)), NotImplementedError, "gpu")
    bad("creation", "%s 2**62 elements" % fn_name, lambda f=f: f((2**62,)), (VE, ME), r"4611686018427387904")
    bad("creation", "%s wrapping count" % fn_name, lambda f=f: f((2**40, 2**40)), (VE, ME), "1099511627776")
    bad("creation", "%s count 2**63" % fn_name, lambda f=f: f((2**32, 2**31), dtype="int8"), (VE, ME),
        "4294967296")
good("creation", "zeros with a zero dim", lambda: mx.nd.zeros((0, 3)).shape, check=lambda s: s == (0, 3))
good("creation", "zero dim times huge dim", lambda: mx.nd.ones((0, 2**62)).shape, check=lambda s: s == (0, 2**62))
good("creation", "ones int8", lambda: mx.nd.ones((2, 2), dtype="int8"), np.ones((2, 2), np.int8))
good("creation", "full int32", lambda: mx.nd.full((2, 2), 7, dtype="int32"), np.full((2, 2), 7, np.int32))
bad("creation", "full 2**66 elements", lambda: mx.nd.full((2**33, 2**33), 1.0), (VE, ME), "8589934592")
bad("creation", "full non-numeric value", lambda: mx.nd.full((2,), "x"), (TE, VE))
bad("creation", "array from string", lambda: mx.nd.array("abc"), (TE, VE))
bad("creation", "array ragged", lambda: mx.nd.array([[1, 2], [3]]), (TE, VE))
bad("creation", "array bad dtype", lambda: mx.nd.array([1, 2], dtype="int128"), TE, "int128")
bad("creation", "array from dict", lambda: mx.nd.array({"a": 1}), (TE, VE))
bad("creation", "array complex numpy", lambda: mx.nd.array(np.array([1 + 2j])), TE)
bad("creation", "array of strings numpy", lambda: mx.nd.array(np.array(["a", "b"])), (TE, VE))
bad("creation", "arange step zero", lambda: mx.nd.arange(0, 10, 0), VE, "step")
bad("creation", "arange too many elements", lambda: mx.nd.arange(0, 1e30), (VE, ME))
good("creation", "arange empty range", lambda: mx.nd.arange(10, 0, 1).shape, check=lambda s: s == (0,))
good("creation", "arange values", lambda: mx.nd.arange(2, 11, 3), np.arange(2, 11, 3))
bad("creation", "linspace negative num", lambda: mx.nd.linspace(0, 1, -1), VE, "num|-1")
bad("creation", "eye negative", lambda: mx.nd.eye(-1), VE, r"-1|>= 0")
bad("creation", "eye 2**31", lambda: mx.nd.eye(2**31), VE, "2147483648")
good("creation", "eye values", lambda: mx.nd.eye(3, 4, 1), np.eye(3, 4, 1))
bad("creation", "uniform negative shape", lambda: mx.nd.random.uniform(shape=(-1,)), VE)
bad("creation", "normal huge shape", lambda: mx.nd.random.normal(shape=(2**62,)), (VE, ME))
bad("creation", "zeros_like of a string", lambda: mx.nd.zeros_like("x"), TE)
bad("creation", "from_dlpack of an int", lambda: mx.nd.from_dlpack(3), (TE, VE))
good("creation", "from_numpy strided", lambda: mx.nd.from_numpy(np.arange(10.0)[::2], zero_copy=False),
     np.arange(10.0)[::2])

# ====================================================================== shapes
R = lambda: A(X23)  # noqa: E731
bad("shapes", "reshape wrong size", lambda: R().reshape((4,)), VE, "reshape|6")
bad("shapes", "reshape two -1", lambda: R().reshape((-1, -1)), VE)
bad("shapes", "reshape code -5", lambda: R().reshape((-5, 3)), VE)
bad("shapes", "reshape kwarg unknown", lambda: R().reshape((6,), bogus=1), TE, "bogus")
bad("shapes", "Reshape op wrong size", lambda: mx.nd.Reshape(R(), shape=(5,)), VE, "6|5")
good("shapes", "reshape -1", lambda: R().reshape((-1,)), X23.reshape(-1))
good("shapes", "reshape 0 code", lambda: mx.nd.Reshape(R(), shape=(0, -1)), X23)
bad("shapes", "transpose repeated axes", lambda: mx.nd.transpose(R(), axes=(0, 0)), VE, "axes|axis")
bad("shapes", "transpose axis out of range", lambda: mx.nd.transpose(R(), axes=(0, 5)), VE, "5")
bad("shapes", "transpose too few axes", lambda: mx.nd.transpose(R(), axes=(0,)), VE)
good("shapes", "transpose", lambda: mx.nd.transpose(R()), X23.T)
bad("shapes", "broadcast_to incompatible", lambda: mx.nd.broadcast_to(R(), shape=(4, 3)), VE, SHAPE)
bad("shapes", "broadcast_to fewer dims", lambda: mx.nd.broadcast_to(R(), shape=(3,)), VE, SHAPE)
bad("shapes", "broadcast_to huge", lambda: mx.nd.broadcast_to(A([[1.0]]), shape=(2**31, 2**31)), (VE, ME),
    "2147483648")
bad("shapes", "broadcast_add incompatible", lambda: mx.nd.broadcast_add(R(), A(np.ones((4, 3)))), VE, SHAPE)
bad("shapes", "elemwise_add shape mismatch", lambda: mx.nd.elemwise_add(R(), A(np.ones((3, 2)))), VE, SHAPE)
bad("shapes", "concat mismatched", lambda: mx.nd.concat(R(), A(np.ones((2, 2, 2))), dim=1), VE, SHAPE)
bad("shapes", "concat dim out of range", lambda: mx.nd.concat(R(), R(), dim=5), VE, "5")
bad("shapes", "concat no inputs", lambda: mx.nd.concat(dim=0), (VE, TE))
good("shapes", "concat", lambda: mx.nd.concat(R(), R(), dim=0), np.concatenate([X23, X23]))
bad("shapes", "stack mismatched", lambda: mx.nd.stack(R(), A(np.ones((3, 2)))), VE, SHAPE)
bad("shapes", "stack axis out of range", lambda: mx.nd.stack(R(), R(), axis=4), VE, "4")
bad("shapes", "split indivisible", lambda: mx.nd.split(R(), num_outputs=4, axis=1), VE, "4|3")
bad("shapes", "split axis out of range", lambda: mx.nd.split(R(), num_outputs=2, axis=5), VE, "5")
bad("shapes", "split zero outputs", lambda: mx.nd.split(R(), num_outputs=0, axis=1), VE)
bad("shapes", "expand_dims axis too big", lambda: mx.nd.expand_dims(R(), axis=5), VE, "5")
good("shapes", "expand_dims", lambda: mx.nd.expand_dims(R(), axis=1), np.expand_dims(X23, 1))
bad("shapes", "squeeze non-unit axis", lambda: mx.nd.squeeze(R(), axis=0), VE, "2|squeeze")
good("shapes", "squeeze", lambda: mx.nd.squeeze(A(np.ones((1, 3, 1)))), np.ones(3))
bad("shapes", "flip axis out of range", lambda: mx.nd.flip(R(), axis=3), VE, "3")
bad("shapes", "tile negative reps", lambda: mx.nd.tile(R(), reps=(-1, 2)), VE, "-1|reps")
good("shapes", "tile", lambda: mx.nd.tile(R(), reps=(2, 1)), np.tile(X23, (2, 1)))
bad("shapes", "repeat negative", lambda: mx.nd.repeat(R(), repeats=-2, axis=0), VE, "-2|repeats")
bad("shapes", "swapaxes out of range", lambda: mx.nd.swapaxes(R(), dim1=0, dim2=7), VE, "7")
bad("shapes", "slice_axis end past axis", lambda: mx.nd.slice_axis(R(), axis=1, begin=0, end=9), VE, "9|end")
bad("shapes", "slice_axis bad axis", lambda: mx.nd.slice_axis(R(), axis=4, begin=0, end=1), VE, "4")
bad("shapes", "dot inner mismatch", lambda: mx.nd.dot(R(), R()), VE, SHAPE)
bad("shapes", "batch_dot mismatch", lambda: mx.nd.batch_dot(A(np.ones((2, 2, 3))), A(np.ones((2, 2, 3)))), VE,
    SHAPE)
bad("shapes", "batch_dot 2-d", lambda: mx.nd.batch_dot(R(), R().T), VE, SHAPE)
good("shapes", "dot", lambda: mx.nd.dot(R(), R().T), X23 @ X23.T)
bad("shapes", "reshape_like size mismatch", lambda: mx.nd.reshape_like(R(), A(np.ones(5))), VE, SHAPE)
bad("shapes", "depth_to_space indivisible", lambda: mx.nd.depth_to_space(A(np.ones((1, 3, 2, 2))), block_size=2),
    VE)
bad("shapes", "space_to_depth indivisible", lambda: mx.nd.space_to_depth(A(np.ones((1, 1, 3, 3))), block_size=2),
    VE)
bad("shapes", "pad width wrong length", lambda: mx.nd.pad(A(np.ones((1, 1, 2, 2))), mode="constant",
                                                          pad_width=(0, 0, 1, 1)), VE, "pad")
good("shapes", "sum of empty", lambda: mx.nd.sum(mx.nd.zeros((0, 3)), axis=0), np.zeros(3))

# ====================================================================== dtypes
bad("dtypes", "astype unknown", lambda: R().astype("float7"), TE, "float7")
bad("dtypes", "astype object", lambda: R().astype(object), TE)
bad("dtypes", "astype complex", lambda: R().astype(np.complex128), TE)
bad("dtypes", "one_hot bad dtype", lambda: mx.nd.one_hot(A([0, 1]), depth=3, dtype="abc"), (TE, VE), "abc")
bad("dtypes", "argsort bad dtype", lambda: mx.nd.argsort(R(), dtype="float7"), (TE, VE), "float7")
bad("dtypes", "cast bad dtype", lambda: mx.nd.cast(R(), dtype="nope"), (TE, VE), "nope")
bad("dtypes", "mixed float32 float64", lambda: A([1.0]) + A([1.0], "float64"), TE, "float32|float64|dtype|type")
bad("dtypes", "FullyConnected int data", lambda: mx.nd.FullyConnected(A([[1, 2]], "int32"), A([[1, 2]], "int32"),
                                                                      no_bias=True, num_hidden=1), TE)
good("dtypes", "int32 divide by zero is 0", lambda: A([5, -5], "int32") / A([0, 0], "int32"), [0, 0])
good("dtypes", "int32 modulo by zero is 0", lambda: A([5, -5], "int32") % A([0, 0], "int32"), [0, 0])
good("dtypes", "int32 INT_MIN / -1 wraps", lambda: A([-2**31], "int32") / A([-1], "int32"), [-2**31])
good("dtypes", "int64 INT_MIN % -1 is 0", lambda: A([-2**63], "int64") % -1, [0])
good("dtypes", "int8 -128 / -1 wraps", lambda: A([-128], "int8") / A([-1], "int8"), [-128])
good("dtypes", "uint8 add wraps", lambda: A([250], "uint8") + A([10], "uint8"),
     (np.array([250], np.uint8) + np.array([10], np.uint8)))
good("dtypes", "float16 add", lambda: A([1.5, 2.25], "float16") + A([0.25, 0.5], "float16"), [1.75, 2.75])
good("dtypes", "bfloat16 round trip", lambda: A([1.0, 2.0, 0.5]).astype("bfloat16").astype("float32"),
     [1.0, 2.0, 0.5])
good("dtypes", "bool array sum", lambda: A([True, False, True], "bool").astype("int32").sum(), [2])
good("dtypes", "int64 large value exact", lambda: A([2**53 + 1], "int64").asnumpy()[0],
     check=lambda v: int(v) == 2**53 + 1)
good("dtypes", "float64 kept", lambda: A([1e300], "float64") * 10, [1e301])
bad("dtypes", "array of datetime", lambda: mx.nd.array(np.array(["2020-01-01"], dtype="datetime64[D]")), TE)
bad("dtypes", "zeros dtype int", lambda: mx.nd.zeros((2,), dtype=7), TE)
good("dtypes", "astype same dtype no copy", lambda: R().astype("float32", copy=False), X23)
bad("dtypes", "sum with a dtype keyword", lambda: mx.nd.sum(R(), dtype="float32"), (VE, TE), "dtype")
good("dtypes", "int32 sqrt", lambda: mx.nd.sqrt(A([4, 9], "float32")), [2, 3])
bad("dtypes", "one_hot depth negative", lambda: mx.nd.one_hot(A([0, 1]), depth=-1), VE, "depth")

# ====================================================================== ops
UNARY = ["relu", "sigmoid", "tanh", "exp", "log", "sqrt", "abs", "negative", "square", "floor", "ceil", "round",
         "sin", "cos", "softsign", "log1p", "expm1", "reciprocal", "sign", "flatten"]
for op in UNARY:
    f = getattr(mx.nd, op)
    bad("ops", "%s of a string" % op, lambda f=f: f("abc"), TE)
    bad("ops", "%s of None" % op, lambda f=f: f(None), (TE, VE), "input|NDArray|None")
    # MXNet ignores keywords given to an op without parameters (main follows it): the value stands
    good("ops", "%s ignores a keyword" % op, lambda f=f: f(R(), bogus_param=1).asnumpy(),
         check=lambda v, f=f: np.array_equal(v, f(R()).asnumpy(), equal_nan=True))
for op in ["softmax", "sum", "clip", "transpose", "Activation"]:
    f = getattr(mx.nd, op)
    bad("ops", "%s unknown kwarg" % op, lambda f=f: f(R(), bogus_param=1), (VE, TE), "bogus_param")
for op in ["broadcast_add", "broadcast_mul", "broadcast_sub", "broadcast_div", "broadcast_maximum", "dot"]:
    f = getattr(mx.nd, op)
    bad("ops", "%s one input" % op, lambda f=f: f(R()), (TE, VE))
    bad("ops", "%s with a list" % op, lambda f=f: f(R(), [1, 2, 3]), (TE, VE))
bad("ops", "relu two inputs", lambda: mx.nd.relu(R(), R()), (TE, VE))
bad("ops", "Activation bad act_type", lambda: mx.nd.Activation(R(), act_type="bogus"), VE, "act_type|bogus")
bad("ops", "LeakyReLU bad act_type", lambda: mx.nd.LeakyReLU(R(), act_type="bogus"), VE, "bogus")
bad("ops", "Activation missing act_type", lambda: mx.nd.Activation(R()), VE, "act_type")
X4 = lambda: A(np.ones((1, 1, 4, 4)))  # noqa: E731
W33 = lambda: A(np.ones((2, 1, 3, 3)))  # noqa: E731
bad("ops", "Convolution 3-d data", lambda: mx.nd.Convolution(A(np.ones((1, 4, 4))), W33(), kernel=(3, 3),
                                                             num_filter=2, no_bias=True), VE, SHAPE)
bad("ops", "Convolution zero stride", lambda: mx.nd.Convolution(X4(), W33(), kernel=(3, 3), num_filter=2,
                                                                stride=(0, 0), no_bias=True), VE, "stride")
bad("ops", "Convolution kernel too big", lambda: mx.nd.Convolution(X4(), A(np.ones((2, 1, 5, 5))), kernel=(5, 5),
                                                                   num_filter=2, no_bias=True), VE)
bad("ops", "Convolution weight mismatch", lambda: mx.nd.Convolution(X4(), A(np.ones((2, 3, 3, 3))), kernel=(3, 3),
                                                                    num_filter=2, no_bias=True), VE, SHAPE)
bad("ops", "Convolution missing kernel", lambda: mx.nd.Convolution(X4(), W33(), num_filter=2, no_bias=True), VE,
    "kernel")
bad("ops", "Pooling kernel too big", lambda: mx.nd.Pooling(X4(), kernel=(5, 5), pool_type="max"), VE)
bad("ops", "Pooling bad pool_type", lambda: mx.nd.Pooling(X4(), kernel=(2, 2), pool_type="median"), VE, "median")
good("ops", "Pooling max", lambda: mx.nd.Pooling(A(np.arange(16.0).reshape(1, 1, 4, 4)), kernel=(2, 2),
                                                 stride=(2, 2), pool_type="max"), [[[[5, 7], [13, 15]]]])
bad("ops", "softmax axis out of range", lambda: mx.nd.softmax(R(), axis=5), VE, "5")
bad("ops", "log_softmax axis out of range", lambda: mx.nd.log_softmax(R(), axis=-3), VE, "-3")
bad("ops", "sum axis out of range", lambda: mx.nd.sum(R(), axis=5), VE, "5")
bad("ops", "mean repeated axis", lambda: mx.nd.mean(R(), axis=(0, 0)), VE)
bad("ops", "argmax axis out of range", lambda: mx.nd.argmax(R(), axis=2), VE, "2")
bad("ops", "topk k too large", lambda: mx.nd.topk(R(), k=10), VE, "10")
bad("ops", "topk bad ret_typ", lambda: mx.nd.topk(R(), k=1, ret_typ="nope"), VE, "nope")
bad("ops", "take bad mode", lambda: mx.nd.take(R(), A([0]), mode="nope"), VE, "nope")
bad("ops", "take raise out of range", lambda: mx.nd.take(R(), A([5]), mode="raise"), VE, "5")
good("ops", "take clip", lambda: mx.nd.take(R(), A([5])), X23[[1]])
good("ops", "take wrap", lambda: mx.nd.take(R(), A([-1, 3]), mode="wrap"), X23[[1, 1]])
bad("ops", "norm ord 3", lambda: mx.nd.norm(R(), ord=3), VE, "ord")
bad("ops", "Dropout p above 1", lambda: mx.nd.Dropout(R(), p=1.5), VE, "p")
bad("ops", "BatchNorm gamma mismatch", lambda: mx.nd.BatchNorm(X4(), A(np.ones(3)), A(np.ones(1)), A(np.zeros(1)),
                                                               A(np.ones(1))), VE, SHAPE)
bad("ops", "Embedding bad weight", lambda: mx.nd.Embedding(A([0, 1]), A(np.ones((3, 2))), input_dim=4,
                                                           output_dim=2), VE, SHAPE)
bad("ops", "SoftmaxOutput label mismatch", lambda: mx.nd.SoftmaxOutput(R(), A([0, 1, 2, 0])), VE, SHAPE)
bad("ops", "UpSampling scale zero", lambda: mx.nd.UpSampling(X4(), scale=0, sample_type="nearest", num_args=1), VE,
    "scale")
bad("ops", "linalg gemm2 mismatch", lambda: mx.nd.linalg_gemm2(R(), R()), VE, SHAPE)
bad("ops", "linalg gemm mismatch", lambda: mx.nd.linalg_gemm(R(), R(), R()), VE, SHAPE)
bad("ops", "SequenceMask axis 2", lambda: mx.nd.SequenceMask(A(np.ones((2, 2, 2))), axis=2), VE, "axis")
bad("ops", "clip missing bounds", lambda: mx.nd.clip(R()), VE, "a_min|a_max")
bad("ops", "FullyConnected missing num_hidden", lambda: mx.nd.FullyConnected(R(), A(np.ones((2, 3))), no_bias=True),
    VE, "num_hidden")
bad("ops", "FullyConnected weight mismatch", lambda: mx.nd.FullyConnected(R(), A(np.ones((2, 4))), no_bias=True,
                                                                          num_hidden=2), VE, SHAPE)
bad("ops", "unknown op", lambda: mx.nd._internal_ops.op_handle("no_such_op"), VE, "no_such_op")
bad("ops", "param NUL character", lambda: mx.nd.sum(R(), axis="0\x00"), VE, "null")
bad("ops", "param wrong type", lambda: mx.nd.sum(R(), axis="zero"), VE, "axis")
bad("ops", "scalar op with string", lambda: R() + "a", TE)
bad("ops", "scalar op with None", lambda: R() * None, TE)
good("ops", "sqrt of negative is nan", lambda: mx.nd.sqrt(A([-1.0])), check=lambda v: np.isnan(v.asnumpy()[0]))
good("ops", "log of zero is -inf", lambda: mx.nd.log(A([0.0])), [-np.inf])
good("ops", "exp overflow is inf", lambda: mx.nd.exp(A([1000.0])), [np.inf])
good("ops", "softmax of -inf row", lambda: mx.nd.softmax(A([[0.0, -np.inf]])), [[1.0, 0.0]])
good("ops", "max ignores nothing", lambda: mx.nd.max(A([1.0, np.nan, 3.0])), check=lambda v: np.isnan(v.asnumpy()).all())
good("ops", "sort with nan", lambda: mx.nd.sort(A([3.0, np.nan, 1.0])),
     check=lambda v: np.array_equal(v.asnumpy(), np.sort(np.array([3.0, np.nan, 1.0], np.float32)), equal_nan=True))
good("ops", "argsort with nan", lambda: mx.nd.argsort(A([np.nan, 2.0, 1.0])), np.argsort([np.nan, 2.0, 1.0]))
good("ops", "numpy + NDArray", lambda: np.array([1.0, 2.0]) + A([3.0, 4.0]), [4.0, 6.0])
good("ops", "numpy - NDArray", lambda: np.array([1.0, 2.0]) - A([3.0, 4.0]), [-2.0, -2.0])
good("ops", "numpy / NDArray", lambda: np.array([1.0, 2.0]) / A([4.0, 4.0]), [0.25, 0.5])

# ====================================================================== indexing
V = lambda: A(np.arange(12.0).reshape(3, 4))  # noqa: E731
NV = np.arange(12.0).reshape(3, 4)
bad("indexing", "int out of range", lambda: V()[3], IE, "3")
bad("indexing", "negative out of range", lambda: V()[-4], IE, "-4")
bad("indexing", "too many indices", lambda: V()[0, 0, 0], IE, "too many")
bad("indexing", "string index", lambda: V()["x"], (IE, TE))
bad("indexing", "float index", lambda: V()[1.5], (IE, TE))
bad("indexing", "slice step zero", lambda: V()[::0], VE, "zero|step")
bad("indexing", "second axis out of range", lambda: V()[:, 4], IE, "4")
bad("indexing", "list out of range", lambda: V()[[0, 10]], IE, "10")
bad("indexing", "list negative out of range", lambda: V()[[-5]], IE, "-5")
bad("indexing", "NDArray index out of range", lambda: V()[A([0, 3])], IE, "3")
bad("indexing", "numpy index out of range", lambda: V()[np.array([7])], IE, "7")
bad("indexing", "bool mask too short", lambda: V()[[True, False]], IE, "boolean")
bad("indexing", "bool mask too long", lambda: V()[np.array([True] * 4)], IE, "boolean")
bad("indexing", "bool NDArray mask wrong", lambda: V()[A([1, 0], "bool")], IE, "boolean")
bad("indexing", "column index list out of range", lambda: V()[:, [0, 4]], IE, "4")
bad("indexing", "float list index", lambda: V()[[0.5, 1.0]], IE)
bad("indexing", "setitem int out of range", lambda: V().__setitem__(3, 1.0), IE, "3")
bad("indexing", "setitem wrong shape", lambda: V().__setitem__(0, A([1.0, 2.0])), VE, SHAPE)
bad("indexing", "setitem too many", lambda: V().__setitem__((0, 0, 0), 1.0), IE)
bad("indexing", "setitem column out of range", lambda: V().__setitem__((slice(None), 4), 1.0), IE, "4")
bad("indexing", "setitem string value", lambda: V().__setitem__(0, "abc"), (TE, VE))
bad("indexing", "chained out of range", lambda: V()[0][10], IE, "10")
good("indexing", "negative index", lambda: V()[-1], NV[-1])
good("indexing", "column", lambda: V()[:, -1], NV[:, -1])
good("indexing", "reverse slice", lambda: V()[::-1], NV[::-1])
good("indexing", "empty slice", lambda: V()[1:1].shape, check=lambda s: s == (0, 4))
good("indexing", "slice past end", lambda: V()[2:10], NV[2:10])
good("indexing", "ellipsis", lambda: V()[..., 1], NV[..., 1])
good("indexing", "newaxis", lambda: V()[None].shape, check=lambda s: s == (1, 3, 4))
good("indexing", "list index", lambda: V()[[2, 0, -1]], NV[[2, 0, -1]])
good("indexing", "bool mask", lambda: V()[np.array([True, False, True])], NV[[0, 2]])
good("indexing", "2-d bool mask", lambda: V()[NV > 6], NV[NV > 6])
good("indexing", "setitem slice", lambda: (lambda v: (v.__setitem__((slice(None), 1), 7.0), v)[1])(V()),
     (lambda n: (n.__setitem__((slice(None), 1), 7.0), n)[1])(NV.copy()))

# ====================================================================== autograd
ag = mx.autograd


def _backward_not_recorded():
    x = A([1.0, 2.0])
    x.attach_grad()
    (x * 2).backward()


def _grad_wrong_head():
    x = A([1.0, 2.0])
    x.attach_grad()
    with ag.record():
        y = x * 2
    y.backward(A([1.0, 1.0, 1.0]))


def _grad_unmarked():
    x = A([1.0, 2.0])
    with ag.record():
        y = x * 2
    return ag.grad(y, [x])


def _backward_twice():
    x = A([1.0, 2.0])
    x.attach_grad()
    with ag.record():
        y = (x * x).sum()
    y.backward()
    y.backward()


def _mark_mismatch():
    ag.mark_variables([A([1.0]), A([2.0])], [A([0.0])])


def _grad_of(f, x0, req="write", times=1):
    x = A(x0)
    x.attach_grad(grad_req=req)
    for _ in range(times):
        with ag.record():
            y = f(x)
        y.backward()
    return x.grad


bad("autograd", "backward not recorded", _backward_not_recorded, VE, "record|graph|tracked")
bad("autograd", "head grad wrong shape", _grad_wrong_head, VE, SHAPE)
bad("autograd", "grad of unmarked variable", _grad_unmarked, VE, "attach_grad|marked")
bad("autograd", "backward twice", _backward_twice, VE, "retain_graph|graph|freed")
bad("autograd", "mark_variables mismatch", _mark_mismatch, VE)
bad("autograd", "attach_grad bad req", lambda: A([1.0]).attach_grad(grad_req="bogus"), VE, "bogus")
bad("autograd", "backward of a string", lambda: ag.backward("x"), (TE, AttributeError))
bad("autograd", "grad with no heads", lambda: ag.grad([], [A([1.0])]), (VE, TE))
good("autograd", "grad of x*x", lambda: _grad_of(lambda x: (x * x).sum(), [1.0, -3.0]), [2.0, -6.0])
good("autograd", "grad_req add accumulates", lambda: _grad_of(lambda x: (x * 3).sum(), [1.0, 2.0], "add", 2),
     [6.0, 6.0])
good("autograd", "grad of mean", lambda: _grad_of(lambda x: x.mean(), [1.0, 2.0, 3.0, 4.0]), [0.25] * 4)
good("autograd", "grad through detach is zero", lambda: _grad_of(lambda x: (x.detach() * x).sum(), [2.0, 5.0]),
     [2.0, 5.0])
good("autograd", "grad of exp", lambda: _grad_of(lambda x: mx.nd.exp(x).sum(), [0.0, 1.0]), np.exp([0.0, 1.0]))
good("autograd", "grad of unattached is None", lambda: A([1.0]).grad, check=lambda g: g is None)
good("autograd", "pause inside record", lambda: (lambda: [ag.record().__enter__(), ag.is_recording(),
                                                           ag.pause().__enter__(), ag.is_recording()])()[3] is False
     and (ag.set_recording(False) or True), check=lambda v: v is True)


def _grad_create_graph():
    x = A([2.0])
    x.attach_grad()
    with ag.record():
        y = x * x * x
        g = ag.grad(y, [x], create_graph=True)[0]
    g.backward()
    return x.grad


good("autograd", "second order", _grad_create_graph, [12.0])
good("autograd", "backward of int array raises or works", lambda: _grad_of(lambda x: x.sum(), [1.0]), [1.0])

# ====================================================================== symbols
S = mx.sym
xs = lambda: S.var("x")  # noqa: E731
bad("symbols", "var with int name", lambda: S.var(123), TE)
bad("symbols", "FullyConnected no num_hidden", lambda: S.FullyConnected(xs()), VE, "num_hidden")
bad("symbols", "unknown kwarg", lambda: S.FullyConnected(xs(), num_hidden=2, bogus=1), (VE, TE), "bogus")
bad("symbols", "Convolution bad kernel", lambda: S.Convolution(xs(), kernel="abc", num_filter=2), VE, "kernel")
bad("symbols", "infer_shape unknown input", lambda: (xs() * 2).infer_shape(y=(2,)), VE, "y")
bad("symbols", "infer_shape mismatch", lambda: (xs() + S.var("z")).infer_shape(x=(2, 3), z=(4, 3)), VE, SHAPE)
bad("symbols", "infer_shape negative", lambda: (xs() * 2).infer_shape(x=(2, -3)), VE)
bad("symbols", "load_json garbage", lambda: S.load_json("garbage"), VE)
bad("symbols", "load_json empty object", lambda: S.load_json("{}"), VE, "nodes")
bad("symbols", "load_json unknown op", lambda: S.load_json(
    '{"nodes":[{"op":"null","name":"x","inputs":[]},{"op":"NoSuchOp","name":"y","inputs":[[0,0,0]]}],'
    '"arg_nodes":[0],"heads":[[1,0,0]]}'), VE, "NoSuchOp")
bad("symbols", "load_json bad input index", lambda: S.load_json(
    '{"nodes":[{"op":"null","name":"x","inputs":[]},{"op":"relu","name":"y","inputs":[[7,0,0]]}],'
    '"arg_nodes":[0],"heads":[[1,0,0]]}'), VE)
bad("symbols", "load_json bad head", lambda: S.load_json(
    '{"nodes":[{"op":"null","name":"x","inputs":[]}],"arg_nodes":[0],"heads":[[5,0,0]]}'), VE)
bad("symbols", "load missing file", lambda: S.load(tmp("missing-symbol.json")), OE, "missing-symbol")
bad("symbols", "load directory", lambda: S.load(TMP), OE, "directory")
bad("symbols", "shape attr float", lambda: S.var("x", attr={"__shape__": "(4, 3.5)"}).infer_shape(), VE,
    "__shape__")
bad("symbols", "shape attr text", lambda: S.var("x", attr={"__shape__": "abc"}).infer_shape(), VE, "__shape__")
bad("symbols", "shape attr negative", lambda: S.var("x", attr={"__shape__": "(2, -1)"}).infer_shape(), VE,
    "__shape__")
bad("symbols", "dtype attr bad", lambda: S.var("x", attr={"__dtype__": "abc"}).infer_type(), VE, "__dtype__")
bad("symbols", "symbol plus string", lambda: xs() + "a", TE)
bad("symbols", "output index out of range", lambda: xs()[5], IE)
bad("symbols", "internals unknown name", lambda: (xs() * 2).get_internals()["nope"], (VE, KeyError, IE), "nope")
bad("symbols", "Group of nothing", lambda: S.Group([]), (VE, TE))
bad("symbols", "Group of non-symbols", lambda: S.Group([1, 2]), TE)
bad("symbols", "attr NUL in key", lambda: xs()._set_attr(**{"a\x00b": "1"}), VE, "null")
bad("symbols", "eval missing args", lambda: (xs() * 2).eval(ctx=mx.cpu()), VE, "x")
bad("symbols", "compose twice the same input", lambda: S.FullyConnected(xs(), xs(), num_hidden=2, weight=xs()),
    (VE, TE))
good("symbols", "list_arguments", lambda: S.FullyConnected(xs(), num_hidden=2, name="fc").list_arguments(),
     check=lambda v: v == ["x", "fc_weight", "fc_bias"])
good("symbols", "infer_shape", lambda: S.FullyConnected(xs(), num_hidden=5, name="fc").infer_shape(x=(2, 3))[1],
     check=lambda v: v == [(2, 5)])
good("symbols", "json round trip", lambda: S.load_json((xs() * 2 + 1).tojson()).eval(ctx=mx.cpu(), x=A([1.0]))[0],
     [3.0])
good("symbols", "eval", lambda: (lambda x: (x * x).eval(ctx=mx.cpu(), x=A([3.0]))[0])(xs()), [9.0])

# ====================================================================== executors
def _exe():
    y = S.FullyConnected(xs(), num_hidden=2, no_bias=True, name="fc")
    return y.simple_bind(mx.cpu(), x=(1, 3))


def _fw(**kw):
    e = _exe()
    e.forward(**kw)
    return e


bad("executors", "simple_bind no shapes", lambda: S.FullyConnected(xs(), num_hidden=2).simple_bind(mx.cpu()), VE,
    SHAPE + "|x")
bad("executors", "simple_bind mismatch", lambda: (xs() + S.var("z")).simple_bind(mx.cpu(), x=(2,), z=(3,)), VE,
    SHAPE)
bad("executors", "simple_bind bad grad_req", lambda: (xs() * 2).simple_bind(mx.cpu(), x=(2,), grad_req="bogus"), VE,
    "bogus")
bad("executors", "bind missing arg", lambda: (xs() + S.var("z")).bind(mx.cpu(), {"x": A([1.0])}), VE, "z")
bad("executors", "bind arg list short", lambda: (xs() + S.var("z")).bind(mx.cpu(), [A([1.0])]), VE)
bad("executors", "bind wrong shapes", lambda: (xs() + S.var("z")).bind(mx.cpu(), {"x": A([1.0]), "z": A([1.0, 2.0])}),
    VE, SHAPE)
bad("executors", "forward unknown input", lambda: _fw(bogus=A([1.0])), VE, "bogus")
bad("executors", "forward wrong shape", lambda: _fw(x=A([[1.0, 2.0]])), VE, SHAPE)
bad("executors", "backward wrong out_grad", lambda: (lambda e: (e.forward(is_train=True), e.backward(A([1.0]))))(
    _exe()), VE, SHAPE)
bad("executors", "reshape incompatible", lambda: _exe().reshape(x=(1, 4)), VE, SHAPE)
bad("executors", "copy_params_from wrong shape", lambda: _exe().copy_params_from({"fc_weight": A(np.ones((3, 3)))}),
    VE, SHAPE)
bad("executors", "copy_params_from unknown", lambda: _exe().copy_params_from({"nope": A([1.0])}), VE, "nope")
good("executors", "forward value", lambda: (lambda e: (e.copy_params_from({"fc_weight": A(np.ones((2, 3)))}),
                                                        e.forward(x=A([[1.0, 2.0, 3.0]])))[1][0])(_exe()), [[6.0, 6.0]])


def _exe_grad():
    x = xs()
    e = (x * x).simple_bind(mx.cpu(), x=(2,))
    e.forward(is_train=True, x=A([1.0, 3.0]))
    e.backward(A([1.0, 1.0]))
    return e.grad_dict["x"]


good("executors", "backward value", _exe_grad, [2.0, 6.0])


def _exe_grad_no_forward():
    # MXNet allows backward before forward; MX runs the forward pass first (bound values)
    x = xs()
    e = (x * x).simple_bind(mx.cpu(), x=(2,))
    e.arg_dict["x"][:] = A([1.0, 3.0])
    e.backward(A([1.0, 1.0]))
    return e.grad_dict["x"]


good("executors", "backward before forward", _exe_grad_no_forward, [2.0, 6.0])
good("executors", "reshape to a bigger batch", lambda: _exe().reshape(allow_up_sizing=True, x=(4, 3)).arg_dict["x"].shape,
     check=lambda s: s == (4, 3))
bad("executors", "reshape up without allow_up_sizing", lambda: _exe().reshape(x=(4, 3)), VE, "allow_up_sizing")
bad("executors", "forward is_train string", lambda: _fw(is_train="yes", x=A([[1.0, 2.0, 3.0]])) and None or
    (_ for _ in ()).throw(TypeError("accepted")), TE)

# ====================================================================== iterators
open(tmp("d.csv"), "w").write("1,2,3\n4,5,6\n")
open(tmp("l.csv"), "w").write("0\n1\n")
NDI = mx.io.NDArrayIter
bad("iterators", "NDArrayIter batch zero", lambda: NDI(np.ones((4, 2)), batch_size=0), VE, "batch_size")
bad("iterators", "NDArrayIter batch negative", lambda: NDI(np.ones((4, 2)), batch_size=-1), VE, "batch_size")
bad("iterators", "NDArrayIter length mismatch", lambda: NDI(np.ones((4, 2)), np.ones(3), batch_size=2), VE)
bad("iterators", "NDArrayIter bad last_batch", lambda: NDI(np.ones((4, 2)), batch_size=2, last_batch_handle="x"), VE,
    "last_batch_handle|x")
bad("iterators", "NDArrayIter data string", lambda: NDI("abc", batch_size=2), (TE, VE))
bad("iterators", "CSVIter missing file", lambda: mx.io.CSVIter(data_csv=tmp("nope.csv"), data_shape=(3,),
                                                               batch_size=1), OE, "nope.csv")
bad("iterators", "CSVIter dev zero", lambda: mx.io.CSVIter(data_csv="/dev/zero", data_shape=(3,), batch_size=1), OE,
    "regular file")
bad("iterators", "CSVIter directory", lambda: mx.io.CSVIter(data_csv=TMP, data_shape=(3,), batch_size=1), OE,
    "directory")
bad("iterators", "CSVIter shape mismatch", lambda: mx.io.CSVIter(data_csv=tmp("d.csv"), data_shape=(4,),
                                                                 batch_size=1), VE)
bad("iterators", "CSVIter no batch_size", lambda: mx.io.CSVIter(data_csv=tmp("d.csv"), data_shape=(3,)), VE,
    "batch_size")
bad("iterators", "CSVIter batch 2**40", lambda: mx.io.CSVIter(data_csv=tmp("d.csv"), data_shape=(3,),
                                                              batch_size=2**40), VE, "too large")
bad("iterators", "CSVIter batch zero", lambda: mx.io.CSVIter(data_csv=tmp("d.csv"), data_shape=(3,), batch_size=0),
    VE, "positive")
bad("iterators", "CSVIter unknown param", lambda: mx.io.CSVIter(data_csv=tmp("d.csv"), data_shape=(3,),
                                                                batch_size=1, bogus=1), VE, "bogus")
good("iterators", "CSVIter values", lambda: next(iter(mx.io.CSVIter(data_csv=tmp("d.csv"), data_shape=(3,),
                                                                    batch_size=2))).data[0], [[1, 2, 3], [4, 5, 6]])
with open(tmp("imgs"), "wb") as fh:
    fh.write(struct.pack(">IIII", 0x803, 2, 2, 2) + bytes(range(8)))
with open(tmp("labs"), "wb") as fh:
    fh.write(struct.pack(">II", 0x801, 2) + bytes([3, 4]))
with open(tmp("liar"), "wb") as fh:
    fh.write(struct.pack(">IIII", 0x803, 60000, 28, 28) + bytes(100))
with gzip.open(tmp("bomb.gz"), "wb") as fh:
    fh.write(struct.pack(">IIII", 0x803, 4000000, 28, 28) + bytes(1 << 20))
bad("iterators", "MNISTIter missing", lambda: mx.io.MNISTIter(image=tmp("nope"), label=tmp("labs"), batch_size=1), OE,
    "nope")
bad("iterators", "MNISTIter dev zero", lambda: mx.io.MNISTIter(image="/dev/zero", label=tmp("labs"), batch_size=1),
    OE, "regular file")
bad("iterators", "MNISTIter lying header", lambda: mx.io.MNISTIter(image=tmp("liar"), label=tmp("labs"),
                                                                   batch_size=1), VE, "declares")
bad("iterators", "MNISTIter gzip bomb", lambda: mx.io.MNISTIter(image=tmp("bomb.gz"), label=tmp("labs"),
                                                                batch_size=1), VE, "gzip|declares")
bad("iterators", "MNISTIter labels as images", lambda: mx.io.MNISTIter(image=tmp("labs"), label=tmp("labs"),
                                                                       batch_size=1), VE, "magic")
good("iterators", "MNISTIter values", lambda: next(iter(mx.io.MNISTIter(image=tmp("imgs"), label=tmp("labs"),
                                                                        batch_size=2, shuffle=False))).label[0],
     [3, 4])
bad("iterators", "ImageRecordIter missing", lambda: mx.io.ImageRecordIter(path_imgrec=tmp("nope.rec"),
                                                                          data_shape=(3, 8, 8), batch_size=1), OE,
    "nope.rec")
open(tmp("garbage.rec"), "wb").write(b"\x00" * 64)
bad("iterators", "ImageRecordIter garbage", lambda: next(iter(mx.io.ImageRecordIter(
    path_imgrec=tmp("garbage.rec"), data_shape=(3, 8, 8), batch_size=1))), VE)
bad("iterators", "ImageRecordIter bad data_shape", lambda: mx.io.ImageRecordIter(
    path_imgrec=tmp("garbage.rec"), data_shape=(8, 8), batch_size=1), VE, "data_shape")


def _exhaust():
    it = NDI(np.arange(4.0).reshape(4, 1), batch_size=2)
    n = sum(1 for _ in it)
    it.reset()
    return n + sum(1 for _ in it)


good("iterators", "NDArrayIter reset", _exhaust, 4)
good("iterators", "NDArrayIter pad", lambda: next(iter(NDI(np.arange(3.0).reshape(3, 1), batch_size=2,
                                                           last_batch_handle="pad"))).data[0], [[0.0], [1.0]])

# ====================================================================== files
open(tmp("empty.nd"), "wb").close()
open(tmp("garbage.nd"), "wb").write(b"not an ndarray file at all" * 4)
mx.nd.save(tmp("good.nd"), {"a": A([1.0, 2.0])})
open(tmp("trunc.nd"), "wb").write(open(tmp("good.nd"), "rb").read()[:-3])
open(tmp("garbage.safetensors"), "wb").write(struct.pack("<Q", 2**40) + b"{}")
NUL = tmp("victim.nd\x00.x")
bad("files", "load missing", lambda: mx.nd.load(tmp("missing.nd")), OE, "missing.nd")
bad("files", "load directory", lambda: mx.nd.load(TMP), OE)
bad("files", "load empty", lambda: mx.nd.load(tmp("empty.nd")), VE, "empty")
bad("files", "load garbage", lambda: mx.nd.load(tmp("garbage.nd")), VE)
bad("files", "load truncated", lambda: mx.nd.load(tmp("trunc.nd")), VE)
bad("files", "load garbage safetensors", lambda: mx.nd.load(tmp("garbage.safetensors")), VE)
bad("files", "load_frombuffer garbage", lambda: mx.nd.load_frombuffer(b"\x12\x01\x00\x00garbage"), VE)
bad("files", "save into missing folder", lambda: mx.nd.save(tmp("no/such/dir/x.nd"), [A([1.0])]), OE)
bad("files", "save onto a directory", lambda: mx.nd.save(TMP, [A([1.0])]), OE, "directory")
bad("files", "save NUL path", lambda: mx.nd.save(NUL, [A([1.0])]), VE, "null")
bad("files", "load NUL path", lambda: mx.nd.load(NUL), VE, "null")
bad("files", "symbol save NUL path", lambda: xs().save(NUL), VE, "null")
bad("files", "recordio NUL path", lambda: mx.recordio.MXRecordIO(NUL, "w"), VE, "null")
bad("files", "save non-NDArray", lambda: mx.nd.save(tmp("x.nd"), [1, 2]), TE)
bad("files", "save dict int keys", lambda: mx.nd.save(tmp("x.nd"), {1: A([1.0])}), TE)
bad("files", "save a string", lambda: mx.nd.save(tmp("x.nd"), "abc"), TE)
bad("files", "recordio writer to folder", lambda: mx.recordio.MXRecordIO(TMP, "w"), OE)
bad("files", "recordio bad flag", lambda: mx.recordio.MXRecordIO(tmp("r.rec"), "x"), VE, "flag")
bad("files", "recordio read garbage", lambda: mx.recordio.MXRecordIO(tmp("garbage.nd"), "r").read(), VE)
bad("files", "unpack_img garbage", lambda: mx.recordio.unpack_img(mx.recordio.pack(
    mx.recordio.IRHeader(0, 0.0, 0, 0), b"garbage!")), (VE, NotImplementedError))
bad("files", "load_parameters missing", lambda: mx.gluon.nn.Dense(2).load_parameters(tmp("nope.params")), OE)
bad("files", "load_checkpoint missing", lambda: mx.model.load_checkpoint(tmp("nope"), 3), OE)


def _png_claim(w, h):
    import zlib

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))


def _jpeg_claim(w, h):
    # A real 16x16 JPEG whose frame header (SOF0) is patched to claim w x h.
    img = np.zeros((16, 16, 3), np.uint8)
    buf = bytearray(mx.recordio.pack_img(mx.recordio.IRHeader(0, 0.0, 0, 0), img, img_fmt=".jpg")[24:])
    sof = buf.index(b"\xff\xc0")
    struct.pack_into(">HH", buf, sof + 5, h, w)
    return bytes(buf)


def _decode(buf):
    return mx.recordio.unpack_img(mx.recordio.pack(mx.recordio.IRHeader(0, 0.0, 0, 0), buf))


bad("files", "PNG claiming 60000x60000", lambda: _decode(_png_claim(60000, 60000)), VE, "pixels")
bad("files", "PNG claiming 16384x16384 from 66 bytes", lambda: _decode(_png_claim(16384, 16384)), VE, "pixels")
bad("files", "JPEG claiming 16384x16384", lambda: _decode(_jpeg_claim(16384, 16384)), VE, "16384x16384")
bad("files", "JPEG claiming 12000x12000", lambda: _decode(_jpeg_claim(12000, 12000)), VE, "12000x12000")
bad("files", "set_max_image_pixels zero", lambda: mx.recordio.set_max_image_pixels(0), VE, "positive")


def _save_readonly():
    p = tmp("ro.nd")
    mx.nd.save(p, [A([1.0])])
    os.chmod(p, 0o444)
    try:
        mx.nd.save(p, [A([2.0])])
    finally:
        os.chmod(p, 0o644)


bad("files", "save over read-only file", _save_readonly, OE, "read-only")


def _save_symlink():
    target, link = tmp("target.nd"), tmp("link.nd")
    mx.nd.save(target, [A([1.0])])
    if not os.path.islink(link):
        os.symlink(target, link)
    mx.nd.save(link, [A([5.0])])
    assert os.path.islink(link)
    return mx.nd.load(target)[0]


good("files", "save through a symlink writes its target", _save_symlink, [5.0])


def _save_keeps_mode():
    p = tmp("mode.nd")
    mx.nd.save(p, [A([1.0])])
    os.chmod(p, 0o600)
    mx.nd.save(p, [A([2.0])])
    return os.stat(p).st_mode & 0o777


good("files", "save keeps permission bits", _save_keeps_mode, 0o600)


def _stale_tmp_cleaned():
    p = tmp("stale.nd")
    dead = 2**22 + 12345  # above the default pid_max: no such process
    stale = p + ".tmp.%d.%016x" % (dead, 0xabc)
    open(stale, "wb").write(b"x" * 100)
    mx.nd.save(p, [A([1.0])])
    return os.path.exists(stale)


good("files", "save removes stale temporaries", _stale_tmp_cleaned, check=lambda v: v is False)
good("files", "save load round trip", lambda: mx.nd.load(tmp("good.nd"))["a"], [1.0, 2.0])

# ====================================================================== threads
def _in_threads(fn, n=4):
    out = [None] * n

    def run(i):
        try:
            out[i] = ("ok", fn(i))
        except Exception as e:  # noqa: BLE001 - collected for the check
            out[i] = (type(e).__name__, str(e))
    ts = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


def _thread_errors_are_their_own(i):
    if i % 2:
        return mx.nd.sum(R(), axis=7 + i)
    return mx.nd.transpose(R(), axes=(0, 9 + i))


good("threads", "errors stay in their thread", lambda: _in_threads(_thread_errors_are_their_own, 6),
     check=lambda out: all(k != "ok" and str(7 + i if i % 2 else 9 + i) in m for i, (k, m) in enumerate(out)))
good("threads", "values in threads", lambda: _in_threads(lambda i: (A(X23) * i).sum().asscalar(), 8),
     check=lambda out: [v for _, v in out] == [15.0 * i for i in range(8)])
good("threads", "huge allocations in threads", lambda: _in_threads(lambda i: mx.nd.zeros((2**62 + i,)), 4),
     check=lambda out: all(k in ("MXShapeError", "MXMemoryError") for k, _ in out))
good("threads", "bad indexing in threads", lambda: _in_threads(lambda i: A(X23)[[0, 5 + i]], 4),
     check=lambda out: all(k == "IndexError" for k, _ in out))
good("threads", "recording is per thread", lambda: _in_threads(lambda i: ag.is_recording(), 2),
     check=lambda out: all(v is False for _, v in out))


def _shared_del(i):
    a = A(np.ones(1000))
    b = a + i
    del a
    return b.sum().asscalar()


good("threads", "create and free in threads", lambda: _in_threads(_shared_del, 8),
     check=lambda out: [v for _, v in out] == [1000.0 * (1 + i) for i in range(8)])


def _concurrent_saves(i):
    mx.nd.save(tmp("shared.nd"), [A(np.full(1000, i, np.float32))])
    return i


def _saves_then_load():
    _in_threads(_concurrent_saves, 6)
    v = mx.nd.load(tmp("shared.nd"))[0].asnumpy()
    return bool((v == v[0]).all() and 0 <= v[0] < 6)


good("threads", "concurrent saves leave one whole file", _saves_then_load, check=lambda v: v is True)
good("threads", "symbols in threads", lambda: _in_threads(
    lambda i: (S.var("x%d" % i) * 2).infer_shape(**{"x%d" % i: (i + 1,)})[1][0], 4),
    check=lambda out: [v for _, v in out] == [(i + 1,) for i in range(4)])
good("threads", "bad symbols in threads", lambda: _in_threads(lambda i: S.load_json("garbage%d" % i), 4),
     check=lambda out: all(k == "MXFormatError" for k, _ in out))
good("threads", "autograd in threads", lambda: _in_threads(lambda i: _grad_of(lambda x: (x * x).sum(),
                                                                              [float(i)]).asscalar(), 4),
     check=lambda out: [v for _, v in out] == [2.0 * i for i in range(4)])


def _use_after_del_in_thread(i):
    a = A([1.0])
    a.__del__()
    return a.shape


good("threads", "use after del in threads", lambda: _in_threads(_use_after_del_in_thread, 4),
     check=lambda out: all(k != "ok" for k, _ in out))
good("threads", "NUL paths in threads", lambda: _in_threads(lambda i: mx.nd.save(NUL + str(i), [A([1.0])]), 4),
     check=lambda out: all(k == "ValueError" for k, _ in out))
good("threads", "iterators in threads", lambda: _in_threads(
    lambda i: sum(1 for _ in NDI(np.ones((10, 2)), batch_size=i + 1, last_batch_handle="discard")), 4),
    check=lambda out: [v for _, v in out] == [10 // (i + 1) for i in range(4)])
good("threads", "executors in threads", lambda: _in_threads(lambda i: _exe_grad().asnumpy().tolist(), 4),
     check=lambda out: all(v == [2.0, 6.0] for _, v in out))
good("threads", "int division in threads", lambda: _in_threads(
    lambda i: (A([-2**31], "int32") / A([-1], "int32")).asscalar(), 4),
    check=lambda out: all(v == -2**31 for _, v in out))
