"""GPU benchmark bodies (issue 12), MX on gpu(0) against PyTorch CUDA, run in a subprocess:

    python gpu_workers.py FRAMEWORK BENCH   -> prints one JSON line {"value": ..., "unit": ...}

FRAMEWORK is mx or torch. run_all.py alternates them (its GPU section: the gpu_* benches) and
takes medians. Every timing ends with a device synchronisation (mx.nd.waitall /
torch.cuda.synchronize), so queued kernels are counted. MXNet 1.9.1's PyPI build has no CUDA,
so it is not in this section.

MX_GPU_BENCH_ON_CPU=1 runs the same bodies on the CPU at toy sizes: it checks the benchmark code
on a machine without a GPU and measures nothing worth reporting.
"""
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ON_CPU = os.environ.get("MX_GPU_BENCH_ON_CPU") == "1"


def _size(gpu, cpu):
    return cpu if ON_CPU else gpu


def _timeit(fn, sync, min_time=1.0, min_iters=3, warmup=2):
    for _ in range(warmup):
        fn()
    sync()
    n, t0 = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        if time.perf_counter() - t0 >= min_time and n >= min_iters:
            sync()
            return (time.perf_counter() - t0) / n


# ---------------------------------------------------------------- MX
def _mx():
    sys.path.insert(0, os.path.join(HERE, "..", "python"))
    import mx
    return mx, (mx.cpu() if ON_CPU else mx.gpu(0))


def _mx_sync(mx):
    return mx.nd.waitall


def mx_gpu_dispatch():
    """Tiny-op dispatch: a + b on one-element device arrays, queued back to back."""
    mx, ctx = _mx()
    a, b = mx.nd.ones((1,), ctx=ctx), mx.nd.ones((1,), ctx=ctx)

    def many():
        for _ in range(1000):
            a + b
    return _timeit(many, _mx_sync(mx)) / 1000 * 1e6, "us"


def _mx_matmul(dtype, tf32=False):
    mx, ctx = _mx()
    n = _size(8192, 256)
    a = mx.nd.random.uniform(shape=(n, n), ctx=ctx).astype(dtype)
    b = mx.nd.random.uniform(shape=(n, n), ctx=ctx).astype(dtype)
    if tf32:  # MX reads the switch on every product (docs/GPU.md, "GEMM arithmetic")
        os.environ["MX_CUDA_TENSOR_OP_MATH_ALLOW_CONVERSION"] = "1"
    t = _timeit(lambda: mx.nd.dot(a, b), _mx_sync(mx), min_time=2.0)
    return 2 * n ** 3 / t / 1e12, "TFLOP/s"


def mx_gpu_matmul_fp32():
    return _mx_matmul("float32")


def mx_gpu_matmul_tf32():
    return _mx_matmul("float32", tf32=True)


def mx_gpu_matmul_fp16():
    return _mx_matmul("float16")


def _mx_gluon_train(net_fn, x_shape, classes, batch, hybrid, dtype="float32", steps=10):
    """images (samples)/s of SGD-momentum training steps on one device batch."""
    mx, ctx = _mx()
    mx.random.seed(0)
    rng = np.random.RandomState(0)
    x = mx.nd.array(rng.rand(batch, *x_shape).astype(np.float32), ctx=ctx).astype(dtype)
    y = mx.nd.array(rng.randint(0, classes, batch).astype(np.float32), ctx=ctx)
    net = net_fn(mx)
    net.initialize(mx.init.Xavier(), ctx=ctx)
    if dtype != "float32":
        net.cast(dtype)
    if hybrid:
        net.hybridize(static_alloc=True, static_shape=True)
    loss_fn = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = mx.gluon.Trainer(net.collect_params(), "sgd",
                               {"learning_rate": 0.01, "momentum": 0.9, "multi_precision": dtype != "float32"})

    def run():
        for _ in range(steps):
            with mx.autograd.record():
                loss = loss_fn(net(x), y)
            loss.backward()
            trainer.step(batch)
    return batch * steps / _timeit(run, _mx_sync(mx), min_iters=2), "samples/s"


def _mx_mlp(mx):
    nn = mx.gluon.nn
    net = nn.HybridSequential()
    net.add(nn.Dense(1024, activation="relu"), nn.Dense(1024, activation="relu"), nn.Dense(10))
    return net


def mx_gpu_mlp():
    return _mx_gluon_train(_mx_mlp, (784,), 10, _size(512, 32), hybrid=False)


def mx_gpu_mlp_hybrid():
    return _mx_gluon_train(_mx_mlp, (784,), 10, _size(512, 32), hybrid=True)


def _mx_zoo(name):
    def build(mx):
        import importlib
        importlib.import_module("mx.gluon.model_zoo")
        return mx.gluon.model_zoo.vision.get_model(name, classes=1000 if not ON_CPU else 10)
    return build


