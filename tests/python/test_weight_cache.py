"""Array versions and oneDNN's blocked-weight cache (docs/ONEDNN.md).

A convolution's weight is reordered into oneDNN's blocked layout once per version of its
storage and reused while the version is unchanged. Every way of writing an array must change the
version, or the cache would serve stale weights: each test below mutates a weight by one path and
checks the convolution against a float64 numpy reference computed from the new values. The
version tests run in a build without oneDNN too; the hit/miss counts prove the cache is used."""
import numpy as np
import pytest

import mx
from mx import autograd, gluon

BUILT = mx.runtime.onednn_status()[0]
needs_onednn = pytest.mark.skipif(not BUILT, reason="libmx built without oneDNN (MX_ONEDNN=OFF or no libdnnl-dev)")
RNG = np.random.RandomState(5)
# 16 -> 32 channels, 3x3: oneDNN wants this weight in a blocked layout (a reorder to cache).
X = RNG.rand(2, 16, 7, 6).astype(np.float32) - 0.5
W_SHAPE = (32, 16, 3, 3)


def conv_ref(x, w, b=None, pad=1):
    """Float64 direct convolution, stride 1, zero padding `pad`."""
    x = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    w = w.astype(np.float64)
    F, _, kh, kw = w.shape
    H, W = x.shape[2] - kh + 1, x.shape[3] - kw + 1
    y = np.zeros((x.shape[0], F, H, W))
    for i in range(kh):
        for j in range(kw):
            y += np.einsum("nchw,fc->nfhw", x[:, :, i:i + H, j:j + W], w[:, :, i, j])
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def conv(x, w):
    return mx.nd.Convolution(x, w, kernel=(3, 3), pad=(1, 1), num_filter=W_SHAPE[0], no_bias=True)


def check_conv(w, x=X):
    """The convolution with w's current values matches numpy."""
    got = conv(mx.nd.array(x), w).asnumpy()
    np.testing.assert_allclose(got, conv_ref(x, w.asnumpy()), rtol=1e-4, atol=1e-4)


def fresh_weight():
    w = mx.nd.array(RNG.rand(*W_SHAPE).astype(np.float32) - 0.5)
    check_conv(w)  # caches the blocked copy of this version
    return w


def stats():
    return mx.runtime.onednn_weight_cache_stats()


# Each mutation writes new values into the existing array w (never rebinding it).
def _op_out(w):
    mx.nd.elemwise_add(w, mx.nd.ones(W_SHAPE), out=w)


def _in_place(w):
    w *= 1.5


def _setitem_numpy(w):
    w[:] = RNG.rand(*W_SHAPE).astype(np.float32)


def _setitem_scalar_row(w):
    w[3] = 2.0


def _setitem_slice(w):
    w[4:9, 2] = -1.0


def _view_write(w):
    v = w.reshape((-1,))
    v[:] = mx.nd.arange(v.size) / v.size


def _copyto(w):
    mx.nd.array(RNG.rand(*W_SHAPE)).copyto(w)


def _sgd_update(w):
    mx.nd.sgd_update(w, mx.nd.ones(W_SHAPE), lr=0.25, wd=0.0, out=w)


def _adam_update(w):
    mean, var = mx.nd.zeros(W_SHAPE), mx.nd.zeros(W_SHAPE)
    mx.nd.adam_update(w, mx.nd.ones(W_SHAPE), mean, var, lr=0.1, out=w)


def _optimizer_updater(w):
    upd = mx.optimizer.get_updater(mx.optimizer.SGD(learning_rate=0.5, momentum=0.9))
    upd(0, mx.nd.ones(W_SHAPE), w)


def _kvstore_pull(w):
    kv = mx.kv.create("local")
    kv.init(7, mx.nd.full(W_SHAPE, 0.75))
    kv.pull(7, out=w)


def _random_out(w):
    mx.nd.random.uniform(-1, 1, shape=W_SHAPE, out=w)


def _fill_zeros_like_out(w):
    mx.nd.ones_like(w, out=w)


def _autograd_grad_buffer(w):
    # w serves as another array's gradient buffer: backward writes into it.
    a = mx.nd.array(RNG.rand(*W_SHAPE))
    autograd.mark_variables([a], [w])
    with autograd.record():
        y = (a * a).sum()
    y.backward()


def _dlpack_write(w):
    torch = pytest.importorskip("torch")
    t = torch.utils.dlpack.from_dlpack(w.to_dlpack_for_write())
    t.mul_(-2.0)


MUTATIONS = [_op_out, _in_place, _setitem_numpy, _setitem_scalar_row, _setitem_slice, _view_write, _copyto,
             _sgd_update, _adam_update, _optimizer_updater, _kvstore_pull, _random_out, _fill_zeros_like_out,
             _autograd_grad_buffer, _dlpack_write]


@pytest.mark.parametrize("mutate", MUTATIONS, ids=[m.__name__.lstrip("_") for m in MUTATIONS])
def test_every_write_path_changes_version_and_conv_follows(mutate):
    w = fresh_weight()
    before_vals, before_ver = w.asnumpy(), w._version
    mutate(w)
    assert w._version != before_ver
    assert not np.array_equal(w.asnumpy(), before_vals)  # the mutation really wrote
    check_conv(w)
    check_conv(w)  # a second use (a cache hit where cached) still sees the new values


