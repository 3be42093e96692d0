"""gluon.contrib.cnn.DeformableConvolution / ModulatedDeformableConvolution (MXNet 1.x layers): the
offset convolution starts at zero, so a fresh v1 layer equals a plain convolution with the same
weight (and a v2 layer the same with every mask sigmoid(0) * 2 = 1); deferred input channels,
hybridization, gradients to every parameter, and MXNet's test_ModulatedDeformableConvolution net."""
import numpy as np
import pytest

import mx
from mx.gluon import nn
from mx.gluon.contrib.cnn import DeformableConvolution, ModulatedDeformableConvolution


@pytest.mark.parametrize("cls", [DeformableConvolution, ModulatedDeformableConvolution])
@pytest.mark.parametrize("hybridize", [False, True])
def test_fresh_layer_is_a_convolution(cls, hybridize):
    layer = cls(6, kernel_size=(3, 2), strides=(1, 2), padding=1, groups=2, num_deformable_group=2)
    layer.initialize(mx.init.Normal(0.5))
    if hybridize:
        layer.hybridize()
    x = mx.nd.array(np.random.RandomState(0).normal(size=(2, 4, 7, 8)))
    with mx.autograd.record():
        y = layer(x)
    y.backward()
    w, b = layer.deformable_conv_weight.data(), layer.deformable_conv_bias.data()
    ref = mx.nd.Convolution(x, w, b, kernel=(3, 2), stride=(1, 2), pad=(1, 1), num_filter=6, num_group=2)
    np.testing.assert_allclose(y.asnumpy(), ref.asnumpy(), rtol=1e-4, atol=1e-4)
    factor = 3 if cls is ModulatedDeformableConvolution else 2
    assert layer.offset_weight.shape == (factor * 3 * 2 * 2, 2, 3, 2)
    for p in layer.collect_params().values():
        assert p.grad().shape == p.shape
    assert np.abs(layer.offset_weight.grad().asnumpy()).sum() > 0  # offsets do get a gradient


def test_mxnet_layer_combinations_run():
    # MXNet's test_gluon_contrib.py::test_ModulatedDeformableConvolution net (smaller input)
    net = nn.HybridSequential()
    net.add(DeformableConvolution(10, kernel_size=(3, 3), strides=1, padding=0),
            DeformableConvolution(10, kernel_size=(1, 1), strides=1, padding=0),
            DeformableConvolution(10, kernel_size=(5, 1), strides=1, padding=0, num_deformable_group=2),
            DeformableConvolution(10, kernel_size=(3, 2), strides=1, padding=0, activation="relu",
                                  offset_use_bias=False, use_bias=False),
            ModulatedDeformableConvolution(12, kernel_size=(3, 2), strides=1, padding=0, use_bias=False,
                                           num_deformable_group=2))
    net.initialize(force_reinit=True)
    net.hybridize()
    x = mx.nd.random.uniform(shape=(2, 5, 12, 13))
    with mx.autograd.record():
        y = net(x)
    y.backward()
    assert y.shape == (2, 12, 12 - 2 - 4 - 2 - 2, 13 - 2 - 1 - 1)  # valid convolutions shrink H and W
