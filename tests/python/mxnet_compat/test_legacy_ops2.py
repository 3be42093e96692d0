"""Second batch of MXNet 1.x operators added for compatibility, against Apache MXNet 1.9.1's own
outputs (tests/data/legacy_ops/make_legacy_op_fixtures2.py made the vectors): the optimizer
update operators, ROIPooling, ROIAlign, im2col/col2im, moments, histogram, ravel_multi_index /
unravel_index, index_array, amp_cast, BatchNorm_v1; plus numpy references, finite differences and
bad input."""
import os

import numpy as np
import pytest

import mx

REFS = np.load(os.path.join(os.path.dirname(__file__), "..", "..", "data", "legacy_ops", "legacy_op_refs2.npz"))


def _case(name):
    return {k.split("__", 1)[1]: REFS[k] for k in REFS.files if k.startswith(name + "__")}


def _sym_run(sym, inputs, grad_names, heads):
    args = {k: mx.nd.array(v, dtype=v.dtype) for k, v in inputs.items()}
    grads = {k: mx.nd.zeros(v.shape, dtype=v.dtype) for k, v in inputs.items() if k in grad_names}
    reqs = {k: ("write" if k in grad_names else "null") for k in inputs}
    ex = sym.bind(mx.cpu(), args=args, args_grad=grads, grad_req=reqs)
    outs = [o.asnumpy() for o in ex.forward(is_train=True)]
    if grad_names:
        ex.backward([mx.nd.array(h, dtype=h.dtype) for h in heads])
    return outs, {k: grads[k].asnumpy() for k in grad_names}


# ---- optimizer update operators: weight, grad, states -> new weight and updated states
UPDATES = [
    ("sgd_update", 0, dict(lr=0.1, wd=0.01, rescale_grad=0.5, clip_gradient=0.3)),
    ("sgd_update", 0, dict(lr=0.05)),
    ("sgd_mom_update", 1, dict(lr=0.1, momentum=0.9, wd=0.01, rescale_grad=0.5, clip_gradient=0.3)),
    ("nag_mom_update", 1, dict(lr=0.1, momentum=0.9, wd=0.01, rescale_grad=0.5)),
    ("signsgd_update", 0, dict(lr=0.1, wd=0.01, rescale_grad=0.5)),
    ("signum_update", 1, dict(lr=0.1, momentum=0.9, wd=0.01, wd_lh=0.02, rescale_grad=0.5, clip_gradient=0.3)),
    ("adam_update", 2, dict(lr=0.01, beta1=0.8, beta2=0.99, epsilon=1e-6, wd=0.01, rescale_grad=0.5,
                            clip_gradient=0.4)),
    ("rmsprop_update", 1, dict(lr=0.01, gamma1=0.9, epsilon=1e-6, wd=0.01, rescale_grad=0.5, clip_weights=0.6)),
    ("rmspropalex_update", 3, dict(lr=0.01, gamma1=0.9, gamma2=0.8, epsilon=1e-6, wd=0.01, rescale_grad=0.5)),
    ("ftrl_update", 2, dict(lr=0.1, lamda1=0.02, beta=1.5, wd=0.01, rescale_grad=0.5, clip_gradient=0.8)),
    ("ftml_update", 3, dict(lr=0.05, beta1=0.6, beta2=0.99, epsilon=1e-6, t=3, wd=0.01, rescale_grad=0.5,
                            clip_grad=0.8)),
]


@pytest.mark.parametrize("i", range(len(UPDATES)))
def test_update_op_matches_mxnet(i):
    op, nstates, kw = UPDATES[i]
    c = _case("upd%d" % i)
    w = mx.nd.array(c["weight"])
    states = [mx.nd.array(c["state%d" % k]) for k in range(nstates)]
    getattr(mx.nd, op)(w, mx.nd.array(c["grad"]), *states, out=w, **kw)
    np.testing.assert_allclose(w.asnumpy(), c["out"], rtol=1e-5, atol=1e-6)
    for k, s in enumerate(states):
        np.testing.assert_allclose(s.asnumpy(), c["new_state%d" % k], rtol=1e-5, atol=1e-6)


