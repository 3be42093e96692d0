"""PyTorch versions of the MXNet model-zoo networks that benchmarks/workers.py times, built to match
MXNet's Gluon definitions layer for layer (ResNet V1 with the stride on the bottleneck's first 1x1
convolution and biased 1x1 convolutions; MobileNet V2 with the expansion 1x1 convolution even where
the expansion factor is 1), so both frameworks run the same arithmetic."""
import torch

nn = torch.nn


def _conv_bn(cin, cout, k, stride=1, groups=1, bias=False):
    return [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=bias), nn.BatchNorm2d(cout)]


class _Residual(nn.Module):
    def __init__(self, body, down):
        super().__init__()
        self.body, self.down = nn.Sequential(*body), (nn.Sequential(*down) if down else None)

    def forward(self, x):
        return torch.relu(self.body(x) + (x if self.down is None else self.down(x)))


def _basic(cin, cout, stride):
    body = _conv_bn(cin, cout, 3, stride) + [nn.ReLU(inplace=True)] + _conv_bn(cout, cout, 3)
    down = _conv_bn(cin, cout, 1, stride) if stride != 1 or cin != cout else None
    return _Residual(body, down)


def _bottleneck(cin, cout, stride):
    mid = cout // 4
    body = (_conv_bn(cin, mid, 1, stride, bias=True) + [nn.ReLU(inplace=True)] + _conv_bn(mid, mid, 3)
            + [nn.ReLU(inplace=True)] + _conv_bn(mid, cout, 1, bias=True))
    down = _conv_bn(cin, cout, 1, stride) if stride != 1 or cin != cout else None
    return _Residual(body, down)


def resnet_v1(depth, classes=10):
    block, counts, widths = {18: (_basic, [2, 2, 2, 2], [64, 128, 256, 512]),
                             50: (_bottleneck, [3, 4, 6, 3], [256, 512, 1024, 2048])}[depth]
    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
              nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for stage, (n, c) in enumerate(zip(counts, widths)):
        for i in range(n):
            layers.append(block(cin, c, 2 if stage > 0 and i == 0 else 1))
            cin = c
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, classes)]
    return nn.Sequential(*layers)


class _LinearBottleneck(nn.Module):
    def __init__(self, cin, cout, t, stride):
        super().__init__()
        mid = cin * t
        self.out = nn.Sequential(*(_conv_bn(cin, mid, 1) + [nn.ReLU6(inplace=True)]
                                   + _conv_bn(mid, mid, 3, stride, groups=mid) + [nn.ReLU6(inplace=True)]
                                   + _conv_bn(mid, cout, 1)))
        self.shortcut = stride == 1 and cin == cout

    def forward(self, x):
        y = self.out(x)
        return x + y if self.shortcut else y


def mobilenet_v2(classes=10):
    layers = _conv_bn(3, 32, 3, 2) + [nn.ReLU6(inplace=True)]
    cin = 32
    for t, c, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                       (6, 160, 3, 2), (6, 320, 1, 1)]:
        for i in range(n):
            layers.append(_LinearBottleneck(cin, c, t, s if i == 0 else 1))
            cin = c
    layers += _conv_bn(cin, 1280, 1) + [nn.ReLU6(inplace=True), nn.AdaptiveAvgPool2d(1),
                                          nn.Conv2d(1280, classes, 1, bias=False), nn.Flatten()]
    return nn.Sequential(*layers)
