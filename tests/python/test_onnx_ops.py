"""Each ONNX converter, one small graph at a time: MX's forward (predict mode) and onnxruntime's
agree within 1e-4, and the import of the exported file gives the same numbers again.

Variables named 'data*' are graph inputs; every other variable is a parameter (initializer).
`test_every_exportable_operator_is_tested` keeps the coverage table (docs/onnx_ops.md) honest: a
converter without a case here fails it.
"""
import numpy as np
import pytest

import mx
from mx import sym as S

ort = pytest.importorskip("onnxruntime")

D = S.var("data")
D1 = S.var("data1")
W = S.var("w")
B = S.var("b")

# name -> (symbol, {variable: shape}, optional {variable: value range or 'int:N'})
CASES = {
    "Convolution": (S.Convolution(D, W, B, kernel=(3, 3), num_filter=4, stride=(2, 1), pad=(1, 0),
                                  dilate=(1, 2)), {"data": (2, 3, 9, 8), "w": (4, 3, 3, 3), "b": (4,)}),
    "Convolution_group": (S.Convolution(D, W, kernel=(3,), num_filter=4, num_group=2, no_bias=True),
                          {"data": (2, 4, 9), "w": (4, 2, 3)}),
    "Deconvolution": (S.Deconvolution(D, W, kernel=(3, 3), num_filter=2, stride=(2, 2), pad=(1, 1),
                                      adj=(1, 1)), {"data": (1, 3, 4, 5), "w": (3, 2, 3, 3)}),
    "FullyConnected": (S.FullyConnected(D, W, B, num_hidden=5), {"data": (3, 2, 4), "w": (5, 8), "b": (5,)}),
    "FullyConnected_noflat": (S.FullyConnected(D, W, num_hidden=5, flatten=False, no_bias=True),
                              {"data": (3, 2, 4), "w": (5, 4)}),
    "Activation": (S.Group([S.Activation(D, act_type=t) for t in
                            ("relu", "sigmoid", "tanh", "softrelu", "softsign")]), {"data": (3, 4)}),
    "LeakyReLU": (S.Group([S.LeakyReLU(D, act_type=t, slope=0.3) for t in
                           ("leaky", "elu", "selu", "gelu", "rrelu")]), {"data": (3, 4)}),
    "LeakyReLU_prelu": (S.LeakyReLU(D, W, act_type="prelu"), {"data": (2, 3, 4, 4), "w": (3,)}),
    "BatchNorm": (S.BatchNorm(D, S.var("g"), B, S.var("mm"), S.var("mv"), eps=1e-3, fix_gamma=False),
                  {"data": (2, 3, 4, 4), "g": (3,), "b": (3,), "mm": (3,), "mv": (3,)},
                  {"mv": (0.5, 2.0)}),
    "BatchNorm_fixgamma": (S.BatchNorm(D, S.var("g"), B, S.var("mm"), S.var("mv"), fix_gamma=True),
                           {"data": (2, 3, 5), "g": (3,), "b": (3,), "mm": (3,), "mv": (3,)},
                           {"mv": (0.5, 2.0)}),
    "InstanceNorm": (S.InstanceNorm(D, S.var("g"), B, eps=1e-3), {"data": (2, 3, 5, 4), "g": (3,), "b": (3,)}),
    "LayerNorm": (S.LayerNorm(D, S.var("g"), B), {"data": (2, 3, 6), "g": (6,), "b": (6,)}),
    "LayerNorm_axis1": (S.LayerNorm(D, S.var("g"), B, axis=1), {"data": (2, 3, 6), "g": (3,), "b": (3,)}),
    "LRN": (S.LRN(D, nsize=3, alpha=0.01, beta=0.6, knorm=1.5), {"data": (2, 5, 3, 3)}),
    "Pooling": (S.Group([S.Pooling(D, kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="max"),
                         S.Pooling(D, kernel=(3, 3), stride=(2, 2), pool_type="avg",
                                   pooling_convention="full"),
                         S.Pooling(D, kernel=(2, 2), pool_type="sum"),
                         S.Pooling(D, kernel=(3, 3), pad=(1, 1), pool_type="avg",
                                   count_include_pad=False),
                         S.Pooling(D, kernel=(2, 2), stride=(2, 2), pool_type="lp", p_value=2),
                         S.Pooling(D, global_pool=True, pool_type="max", kernel=(1, 1)),
                         S.Pooling(D, global_pool=True, pool_type="avg", kernel=(1, 1)),
                         S.Pooling(D, global_pool=True, pool_type="sum", kernel=(1, 1))]),
                {"data": (2, 3, 7, 7)}),
    "Dropout": (S.Dropout(D, p=0.5), {"data": (3, 4)}),
    "Flatten": (S.Flatten(D), {"data": (2, 3, 4)}),
    "Embedding": (S.Embedding(D, W, input_dim=6, output_dim=3), {"data": (2, 4), "w": (6, 3)},
                  {"data": "int:6"}),
    "softmax": (S.softmax(D, axis=1, temperature=2.0), {"data": (2, 3, 4)}),
    "log_softmax": (S.log_softmax(D), {"data": (2, 5)}),
    "SoftmaxOutput": (S.SoftmaxOutput(D, name="sm"), {"data": (3, 5)}),
    "SoftmaxOutput_multi": (S.SoftmaxOutput(D, multi_output=True, name="sm"), {"data": (2, 3, 4)}),
    "SoftmaxActivation": (S.Group([S.SoftmaxActivation(D), S.SoftmaxActivation(D, mode="channel")]),
                          {"data": (2, 3, 4)}),
    "identity_like": (S.Group([S.identity(D), S.BlockGrad(D), S.MakeLoss(D), S.make_loss(D),
                               S.LinearRegressionOutput(D, S.var("lab"), name="lro"),
                               S.MAERegressionOutput(D, S.var("lab2"), name="mae"),
                               S.LogisticRegressionOutput(D, S.var("lab3"), name="lgo")]),
                      {"data": (2, 3)}),
    "binary": (S.Group([S.elemwise_add(D, D1), S.elemwise_sub(D, D1), S.elemwise_mul(D, D1),
                        S.elemwise_div(D, D1), S.broadcast_add(D, S.var("data2")),
                        S.broadcast_sub(D, S.var("data2")), S.broadcast_mul(D, S.var("data2")),
                        S.broadcast_div(D, S.var("data2")), S.broadcast_maximum(D, S.var("data2")),
                        S.broadcast_minimum(D, S.var("data2")), S.broadcast_power(D1, S.var("data2")),
                        S._internal._power(D1, D1), S._internal._maximum(D, D1),
                        S._internal._minimum(D, D1)]),
               {"data": (2, 3), "data1": (2, 3), "data2": (1, 3)},
               {"data1": (0.5, 2.0), "data2": (0.5, 2.0)}),
    "compare": (S.Group([S.broadcast_equal(D, S.var("data2")), S.broadcast_greater(D, S.var("data2")),
                         S.broadcast_lesser(D, S.var("data2")),
                         S.broadcast_greater_equal(D, S.var("data2")),
                         S.broadcast_lesser_equal(D, S.var("data2")),
                         S._internal._equal(D, D1), S._internal._greater(D, D1),
                         S._internal._lesser(D, D1), S._internal._greater_equal(D, D1),
                         S._internal._lesser_equal(D, D1)]),
                {"data": (2, 3), "data1": (2, 3), "data2": (1, 3)}, {"data": "int:3", "data1": "int:3", "data2": "int:3"}),
    "scalar": (S.Group([D + 1.5, D - 0.5, 2.0 - D, D * 3.0, D / 4.0, 2.0 / D, D ** 2.0, 2.0 ** D,
                        S._internal._maximum_scalar(D, scalar=1.0),
                        S._internal._minimum_scalar(D, scalar=1.0)]),
               {"data": (2, 3)}, {"data": (0.5, 2.0)}),
    "add_n": (S.add_n(D, D1, D), {"data": (2, 3), "data1": (2, 3)}),
    "unary": (S.Group([S.exp(D), S.log(D), S.sqrt(D), S.abs(D), S.negative(D), S.reciprocal(D),
                       S.floor(D), S.ceil(D), S.sin(D), S.cos(D), S.tan(D), S.sinh(D), S.cosh(D),
                       S.arcsinh(D), S.arccosh(D + 1.0), S.erf(D), S.sign(D), S.softsign(D),
                       S.round(D), S.relu(D), S.sigmoid(D), S.tanh(D), S.square(D), S.rsqrt(D),
                       S.arcsin(D * 0.3), S.arccos(D * 0.3), S.arctan(D), S.arctanh(D * 0.3)]),
              {"data": (2, 3)}, {"data": (0.2, 2.2)}),
    "clip": (S.clip(D, a_min=-0.3, a_max=0.4), {"data": (3, 4)}),
    "round_halves": (S.round(D * 0.5), {"data": (2, 5)}, {"data": "int:9"}),
    "hard_sigmoid": (S.hard_sigmoid(D, alpha=0.3, beta=0.4), {"data": (3, 4)}),
    "Cast": (S.Cast(D, dtype="int32"), {"data": (3, 4)}, {"data": "int:5"}),
    "where": (S.where(S.var("data2"), D, D1), {"data": (2, 3), "data1": (2, 3), "data2": (2, 3)},
              {"data2": "int:2"}),
    "fill_like": (S.Group([S.zeros_like(D), S.ones_like(D)]), {"data": (2, 3)}),
    "reduce": (S.Group([S.mean(D, axis=1), S.sum(D, axis=(0, 2), keepdims=True), S.max(D),
                        S.min(D, axis=1, exclude=True), S.prod(D, axis=2)]), {"data": (2, 3, 4)}),
    "dot": (S.Group([S.dot(D, D1, transpose_b=True), S.dot(D, D1, transpose_a=True)]),
            {"data": (3, 4), "data1": (3, 4)}),
    "batch_dot": (S.batch_dot(D, D1, transpose_a=True), {"data": (2, 3, 4), "data1": (2, 3, 5)}),
    "Concat": (S.Concat(D, D1, dim=1), {"data": (2, 3), "data1": (2, 4)}),
    "stack": (S.stack(D, D1, axis=1), {"data": (2, 3), "data1": (2, 3)}),
    "Reshape": (S.Group([S.reshape(D, shape=(0, -1)), S.reshape(D, shape=(-3, -2)),
                         S.reshape(D, shape=(-4, 1, 2, -2)), S.reshape(D, shape=(4, -1), reverse=True)]),
                {"data": (2, 3, 4)}),
    "expand_dims": (S.expand_dims(D, axis=-1), {"data": (2, 3)}),
    "squeeze": (S.Group([S.squeeze(D), S.squeeze(D, axis=1)]), {"data": (2, 1, 3, 1)}),
    "transpose": (S.Group([S.transpose(D), S.transpose(D, axes=(1, 0, 2))]), {"data": (2, 3, 4)}),
    "SwapAxis": (S.SwapAxis(D, dim1=0, dim2=2), {"data": (2, 3, 4)}),
    "slice_axis": (S.Group([S.slice_axis(D, axis=1, begin=1, end=None),
                            S.slice_axis(D, axis=-1, begin=-3, end=-1)]), {"data": (2, 3, 4)}),
    "slice": (S.slice(D, begin=(0, None, 3), end=(2, 3, None), step=(1, 2, -1)), {"data": (2, 3, 5)}),
    "SliceChannel": (S.Group(list(S.split(D, num_outputs=3, axis=1)) +
                             list(S.split(D, num_outputs=2, axis=0, squeeze_axis=True))),
                     {"data": (2, 3, 4)}),
    "broadcast_axis": (S.broadcast_axis(D, axis=(0, 2), size=(3, 4)), {"data": (1, 2, 1)}),
    "broadcast_to": (S.broadcast_to(D, shape=(3, 0, 4)), {"data": (1, 2, 1)}),
    "broadcast_like": (S.broadcast_like(D, D1), {"data": (1, 2, 1), "data1": (3, 2, 4)}),
    "Pad": (S.Group([S.Pad(D, mode=m, pad_width=(0, 0, 0, 0, 1, 2, 2, 1), constant_value=0.5)
                     for m in ("constant", "edge", "reflect")]), {"data": (1, 2, 4, 5)}),
    "tile": (S.tile(D, reps=(2, 1, 3)), {"data": (2, 3)}),
    "take": (S.Group([S.take(D, S.var("data2"), axis=1), S.take(D, S.var("data2"), axis=0, mode="wrap")]),
             {"data": (3, 4), "data2": (2, 2)}, {"data2": "int:7"}),
    "RNN": (S.RNN(D, S.var("p"), S.var("data1"), S.var("data2"), state_size=3, num_layers=2,
                  mode="lstm", state_outputs=True), {"data": (4, 2, 5), "p": (4 * 3 * (5 + 3 + 3 + 3) + 2 * 2 * 4 * 3,),
                                                     "data1": (2, 2, 3), "data2": (2, 2, 3)}),
}