def test_update_op_fresh_output_keeps_weight_and_states_by_keyword():
    w = np.array([0.5, -0.25, 1.0], dtype="float32")
    g = np.array([1.0, 2.0, -4.0], dtype="float32")
    mom = mx.nd.array([0.1, 0.2, 0.3])
    weight = mx.nd.array(w)
    out = mx.nd.sgd_mom_update(weight=weight, grad=mx.nd.array(g), mom=mom, lr=0.1, momentum=0.5)
    expect_mom = 0.5 * np.array([0.1, 0.2, 0.3], dtype="float32") - 0.1 * g
    np.testing.assert_allclose(mom.asnumpy(), expect_mom, rtol=1e-6)
    np.testing.assert_allclose(out.asnumpy(), w + expect_mom, rtol=1e-6)
    np.testing.assert_array_equal(weight.asnumpy(), w)  # weight untouched without out=weight


def test_update_op_bad_input():
    w, g = mx.nd.ones((2, 3)), mx.nd.ones((2, 3))
    with pytest.raises(mx.base.MXNetError, match="lr"):
        mx.nd.sgd_update(w, g)  # lr is required, as in MXNet
    with pytest.raises(mx.base.MXNetError, match="shape"):
        mx.nd.sgd_mom_update(w, g, mx.nd.ones((3, 2)), lr=0.1)
    with pytest.raises(mx.base.MXNetError, match="shape"):
        mx.nd.adam_update(w, mx.nd.ones((2, 2)), mx.nd.ones((2, 3)), mx.nd.ones((2, 3)), lr=0.1)
    with pytest.raises(mx.base.MXNetError, match="'t'"):
        mx.nd.ftml_update(w, g, w.copy(), w.copy(), w.copy(), lr=0.1, t=0)


