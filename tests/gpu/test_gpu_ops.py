"""Every op with a GPU kernel (the registry's has_gpu_kernel) against its CPU kernel on the same
inputs: forward ops, scalar forms and fused backward ops, each dtype the op lists that the GPU
kernels cover, same-shape and broadcast operands. The formulas are shared (ops/formulas/), so
differences come only from the GPU's libm and FMA contraction: a few ulps."""
import zlib

import numpy as np
import pytest

import mx
from mx.ndarray.register import _ops, make_op_function

GPU = mx.gpu(0) if mx.context.num_gpus() > 0 else None
GPU_DTYPES = ["float32", "float64", "int32", "int64", "int8", "uint8"]
TOL = {"float32": dict(rtol=2e-5, atol=1e-6), "float64": dict(rtol=1e-11, atol=1e-13)}


def _gpu_ops():
    out = []
    for name in _ops.list_ops():
        s = _ops.op_schema(name)
        if s["has_gpu_kernel"]:
            out.append((name, s))
    return out


GPU_OPS = _gpu_ops() if GPU is not None else []


def _data(shape, dtype, rng, positive=True):
    if dtype.startswith("float"):
        lo = 0.1 if positive else -0.9
        return rng.uniform(lo, 0.9, shape).astype(dtype)
    hi = 9 if dtype in ("int8", "uint8") else 50
    lo = 1 if (positive or dtype == "uint8") else -hi
    return rng.integers(lo, hi, shape).astype(dtype)


def _kwargs(name, s, dtype):
    names = {p["name"] for p in s["params"]}
    kw = {}
    if "scalar" in names:
        kw["scalar"] = 0.7 if dtype.startswith("float") else 3
    if name == "Cast":
        kw["dtype"] = "float64" if dtype != "float64" else "float32"
    if name == "clip":
        kw.update(a_min=0.2, a_max=0.6)
    return kw


# Ops whose inputs are not element-wise: (input shapes, extra params) cases.
SPECIAL = {
    "dot": [([(4, 5), (5, 3)], {}), ([(7,), (7,)], {}), ([(2, 3, 4), (4, 5)], {}),
            ([(5, 4), (5, 3)], {"transpose_a": True}), ([(4, 5), (3, 5)], {"transpose_b": True}),
            ([(5, 4), (3, 5)], {"transpose_a": True, "transpose_b": True}), ([(4, 0), (0, 3)], {})],
    "_backward_dot": [([(4, 3), (4, 5), (5, 3)], {}), ([(5, 3), (4, 5), (4, 3)], {"transpose_a": True}),
                      ([(4, 3), (4, 5), (3, 5)], {"transpose_b": True})],
    "batch_dot": [([(3, 4, 5), (3, 5, 2)], {}), ([(2, 5, 4), (2, 3, 5)], {"transpose_a": True, "transpose_b": True})],
    "FullyConnected": [([(4, 6), (3, 6), (3,)], {"num_hidden": 3}), ([(4, 6), (3, 6)], {"num_hidden": 3, "no_bias": True}),
                       ([(2, 3, 6), (5, 18), (5,)], {"num_hidden": 5}),
                       ([(2, 3, 6), (5, 6), (5,)], {"num_hidden": 5, "flatten": False}),
                       ([(0, 6), (3, 6), (3,)], {"num_hidden": 3})],
    "_backward_FullyConnected": [([(4, 3), (4, 6), (3, 6)], {"num_hidden": 3}),
                                 ([(4, 3), (4, 6), (3, 6)], {"num_hidden": 3, "no_bias": True}),
                                 ([(2, 3, 5), (2, 3, 6), (5, 6)], {"num_hidden": 5, "flatten": False})],
}
# test_gpu_cudnn.py checks these against the CPU (forward and gradients over shape/parameter grids).
for _n in ("Convolution", "_backward_Convolution", "Deconvolution", "_backward_Deconvolution", "Pooling",
           "_backward_Pooling", "BatchNorm", "_backward_BatchNorm"):
    SPECIAL[_n] = None
# Reductions: every axis pattern the layout code distinguishes (all, inner, outer, middle,
# alternating, exclude, keepdims, empty input).
_RED = [([(4, 5, 6)], {}), ([(4, 5, 6)], {"axis": 2}), ([(4, 5, 6)], {"axis": 0}), ([(4, 5, 6)], {"axis": 1}),
        ([(3, 4, 5, 6)], {"axis": (0, 2)}), ([(3, 4, 5, 6)], {"axis": (1, 3), "keepdims": True}),
        ([(3, 4, 5, 6)], {"axis": 1, "exclude": True}), ([(1, 7, 1, 3)], {"axis": 1}), ([(2, 0, 3)], {"axis": 1}),
        ([(1000, 300)], {})]