def _values(case):
    sym, shapes = case[0], case[1]
    ranges = case[2] if len(case) > 2 else {}
    rs = np.random.RandomState(sorted(shapes).__len__())
    out = {}
    for name in sym.list_inputs():
        shape = shapes.get(name)
        if shape is None:  # labels of loss outputs: not part of the exported graph
            continue
        r = ranges.get(name, (-1.0, 1.0))
        if isinstance(r, str):
            out[name] = rs.randint(0, int(r.split(":")[1]), shape).astype(np.float32)
        else:
            out[name] = rs.uniform(r[0], r[1], shape).astype(np.float32)
    return out


def _mx_forward(sym, values):
    arg_shapes, _, aux_shapes = sym.infer_shape_partial(**{k: v.shape for k, v in values.items()})
    args = {}
    for n, s in zip(sym.list_arguments(), arg_shapes):
        args[n] = mx.nd.array(values[n]) if n in values else mx.nd.zeros(s)
    aux = {n: mx.nd.array(values[n]) for n in sym.list_auxiliary_states()}
    ex = sym.bind(mx.cpu(), args, aux_states=aux, grad_req="null")
    return [o.asnumpy() for o in ex.forward(is_train=False)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_converter_matches_mx(name, tmp_path):
    case = CASES[name]
    sym = case[0]
    values = _values(case)
    data = [n for n in sym.list_inputs() if n.startswith("data") and n in values]
    params = {k: mx.nd.array(v) for k, v in values.items() if k not in data}
    want = _mx_forward(sym, values)
    path = mx.onnx.export_model(sym, params, [values[n].shape for n in data],
                                onnx_file_path=str(tmp_path / "op.onnx"))
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    got = sess.run(None, {n: values[n] for n in data})
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64), rtol=1e-4, atol=1e-4)


def _covered_ops():
    import json
    ops = set()
    for case in CASES.values():
        for n in json.loads(case[0].tojson())["nodes"]:
            ops.add(n["op"])
    return ops


def test_every_exportable_operator_is_tested():
    from mx.ndarray import _internal_ops
    covered = {_internal_ops.op_schema(op)["name"] for op in _covered_ops() if op != "null"}
    untested = [op for op in mx.onnx.get_operator_support()
                if _internal_ops.op_schema(op)["name"] not in covered]
    assert not untested, "converters without a test case: %s" % untested


def test_coverage_table_is_up_to_date():
    import os
    import subprocess
    import sys
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    env = dict(os.environ, PYTHONPATH=os.path.join(root, "python"))
    r = subprocess.run([sys.executable, os.path.join(root, "tools", "gen_onnx_ops_doc.py"), "--check"],
                       env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
