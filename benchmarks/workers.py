"""Benchmark bodies for each framework, run in a subprocess:

    python workers.py FRAMEWORK BENCH [args...]   -> prints one JSON line {"value": ..., "unit": ...}

FRAMEWORK is mx, torch or mxnet (Apache MXNet 1.9.1, run from its own venv). Each call measures
once; run_all.py alternates frameworks and takes medians, since this host's speed drifts by up
to 20 % from one minute to the next.
"""
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def _timeit(fn, min_time=0.5, min_iters=5):
    fn()  # warm-up
    n = 0
    t0 = time.perf_counter()
    while True:
        fn()
        n += 1
        dt = time.perf_counter() - t0
        if dt >= min_time and n >= min_iters:
            return dt / n


def _timeit_batch(fn, inner, min_time=0.5):
    """For tiny calls: time `inner` calls per sample to keep loop overhead out."""
    fn()
    best = []
    t_end = time.perf_counter() + min_time
    while time.perf_counter() < t_end or len(best) < 3:
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        best.append((time.perf_counter() - t0) / inner)
    return float(np.median(best))


# ---------------------------------------------------------------- MX
def mx_setup():
    sys.path.insert(0, os.path.join(HERE, "..", "python"))
    import mx
    return mx


def mx_dispatch():
    mx = mx_setup()
    a = mx.nd.array([1.0])
    b = mx.nd.array([2.0])
    return _timeit_batch(lambda: a + b, 2000) * 1e6, "us"


def mx_matmul(n=1024):
    mx = mx_setup()
    a = mx.nd.array(np.random.rand(n, n).astype(np.float32))
    b = mx.nd.array(np.random.rand(n, n).astype(np.float32))
    t = _timeit(lambda: mx.nd.dot(a, b).wait_to_read())
    return 2 * n ** 3 / t / 1e9, "GFLOP/s"


def mx_mlp(batch=128, steps=60):
    mx = mx_setup()
    mx.random.seed(0)
    rng = np.random.RandomState(0)
    x = mx.nd.array(rng.rand(batch, 784).astype(np.float32))
    y = mx.nd.array(rng.randint(0, 10, batch).astype(np.float32))
    shapes = [("w1", (512, 784)), ("b1", (512,)), ("w2", (512, 512)), ("b2", (512,)), ("w3", (10, 512)),
              ("b3", (10,))]
    p = {k: mx.nd.array(rng.normal(0, 0.05, s).astype(np.float32)) for k, s in shapes}
    names = [k for k, _ in shapes]
    for v in p.values():
        v.attach_grad()
    opt = mx.optimizer.create("sgd", learning_rate=0.01, momentum=0.9, rescale_grad=1.0 / batch)
    upd = mx.optimizer.get_updater(opt)
    idx = list(range(len(names)))

    def step():
        with mx.autograd.record():
            h = mx.nd.relu(mx.nd.FullyConnected(x, p["w1"], p["b1"], num_hidden=512))
            h = mx.nd.relu(mx.nd.FullyConnected(h, p["w2"], p["b2"], num_hidden=512))
            o = mx.nd.FullyConnected(h, p["w3"], p["b3"], num_hidden=10)
            loss = -mx.nd.pick(mx.nd.log_softmax(o), y)
        loss.backward()
        upd(idx, [p[k].grad for k in names], [p[k] for k in names])
        mx.nd.waitall()

    t = _timeit(step, min_time=1.0)
    return batch / t, "samples/s"


# ---------------------------------------------------------------- PyTorch
def torch_dispatch():
    import torch
    torch.set_grad_enabled(False)
    a = torch.tensor([1.0])
    b = torch.tensor([2.0])
    return _timeit_batch(lambda: a + b, 2000) * 1e6, "us"


def torch_matmul(n=1024):
    import torch
    a = torch.rand(n, n)
    b = torch.rand(n, n)
    t = _timeit(lambda: torch.mm(a, b))
    return 2 * n ** 3 / t / 1e9, "GFLOP/s"