# ---- ops with gradients, against MXNet (forward and backward)
D, R = mx.sym.var("data"), mx.sym.var("rois")
GRAD_CASES = {
    "roipool": (lambda: mx.sym.ROIPooling(D, R, pooled_size=(3, 2), spatial_scale=0.9), ("data", "rois")),
    "roialign": (lambda: mx.sym.contrib.ROIAlign(D, R, pooled_size=(3, 2), spatial_scale=0.9), ("data", "rois")),
    "roialign_sr2_aligned": (lambda: mx.sym.contrib.ROIAlign(D, R, pooled_size=(2, 3), spatial_scale=0.8,
                                                             sample_ratio=2, aligned=True), ("data", "rois")),
    "roialign_ps": (lambda: mx.sym.contrib.ROIAlign(D, R, pooled_size=(2, 3), spatial_scale=0.7,
                                                    position_sensitive=True), ("data", "rois")),
    "im2col": (lambda: mx.sym.im2col(D, kernel=(3, 2), stride=(2, 1), dilate=(1, 2), pad=(1, 1)), ("data",)),
    "col2im": (lambda: mx.sym.col2im(D, output_size=(7, 6), kernel=(3, 2), stride=(2, 1), dilate=(1, 2),
                                     pad=(1, 1)), ("data",)),
    "moments": (lambda: mx.sym.moments(D, axes=(0, 2), keepdims=True), ("data",)),
    "moments_all": (lambda: mx.sym.moments(D, axes=(0, 1, 2)), ("data",)),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_matches_mxnet_with_gradient(name):
    make, inputs = GRAD_CASES[name]
    c = _case(name)
    nout = len([k for k in c if k.startswith("out")])
    outs, g = _sym_run(make(), {k: c[k] for k in inputs}, ["data"], [c["head%d" % i] for i in range(nout)])
    for i in range(nout):
        np.testing.assert_allclose(outs[i], c["out%d" % i], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g["data"], c["grad_data"], rtol=1e-4, atol=1e-5)


def _numeric_grad(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in range(x.size):
        xp, xm = x.copy(), x.copy()
        xp.flat[i] += eps
        xm.flat[i] -= eps
        g.flat[i] = (f(xp) - f(xm)) / (2 * eps)
    return g


def test_roialign_and_moments_gradients_match_finite_differences():
    rng = np.random.RandomState(3)
    x = rng.rand(1, 2, 5, 6)
    rois = np.array([[0, 0.7, 1.2, 4.1, 3.6], [0, 2.0, 0.3, 5.5, 4.4]])
    w = rng.uniform(-1, 1, (2, 2, 2, 3))

    def loss(xv):
        out = mx.nd.contrib.ROIAlign(mx.nd.array(xv, dtype="float64"), mx.nd.array(rois, dtype="float64"),
                                     pooled_size=(2, 3), spatial_scale=1.0, sample_ratio=2)
        return float((out.asnumpy() * w).sum())

    xa = mx.nd.array(x, dtype="float64")
    xa.attach_grad()
    with mx.autograd.record():
        out = mx.nd.contrib.ROIAlign(xa, mx.nd.array(rois, dtype="float64"), pooled_size=(2, 3),
                                     spatial_scale=1.0, sample_ratio=2)
    out.backward(mx.nd.array(w, dtype="float64"))
    np.testing.assert_allclose(xa.grad.asnumpy(), _numeric_grad(loss, x), rtol=1e-5, atol=1e-7)

    m = rng.rand(3, 4)
    wm, wv = rng.uniform(-1, 1, (4,)), rng.uniform(-1, 1, (4,))
    ma = mx.nd.array(m, dtype="float64")
    ma.attach_grad()
    with mx.autograd.record():
        mean, var = mx.nd.moments(ma, axes=(0,))
        y = (mean * mx.nd.array(wm, dtype="float64")).sum() + (var * mx.nd.array(wv, dtype="float64")).sum()
    y.backward()
    num = _numeric_grad(lambda v: float((v.mean(0) * wm).sum() + (v.var(0) * wv).sum()), m)
    np.testing.assert_allclose(ma.grad.asnumpy(), num, rtol=1e-5, atol=1e-7)


def test_im2col_convolution_identity():
    # a convolution is a matrix product with im2col's columns (independent reference: Convolution)
    rng = np.random.RandomState(4)
    x = mx.nd.array(rng.rand(2, 3, 8, 7))
    w = mx.nd.array(rng.rand(4, 3, 3, 3))
    kw = dict(kernel=(3, 3), stride=(2, 1), dilate=(1, 2), pad=(1, 0))
    col = mx.nd.im2col(x, **kw)
    conv = mx.nd.Convolution(x, w, num_filter=4, no_bias=True, **kw)
    via_col = np.einsum("fk,nkl->nfl", w.asnumpy().reshape(4, -1), col.asnumpy()).reshape(conv.shape)
    np.testing.assert_allclose(via_col, conv.asnumpy(), rtol=1e-5, atol=1e-5)


def test_histogram_matches_mxnet_and_numpy():
    c = _case("histogram")
    cnt, bins = mx.nd.histogram(mx.nd.array(c["data"]), bins=6, range=(-2.0, 2.5))
    np.testing.assert_array_equal(cnt.asnumpy(), c["count_uniform"])
    np.testing.assert_allclose(bins.asnumpy(), c["bins_uniform"], rtol=1e-6)
    cnt, bins = mx.nd.histogram(mx.nd.array(c["data"]), bins=mx.nd.array(c["edges"]))
    np.testing.assert_array_equal(cnt.asnumpy(), c["count_edges"])
    np.testing.assert_allclose(bins.asnumpy(), c["bins_edges"])
    assert cnt.dtype == np.int64
    # no range: the data's min and max, as numpy
    x = np.random.RandomState(5).rand(40).astype("float32")
    cnt, bins = mx.nd.histogram(mx.nd.array(x), bins=7)
    ncnt, nbins = np.histogram(x, bins=7)
    np.testing.assert_array_equal(cnt.asnumpy(), ncnt)
    np.testing.assert_allclose(bins.asnumpy(), nbins, rtol=1e-6)
    # symbol form
    s = mx.sym.histogram(mx.sym.var("a"), bins=mx.sym.var("b"))
    ex = s.bind(mx.cpu(), {"a": mx.nd.array(c["data"]), "b": mx.nd.array(c["edges"])})
    np.testing.assert_array_equal(ex.forward()[0].asnumpy(), c["count_edges"])
    with pytest.raises(ValueError):
        mx.sym.histogram(mx.sym.var("a"), bins=4)  # symbols need a range, as in MXNet
    with pytest.raises(mx.base.MXNetError, match="increase"):
        mx.nd.histogram(mx.nd.array(x), bins=mx.nd.array([1.0, 0.0, 2.0]))


def test_ravel_unravel_index_match_mxnet_and_numpy():
    c = _case("ravel")
    flat = mx.nd.ravel_multi_index(mx.nd.array(c["multi"]), shape=(7, 6, 8))
    np.testing.assert_array_equal(flat.asnumpy(), c["flat"])
    np.testing.assert_array_equal(flat.asnumpy(), np.ravel_multi_index(c["multi"].astype(int), (7, 6, 8)))
    back = mx.nd.unravel_index(flat, shape=(-1, 6, 8))
    np.testing.assert_array_equal(back.asnumpy(), c["unravel"])
    with pytest.raises(mx.base.MXNetError, match="out of bounds"):
        mx.nd.ravel_multi_index(mx.nd.array([[7], [0], [0]]), shape=(7, 6, 8))
    with pytest.raises(mx.base.MXNetError, match="shape"):
        mx.nd.ravel_multi_index(mx.nd.array([[1], [0]]), shape=(7, 6, 8))


def test_index_array_matches_mxnet_and_numpy():
    out = mx.nd.contrib.index_array(mx.nd.zeros((2, 3, 4)), axes=(2, 0))
    np.testing.assert_array_equal(out.asnumpy(), _case("index_array")["out"])
    full = mx.nd.contrib.index_array(mx.nd.zeros((3, 2)))
    np.testing.assert_array_equal(full.asnumpy(), np.stack(np.mgrid[0:3, 0:2], axis=-1))
    assert full.dtype == np.int64
    with pytest.raises(mx.base.MXNetError, match="axis"):
        mx.nd.contrib.index_array(mx.nd.zeros((2, 3)), axes=(2,))


def test_amp_cast_matches_mxnet():
    c = _case("amp_cast")
    out = mx.nd.amp_cast(mx.nd.array(c["data"]), dtype="float16")
    assert out.dtype == np.float16
    np.testing.assert_array_equal(out.asnumpy(), c["out"])
    ints = mx.nd.amp_cast(mx.nd.array([1, 2], dtype="int32"), dtype="float16")
    assert ints.dtype == np.int32  # non-float input passes through
    np.testing.assert_array_equal(ints.asnumpy(), c["int_out"])


def test_batchnorm_v1_is_batchnorm():
    rng = np.random.RandomState(6)
    x = rng.rand(4, 3, 2).astype("float32")
    args = [mx.nd.array(x), mx.nd.array([1.0, 2.0, 0.5]), mx.nd.array([0.1, 0.0, -0.2]),
            mx.nd.zeros(3), mx.nd.ones(3)]
    with mx.autograd.train_mode():
        out = mx.nd.BatchNorm_v1(*args, fix_gamma=False, eps=1e-5)
    mean, var = x.mean(axis=(0, 2)), x.var(axis=(0, 2))
    ref = (x - mean[None, :, None]) / np.sqrt(var[None, :, None] + 1e-5) * np.array([1.0, 2.0, 0.5])[None, :, None] \
        + np.array([0.1, 0.0, -0.2])[None, :, None]
    np.testing.assert_allclose(out.asnumpy(), ref, rtol=1e-4, atol=1e-5)
    with mx.autograd.train_mode():  # one device: SyncBatchNorm is BatchNorm
        sync = mx.nd.contrib.SyncBatchNorm(*args, fix_gamma=False, eps=1e-5, key="bn0")
    np.testing.assert_allclose(sync.asnumpy(), ref, rtol=1e-4, atol=1e-5)
    with pytest.raises(mx.base.MXNetError, match="ndev"):
        mx.nd.contrib.SyncBatchNorm(*args, ndev=2, key="bn0")


def test_roi_bad_input():
    x = mx.nd.ones((1, 2, 4, 4))
    with pytest.raises(mx.base.MXNetError, match="batch index"):
        mx.nd.ROIPooling(x, mx.nd.array([[1, 0, 0, 2, 2]]), pooled_size=(2, 2), spatial_scale=1.0)
    with pytest.raises(mx.base.MXNetError, match="rois"):
        mx.nd.contrib.ROIAlign(x, mx.nd.array([[0, 0, 0, 2]]), pooled_size=(2, 2), spatial_scale=1.0)
    with pytest.raises(mx.base.MXNetError, match="multiple"):
        mx.nd.contrib.ROIAlign(x, mx.nd.array([[0, 0, 0, 2, 2]]), pooled_size=(2, 2), spatial_scale=1.0,
                               position_sensitive=True)