def mx_gpu_resnet18_train():
    return _mx_gluon_train(_mx_zoo("resnet18_v1"), (3, _size(224, 32), _size(224, 32)), 10,
                           _size(128, 4), hybrid=True, steps=_size(10, 1))


def mx_gpu_resnet50_train():
    return _mx_gluon_train(_mx_zoo("resnet50_v1"), (3, _size(224, 32), _size(224, 32)), 10,
                           _size(128, 2), hybrid=True, steps=_size(5, 1))


def mx_gpu_resnet50_train_fp16():
    return _mx_gluon_train(_mx_zoo("resnet50_v1"), (3, _size(224, 32), _size(224, 32)), 10,
                           _size(128, 2), hybrid=True, dtype="float16", steps=_size(5, 1))


def mx_gpu_lstm():
    """2-layer LSTM language-model step (benchmarks/lm_model.py): embedding 256, hidden 512, 35 steps, batch 64."""
    mx, ctx = _mx()
    from lm_model import gluon_lm_step
    N = _size(64, 4)
    return N / _timeit(gluon_lm_step(mx, N=N, H=_size(512, 16), ctx=ctx), _mx_sync(mx)), "sequences/s"


# ---------------------------------------------------------------- PyTorch CUDA
def _torch():
    import torch
    dev = torch.device("cpu" if ON_CPU else "cuda:0")
    sync = (lambda: None) if ON_CPU else torch.cuda.synchronize
    return torch, dev, sync


def torch_gpu_dispatch():
    torch, dev, sync = _torch()
    a, b = torch.ones(1, device=dev), torch.ones(1, device=dev)

    def many():
        for _ in range(1000):
            a + b
    return _timeit(many, sync) / 1000 * 1e6, "us"


def _torch_matmul(dtype, tf32=False):
    torch, dev, sync = _torch()
    torch.backends.cuda.matmul.allow_tf32 = tf32
    n = _size(8192, 256)
    a = torch.rand(n, n, device=dev).to(dtype)
    b = torch.rand(n, n, device=dev).to(dtype)
    t = _timeit(lambda: a @ b, sync, min_time=2.0)
    return 2 * n ** 3 / t / 1e12, "TFLOP/s"


def torch_gpu_matmul_fp32():
    import torch
    return _torch_matmul(torch.float32)


def torch_gpu_matmul_tf32():
    import torch
    return _torch_matmul(torch.float32, tf32=True)


def torch_gpu_matmul_fp16():
    import torch
    return _torch_matmul(torch.float16)


def _torch_train(net, x_shape, classes, batch, amp=False, steps=10):
    """Eager PyTorch; amp=True is its usual mixed precision (autocast float16 + GradScaler)."""
    torch, dev, sync = _torch()
    torch.manual_seed(0)
    net = net.to(dev)
    rng = np.random.RandomState(0)
    x = torch.from_numpy(rng.rand(batch, *x_shape).astype(np.float32)).to(dev)
    y = torch.from_numpy(rng.randint(0, classes, batch)).to(dev)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    scaler = torch.amp.GradScaler(enabled=amp)

    def run():
        for _ in range(steps):
            opt.zero_grad()
            with torch.autocast(dev.type, dtype=torch.float16, enabled=amp):
                loss = loss_fn(net(x), y)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
    return batch * steps / _timeit(run, sync, min_iters=2), "samples/s"


def _torch_mlp():
    import torch
    nn = torch.nn
    return nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 10))


def torch_gpu_mlp():
    return _torch_train(_torch_mlp(), (784,), 10, _size(512, 32))


torch_gpu_mlp_hybrid = torch_gpu_mlp  # PyTorch eager is the reference for both MX modes (issue 12)


def _torch_zoo(depth):
    sys.path.insert(0, HERE)
    import zoo_torch
    return zoo_torch.resnet_v1(depth, classes=1000 if not ON_CPU else 10)


def torch_gpu_resnet18_train():
    return _torch_train(_torch_zoo(18), (3, _size(224, 32), _size(224, 32)), 10, _size(128, 4),
                        steps=_size(10, 1))


def torch_gpu_resnet50_train():
    return _torch_train(_torch_zoo(50), (3, _size(224, 32), _size(224, 32)), 10, _size(128, 2),
                        steps=_size(5, 1))


def torch_gpu_resnet50_train_fp16():
    return _torch_train(_torch_zoo(50), (3, _size(224, 32), _size(224, 32)), 10, _size(128, 2),
                        amp=True, steps=_size(5, 1))


def torch_gpu_lstm():
    torch, dev, sync = _torch()
    from lm_model import torch_lm_step
    N = _size(64, 4)
    return N / _timeit(torch_lm_step(N=N, H=_size(512, 16), dev=dev), sync), "sequences/s"


if __name__ == "__main__":
    fw, bench = sys.argv[1], sys.argv[2]
    value, unit = globals()["%s_%s" % (fw, bench)]()
    print(json.dumps({"framework": fw, "bench": bench, "value": value, "unit": unit}))