def torch_mlp(batch=128):
    import torch
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 512),
                              torch.nn.ReLU(), torch.nn.Linear(512, 10))
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    x = torch.rand(batch, 784)
    y = torch.randint(0, 10, (batch,))
    lossf = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = lossf(net(x), y)
        loss.backward()
        opt.step()

    t = _timeit(step, min_time=1.0)
    return batch / t, "samples/s"


# ---------------------------------------------------------------- Apache MXNet 1.9.1
def mxnet_dispatch():
    import mxnet
    a = mxnet.nd.array([1.0])
    b = mxnet.nd.array([2.0])
    return _timeit_batch(lambda: a + b, 500) * 1e6, "us"


def mxnet_matmul(n=1024):
    import mxnet
    a = mxnet.nd.array(np.random.rand(n, n).astype(np.float32))
    b = mxnet.nd.array(np.random.rand(n, n).astype(np.float32))
    t = _timeit(lambda: mxnet.nd.dot(a, b).wait_to_read())
    return 2 * n ** 3 / t / 1e9, "GFLOP/s"


def mxnet_mlp(batch=128):
    import mxnet as mx
    from mxnet import autograd, gluon
    net = gluon.nn.HybridSequential()
    net.add(gluon.nn.Dense(512, activation="relu"), gluon.nn.Dense(512, activation="relu"), gluon.nn.Dense(10))
    net.initialize(mx.init.Xavier())
    net.hybridize()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.01, "momentum": 0.9})
    lossf = gluon.loss.SoftmaxCrossEntropyLoss()
    x = mx.nd.array(np.random.rand(batch, 784).astype(np.float32))
    y = mx.nd.array(np.random.randint(0, 10, batch).astype(np.float32))

    def step():
        with autograd.record():
            loss = lossf(net(x), y)
        loss.backward()
        trainer.step(batch)
        mx.nd.waitall()

    t = _timeit(step, min_time=1.0)
    return batch / t, "samples/s"


# ---------------------------------------------------------------- convolution and LeNet
CONV_SHAPES = {"conv_small": (64, 3, 32, 32, 32), "conv_large": (64, 64, 56, 56, 64)}


def _conv_shape(name):
    return CONV_SHAPES[name]


def mx_conv(name, backward):
    mx = mx_setup()
    n, c, h, w, f = _conv_shape(name)
    x = mx.nd.array(np.random.rand(n, c, h, w).astype(np.float32))
    k = mx.nd.array(np.random.rand(f, c, 3, 3).astype(np.float32))
    bias = mx.nd.zeros((f,))
    if backward:
        x.attach_grad()
        k.attach_grad()

    def step():
        if backward:
            with mx.autograd.record():
                y = mx.nd.Convolution(x, k, bias, kernel=(3, 3), pad=(1, 1), num_filter=f)
            y.backward()
        else:
            mx.nd.Convolution(x, k, bias, kernel=(3, 3), pad=(1, 1), num_filter=f).wait_to_read()
    return _timeit(step) * 1e3, "ms"


def torch_conv(name, backward):
    import torch
    n, c, h, w, f = _conv_shape(name)
    x = torch.rand(n, c, h, w, requires_grad=backward)
    conv = torch.nn.Conv2d(c, f, 3, padding=1)

    def step():
        if backward:
            conv(x).backward(torch.ones(n, f, h, w))
        else:
            with torch.no_grad():
                conv(x)
    return _timeit(step) * 1e3, "ms"


def mxnet_conv(name, backward):
    import mxnet
    n, c, h, w, f = _conv_shape(name)
    x = mxnet.nd.array(np.random.rand(n, c, h, w).astype(np.float32))
    k = mxnet.nd.array(np.random.rand(f, c, 3, 3).astype(np.float32))
    bias = mxnet.nd.zeros((f,))
    if backward:
        x.attach_grad()
        k.attach_grad()

    def step():
        if backward:
            with mxnet.autograd.record():
                y = mxnet.nd.Convolution(x, k, bias, kernel=(3, 3), pad=(1, 1), num_filter=f)
            y.backward()
            mxnet.nd.waitall()
        else:
            mxnet.nd.Convolution(x, k, bias, kernel=(3, 3), pad=(1, 1), num_filter=f).wait_to_read()
    return _timeit(step) * 1e3, "ms"


