"""DenseNet 121/161/169/201 (Huang et al. 2016), MXNet 1.x model-zoo layout."""
from ...block import HybridBlock
from ... import nn
from ._common import HybridConcurrent, load_pretrained

__all__ = ["DenseNet", "get_densenet", "densenet121", "densenet161", "densenet169", "densenet201"]


def _dense_layer(growth_rate, bn_size, dropout):
    new_features = nn.HybridSequential(prefix="")
    new_features.add(nn.BatchNorm())
    new_features.add(nn.Activation("relu"))
    new_features.add(nn.Conv2D(bn_size * growth_rate, kernel_size=1, use_bias=False))
    new_features.add(nn.BatchNorm())
    new_features.add(nn.Activation("relu"))
    new_features.add(nn.Conv2D(growth_rate, kernel_size=3, padding=1, use_bias=False))
    if dropout:
        new_features.add(nn.Dropout(dropout))
    out = HybridConcurrent(axis=1, prefix="")
    out.add(nn.Identity())
    out.add(new_features)
    return out


def _dense_block(num_layers, bn_size, growth_rate, dropout, stage_index):
    out = nn.HybridSequential(prefix="stage%d_" % stage_index)
    with out.name_scope():
        for _ in range(num_layers):
            out.add(_dense_layer(growth_rate, bn_size, dropout))
    return out


def _transition(num_output_features):
    out = nn.HybridSequential(prefix="")
    out.add(nn.BatchNorm())
    out.add(nn.Activation("relu"))
    out.add(nn.Conv2D(num_output_features, kernel_size=1, use_bias=False))
    out.add(nn.AvgPool2D(pool_size=2, strides=2))
    return out


class DenseNet(HybridBlock):
    def __init__(self, num_init_features, growth_rate, block_config, bn_size=4, dropout=0,
                 classes=1000, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            f = self.features = nn.HybridSequential(prefix="")
            f.add(nn.Conv2D(num_init_features, kernel_size=7, strides=2, padding=3, use_bias=False))
            f.add(nn.BatchNorm())
            f.add(nn.Activation("relu"))
            f.add(nn.MaxPool2D(pool_size=3, strides=2, padding=1))
            num_features = num_init_features
            for i, num_layers in enumerate(block_config):
                f.add(_dense_block(num_layers, bn_size, growth_rate, dropout, i + 1))
                num_features += num_layers * growth_rate
                if i != len(block_config) - 1:
                    f.add(_transition(num_features // 2))
                    num_features //= 2
            f.add(nn.BatchNorm())
            f.add(nn.Activation("relu"))
            f.add(nn.AvgPool2D(pool_size=7))
            f.add(nn.Flatten())
            self.output = nn.Dense(classes)

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))


densenet_spec = {121: (64, 32, [6, 12, 24, 16]),
                 161: (96, 48, [6, 12, 36, 24]),
                 169: (64, 32, [6, 12, 32, 32]),
                 201: (64, 32, [6, 12, 48, 32])}


def get_densenet(num_layers, pretrained=False, ctx=None, root=None, **kwargs):
    if num_layers not in densenet_spec:
        raise ValueError("Invalid number of layers: %d. Options are %s" % (num_layers,
                                                                         sorted(densenet_spec)))
    init_f, growth, config = densenet_spec[num_layers]
    net = DenseNet(init_f, growth, config, **kwargs)
    return load_pretrained(net, "densenet%d" % num_layers, pretrained, ctx, root)


def _make(n):
    def fn(**kwargs):
        return get_densenet(n, **kwargs)
    fn.__name__ = "densenet%d" % n
    fn.__doc__ = "DenseNet-%d; keyword arguments: pretrained, ctx, root, classes." % n
    return fn


densenet121, densenet161, densenet169, densenet201 = (_make(n) for n in (121, 161, 169, 201))
