"""mx.gluon.model_zoo.vision: image-classification networks of MXNet 1.x's model zoo."""
from .resnet import *  # noqa: F401,F403

_models = {}


def _register(module):
    for name in ("resnet18_v1", "resnet34_v1", "resnet50_v1", "resnet101_v1", "resnet152_v1",
                 "resnet18_v2", "resnet34_v2", "resnet50_v2", "resnet101_v2", "resnet152_v2"):
        if hasattr(module, name):
            _models[name] = getattr(module, name)


from . import resnet as _resnet  # noqa: E402
_register(_resnet)


def get_model(name, **kwargs):
    """Build model `name` (e.g. 'resnet18_v1'); keyword arguments: pretrained (bool), ctx, root
    (folder holding <name>[-<hash>].params), classes, and the model's own options."""
    name = name.lower()
    if name not in _models:
        raise ValueError("Model %s is not supported. Available options are\n\t%s" % (
            name, "\n\t".join(sorted(_models.keys()))))
    return _models[name](**kwargs)