for _fw in ("mx", "torch", "mxnet"):
    for _name in CONV_SHAPES:
        globals()["%s_%s_fwd" % (_fw, _name)] = (lambda fw, nm: lambda: globals()["%s_conv" % fw](nm, False))(_fw, _name)
        globals()["%s_%s_fwdbwd" % (_fw, _name)] = (lambda fw, nm: lambda: globals()["%s_conv" % fw](nm, True))(_fw, _name)


def mx_lenet(batch=64):
    mx = mx_setup()
    rng = np.random.RandomState(0)
    x = mx.nd.array(rng.rand(batch, 1, 28, 28).astype(np.float32))
    y = mx.nd.array(rng.randint(0, 10, batch).astype(np.float32))
    shapes = [("c1", (20, 1, 5, 5)), ("cb1", (20,)), ("c2", (50, 20, 5, 5)), ("cb2", (50,)),
              ("f1", (500, 800)), ("fb1", (500,)), ("f2", (10, 500)), ("fb2", (10,))]
    p = {k: mx.nd.array(rng.normal(0, 0.05, s).astype(np.float32)) for k, s in shapes}
    names = [k for k, _ in shapes]
    for v in p.values():
        v.attach_grad()
    upd = mx.optimizer.get_updater(mx.optimizer.create("sgd", learning_rate=0.01, momentum=0.9,
                                                      rescale_grad=1.0 / batch))
    idx = list(range(len(names)))

    def step():
        with mx.autograd.record():
            h = mx.nd.Convolution(x, p["c1"], p["cb1"], kernel=(5, 5), num_filter=20)
            h = mx.nd.Pooling(mx.nd.tanh(h), kernel=(2, 2), stride=(2, 2), pool_type="max")
            h = mx.nd.Convolution(h, p["c2"], p["cb2"], kernel=(5, 5), num_filter=50)
            h = mx.nd.Pooling(mx.nd.tanh(h), kernel=(2, 2), stride=(2, 2), pool_type="max")
            h = mx.nd.tanh(mx.nd.FullyConnected(h, p["f1"], p["fb1"], num_hidden=500))
            o = mx.nd.FullyConnected(h, p["f2"], p["fb2"], num_hidden=10)
            loss = -mx.nd.pick(mx.nd.log_softmax(o), y)
        loss.backward()
        upd(idx, [p[k].grad for k in names], [p[k] for k in names])
    return batch / _timeit(step, min_time=1.0), "samples/s"


def torch_lenet(batch=64):
    import torch
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(1, 20, 5), nn.Tanh(), nn.MaxPool2d(2), nn.Conv2d(20, 50, 5), nn.Tanh(),
                        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(800, 500), nn.Tanh(), nn.Linear(500, 10))
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    x = torch.rand(batch, 1, 28, 28)
    y = torch.randint(0, 10, (batch,))
    lossf = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        lossf(net(x), y).backward()
        opt.step()
    return batch / _timeit(step, min_time=1.0), "samples/s"


def mxnet_lenet(batch=64):
    import mxnet as mx
    from mxnet import autograd, gluon
    nn = gluon.nn
    net = nn.HybridSequential()
    net.add(nn.Conv2D(20, 5, activation="tanh"), nn.MaxPool2D(2), nn.Conv2D(50, 5, activation="tanh"),
            nn.MaxPool2D(2), nn.Flatten(), nn.Dense(500, activation="tanh"), nn.Dense(10))
    net.initialize(mx.init.Xavier())
    net.hybridize()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.01, "momentum": 0.9})
    lossf = gluon.loss.SoftmaxCrossEntropyLoss()
    x = mx.nd.array(np.random.rand(batch, 1, 28, 28).astype(np.float32))
    y = mx.nd.array(np.random.randint(0, 10, batch).astype(np.float32))

    def step():
        with autograd.record():
            loss = lossf(net(x), y)
        loss.backward()
        trainer.step(batch)
        mx.nd.waitall()
    return batch / _timeit(step, min_time=1.0), "samples/s"