@needs_onednn
def test_cache_hits_while_unchanged_and_misses_after_a_write():
    w = fresh_weight()
    h0, m0 = stats()
    check_conv(w)
    check_conv(w)
    h1, m1 = stats()
    assert (h1 - h0, m1 - m0) == (2, 0)
    w += 1.0
    check_conv(w)
    h2, m2 = stats()
    assert (h2 - h1, m2 - m1) == (0, 1)
    # Two views of one storage at different offsets are different weights.
    big = mx.nd.array(RNG.rand(2, *W_SHAPE).astype(np.float32))
    check_conv(big[0])
    check_conv(big[1])
    check_conv(big[0])
    check_conv(big[1])
    big[1] = 0.5  # writes through one view change the storage for both
    check_conv(big[0])
    check_conv(big[1])


def test_reading_keeps_the_version():
    """Reads (asnumpy, ops taking w as input) do not invalidate the cache: the convolution reads
    read-only; asnumpy copies out."""
    w = fresh_weight()
    v = w._version
    w.asnumpy()
    conv(mx.nd.array(X), w).wait_to_read()
    assert w._version == v


def test_exported_pointer_never_trusted():
    """After a DLPack export the holder may write at any time: every version query is new."""
    w = fresh_weight()
    w.to_dlpack_for_read()
    assert w._version != w._version


def test_imported_numpy_weight_written_by_numpy():
    """An array imported from numpy (zero-copy) is written by numpy behind MX's back."""
    src = (RNG.rand(*W_SHAPE).astype(np.float32) - 0.5)
    w = mx.nd.from_dlpack(src)
    check_conv(w)
    src *= -3.0
    np.testing.assert_allclose(w.asnumpy(), src)
    check_conv(w)


def _cnn():
    net = gluon.nn.HybridSequential()
    net.add(gluon.nn.Conv2D(32, 3, padding=1, in_channels=16, use_bias=True), gluon.nn.Activation("relu"))
    net.initialize(mx.init.Uniform(0.5))
    net.hybridize(static_alloc=True, static_shape=True)
    return net


def _net_ref(net, x):
    conv_p = [p for n, p in net.collect_params().items()]
    w = [p.data().asnumpy() for p in conv_p if p.name.endswith("weight")][0]
    b = [p.data().asnumpy() for p in conv_p if p.name.endswith("bias")][0]
    return np.maximum(conv_ref(x, w, b), 0)


def test_hybridized_net_sees_trainer_set_data_and_load(tmp_path):
    net = _cnn()
    x = mx.nd.array(X)
    for _ in range(2):
        np.testing.assert_allclose(net(x).asnumpy(), _net_ref(net, X), rtol=1e-4, atol=1e-4)
    # Trainer step (optimizer update of the executor's bound weight).
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.5})
    with autograd.record():
        loss = net(x).sum()
    loss.backward()
    trainer.step(1)
    np.testing.assert_allclose(net(x).asnumpy(), _net_ref(net, X), rtol=1e-4, atol=1e-4)
    # set_data, then load_parameters from a file saved before.
    path = str(tmp_path / "p.params")
    net.save_parameters(path)
    saved = _net_ref(net, X)
    for p in net.collect_params().values():
        p.set_data(mx.nd.array(RNG.rand(*p.shape)))
    np.testing.assert_allclose(net(x).asnumpy(), _net_ref(net, X), rtol=1e-4, atol=1e-4)
    net.load_parameters(path)
    got = net(x).asnumpy()
    np.testing.assert_allclose(got, saved, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got, _net_ref(net, X), rtol=1e-4, atol=1e-4)


def test_training_steps_match_a_numpy_sgd():
    """Several SGD steps of conv -> sum: every step sees the previous update (forward and
    backward share the cached layout of the step's weight version)."""
    w0 = (RNG.rand(*W_SHAPE).astype(np.float32) - 0.5) * 0.1
    w = mx.nd.array(w0)
    w.attach_grad()
    x = mx.nd.array(X)
    ref = w0.astype(np.float64)
    for _ in range(3):
        with autograd.record():
            y = conv(x, w)
        y.backward(mx.nd.array(np.ones(y.shape) * np.arange(y.shape[1]).reshape(1, -1, 1, 1)))
        np.testing.assert_allclose(y.asnumpy(), conv_ref(X, ref), rtol=1e-4, atol=1e-4)
        # (out=w would drop w's attach_grad marking in MX today, unlike MXNet; setitem keeps it)
        w[:] = mx.nd.sgd_update(w, w.grad, lr=0.01, wd=0.0)
        # d/dw of sum(y * head) with head[f] = f: correlation of x with the constant head.
        xp = np.pad(X.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
        g = np.zeros_like(ref)
        for i in range(3):
            for j in range(3):
                g[:, :, i, j] = np.arange(W_SHAPE[0]).reshape(-1, 1) * xp[:, :, i:i + 7, j:j + 6].sum(axis=(0, 2, 3))
        ref -= 0.01 * g
    np.testing.assert_allclose(w.asnumpy(), ref, rtol=1e-4, atol=1e-4)
