"""Whole models on the GPU (issue 12): model-zoo inference GPU vs CPU (resnet18_v1 and
mobilenetv2_1.0 (mobilenet_v2_1_0) at 32x32, batch 2), and the caching allocator in steady state over a ResNet-18
training loop (device memory flat after warm-up)."""
import os
import tempfile

import numpy as np
import pytest

import mx
from mx import base

GPU = mx.gpu(0) if mx.context.num_gpus() > 0 else None
EMULATED = os.environ.get("MX_GPU_TESTS_ON_CPU") == "1"
vision = mx.gluon.model_zoo.vision


def _copy_params(src, dst, ctx):
    with tempfile.TemporaryDirectory() as d:
        f = os.path.join(d, "net.params")
        src.save_parameters(f)
        dst.load_parameters(f, ctx=ctx)


@pytest.mark.parametrize("name", ["resnet18_v1", "mobilenetv2_1.0"])
@pytest.mark.parametrize("hybridize", [False, True], ids=["imperative", "hybrid"])
def test_model_zoo_inference_matches_cpu(name, hybridize):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 32, 32)).astype(np.float32)
    mx.random.seed(2)
    cpu_net = vision.get_model(name, classes=10)
    cpu_net.initialize(mx.init.Xavier(magnitude=2.0), ctx=mx.cpu())
    cpu_net(mx.nd.array(x))
    gpu_net = vision.get_model(name, classes=10)
    _copy_params(cpu_net, gpu_net, GPU)
    outs = {"predict": [], "train": []}
    for net, ctx in ((cpu_net, mx.cpu()), (gpu_net, GPU)):
        if hybridize:
            net.hybridize()
        xd = mx.nd.array(x, ctx=ctx)
        y = net(xd)  # inference: BatchNorm with its (initial) moving statistics
        with mx.autograd.record():  # training mode: BatchNorm with the batch's statistics
            yt = net(xd)
        for kind, o in (("predict", y), ("train", yt)):
            assert o.context == ctx and o.shape == (2, 10)
            outs[kind].append(o.asnumpy())
    for kind, (c, g) in outs.items():
        assert np.all(np.isfinite(c)) and np.abs(c).max() > 0, kind
        # 1e-4 relative to the logits' scale (float32 sums in different orders through ~20 layers)
        np.testing.assert_allclose(g, c, rtol=1e-4, atol=1e-4 * float(np.abs(c).max()), err_msg=kind)
    assert np.abs(outs["train"][0]).max() > 1e-2  # normalised activations reach the logits


def _pool():
    used, res = base.ffi.new("uint64_t *"), base.ffi.new("uint64_t *")
    base.check_call(base.lib.mx_gpu_pool_stats(0, used, res))
    return int(used[0]), int(res[0])


# The issue asks for 1000 steps; at 32x32, batch 4 that is most of make test-gpu's 8 minutes on
# one GPU, so the default is 200 (MX_GPU_STEADY_STEPS=1000 runs the full loop).
STEPS = int(os.environ.get("MX_GPU_STEADY_STEPS", "200"))
WARMUP = 10


def test_allocator_steady_state_resnet18_training():
    rng = np.random.default_rng(1)
    data = rng.standard_normal((4, 4, 3, 32, 32)).astype(np.float32)  # 4 batches, cycled
    labels = rng.integers(0, 10, (4, 4)).astype(np.float32)
    mx.random.seed(3)
    net = vision.get_model("resnet18_v1", classes=10)
    net.initialize(mx.init.Xavier(magnitude=2.0), ctx=GPU)
    net.hybridize()
    trainer = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.01, "momentum": 0.9})
    loss_fn = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    xs = [mx.nd.array(d, ctx=GPU) for d in data]
    ys = [mx.nd.array(l, ctx=GPU) for l in labels]
    steps = 3 if EMULATED else STEPS  # emulation (gpu = cpu) only checks the loop's code

    def step(i):
        with mx.autograd.record():
            loss = loss_fn(net(xs[i % 4]), ys[i % 4])
        loss.backward()
        trainer.step(4)
        return loss

    first = float(step(0).mean().asscalar())
    for i in range(1, WARMUP):
        step(i)
    mx.nd.waitall()
    if not EMULATED:
        used0, reserved0 = _pool()
        free0, _ = mx.context.gpu_memory_info(0)
    for i in range(steps):
        loss = step(WARMUP + i)
    mx.nd.waitall()
    last = float(loss.mean().asscalar())
    assert np.isfinite(first) and np.isfinite(last)
    if EMULATED:
        return
    used1, reserved1 = _pool()
    free1, _ = mx.context.gpu_memory_info(0)
    print("\n[gpu] ResNet-18 32x32 batch 4, %d steps after %d warm-up: pool in use %d -> %d bytes, reserved %d -> %d, "
          "device free %d -> %d" % (steps, WARMUP, used0, used1, reserved0, reserved1, free0, free1))
    assert reserved1 == reserved0, "the pool grew in steady state (%d -> %d bytes)" % (reserved0, reserved1)
    assert used1 == used0, "arrays in use grew in steady state (%d -> %d bytes)" % (used0, used1)
    assert free1 >= free0 - (2 << 20), "device memory outside the pool grew (%d -> %d free)" % (free0, free1)
