"""Generate the numeric fixtures of tests/python/test_model_zoo.py with Apache MXNet 1.9.1 (run once):

    /opt/mxnet-venv/bin/python tests/data/model_zoo/gen_numeric.py tests/data/model_zoo

For each case, MXNet builds the model-zoo network, gives every parameter (batch-norm running
statistics included) random values, and writes <case>.params (save_parameters format),
<case>_legacy.params (save_params format: full names less the net prefix; ResNet-50 cases only), <case>_io.npz (input, output in
inference mode). Other names are model-zoo models built with classes=10 (stored: squeezenet1.1,
mobilenet0.25, mobilenetv2_0.25; the test generates larger ones on the fly). The ResNet-18 cases use the model zoo's ResNetV1/ResNetV2 classes with the
ResNet-18 layout but narrower channels, to keep the fixtures small (~3 MB); the test checks the
full-width resnet18_v1 against MXNet directly when MXNet is installed.
"""
import os
import sys

import numpy as np
import mxnet as mx
from mxnet.gluon.model_zoo.vision import resnet as R

CASES = {
    "resnet18_v1_narrow": lambda: R.ResNetV1(R.BasicBlockV1, [2, 2, 2, 2], [16, 16, 32, 64, 128], classes=10),
    "resnet18_v2_narrow": lambda: R.ResNetV2(R.BasicBlockV2, [2, 2, 2, 2], [16, 16, 32, 64, 128], classes=10),
    "resnet50_v1_narrow": lambda: R.ResNetV1(R.BottleneckV1, [1, 1, 1, 1], [16, 32, 64, 128, 256], classes=10),
    "resnet50_v2_narrow": lambda: R.ResNetV2(R.BottleneckV2, [1, 1, 1, 1], [16, 32, 64, 128, 256], classes=10),
}


def input_size(name):
    if name.startswith("inception"):
        return 299
    if name.startswith(("squeezenet", "densenet", "alexnet", "vgg")):
        return 224
    return 32


def make(name, out_dir, size=None, seed=0):
    size = size or input_size(name)
    rng = np.random.RandomState(seed)
    net = CASES[name]() if name in CASES else mx.gluon.model_zoo.vision.get_model(name, classes=10)
    net.initialize(mx.init.Xavier())
    x = mx.nd.array(rng.uniform(-1, 1, (1, 3, size, size)).astype(np.float32))
    net(x)
    for k, p in net.collect_params().items():
        shape = p.shape
        if k.endswith("running_var"):
            p.set_data(mx.nd.array(rng.uniform(0.5, 1.5, shape).astype(np.float32)))
        elif k.endswith("running_mean") or k.endswith("beta") or k.endswith("bias"):
            p.set_data(mx.nd.array(rng.uniform(-0.2, 0.2, shape).astype(np.float32)))
        elif k.endswith("gamma"):
            p.set_data(mx.nd.array(rng.uniform(0.5, 1.5, shape).astype(np.float32)))
    y = net(x)
    net.save_parameters(os.path.join(out_dir, name + ".params"))
    if "50" in name:  # the old full-name format, for the smaller cases only
        net.collect_params().save(os.path.join(out_dir, name + "_legacy.params"), strip_prefix=net.prefix)
    np.savez(os.path.join(out_dir, name + "_io.npz"), x=x.asnumpy(), y=y.asnumpy(), prefix=net.prefix)


if __name__ == "__main__":
    out = sys.argv[1]
    names = sys.argv[2:] or list(CASES)
    for n in names:
        make(n, out)
