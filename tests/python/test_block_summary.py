"""Block.summary(): the same table before and after hybridize(), with parameter counts equal to
those computed from the parameters' numpy shapes."""
import contextlib
import io
import re

import numpy as np

import mx
from mx.gluon import nn


def _net():
    net = nn.HybridSequential()
    net.add(nn.Conv2D(8, 3, padding=1), nn.BatchNorm(), nn.Activation("relu"), nn.MaxPool2D(2),
            nn.Flatten(), nn.Dense(16, activation="relu"), nn.Dense(10, use_bias=False))
    net.initialize(mx.init.Xavier())
    return net


def _summary(net, x):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        net.summary(x)
    return buf.getvalue()


def _rows(text):
    """{layer: (output shape, params)} from the table."""
    rows = {}
    for line in text.splitlines():
        m = re.match(r"\s*(\S+-\d+|Input)\s+(\[.*\]|\(.*\))\s+(\d+)\s*$", line)
        if m:
            rows[m.group(1)] = (m.group(2), int(m.group(3)))
    return rows


def test_summary_same_before_and_after_hybridize_and_matches_numpy_counts():
    net = _net()
    x = mx.nd.ones((2, 3, 8, 8))
    before = _summary(net, x)
    net.hybridize()
    y = net(x)
    after = _summary(net, x)
    assert before == after
    rows = _rows(after)
    conv_w = 8 * 3 * 3 * 3 + 8
    bn = 4 * 8  # gamma, beta, running mean and variance
    fc1 = 8 * 4 * 4 * 16 + 16
    fc2 = 16 * 10
    assert rows["Conv2D-1"] == ("(2, 8, 8, 8)", conv_w)
    assert rows["BatchNorm-2"][1] == bn
    assert rows["Dense-7"] == ("(2, 16)", fc1)
    assert rows["Dense-8"] == ("(2, 10)", fc2)
    total = sum(int(np.prod(p.shape)) for p in net.collect_params().values())
    trainable = sum(int(np.prod(p.shape)) for p in net.collect_params().values()
                    if p.grad_req != "null")
    assert total == conv_w + bn + fc1 + fc2
    assert "Total params: %d" % total in after
    assert "Trainable params: %d" % trainable in after
    assert "Non-trainable params: %d" % (total - trainable) in after
    # still hybridized afterwards: the cached graph is used and gives the same output
    assert net._active and net[0]._active
    np.testing.assert_allclose(net(x).asnumpy(), y.asnumpy(), rtol=1e-6)
