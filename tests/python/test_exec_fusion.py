"""The executor's op + relu fusion (libmx/src/graph/executor_fuse.cc): a Convolution or
FullyConnected whose result only an Activation(relu) reads runs as one "_fused_<op>_relu" step.
Outputs and gradients are checked against numpy float64 references, with oneDNN on and off, in
float32 and float64; the step list (Executor.step_ops) proves the fusion happened or was refused."""

import numpy as np
import pytest

import mx
from switches import env, onednn

RNG = np.random.RandomState(7)


# ---------------------------------------------------------------- numpy float64 references
def conv_ref(x, w, b):
    """NCHW convolution, stride 1, no padding; returns (output, sliding windows)."""
    kh, kw = w.shape[2:]
    win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))  # N, C, OH, OW, KH, KW
    return np.einsum("ncijkl,fckl->nfij", win, w) + b[None, :, None, None], win


def conv_grads_ref(x, w, win, dy):
    kh, kw = w.shape[2:]
    oh, ow = dy.shape[2:]
    dw = np.einsum("nfij,ncijkl->fckl", dy, win)
    dx = np.zeros_like(x)
    for k in range(kh):
        for l in range(kw):
            dx[:, :, k:k + oh, l:l + ow] += np.einsum("nfij,fc->ncij", dy, w[:, :, k, l])
    return dx, dw, dy.sum(axis=(0, 2, 3))


def net_symbol(act2="relu"):
    """data -> Conv(5, 3x3) -> relu -> Flatten -> FC(6) -> act2 -> FC(3)."""
    data = mx.sym.Variable("data")
    c = mx.sym.Convolution(data, kernel=(3, 3), num_filter=5, name="conv")
    a = mx.sym.Activation(c, act_type="relu", name="relu1")
    f = mx.sym.FullyConnected(mx.sym.Flatten(a), num_hidden=6, name="fc1")
    h = mx.sym.Activation(f, act_type=act2, name="act2")
    return mx.sym.FullyConnected(h, num_hidden=3, name="fc2")


def net_params():
    p = {"data": RNG.randn(4, 3, 8, 8), "conv_weight": RNG.randn(5, 3, 3, 3) * 0.3, "conv_bias": RNG.randn(5) * 0.1,
         "fc1_weight": RNG.randn(6, 5 * 6 * 6) * 0.1, "fc1_bias": RNG.randn(6) * 0.1,
         "fc2_weight": RNG.randn(3, 6) * 0.3, "fc2_bias": RNG.randn(3) * 0.1}
    return p, RNG.randn(4, 3)


def net_ref(p, head, act2="relu"):
    a1, win = conv_ref(p["data"], p["conv_weight"], p["conv_bias"])
    h1 = np.maximum(a1, 0)
    f = h1.reshape(4, -1)
    a2 = f @ p["fc1_weight"].T + p["fc1_bias"]
    h2 = np.maximum(a2, 0) if act2 == "relu" else 1 / (1 + np.exp(-a2))
    y = h2 @ p["fc2_weight"].T + p["fc2_bias"]
    g = {"fc2_weight": head.T @ h2, "fc2_bias": head.sum(0)}
    dh2 = head @ p["fc2_weight"]
    da2 = dh2 * (a2 > 0) if act2 == "relu" else dh2 * h2 * (1 - h2)
    g["fc1_weight"], g["fc1_bias"] = da2.T @ f, da2.sum(0)
    da1 = (da2 @ p["fc1_weight"]).reshape(a1.shape) * (a1 > 0)
    g["data"], g["conv_weight"], g["conv_bias"] = conv_grads_ref(p["data"], p["conv_weight"], win, da1)
    return y, g


def run_bound(sym, p, head, dtype):
    args = {k: mx.nd.array(v, dtype=dtype) for k, v in p.items()}
    grads = {k: mx.nd.zeros(v.shape, dtype=dtype) for k, v in p.items()}
    ex = sym.bind(mx.cpu(), args, args_grad=grads)
    y = ex.forward(is_train=True)[0].asnumpy()
    ex.backward([mx.nd.array(head, dtype=dtype)])
    return ex, y, {k: g.asnumpy() for k, g in grads.items()}


def forward_ops(ex):
    return [op for op, backward in ex.step_ops() if not backward]


