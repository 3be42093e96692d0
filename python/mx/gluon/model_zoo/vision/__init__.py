"""mx.gluon.model_zoo.vision: image-classification networks of MXNet 1.x's model zoo.

``get_model(name, pretrained=False, ctx=cpu(), root='~/.mxnet/models', classes=1000, ...)``;
names as in MXNet: resnet{18,34,50,101,152}_v{1,2}, alexnet, vgg{11,13,16,19}[_bn],
squeezenet1.{0,1}, mobilenet{1.0,0.75,0.5,0.25}, mobilenetv2_{1.0,0.75,0.5,0.25},
densenet{121,161,169,201}, inceptionv3.
"""
from .resnet import *  # noqa: F401,F403
from .alexnet import *  # noqa: F401,F403
from .vgg import *  # noqa: F401,F403
from .squeezenet import *  # noqa: F401,F403
from .mobilenet import *  # noqa: F401,F403
from .densenet import *  # noqa: F401,F403
from .inception import *  # noqa: F401,F403
import sys as _sys  # noqa: E402

# (the star imports above rebind e.g. `alexnet` to the function; look the modules up by name)
_r, _a, _v, _s, _m, _d, _i = (_sys.modules[__name__ + "." + m] for m in (
    "resnet", "alexnet", "vgg", "squeezenet", "mobilenet", "densenet", "inception"))

_models = {
    "resnet18_v1": _r.resnet18_v1, "resnet34_v1": _r.resnet34_v1, "resnet50_v1": _r.resnet50_v1,
    "resnet101_v1": _r.resnet101_v1, "resnet152_v1": _r.resnet152_v1,
    "resnet18_v2": _r.resnet18_v2, "resnet34_v2": _r.resnet34_v2, "resnet50_v2": _r.resnet50_v2,
    "resnet101_v2": _r.resnet101_v2, "resnet152_v2": _r.resnet152_v2,
    "alexnet": _a.alexnet,
    "vgg11": _v.vgg11, "vgg13": _v.vgg13, "vgg16": _v.vgg16, "vgg19": _v.vgg19,
    "vgg11_bn": _v.vgg11_bn, "vgg13_bn": _v.vgg13_bn, "vgg16_bn": _v.vgg16_bn, "vgg19_bn": _v.vgg19_bn,
    "squeezenet1.0": _s.squeezenet1_0, "squeezenet1.1": _s.squeezenet1_1,
    "mobilenet1.0": _m.mobilenet1_0, "mobilenet0.75": _m.mobilenet0_75,
    "mobilenet0.5": _m.mobilenet0_5, "mobilenet0.25": _m.mobilenet0_25,
    "mobilenetv2_1.0": _m.mobilenet_v2_1_0, "mobilenetv2_0.75": _m.mobilenet_v2_0_75,
    "mobilenetv2_0.5": _m.mobilenet_v2_0_5, "mobilenetv2_0.25": _m.mobilenet_v2_0_25,
    "densenet121": _d.densenet121, "densenet161": _d.densenet161, "densenet169": _d.densenet169,
    "densenet201": _d.densenet201,
    "inceptionv3": _i.inception_v3,
}


def get_model(name, **kwargs):
    """Build model `name` (e.g. 'resnet18_v1'); keyword arguments: pretrained (bool), ctx, root
    (folder holding <name>[-<hash>].params), classes, and the model's own options."""
    name = name.lower()
    if name not in _models:
        raise ValueError("Model %s is not supported. Available options are\n\t%s" % (
            name, "\n\t".join(sorted(_models.keys()))))
    return _models[name](**kwargs)
