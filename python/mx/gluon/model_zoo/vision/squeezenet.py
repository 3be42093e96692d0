"""SqueezeNet 1.0 / 1.1 (Iandola et al. 2016), MXNet 1.x model-zoo layout."""
from ...block import HybridBlock
from ... import nn
from ._common import HybridConcurrent, load_pretrained

__all__ = ["SqueezeNet", "get_squeezenet", "squeezenet1_0", "squeezenet1_1"]


def _fire_conv(channels, kernel_size, padding=0):
    out = nn.HybridSequential(prefix="")
    out.add(nn.Conv2D(channels, kernel_size, padding=padding))
    out.add(nn.Activation("relu"))
    return out


def _fire(squeeze, expand1x1, expand3x3):
    out = nn.HybridSequential(prefix="")
    out.add(_fire_conv(squeeze, 1))
    paths = HybridConcurrent(axis=1, prefix="")
    paths.add(_fire_conv(expand1x1, 1))
    paths.add(_fire_conv(expand3x3, 3, 1))
    out.add(paths)
    return out


class SqueezeNet(HybridBlock):
    def __init__(self, version, classes=1000, **kwargs):
        super().__init__(**kwargs)
        if version not in ("1.0", "1.1"):
            raise ValueError("Unsupported SqueezeNet version %s: 1.0 or 1.1 expected" % version)
        with self.name_scope():
            f = self.features = nn.HybridSequential(prefix="")
            pool = lambda: nn.MaxPool2D(pool_size=3, strides=2, ceil_mode=True)  # noqa: E731
            if version == "1.0":
                f.add(nn.Conv2D(96, kernel_size=7, strides=2))
                f.add(nn.Activation("relu"))
                f.add(pool())
                f.add(_fire(16, 64, 64))
                f.add(_fire(16, 64, 64))
                f.add(_fire(32, 128, 128))
                f.add(pool())
                f.add(_fire(32, 128, 128))
                f.add(_fire(48, 192, 192))
                f.add(_fire(48, 192, 192))
                f.add(_fire(64, 256, 256))
                f.add(pool())
                f.add(_fire(64, 256, 256))
            else:
                f.add(nn.Conv2D(64, kernel_size=3, strides=2))
                f.add(nn.Activation("relu"))
                f.add(pool())
                f.add(_fire(16, 64, 64))
                f.add(_fire(16, 64, 64))
                f.add(pool())
                f.add(_fire(32, 128, 128))
                f.add(_fire(32, 128, 128))
                f.add(pool())
                f.add(_fire(48, 192, 192))
                f.add(_fire(48, 192, 192))
                f.add(_fire(64, 256, 256))
                f.add(_fire(64, 256, 256))
            f.add(nn.Dropout(0.5))
            self.output = nn.HybridSequential(prefix="")
            self.output.add(nn.Conv2D(classes, kernel_size=1))
            self.output.add(nn.Activation("relu"))
            self.output.add(nn.AvgPool2D(13))
            self.output.add(nn.Flatten())

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))


def get_squeezenet(version, pretrained=False, ctx=None, root=None, **kwargs):
    net = SqueezeNet(version, **kwargs)
    return load_pretrained(net, "squeezenet%s" % version, pretrained, ctx, root)


def squeezenet1_0(**kwargs):
    """SqueezeNet 1.0; keyword arguments: pretrained, ctx, root, classes."""
    return get_squeezenet("1.0", **kwargs)


def squeezenet1_1(**kwargs):
    """SqueezeNet 1.1; keyword arguments: pretrained, ctx, root, classes."""
    return get_squeezenet("1.1", **kwargs)