@pytest.mark.parametrize("dtype,onednn_on", [("float32", True), ("float32", False), ("float64", True)])
def test_conv_and_fc_relu_fuse_and_match_numpy(dtype, onednn_on):
    p, head = net_params()
    y_ref, g_ref = net_ref(p, head)
    with onednn(onednn_on):
        ex, y, g = run_bound(net_symbol(), p, head, dtype)
    ops = forward_ops(ex)
    assert ops == ["_fused_Convolution_relu", "Flatten", "_fused_FullyConnected_relu", "FullyConnected"], ops
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == "float32" else dict(rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(y, y_ref, **tol)
    for k in p:
        np.testing.assert_allclose(g[k], g_ref[k], err_msg=k, **tol)


def test_switch_off_keeps_separate_steps_and_same_numbers():
    p, head = net_params()
    _, y1, g1 = run_bound(net_symbol(), p, head, "float32")
    with env("MX_EXEC_FUSION", "0"):
        ex, y0, g0 = run_bound(net_symbol(), p, head, "float32")
    assert forward_ops(ex) == ["Convolution", "Activation", "Flatten", "FullyConnected", "Activation",
                               "FullyConnected"]
    np.testing.assert_allclose(y1, y0, rtol=1e-5, atol=1e-6)
    for k in p:
        np.testing.assert_allclose(g1[k], g0[k], rtol=1e-5, atol=1e-6, err_msg=k)


def test_other_activations_are_not_fused():
    p, head = net_params()
    y_ref, g_ref = net_ref(p, head, act2="sigmoid")
    ex, y, g = run_bound(net_symbol(act2="sigmoid"), p, head, "float64")
    assert forward_ops(ex) == ["_fused_Convolution_relu", "Flatten", "FullyConnected", "Activation",
                               "FullyConnected"]
    np.testing.assert_allclose(y, y_ref, rtol=1e-10, atol=1e-10)
    for k in p:
        np.testing.assert_allclose(g[k], g_ref[k], rtol=1e-10, atol=1e-10, err_msg=k)


def test_no_fusion_when_the_intermediate_is_read_elsewhere():
    # The convolution's raw output is a graph output and feeds a second op: it must be made.
    x = RNG.randn(2, 2, 5, 5)
    w = RNG.randn(3, 2, 3, 3)
    b = RNG.randn(3)
    data = mx.sym.Variable("data")
    c = mx.sym.Convolution(data, kernel=(3, 3), num_filter=3, name="conv")
    r = mx.sym.Activation(c, act_type="relu")
    s = mx.sym.Group([r, c * 2])
    ex = s.bind(mx.cpu(), {"data": mx.nd.array(x, dtype="float64"), "conv_weight": mx.nd.array(w, dtype="float64"),
                           "conv_bias": mx.nd.array(b, dtype="float64")})
    outs = [o.asnumpy() for o in ex.forward()]
    assert forward_ops(ex)[:2] == ["Convolution", "Activation"]
    ref, _ = conv_ref(x, w, b)
    np.testing.assert_allclose(outs[0], np.maximum(ref, 0), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(outs[1], 2 * ref, rtol=1e-10, atol=1e-12)


def test_relu_of_conv_as_graph_output_fuses():
    x = RNG.randn(2, 2, 5, 5)
    w = RNG.randn(3, 2, 3, 3)
    data = mx.sym.Variable("data")
    r = mx.sym.Activation(mx.sym.Convolution(data, kernel=(3, 3), num_filter=3, no_bias=True, name="conv"),
                          act_type="relu")
    ex = r.bind(mx.cpu(), {"data": mx.nd.array(x), "conv_weight": mx.nd.array(w)})
    y = ex.forward()[0].asnumpy()
    assert forward_ops(ex) == ["_fused_Convolution_relu"]
    ref, _ = conv_ref(x, w, np.zeros(3))
    np.testing.assert_allclose(y, np.maximum(ref, 0), rtol=1e-5, atol=1e-5)


def test_gluon_training_step_matches_imperative():
    """Issue 18's layer pattern (Conv2D/Dense with activation='relu') trained one Adam step
    hybridized (fused executor) and imperatively (no executor): same loss and parameters."""
    def make():
        net = mx.gluon.nn.HybridSequential()
        with net.name_scope():
            net.add(mx.gluon.nn.Conv2D(4, kernel_size=3, activation="relu"), mx.gluon.nn.MaxPool2D(2, 2),
                    mx.gluon.nn.Flatten(), mx.gluon.nn.Dense(8, activation="relu"), mx.gluon.nn.Dense(3))
        net.initialize(mx.init.Xavier(rnd_type="gaussian"))
        return net
    x = mx.nd.array(RNG.rand(6, 1, 10, 10))
    y = mx.nd.array(RNG.randint(0, 3, 6))
    nets = [make(), make()]
    for net in nets:
        net(x)  # deferred shapes
    src = nets[0].collect_params()
    for name, prm in nets[1].collect_params().items():
        prm.set_data(src[name.replace(nets[1].prefix, nets[0].prefix)].data())
    nets[1].hybridize(static_alloc=True, static_shape=True)
    losses, params = [], []
    for net in nets:
        tr = mx.gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.01})
        lf = mx.gluon.loss.SoftmaxCrossEntropyLoss()
        for _ in range(2):
            with mx.autograd.record():
                loss = lf(net(x), y)
            loss.backward()
            tr.step(6)
        losses.append(loss.asnumpy())
        params.append([p.data().asnumpy() for p in net.collect_params().values()])
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-5, atol=1e-6)
    for a, b in zip(params[1], params[0]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def maxpool2_ref(a):
    """2x2 stride-2 max pooling (even sizes) and its backward for the first maximum of each window."""
    n, c, h, w = a.shape
    win = a.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2, w // 2, 4)
    arg = win.argmax(axis=-1)  # first maximum, row-major within the window

    def backward(dy):
        d = np.zeros_like(win)
        np.put_along_axis(d, arg[..., None], dy[..., None], axis=-1)
        return d.reshape(n, c, h // 2, w // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h, w)
    return win.max(axis=-1), backward


@pytest.mark.parametrize("dtype,onednn_on", [("float32", True), ("float32", False), ("float64", True)])
def test_relu_gradient_fuses_into_max_pooling_gradient(dtype, onednn_on):
    x = RNG.randn(3, 2, 8, 8)
    w = RNG.randn(4, 2, 3, 3) * 0.5
    b = RNG.randn(4) * 0.1
    fw = RNG.randn(5, 4 * 3 * 3) * 0.3
    head = RNG.randn(3, 5)
    data = mx.sym.Variable("data")
    c = mx.sym.Convolution(data, kernel=(3, 3), num_filter=4, name="conv")
    pool = mx.sym.Pooling(mx.sym.Activation(c, act_type="relu"), kernel=(2, 2), stride=(2, 2), pool_type="max")
    out = mx.sym.FullyConnected(mx.sym.Flatten(pool), num_hidden=5, no_bias=True, name="fc")
    p = {"data": x, "conv_weight": w, "conv_bias": b, "fc_weight": fw}
    with onednn(onednn_on):
        ex, y, g = run_bound(out, p, head, dtype)
    ops = ex.step_ops()
    assert ("_fused_backward_Pooling_relu", True) in ops, ops
    assert ("_backward_Activation", True) not in ops, ops
    a1, win = conv_ref(x, w, b)
    h1 = np.maximum(a1, 0)
    pooled, pool_back = maxpool2_ref(h1)
    f = pooled.reshape(3, -1)
    da1 = pool_back((head @ fw).reshape(pooled.shape)) * (a1 > 0)
    dx, dw, db = conv_grads_ref(x, w, win, da1)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == "float32" else dict(rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(y, f @ fw.T, **tol)
    np.testing.assert_allclose(g["fc_weight"], head.T @ f, **tol)
    np.testing.assert_allclose(g["conv_weight"], dw, **tol)
    np.testing.assert_allclose(g["conv_bias"], db, **tol)
    np.testing.assert_allclose(g["data"], dx, **tol)


def test_avg_pooling_gradient_keeps_the_relu_step():
    data = mx.sym.Variable("data")
    c = mx.sym.Convolution(data, kernel=(3, 3), num_filter=2, name="conv")
    out = mx.sym.Pooling(mx.sym.Activation(c, act_type="relu"), kernel=(2, 2), stride=(2, 2), pool_type="avg")
    x, w, b = RNG.randn(2, 1, 6, 6), RNG.randn(2, 1, 3, 3), RNG.randn(2)
    ex, y, g = run_bound(out, {"data": x, "conv_weight": w, "conv_bias": b}, np.ones((2, 2, 2, 2)), "float64")
    assert ("_backward_Activation", True) in ex.step_ops()
    a1, win = conv_ref(x, w, b)
    h1 = np.maximum(a1, 0)
    np.testing.assert_allclose(y, h1.reshape(2, 2, 2, 2, 2, 2).mean(axis=(3, 5)), rtol=1e-10)
    dx, dw, db = conv_grads_ref(x, w, win, np.full(a1.shape, 0.25) * (a1 > 0))
    np.testing.assert_allclose(g["conv_weight"], dw, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(g["data"], dx, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("ties", [False, True], ids=["random", "relu-ties"])
def test_max_pool_2x2_kernel_matches_numpy(dtype, ties):
    # Pooling 2x2 / stride 2 over even sizes has its own branch-free kernels (ops/nn/pooling.cc):
    # forward and backward against numpy, with many equal maxima (zeros after a relu) for ties.
    x = RNG.randn(3, 4, 6, 8)
    if ties:
        x = np.maximum(x, 0)
        x[0, 0, :2, :2] = 0  # a window of four zeros: the gradient goes to its first element
    head = RNG.randn(3, 4, 3, 4)
    a = mx.nd.array(x, dtype=dtype)
    a.attach_grad()
    with mx.autograd.record():
        y = mx.nd.Pooling(a, kernel=(2, 2), stride=(2, 2), pool_type="max")
    y.backward(mx.nd.array(head, dtype=dtype))
    ref, back = maxpool2_ref(x)
    np.testing.assert_array_equal(y.asnumpy(), ref.astype(dtype))
    np.testing.assert_allclose(a.grad.asnumpy(), back(head), rtol=1e-6, atol=1e-7)
