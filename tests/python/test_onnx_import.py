"""mx.onnx.import_model: export -> import round trips give the original MX outputs, for every
converter case of test_onnx_ops.py and for MLP, LeNet, a 2-layer LSTM and model-zoo networks."""
import os
import sys

import numpy as np
import pytest

import mx
from mx.gluon import nn, rnn

pytest.importorskip("onnx")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_onnx_ops import CASES, _values, _mx_forward  # noqa: E402


def _run_imported(path, feeds):
    sym, args, aux = mx.onnx.import_model(path)
    values = {k: v.asnumpy() for k, v in args.items()}
    values.update({k: v.asnumpy() for k, v in aux.items()})
    values.update(feeds)
    missing = set(sym.list_inputs()) - set(values)
    assert not missing, "imported symbol has unexpected inputs %s" % missing
    arg_shapes, _, _ = sym.infer_shape(**{k: v.shape for k, v in values.items()})
    a = {n: mx.nd.array(values[n], dtype=values[n].dtype) for n in sym.list_arguments()}
    x = {n: mx.nd.array(values[n], dtype=values[n].dtype) for n in sym.list_auxiliary_states()}
    ex = sym.bind(mx.cpu(), a, aux_states=x, grad_req="null")
    return [o.asnumpy() for o in ex.forward(is_train=False)], sym, args, aux


@pytest.mark.parametrize("name", sorted(CASES))
def test_round_trip_per_converter(name, tmp_path):
    case = CASES[name]
    sym = case[0]
    values = _values(case)
    data = [n for n in sym.list_inputs() if n.startswith("data") and n in values]
    params = {k: mx.nd.array(v) for k, v in values.items() if k not in data}
    want = _mx_forward(sym, values)
    path = mx.onnx.export_model(sym, params, [values[n].shape for n in data],
                                onnx_file_path=str(tmp_path / "op.onnx"))
    got, _, _, _ = _run_imported(path, {n: values[n] for n in data})
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64), rtol=1e-4, atol=1e-4)


def _lenet():
    net = nn.HybridSequential()
    net.add(nn.Conv2D(6, 5, padding=2, activation="tanh"), nn.MaxPool2D(2, 2),
            nn.Conv2D(16, 5, activation="tanh"), nn.AvgPool2D(2, 2), nn.Flatten(),
            nn.Dense(120, activation="tanh"), nn.Dense(84, activation="tanh"), nn.Dense(10))
    return net


def _mlp():
    net = nn.HybridSequential()
    net.add(nn.Dense(32, activation="relu"), nn.Dense(10))
    return net


@pytest.mark.parametrize("make,shape", [(_mlp, (4, 20)), (_lenet, (2, 1, 28, 28)),
                                        (lambda: mx.gluon.model_zoo.vision.get_model(
                                            "resnet18_v1", classes=10), (2, 3, 32, 32)),
                                        (lambda: mx.gluon.model_zoo.vision.get_model(
                                            "mobilenetv2_0.25", classes=10), (2, 3, 32, 32))],
                         ids=["mlp", "lenet", "resnet18_v1", "mobilenetv2_0.25"])
def test_round_trip_networks(make, shape, tmp_path):
    net = make()
    net.initialize(mx.init.Xavier())
    x = mx.nd.array(np.random.RandomState(0).uniform(-1, 1, shape).astype(np.float32))
    net.hybridize()
    y = net(x).asnumpy()
    sf, pf = net.export(str(tmp_path / "n"))
    path = mx.onnx.export_model(sf, pf, [shape], onnx_file_path=str(tmp_path / "n.onnx"))
    (got,), sym, args, aux = _run_imported(path, {"data": x.asnumpy()})
    np.testing.assert_allclose(got, y, rtol=1e-4, atol=1e-4 * max(1.0, np.abs(y).max()))
    if any(isinstance(b, nn.BatchNorm) for b in _blocks(net)):
        assert aux and all("running" in k or "mean" in k or "var" in k for k in aux)
    # the imported model runs in a Module too
    mod = mx.mod.Module(sym, data_names=["data"], label_names=None)
    mod.bind(data_shapes=[("data", shape)], for_training=False)
    mod.set_params(args, aux)
    mod.forward(mx.io.DataBatch([x]), is_train=False)
    np.testing.assert_allclose(mod.get_outputs()[0].asnumpy(), y, rtol=1e-4,
                               atol=1e-4 * max(1.0, np.abs(y).max()))


def _blocks(net):
    out = []
    net.apply(out.append)
    return out


def test_round_trip_two_layer_lstm(tmp_path):
    net = rnn.LSTM(10, num_layers=2, input_size=4)
    net.initialize(mx.init.Uniform(0.4))
    rs = np.random.RandomState(3)
    x = mx.nd.array(rs.uniform(-1, 1, (6, 2, 4)))
    h0, c0 = mx.nd.array(rs.uniform(-1, 1, (2, 2, 10))), mx.nd.array(rs.uniform(-1, 1, (2, 2, 10)))
    net.hybridize()
    out, (h, c) = net(x, [h0, c0])
    sf, pf = net.export(str(tmp_path / "l"))
    path = mx.onnx.export_model(sf, pf, [x.shape, h0.shape, c0.shape],
                                onnx_file_path=str(tmp_path / "l.onnx"))
    got, _, _, _ = _run_imported(path, {"data0": x.asnumpy(), "data1": h0.asnumpy(),
                                        "data2": c0.asnumpy()})
    for g, w in zip(got, [out, h, c]):
        np.testing.assert_allclose(g, w.asnumpy(), rtol=1e-4, atol=1e-4)


def test_unsupported_onnx_operator_raises_naming_it(tmp_path):
    import onnx
    from onnx import helper, TensorProto
    node = helper.make_node("Hardmax", ["x"], ["y"], name="hm")
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])])
    path = str(tmp_path / "h.onnx")
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)
    with pytest.raises(NotImplementedError, match="'Hardmax'.*'hm'"):
        mx.onnx.import_model(path)
