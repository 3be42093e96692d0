"""mx.gluon.model_zoo: networks with MXNet 1.x's structure and parameter names.

Fixtures under tests/data/model_zoo/ were generated once with Apache MXNet 1.9.1
(gen_param_names.py: every model's parameter names, less the net prefix, and shapes for
classes=10; gen_numeric.py: MXNet-saved parameters with an input and MXNet's output).
"""
import json
import os
import subprocess

import numpy as np
import pytest

import mx
from mx import autograd
from mx.gluon import SymbolBlock
from mx.gluon.model_zoo import vision, get_model
from mx.gluon.model_zoo.vision import resnet as R

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "model_zoo")
MXNET_PYTHON = os.environ.get("MXNET_PYTHON", "/opt/mxnet-venv/bin/python")

with open(os.path.join(DATA, "mxnet_param_names.json")) as f:
    REF = json.load(f)

MODELS = sorted(vision._models)
SMALL = {"resnet18_v1", "resnet18_v2", "alexnet", "squeezenet1.0", "squeezenet1.1", "mobilenet0.25",
         "mobilenetv2_0.25"}


def _size(name):
    """Smallest convenient input: the fixed-size global pools of squeezenet/densenet/inception need
    the full size; alexnet/vgg run on 64x64 (their first Dense infers a smaller in_units then)."""
    if name.startswith("inception"):
        return 299
    if name.startswith(("squeezenet", "densenet")):
        return 224
    return 64


def _input(name, batch=1, size=None):
    s = size or _size(name)
    return mx.nd.array(np.random.RandomState(0).uniform(-1, 1, (batch, 3, s, s)).astype(np.float32))


def _build(name, **kw):
    net = get_model(name, classes=10, **kw)
    net.initialize(mx.init.Xavier())
    return net


def test_all_models_have_reference_names():
    assert "resnet18_v1" in MODELS and "resnet152_v2" in MODELS
    for name in MODELS:
        assert name in REF, name


@pytest.mark.parametrize("name", MODELS)
def test_param_names_and_shapes_match_mxnet(name):
    """Full-size input so that every parameter shape (alexnet/vgg Dense too) is MXNet's."""
    net = _build(name)
    net(_input(name, size=224 if name.startswith(("alexnet", "vgg")) else None))
    p = net.prefix
    ref = REF[name]
    assert ref[0][0] == "__prefix__"
    assert p.rstrip("0123456789_") == ref[0][1].rstrip("0123456789_")
    got = [[k[len(p):], list(v.shape)] for k, v in net.collect_params().items()]
    assert all(k.startswith(p) for k in net.collect_params().keys())
    assert got == [list(r) for r in ref[1:]]