# ---------------------------------------------------------------- Module (symbolic) training
def _module_mlp(mxmod, batch=128, batches=20):
    data = mxmod.sym.var("data")
    net = mxmod.sym.FullyConnected(data, num_hidden=512, name="fc1")
    net = mxmod.sym.Activation(net, act_type="relu")
    net = mxmod.sym.FullyConnected(net, num_hidden=512, name="fc2")
    net = mxmod.sym.Activation(net, act_type="relu")
    net = mxmod.sym.FullyConnected(net, num_hidden=10, name="fc3")
    net = mxmod.sym.SoftmaxOutput(net, name="softmax")
    rng = np.random.RandomState(0)
    x = rng.rand(batch * batches, 784).astype(np.float32)
    y = rng.randint(0, 10, batch * batches).astype(np.float32)
    it = mxmod.io.NDArrayIter(x, y, batch_size=batch)
    mod = mxmod.mod.Module(net, context=mxmod.cpu())
    mod.bind(data_shapes=it.provide_data, label_shapes=it.provide_label)
    mod.init_params(mxmod.init.Xavier())
    mod.init_optimizer(optimizer="sgd", optimizer_params={"learning_rate": 0.01, "momentum": 0.9})

    def epoch():
        it.reset()
        for b in it:
            mod.forward_backward(b)
            mod.update()
        mxmod.nd.waitall()
    return batch * batches / _timeit(epoch, min_time=1.0, min_iters=2), "samples/s"


def _module_lenet(mxmod, batch=64, batches=10):
    sym = mxmod.sym
    d = sym.var("data")
    h = sym.Pooling(sym.Activation(sym.Convolution(d, kernel=(5, 5), num_filter=20), act_type="tanh"),
                    kernel=(2, 2), stride=(2, 2), pool_type="max")
    h = sym.Pooling(sym.Activation(sym.Convolution(h, kernel=(5, 5), num_filter=50), act_type="tanh"),
                    kernel=(2, 2), stride=(2, 2), pool_type="max")
    h = sym.Activation(sym.FullyConnected(sym.Flatten(h), num_hidden=500), act_type="tanh")
    net = sym.SoftmaxOutput(sym.FullyConnected(h, num_hidden=10), name="softmax")
    rng = np.random.RandomState(0)
    x = rng.rand(batch * batches, 1, 28, 28).astype(np.float32)
    y = rng.randint(0, 10, batch * batches).astype(np.float32)
    it = mxmod.io.NDArrayIter(x, y, batch_size=batch)
    mod = mxmod.mod.Module(net, context=mxmod.cpu())
    mod.bind(data_shapes=it.provide_data, label_shapes=it.provide_label)
    mod.init_params(mxmod.init.Xavier())
    mod.init_optimizer(optimizer="sgd", optimizer_params={"learning_rate": 0.01, "momentum": 0.9})

    def epoch():
        it.reset()
        for b in it:
            mod.forward_backward(b)
            mod.update()
        mxmod.nd.waitall()
    return batch * batches / _timeit(epoch, min_time=1.0, min_iters=2), "samples/s"


def _imperative_fit(mx, forward, shapes, it, batch, batches):
    """MX's imperative mode on exactly the Module benchmark's job: same iterator, same ops
    (SoftmaxOutput loss), same optimizer; only autograd replaces the executor."""
    rng = np.random.RandomState(0)
    p = [mx.nd.array(rng.normal(0, 0.05, s).astype(np.float32)) for s in shapes]
    for v in p:
        v.attach_grad()
    upd = mx.optimizer.get_updater(mx.optimizer.create("sgd", learning_rate=0.01, momentum=0.9,
                                                      rescale_grad=1.0 / batch))
    idx = list(range(len(p)))

    def epoch():
        it.reset()
        for b in it:
            with mx.autograd.record():
                out = mx.nd.SoftmaxOutput(forward(mx, b.data[0], p), b.label[0])
            out.backward()
            upd(idx, [v.grad for v in p], p)
        mx.nd.waitall()
    return batch * batches / _timeit(epoch, min_time=1.0, min_iters=2), "samples/s"