for _n in ("sum", "mean", "prod", "max", "min", "nansum", "nanprod"):
    SPECIAL[_n] = _RED
# max/min of an empty axis have no identity: an error on both devices (numpy's ValueError).
SPECIAL["max"] = SPECIAL["min"] = [c for c in _RED if 0 not in c[0][0]]
SPECIAL["norm"] = [([(4, 5, 6)], {}), ([(4, 5, 6)], {"ord": 1, "axis": 1}), ([(4, 5, 6)], {"axis": (0, 2), "keepdims": True})]
SPECIAL["broadcast_to"] = [([(1, 5, 1)], {"shape": (4, 5, 6)}), ([(3, 1)], {"shape": (2, 3, 7)}), ([(1,)], {"shape": (9,)})]
SPECIAL["_sum_to"] = [([(4, 5, 6)], {"shape": (1, 5, 1)}), ([(2, 3, 7)], {"shape": (3, 1)}), ([(9,)], {"shape": (1,)})]
SPECIAL["_reshape_to"] = [([(4, 5, 6)], {"shape": (6, 20)})]
SPECIAL["linalg_gemm2"] = [([(4, 5), (5, 3)], {}), ([(2, 5, 4), (2, 3, 5)], {"transpose_a": True, "transpose_b": True,
                                                                             "alpha": 0.5})]
SPECIAL["linalg_gemm"] = [([(4, 5), (5, 3), (4, 3)], {"alpha": 2.0, "beta": 0.5}),
                          ([(2, 4, 5), (2, 3, 5), (2, 4, 3)], {"transpose_b": True})]


# Ops whose GPU checks live in other files of tests/gpu (with inputs this file cannot make up).
ELSEWHERE = {
    # test_gpu_optimizer.py
    "sgd_update", "sgd_mom_update", "nag_mom_update", "signsgd_update", "signum_update", "adam_update",
    "rmsprop_update", "rmspropalex_update", "ftrl_update", "ftml_update",
    # test_gpu_nn_ops.py (the _backward_ ops through autograd)
    "Activation", "_backward_Activation", "LeakyReLU", "_backward_LeakyReLU", "Dropout", "softmax", "log_softmax",
    "softmin", "_backward_softmax", "_backward_log_softmax", "_backward_softmin", "SoftmaxActivation",
    "_backward_SoftmaxActivation", "SoftmaxOutput", "_backward_SoftmaxOutput", "softmax_cross_entropy",
    "_backward_softmax_cross_entropy", "argmax", "argmin", "argmax_channel", "pick", "_backward_pick", "one_hot",
    "take", "_backward_take", "Embedding", "LinearRegressionOutput", "_backward_LinearRegressionOutput",
    "LogisticRegressionOutput", "_backward_LogisticRegressionOutput", "MAERegressionOutput",
    "_backward_MAERegressionOutput",
    # test_gpu_shape_ops.py
    "Reshape", "reshape_like", "Flatten", "expand_dims", "squeeze", "transpose", "SwapAxis", "depth_to_space",
    "space_to_depth", "reverse", "tile", "repeat", "broadcast_like", "broadcast_axis", "Pad", "_backward_Pad", "diag",
    "_backward_diag", "slice", "_backward_slice", "slice_axis", "slice_like", "_slice_assign", "_slice_assign_scalar",
    "Concat", "stack", "SliceChannel", "add_n", "where", "_where_mask", "_backward_clip",
    # test_gpu_rnn.py
    "RNN", "_backward_RNN",
    # test_gpu_norm_sort_seq.py
    "LayerNorm", "_backward_LayerNorm", "InstanceNorm", "_backward_InstanceNorm", "GroupNorm", "_backward_GroupNorm",
    "L2Normalization", "_backward_L2Normalization", "sort", "argsort", "topk", "_take_along_axis",
    "_scatter_along_axis", "SequenceMask", "SequenceReverse", "SequenceLast", "_backward_SequenceLast",
    # test_gpu_ctc.py
    "CTCLoss", "_backward_CTCLoss",
    # test_gpu_half.py (multi-precision updates, AMP cast)
    "mp_sgd_update", "mp_sgd_mom_update", "mp_nag_mom_update", "_mp_adamw_update", "amp_cast", "amp_multicast",
    # test_gpu_multi_update.py (multi-tensor, AdamW and LAMB updates)
    "multi_sgd_update", "multi_sgd_mom_update", "multi_mp_sgd_update", "multi_mp_sgd_mom_update",
    "preloaded_multi_sgd_update", "preloaded_multi_sgd_mom_update", "preloaded_multi_mp_sgd_update",
    "preloaded_multi_mp_sgd_mom_update", "_multi_adamw_update", "_multi_mp_adamw_update", "_adamw_update",
    "lamb_update_phase1", "lamb_update_phase2", "mp_lamb_update_phase1", "mp_lamb_update_phase2",
    "_multi_lamb_update", "_multi_mp_lamb_update",
}


