"""Every model-zoo network exported with mx.onnx.export_model gives MX's outputs in onnxruntime.

Sizes (the smallest input each architecture accepts, to keep the test short): ResNet, VGG,
MobileNet (v1, v2) 32x32; AlexNet 64x64; SqueezeNet and DenseNet 224x224 (their fixed final
pooling windows need a 13x13 / 7x7 map); Inception-v3 299x299. Batch 2, classes=10.

Before comparing, BatchNorm's moving statistics are moved halfway to one training batch's
statistics (momentum 0.5, one forward in train mode), so activations stay of order one and the
1e-4 tolerance is meaningful (with the default statistics deep nets shrink their outputs to
1e-20, where any error would pass; momentum 0 would leave zero variances that amplify rounding).

All 34 networks run by default (3.7 minutes on two busy cores, less on a quiet machine);
MX_ONNX_ZOO=quick runs one network per family and block type (DEFAULT_QUICK) for a fast check.
"""
import os

import numpy as np
import pytest

import mx
from mx import autograd
from mx.gluon import nn
from mx.gluon.model_zoo import vision

ort = pytest.importorskip("onnxruntime")

_SIZES = {"alexnet": 64, "squeezenet": 224, "densenet": 224, "inceptionv3": 299}
NAMES = sorted(vision._models)
# the networks also sent through hybridize() + HybridBlock.export files (the rest: symbol + dict)
VIA_FILES = {"resnet18_v1", "squeezenet1.1", "mobilenetv2_0.25", "densenet121"}
# one network per family and block type: v1/v2 residual blocks (basic and bottleneck), VGG with
# and without BatchNorm, both SqueezeNets, MobileNet v1/v2 (relu6), DenseNet, Inception-v3
DEFAULT_QUICK = ["resnet18_v1", "resnet18_v2", "resnet50_v1", "resnet50_v2", "alexnet", "vgg11",
           "vgg11_bn", "squeezenet1.0", "squeezenet1.1", "mobilenet0.25", "mobilenetv2_0.25",
           "densenet121", "inceptionv3"]
TEST_NAMES = DEFAULT_QUICK if os.environ.get("MX_ONNX_ZOO") == "quick" else NAMES


def _size(name):
    return next((s for k, s in _SIZES.items() if name.startswith(k)), 32)


def test_model_zoo_has_34_networks():
    assert len(NAMES) == 34


def _calibrate(net, x):
    bns = []
    net.apply(lambda b: bns.append(b) if isinstance(b, nn.BatchNorm) else None)
    for b in bns:
        b._kwargs["momentum"] = 0.5
    with autograd.train_mode():
        net(x)
    for b in bns:
        b._kwargs["momentum"] = 0.9


@pytest.mark.parametrize("name", TEST_NAMES)
def test_model_zoo_onnx_matches_mx(name, tmp_path):
    mx.random.seed(0)
    net = vision.get_model(name, classes=10)
    net.initialize(mx.init.Xavier())
    size = _size(name)
    x = mx.nd.array(np.random.RandomState(1).uniform(-1, 1, (2, 3, size, size)).astype(np.float32))
    _calibrate(net, x)
    if name in VIA_FILES:
        net.hybridize()
        y = net(x).asnumpy()
        sym_file, params_file = net.export(str(tmp_path / "net"))
        path = mx.onnx.export_model(sym_file, params_file, [x.shape], np.float32,
                                    str(tmp_path / "net.onnx"))
    else:
        y = net(x).asnumpy()
        sym = net(mx.sym.var("data"))
        params = {k: v.data() for k, v in net.collect_params().items()}
        path = mx.onnx.export_model(sym, params, [x.shape], onnx_file_path=str(tmp_path / "n.onnx"))
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    assert [i.name for i in sess.get_inputs()] == ["data"]
    (out,) = sess.run(None, {"data": x.asnumpy()})
    assert out.shape == (2, 10)
    scale = np.abs(y).max()
    assert 1e-4 < scale < 1e4, "degenerate outputs would make the comparison meaningless"
    print("%s max|onnx - mx| = %.2e (max|mx| = %.2e)" % (name, np.abs(out - y).max(), scale))
    np.testing.assert_allclose(out, y, rtol=1e-4, atol=1e-4 * min(scale, 1.0))