def mx_imperative_module_mlp(batch=128, batches=20):
    mx = mx_setup()
    rng = np.random.RandomState(0)
    it = mx.io.NDArrayIter(rng.rand(batch * batches, 784).astype(np.float32),
                           rng.randint(0, 10, batch * batches).astype(np.float32), batch_size=batch)

    def forward(mx, x, p):
        h = mx.nd.Activation(mx.nd.FullyConnected(x, p[0], p[1], num_hidden=512), act_type="relu")
        h = mx.nd.Activation(mx.nd.FullyConnected(h, p[2], p[3], num_hidden=512), act_type="relu")
        return mx.nd.FullyConnected(h, p[4], p[5], num_hidden=10)
    shapes = [(512, 784), (512,), (512, 512), (512,), (10, 512), (10,)]
    return _imperative_fit(mx, forward, shapes, it, batch, batches)


def mx_imperative_module_lenet(batch=64, batches=10):
    mx = mx_setup()
    rng = np.random.RandomState(0)
    it = mx.io.NDArrayIter(rng.rand(batch * batches, 1, 28, 28).astype(np.float32),
                           rng.randint(0, 10, batch * batches).astype(np.float32), batch_size=batch)

    def forward(mx, x, p):
        nd = mx.nd
        h = nd.Pooling(nd.Activation(nd.Convolution(x, p[0], p[1], kernel=(5, 5), num_filter=20), act_type="tanh"),
                       kernel=(2, 2), stride=(2, 2), pool_type="max")
        h = nd.Pooling(nd.Activation(nd.Convolution(h, p[2], p[3], kernel=(5, 5), num_filter=50), act_type="tanh"),
                       kernel=(2, 2), stride=(2, 2), pool_type="max")
        h = nd.Activation(nd.FullyConnected(nd.Flatten(h), p[4], p[5], num_hidden=500), act_type="tanh")
        return nd.FullyConnected(h, p[6], p[7], num_hidden=10)
    shapes = [(20, 1, 5, 5), (20,), (50, 20, 5, 5), (50,), (500, 800), (500,), (10, 500), (10,)]
    return _imperative_fit(mx, forward, shapes, it, batch, batches)


def mx_module_lenet():
    return _module_lenet(mx_setup())


def mxnet_module_lenet():
    import mxnet
    return _module_lenet(mxnet)


def mx_module_mlp():
    return _module_mlp(mx_setup())


def mxnet_module_mlp():
    import mxnet
    return _module_mlp(mxnet)


# ---------------------------------------------------------------- Gluon training (imperative / hybridized)
def _gluon_net(mxmod, kind):
    nn = mxmod.gluon.nn
    net = nn.HybridSequential()
    with net.name_scope():
        if kind == "mlp":
            net.add(nn.Dense(512, activation="relu"), nn.Dense(512, activation="relu"), nn.Dense(10))
        else:  # LeNet as in examples/gluon_fashion_mnist.py
            net.add(nn.Conv2D(20, kernel_size=5, activation="relu"), nn.MaxPool2D(pool_size=2, strides=2),
                    nn.Conv2D(50, kernel_size=5, activation="relu"), nn.MaxPool2D(pool_size=2, strides=2),
                    nn.Flatten(), nn.Dense(500, activation="relu"), nn.Dense(10))
    return net


