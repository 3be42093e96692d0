"""mx.onnx.export_model: MLP, LeNet and a 2-layer LSTM through onnxruntime (within 1e-4 of MX),
the file/object forms of MXNet 1.9's signature, dynamic batch, and clear errors."""
import os

import numpy as np
import pytest

import mx
from mx.gluon import nn, rnn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _session(path):
    return ort.InferenceSession(path, providers=["CPUExecutionProvider"])


def _rand(shape, seed=0):
    return np.random.RandomState(seed).uniform(-1, 1, shape).astype(np.float32)


def _mlp():
    net = nn.HybridSequential()
    net.add(nn.Dense(32, activation="relu"), nn.Dropout(0.5), nn.Dense(16, activation="tanh"),
            nn.Dense(10))
    net.initialize(mx.init.Xavier())
    return net


def _lenet():
    net = nn.HybridSequential()
    net.add(nn.Conv2D(6, 5, padding=2, activation="tanh"), nn.MaxPool2D(2, 2),
            nn.Conv2D(16, 5, activation="tanh"), nn.AvgPool2D(2, 2), nn.Flatten(),
            nn.Dense(120, activation="tanh"), nn.Dense(84, activation="tanh"), nn.Dense(10))
    net.initialize(mx.init.Xavier())
    return net


def _export_block(net, inputs, tmp_path, **kw):
    """hybridize, run, HybridBlock.export, then export_model from the two files."""
    net.hybridize()
    out = net(*inputs)
    sym_file, params_file = net.export(str(tmp_path / "model"))
    flat = [a for x in inputs for a in (x if isinstance(x, list) else [x])]
    path = mx.onnx.export_model(sym_file, params_file, [a.shape for a in flat],
                                onnx_file_path=str(tmp_path / "model.onnx"), **kw)
    return out, path


@pytest.mark.parametrize("make,shape", [(_mlp, (4, 20)), (_lenet, (3, 1, 28, 28))],
                         ids=["mlp", "lenet"])
def test_gluon_block_matches_onnxruntime(make, shape, tmp_path):
    x = mx.nd.array(_rand(shape))
    y, path = _export_block(make(), [x], tmp_path)
    model = onnx.load(path)
    assert model.opset_import[0].version == mx.onnx.OPSET == 13
    sess = _session(path)
    (out,) = sess.run(None, {"data": x.asnumpy()})
    np.testing.assert_allclose(out, y.asnumpy(), rtol=1e-4, atol=1e-4)