def _cases(name, s):
    """(input shapes) lists for the op's input signature; None when the op is tested elsewhere."""
    if name in ELSEWHERE:
        return None
    if name in SPECIAL:
        return SPECIAL[name]
    ins = s["inputs"]
    if ins == []:
        return None  # samplers: test_gpu_random.py
    if ins == ["data"]:
        return [[(5, 7, 3)], [(1,)], [(0, 4)]]
    if ins in (["lhs", "rhs"], ["out_grad", "data"]):
        cases = [[(4, 5, 6), (4, 5, 6)], [(1,), (1,)]]
        if name.startswith("broadcast_"):
            cases += [[(4, 1, 6), (5, 1)], [(1, 5, 1), (4, 1, 3)], [(3, 1), (1,)], [(2, 3, 4, 5, 6), (3, 1, 5, 1)]]
        return cases
    if ins == ["out_grad", "lhs", "rhs"]:
        return [[(4, 5, 6), (4, 5, 6), (4, 5, 6)], [(4, 5, 6), (4, 1, 6), (5, 1)]]
    raise AssertionError("%s: no test case for inputs %s: add one here" % (name, ins))


def _params():
    out = []
    for name, s in GPU_OPS:
        cases = _cases(name, s)
        if cases is None:
            continue
        for dtype in s["dtypes"]:
            if dtype in GPU_DTYPES:
                out.append(pytest.param(name, dtype, id="%s-%s" % (name, dtype)))
    return out


@pytest.mark.parametrize("name,dtype", _params())
def test_gpu_matches_cpu(name, dtype):
    s = _ops.op_schema(name)
    f = make_op_function(name, s)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    for case in _cases(name, s):
        shapes, extra = case if name in SPECIAL else (case, {})
        kw = dict(_kwargs(name, s, dtype), **extra)
        if name not in SPECIAL and s["inputs"] == ["out_grad", "lhs", "rhs"]:
            out_shape = np.broadcast_shapes(shapes[1], shapes[2])
            shapes = [out_shape, shapes[1], shapes[2]]
        arrays = [_data(sh, dtype, rng) for sh in shapes]
        cpu = f(*[mx.nd.array(a, dtype=dtype) for a in arrays], **kw)
        gpu = f(*[mx.nd.array(a, ctx=GPU, dtype=dtype) for a in arrays], **kw)
        cpu = cpu if isinstance(cpu, list) else [cpu]
        gpu = gpu if isinstance(gpu, list) else [gpu]
        assert len(cpu) == len(gpu)
        for c, g in zip(cpu, gpu):
            assert g.context == GPU and g.dtype == c.dtype and g.shape == c.shape
            cn, gn = c.asnumpy(), g.asnumpy()
            if cn.dtype.kind == "f":
                np.testing.assert_allclose(gn, cn, equal_nan=True, err_msg="%s %s %s" % (name, dtype, shapes),
                                           **TOL[str(cn.dtype)])
            else:
                np.testing.assert_array_equal(gn, cn, err_msg="%s %s %s" % (name, dtype, shapes))


def test_every_gpu_op_has_a_case():
    # An op that gains a GPU kernel must be covered above (or by test_gpu_random.py).
    assert GPU_OPS
    for name, s in GPU_OPS:
        _cases(name, s)


def test_autograd_on_gpu_matches_cpu():
    rng = np.random.default_rng(1)
    x = rng.uniform(0.1, 0.9, (6, 7)).astype(np.float32)
    grads = []
    for ctx in (mx.cpu(), GPU):
        a = mx.nd.array(x, ctx=ctx)
        a.attach_grad()
        with mx.autograd.record():
            y = mx.nd.tanh(a) * mx.nd.exp(a) + mx.nd.arctan(a) / (a + 1)
        y.backward(mx.nd.ones(y.shape, ctx=ctx))
        grads.append(a.grad.asnumpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=2e-5, atol=1e-6)


def test_large_arrays_cross_grid_stride():
    n = (1 << 26) + 3  # more elements than one launch's grid: the grid-stride loop covers the rest
    a = mx.nd.array(np.arange(n, dtype=np.float64), ctx=GPU, dtype="float64")
    b = (a * 2 + 1).asnumpy()
    assert b[0] == 1 and b[-1] == 2 * (n - 1) + 1 and b.shape == (n,)