def _gluon_train(mxmod, kind, hybrid, batches=10):
    """samples/s of autograd.record + SoftmaxCrossEntropyLoss + backward + Trainer.step (SGD momentum)
    over `batches` distinct batches, for MX and MXNet with the same Gluon code."""
    batch, shape = (128, (784,)) if kind == "mlp" else (64, (1, 28, 28))
    rng = np.random.RandomState(0)
    xs = [mxmod.nd.array(rng.rand(batch, *shape).astype(np.float32)) for _ in range(batches)]
    ys = [mxmod.nd.array(rng.randint(0, 10, batch).astype(np.float32)) for _ in range(batches)]
    net = _gluon_net(mxmod, kind)
    net.initialize(mxmod.init.Xavier())
    if hybrid:
        net.hybridize(static_alloc=True, static_shape=True)
    loss_fn = mxmod.gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = mxmod.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.01, "momentum": 0.9})

    def epoch():
        for x, y in zip(xs, ys):
            with mxmod.autograd.record():
                loss = loss_fn(net(x), y)
            loss.backward()
            trainer.step(batch)
        mxmod.nd.waitall()
    return batch * batches / _timeit(epoch, min_time=1.0, min_iters=2), "samples/s"


def _torch_gluon_train(kind, batches=10):
    import torch
    torch.manual_seed(0)
    batch, shape = (128, (784,)) if kind == "mlp" else (64, (1, 28, 28))
    nn = torch.nn
    if kind == "mlp":
        net = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    else:
        net = nn.Sequential(nn.Conv2d(1, 20, 5), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Conv2d(20, 50, 5), nn.ReLU(),
                            nn.MaxPool2d(2, 2), nn.Flatten(), nn.Linear(800, 500), nn.ReLU(), nn.Linear(500, 10))
    rng = np.random.RandomState(0)
    xs = [torch.from_numpy(rng.rand(batch, *shape).astype(np.float32)) for _ in range(batches)]
    ys = [torch.from_numpy(rng.randint(0, 10, batch)) for _ in range(batches)]
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    def epoch():
        for x, y in zip(xs, ys):
            opt.zero_grad()
            loss_fn(net(x), y).backward()
            opt.step()
    return batch * batches / _timeit(epoch, min_time=1.0, min_iters=2), "samples/s"


def mx_gluon_mlp():
    return _gluon_train(mx_setup(), "mlp", False)


def mx_gluon_mlp_hybrid():
    return _gluon_train(mx_setup(), "mlp", True)


def mx_gluon_lenet():
    return _gluon_train(mx_setup(), "lenet", False)


def mx_gluon_lenet_hybrid():
    return _gluon_train(mx_setup(), "lenet", True)


def mxnet_gluon_mlp():
    import mxnet
    return _gluon_train(mxnet, "mlp", False)


def mxnet_gluon_mlp_hybrid():
    import mxnet
    return _gluon_train(mxnet, "mlp", True)


def mxnet_gluon_lenet():
    import mxnet
    return _gluon_train(mxnet, "lenet", False)


def mxnet_gluon_lenet_hybrid():
    import mxnet
    return _gluon_train(mxnet, "lenet", True)


def torch_gluon_mlp():
    return _torch_gluon_train("mlp")


def torch_gluon_lenet():
    return _torch_gluon_train("lenet")


torch_gluon_mlp_hybrid = torch_gluon_mlp      # PyTorch eager is the reference for both modes
torch_gluon_lenet_hybrid = torch_gluon_lenet


# ---------------------------------------------------------------- issue 18's Gluon CNN training step
# Conv5x5x16+ReLU, maxpool, Conv3x3x32+ReLU, maxpool, Dense128+ReLU, Dropout, Dense10 on 28x28x1,
# batch 128, Adam; ms per step (lower is better).
def _gluon_cnn_hybrid(mxmod, batches=10, batch=128):
    nn = mxmod.gluon.nn
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Conv2D(16, kernel_size=5, activation="relu"), nn.MaxPool2D(pool_size=2, strides=2),
                nn.Conv2D(32, kernel_size=3, activation="relu"), nn.MaxPool2D(pool_size=2, strides=2),
                nn.Flatten(), nn.Dense(128, activation="relu"), nn.Dropout(0.5), nn.Dense(10))
    net.initialize(mxmod.init.Xavier())
    net.hybridize(static_alloc=True, static_shape=True)
    rng = np.random.RandomState(0)
    xs = [mxmod.nd.array(rng.rand(batch, 1, 28, 28).astype(np.float32)) for _ in range(batches)]
    ys = [mxmod.nd.array(rng.randint(0, 10, batch).astype(np.float32)) for _ in range(batches)]
    loss_fn = mxmod.gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = mxmod.gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.001})

    def epoch():
        for x, y in zip(xs, ys):
            with mxmod.autograd.record():
                loss = loss_fn(net(x), y)
            loss.backward()
            trainer.step(batch)
        mxmod.nd.waitall()
    return _timeit(epoch, min_time=1.0, min_iters=2) / batches * 1e3, "ms/step"