def test_two_layer_lstm_matches_onnxruntime(tmp_path):
    net = rnn.LSTM(12, num_layers=2, input_size=5)
    net.initialize(mx.init.Uniform(0.4))
    x = mx.nd.array(_rand((7, 3, 5), 1))
    h0, c0 = mx.nd.array(_rand((2, 3, 12), 2)), mx.nd.array(_rand((2, 3, 12), 3))
    (out, (h, c)), path = _export_block(net, [x, [h0, c0]], tmp_path)
    sess = _session(path)
    assert [i.name for i in sess.get_inputs()] == ["data0", "data1", "data2"]
    res = sess.run(None, {"data0": x.asnumpy(), "data1": h0.asnumpy(), "data2": c0.asnumpy()})
    assert np.abs(out.asnumpy()).max() > 0.05
    for got, want in zip(res, [out, h, c]):
        np.testing.assert_allclose(got, want.asnumpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("cls,bidir", [(rnn.GRU, False), (rnn.RNN, True), (rnn.LSTM, True)])
def test_other_recurrent_layers(cls, bidir, tmp_path):
    net = cls(6, num_layers=2, bidirectional=bidir, input_size=4)
    net.initialize(mx.init.Uniform(0.5))
    x = mx.nd.array(_rand((5, 2, 4), 4))
    states = [mx.nd.array(_rand(s["shape"][:1] + (2,) + s["shape"][2:], 5 + i))
              for i, s in enumerate(net.state_info())]
    (out, new), path = _export_block(net, [x, states], tmp_path)
    sess = _session(path)
    feeds = {i.name: a.asnumpy() for i, a in zip(sess.get_inputs(), [x] + states)}
    res = sess.run(None, feeds)
    for got, want in zip(res, [out] + list(new)):
        np.testing.assert_allclose(got, want.asnumpy(), rtol=1e-4, atol=1e-4)


def _softmax_mlp_symbol():
    data = mx.sym.var("data")
    fc1 = mx.sym.FullyConnected(data, num_hidden=16, name="fc1")
    act = mx.sym.Activation(fc1, act_type="relu", name="relu1")
    fc2 = mx.sym.FullyConnected(act, num_hidden=5, name="fc2")
    return mx.sym.SoftmaxOutput(fc2, name="softmax")


def _params(sym, data_shape, seed=0):
    arg_shapes, _, aux_shapes = sym.infer_shape(data=data_shape)
    rs = np.random.RandomState(seed)
    args = {n: mx.nd.array(rs.uniform(-0.5, 0.5, s)) for n, s in
            zip(sym.list_arguments(), arg_shapes) if n not in ("data", "softmax_label")}
    aux = {n: mx.nd.array(rs.uniform(0.5, 1.5, s)) for n, s in
           zip(sym.list_auxiliary_states(), aux_shapes)}
    return args, aux


def _numpy_softmax_mlp(x, args):
    h = np.maximum(x @ args["fc1_weight"].asnumpy().T + args["fc1_bias"].asnumpy(), 0)
    z = h @ args["fc2_weight"].asnumpy().T + args["fc2_bias"].asnumpy()
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_symbol_with_softmax_output_drops_label_and_matches_numpy(tmp_path):
    sym = _softmax_mlp_symbol()
    args, aux = _params(sym, (4, 8))
    x = _rand((4, 8))
    path = mx.onnx.export_model(sym, [args, aux], in_shapes=[(4, 8)],
                                onnx_file_path=str(tmp_path / "m.onnx"))
    sess = _session(path)
    assert [i.name for i in sess.get_inputs()] == ["data"]
    assert [o.name for o in sess.get_outputs()] == ["softmax"]  # '_output' removed, as MXNet
    (out,) = sess.run(None, {"data": x})
    np.testing.assert_allclose(out, _numpy_softmax_mlp(x, args), rtol=1e-5, atol=1e-6)
    # the same through a dict of all params and the old argument names
    both = dict(args, **aux)
    path2 = mx.onnx.export_model(sym, both, input_shape=[(4, 8)], input_type=np.float32,
                                 onnx_file_path=str(tmp_path / "m2.onnx"))
    np.testing.assert_allclose(_session(path2).run(None, {"data": x})[0], out, rtol=1e-6)


def test_dynamic_batch(tmp_path):
    sym = _softmax_mlp_symbol()
    args, _ = _params(sym, (4, 8))
    path = mx.onnx.export_model(sym, args, [(4, 8)], dynamic=True,
                                dynamic_input_shapes=[(None, 8)],
                                onnx_file_path=str(tmp_path / "d.onnx"))
    model = onnx.load(path)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert not dims[0].HasField("dim_value") and dims[1].dim_value == 8
    sess = _session(path)
    for n in (1, 3, 9):
        x = _rand((n, 8), n)
        np.testing.assert_allclose(sess.run(None, {"data": x})[0], _numpy_softmax_mlp(x, args),
                                   rtol=1e-5, atol=1e-6)


def test_conv_net_with_dynamic_batch_and_batchnorm(tmp_path):
    net = nn.HybridSequential()
    net.add(nn.Conv2D(4, 3, padding=1), nn.BatchNorm(), nn.Activation("relu"),
            nn.GlobalAvgPool2D(), nn.Flatten(), nn.Dense(3))
    net.initialize(mx.init.Xavier())
    bn = net[1]
    bn.running_mean.set_data(mx.nd.array([0.1, -0.2, 0.3, 0.0]))
    bn.running_var.set_data(mx.nd.array([0.5, 2.0, 1.5, 1.0]))
    x = mx.nd.array(_rand((2, 3, 8, 8)))
    net.hybridize()
    net(x)
    sym_file, params_file = net.export(str(tmp_path / "c"))
    path = mx.onnx.export_model(sym_file, params_file, [(2, 3, 8, 8)], dynamic=True,
                                dynamic_input_shapes=[(None, 3, 8, 8)],
                                onnx_file_path=str(tmp_path / "c.onnx"))
    sess = _session(path)
    for n in (1, 5):
        xn = mx.nd.array(_rand((n, 3, 8, 8), n))
        np.testing.assert_allclose(sess.run(None, {"data": xn.asnumpy()})[0],
                                   net(xn).asnumpy(), rtol=1e-4, atol=1e-5)


def test_unknown_operator_raises_naming_it(tmp_path):
    data = mx.sym.var("data")
    sym = mx.sym.CTCLoss(data, mx.sym.var("label"), name="ctc")
    with pytest.raises(NotImplementedError, match="'CTCLoss'.*'ctc'"):
        mx.onnx.export_model(sym, {}, [(5, 2, 4), (2, 3)], onnx_file_path=str(tmp_path / "x.onnx"))
    assert "CTCLoss" not in mx.onnx.get_operator_support()
    assert not os.path.exists(tmp_path / "x.onnx")


def test_bad_arguments_are_clear(tmp_path):
    sym = _softmax_mlp_symbol()
    args, _ = _params(sym, (4, 8))
    with pytest.raises(ValueError, match="in_shapes"):
        mx.onnx.export_model(sym, args, None, onnx_file_path=str(tmp_path / "a.onnx"))
    with pytest.raises(ValueError, match="1 data input"):
        mx.onnx.export_model(sym, args, [(4, 8), (4, 8)], onnx_file_path=str(tmp_path / "a.onnx"))
    with pytest.raises(TypeError, match="params"):
        mx.onnx.export_model(sym, 3, [(4, 8)], onnx_file_path=str(tmp_path / "a.onnx"))
    with pytest.raises(ValueError, match="dynamic=True"):
        mx.onnx.export_model(sym, args, [(4, 8)], dynamic_input_shapes=[(None, 8)],
                             onnx_file_path=str(tmp_path / "a.onnx"))


def test_operator_support_lists_the_zoo_and_rnn_ops():
    ops = set(mx.onnx.get_operator_support())
    for op in ("Convolution", "FullyConnected", "BatchNorm", "Pooling", "Activation", "Concat",
               "elemwise_add", "clip", "Dropout", "Flatten", "RNN", "SoftmaxOutput", "Reshape"):
        assert op in ops