@pytest.mark.parametrize("name", MODELS)
def test_forward_hybridize_export_import(name, tmp_path):
    net = _build(name)
    x = _input(name, batch=2)
    y0 = net(x).asnumpy()
    assert y0.shape == (2, 10) and np.isfinite(y0).all()
    net.hybridize()
    y1 = net(x).asnumpy()
    np.testing.assert_allclose(y1, y0, rtol=1e-4, atol=1e-5)
    sym_file, params_file = net.export(str(tmp_path / name))
    blk = SymbolBlock.imports(sym_file, ["data"], params_file)
    np.testing.assert_allclose(blk(x).asnumpy(), y0, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", sorted(SMALL & set(MODELS)))
def test_backward(name):
    net = _build(name)
    x = _input(name, batch=2)
    for hybrid in (False, True):
        net.hybridize(hybrid)
        with autograd.record():
            loss = (net(x) ** 2).sum()
        loss.backward()
        grads = [p.grad().asnumpy() for p in net.collect_params().values() if p.grad_req != "null"]
        assert grads and all(np.isfinite(g).all() for g in grads)
        assert sum(float(np.abs(g).sum()) for g in grads) > 0


def test_get_model_unknown_and_kwargs():
    with pytest.raises(ValueError, match="not supported"):
        get_model("resnet19_v1")
    with pytest.raises(ValueError, match="Invalid number of layers"):
        R.get_resnet(1, 19)
    net = vision.resnet18_v1(classes=7, thumbnail=True)
    net.initialize()
    assert net(mx.nd.zeros((1, 3, 32, 32))).shape == (1, 7)
    assert net.features[0].weight.shape == (64, 3, 3, 3)


# ------------------------------------------------------------- MXNet-saved parameters, numerically
_NARROW = {
    "resnet18_v1_narrow": lambda: R.ResNetV1(R.BasicBlockV1, [2, 2, 2, 2], [16, 16, 32, 64, 128], classes=10),
    "resnet18_v2_narrow": lambda: R.ResNetV2(R.BasicBlockV2, [2, 2, 2, 2], [16, 16, 32, 64, 128], classes=10),
    "resnet50_v1_narrow": lambda: R.ResNetV1(R.BottleneckV1, [1, 1, 1, 1], [16, 32, 64, 128, 256], classes=10),
    "resnet50_v2_narrow": lambda: R.ResNetV2(R.BottleneckV2, [1, 1, 1, 1], [16, 32, 64, 128, 256], classes=10),
}


@pytest.mark.parametrize("case", sorted(_NARROW))
def test_mxnet_saved_params_predict_the_same(case):
    io = np.load(os.path.join(DATA, case + "_io.npz"))
    files = [case + ".params"]
    if os.path.exists(os.path.join(DATA, case + "_legacy.params")):
        files.append(case + "_legacy.params")
    for fname in files:
        net = _NARROW[case]()
        net.load_parameters(os.path.join(DATA, fname))
        x = mx.nd.array(io["x"])
        np.testing.assert_allclose(net(x).asnumpy(), io["y"], rtol=1e-4, atol=1e-5)
        net.hybridize()
        np.testing.assert_allclose(net(x).asnumpy(), io["y"], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["squeezenet1.1", "mobilenet0.25", "mobilenetv2_0.25"])
def test_mxnet_saved_full_model_predicts_the_same(name):
    io = np.load(os.path.join(DATA, name + "_io.npz"))
    net = get_model(name, classes=10)
    net.load_parameters(os.path.join(DATA, name + ".params"))
    x = mx.nd.array(io["x"])
    np.testing.assert_allclose(net(x).asnumpy(), io["y"], rtol=1e-4, atol=1e-5)
    net.hybridize()
    np.testing.assert_allclose(net(x).asnumpy(), io["y"], rtol=1e-4, atol=1e-5)


def _mxnet_generate(names, out_dir):
    if not os.path.exists(MXNET_PYTHON):
        pytest.skip("Apache MXNet not installed (set MXNET_PYTHON)")
    r = subprocess.run([MXNET_PYTHON, os.path.join(DATA, "gen_numeric.py"), str(out_dir)] + names,
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        pytest.skip("MXNet could not generate the fixture: %s" % r.stderr[-500:])


@pytest.mark.parametrize("name", ["resnet18_v1", "densenet121", "inceptionv3"])
def test_full_model_against_live_mxnet(name, tmp_path):
    """Models too large to store (45-90 MB): MXNet writes their parameters now, when installed."""
    _mxnet_generate([name], tmp_path)
    io = np.load(str(tmp_path / (name + "_io.npz")))
    # also the pretrained=True path: <root>/<name>.params
    net = get_model(name, pretrained=True, root=str(tmp_path), classes=10)
    np.testing.assert_allclose(net(mx.nd.array(io["x"])).asnumpy(), io["y"], rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------- pretrained files from a root folder
def _write_params(name, path, **kw):
    src = get_model(name, classes=10, **kw)
    src.initialize(mx.init.Xavier())
    x = _input(name)
    y = src(x).asnumpy()
    src.save_parameters(path)
    return x, y


@pytest.mark.parametrize("fname", ["resnet18_v2.params", "resnet18_v2-0123abcd.params"])
def test_pretrained_from_root(tmp_path, fname):
    x, y = _write_params("resnet18_v2", str(tmp_path / fname))
    net = get_model("resnet18_v2", pretrained=True, root=str(tmp_path), classes=10, ctx=mx.cpu())
    np.testing.assert_allclose(net(x).asnumpy(), y, rtol=1e-5, atol=1e-6)
    net2 = vision.resnet18_v2(pretrained=True, root=str(tmp_path), classes=10)
    np.testing.assert_allclose(net2(x).asnumpy(), y, rtol=1e-5, atol=1e-6)


def test_pretrained_missing_file_error(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        get_model("resnet34_v1", pretrained=True, root=str(tmp_path))
    msg = str(e.value)
    assert os.path.join(str(tmp_path), "resnet34_v1.params") in msg
    assert "resnet34_v1-<hash>.params" in msg


def test_pretrained_wrong_classes_error(tmp_path):
    _write_params("resnet18_v1", str(tmp_path / "resnet18_v1.params"))
    with pytest.raises(Exception):
        get_model("resnet18_v1", pretrained=True, root=str(tmp_path))  # 1000 classes vs 10