# ---------------------------------------------------------------- 2-layer LSTM language model
# benchmarks/lm_model.py: embedding 256 -> LSTM(512, 2 layers) -> Dense(1000) over 35 steps, batch 64,
# SGD; ms per training step.
def _lstm_lm(mxmod):
    sys.path.insert(0, HERE)
    from lm_model import gluon_lm_step
    step = gluon_lm_step(mxmod)
    return _timeit(lambda: (step(), mxmod.nd.waitall()), min_time=2.0, min_iters=3) * 1e3, "ms/step"


def mx_lstm_lm():
    return _lstm_lm(mx_setup())


def mxnet_lstm_lm():
    import mxnet
    return _lstm_lm(mxnet)


def torch_lstm_lm():
    sys.path.insert(0, HERE)
    from lm_model import torch_lm_step
    return _timeit(torch_lm_step(), min_time=2.0, min_iters=3) * 1e3, "ms/step"


def mx_gluon_cnn_hybrid():
    return _gluon_cnn_hybrid(mx_setup())


def mxnet_gluon_cnn_hybrid():
    import mxnet
    return _gluon_cnn_hybrid(mxnet)


def torch_gluon_cnn_hybrid(batches=10, batch=128):
    import torch
    torch.manual_seed(0)
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(1, 16, 5), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Conv2d(16, 32, 3), nn.ReLU(),
                        nn.MaxPool2d(2, 2), nn.Flatten(), nn.Linear(32 * 5 * 5, 128), nn.ReLU(), nn.Dropout(0.5),
                        nn.Linear(128, 10))
    rng = np.random.RandomState(0)
    xs = [torch.from_numpy(rng.rand(batch, 1, 28, 28).astype(np.float32)) for _ in range(batches)]
    ys = [torch.from_numpy(rng.randint(0, 10, batch)) for _ in range(batches)]
    opt = torch.optim.Adam(net.parameters(), lr=0.001)
    loss_fn = nn.CrossEntropyLoss()

    def epoch():
        for x, y in zip(xs, ys):
            opt.zero_grad()
            loss_fn(net(x), y).backward()
            opt.step()
    return _timeit(epoch, min_time=1.0, min_iters=2) / batches * 1e3, "ms/step"


# ---------------------------------------------------------------- the BLAS itself
def blas_matmul(n=1024):
    """sgemm of the scipy-openblas32 library that libmx links, called directly (ctypes)."""
    import ctypes
    import scipy_openblas32 as sob
    lib = ctypes.CDLL(os.path.join(sob.get_lib_dir(), "libscipy_openblas.so"))
    f = lib.scipy_cblas_sgemm
    a = np.random.rand(n, n).astype(np.float32)
    b = np.random.rand(n, n).astype(np.float32)
    c = np.empty((n, n), np.float32)
    P = ctypes.c_void_p
    f.argtypes = [ctypes.c_int] * 6 + [ctypes.c_float, P, ctypes.c_int, P, ctypes.c_int, ctypes.c_float, P,
                                       ctypes.c_int]
    args = (101, 111, 111, n, n, n, 1.0, a.ctypes.data, n, b.ctypes.data, n, 0.0, c.ctypes.data, n)
    t = _timeit(lambda: f(*args))
    return 2 * n ** 3 / t / 1e9, "GFLOP/s"


def blas_matmul_peak():
    """The sgemm figure at 2048^2: what this CPU attains on dense float32 math (run_all.py reports
    convolution GFLOP/s against it)."""
    return blas_matmul(2048)


def conv_gflop(bench):
    """Floating-point work of a conv_* bench in GFLOP: 2 N F H W C 9 for the 3x3 'same' forward,
    three times that with the data and weight gradients."""
    name, _, kind = bench.rpartition("_")
    n, c, h, w, f = CONV_SHAPES[name]
    return 2 * n * f * h * w * c * 9 * (3 if kind == "fwdbwd" else 1) / 1e9


# ---------------------------------------------------------------- model-zoo networks (issue 18)
# name -> (MXNet model-zoo name, torch builder, image side, batch). "_train" benches time one SGD
# momentum step (forward, softmax cross-entropy, backward, update) in training mode; the others
# time hybridized inference. Same networks layer for layer in all three (benchmarks/zoo_torch.py).
ZOO = {
    "resnet18_224": ("resnet18_v1", ("resnet_v1", 18), 224, 32),
    "resnet50": ("resnet50_v1", ("resnet_v1", 50), 224, 32),
    "mobilenetv2": ("mobilenetv2_1.0", ("mobilenet_v2",), 224, 32),
    "resnet18": ("resnet18_v1", ("resnet_v1", 18), 32, 64),   # 32x32 images, batch 64
}


def _zoo_input(side, batch):
    rng = np.random.RandomState(0)
    return rng.rand(batch, 3, side, side).astype(np.float32), rng.randint(0, 10, batch)


def _gluon_zoo(mxmod, bench, train):
    import importlib
    importlib.import_module(mxmod.__name__ + ".gluon.model_zoo")
    zoo_name, _, side, batch = ZOO[bench]
    net = mxmod.gluon.model_zoo.vision.get_model(zoo_name, classes=10)
    net.initialize(mxmod.init.Xavier())
    net.hybridize(static_alloc=True, static_shape=True)
    xn, yn = _zoo_input(side, batch)
    x, y = mxmod.nd.array(xn), mxmod.nd.array(yn.astype(np.float32))
    if not train:
        def step():
            net(x).wait_to_read()
        return batch / _timeit(step, min_time=2.0, min_iters=3), "images/s"
    loss_fn = mxmod.gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = mxmod.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.01, "momentum": 0.9})

    def step():
        with mxmod.autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        trainer.step(batch)
        mxmod.nd.waitall()
    return batch / _timeit(step, min_time=2.0, min_iters=3), "images/s"


def _torch_zoo(bench, train):
    import torch
    sys.path.insert(0, HERE)
    import zoo_torch
    torch.manual_seed(0)
    _, (builder, *args), side, batch = ZOO[bench]
    net = getattr(zoo_torch, builder)(*args)
    xn, yn = _zoo_input(side, batch)
    x, y = torch.from_numpy(xn), torch.from_numpy(yn)
    if not train:
        net.eval()

        def step():
            with torch.no_grad():
                net(x)
        return batch / _timeit(step, min_time=2.0, min_iters=3), "images/s"
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(net(x), y).backward()
        opt.step()
    return batch / _timeit(step, min_time=2.0, min_iters=3), "images/s"


def _zoo_entry_points():
    """mx_<bench>, mxnet_<bench>, torch_<bench> (and the _train variants) for every ZOO network."""
    for bench in ZOO:
        for train in (False, True):
            name = bench + ("_train" if train else "")
            globals()["mx_" + name] = lambda b=bench, t=train: _gluon_zoo(mx_setup(), b, t)
            globals()["mxnet_" + name] = lambda b=bench, t=train: _gluon_zoo(__import__("mxnet"), b, t)
            globals()["torch_" + name] = lambda b=bench, t=train: _torch_zoo(b, t)


_zoo_entry_points()


if __name__ == "__main__":
    fw, bench = sys.argv[1], sys.argv[2]
    value, unit = globals()["%s_%s" % (fw, bench)]()
    print(json.dumps({"framework": fw, "bench": bench, "value": value, "unit": unit}))
