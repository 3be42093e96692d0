"""MXNet 1.x operators added for compatibility, against Apache MXNet 1.9.1's own outputs
(tests/data/legacy_ops/make_legacy_op_fixtures.py made the vectors): SVMOutput, batch_take,
GridGenerator, BilinearSampler, SpatialTransformer, Correlation; plus finite differences and bad input."""
import os

import numpy as np
import pytest

import mx

REFS = np.load(os.path.join(os.path.dirname(__file__), "..", "..", "data", "legacy_ops", "legacy_op_refs.npz"))


def _case(name):
    return {k.split("__", 1)[1]: REFS[k] for k in REFS.files if k.startswith(name + "__")}


def _run(sym, inputs, grad_names, head):
    args = {k: mx.nd.array(v, dtype=v.dtype) for k, v in inputs.items()}
    grads = {k: mx.nd.zeros(v.shape, dtype=v.dtype) for k, v in inputs.items() if k in grad_names}
    reqs = {k: ("write" if k in grad_names else "null") for k in inputs}
    ex = sym.bind(mx.cpu(), args=args, args_grad=grads, grad_req=reqs)
    out = ex.forward(is_train=True)[0].asnumpy()
    ex.backward(mx.nd.array(head))
    return out, {k: grads[k].asnumpy() for k in grad_names}


D = mx.sym.var("data")
CASES = {
    "svm_l2": (lambda: mx.sym.SVMOutput(D, mx.sym.var("label"), margin=1.0, regularization_coefficient=0.7),
               ("data", "label"), ["data"]),
    "svm_l1": (lambda: mx.sym.SVMOutput(D, mx.sym.var("label"), margin=0.5, regularization_coefficient=1.5,
                                        use_linear=True), ("data", "label"), ["data"]),
    "grid_affine": (lambda: mx.sym.GridGenerator(D, transform_type="affine", target_shape=(4, 5)), ("data",),
                    ["data"]),
    "grid_warp": (lambda: mx.sym.GridGenerator(D, transform_type="warp"), ("data",), ["data"]),
    "bilinear": (lambda: mx.sym.BilinearSampler(D, mx.sym.var("grid")), ("data", "grid"), ["data", "grid"]),
    "spatial_transformer": (lambda: mx.sym.SpatialTransformer(D, mx.sym.var("loc"), target_shape=(4, 5),
                                                              transform_type="affine", sampler_type="bilinear"),
                            ("data", "loc"), ["data", "loc"]),
    "corr_mul": (lambda: mx.sym.Correlation(mx.sym.var("data1"), mx.sym.var("data2"), kernel_size=3,
                                            max_displacement=2, stride1=2, stride2=1, pad_size=2, is_multiply=True),
                 ("data1", "data2"), ["data1", "data2"]),
    "corr_abs": (lambda: mx.sym.Correlation(mx.sym.var("data1"), mx.sym.var("data2"), kernel_size=1,
                                            max_displacement=2, stride1=1, stride2=2, pad_size=0, is_multiply=False),
                 ("data1", "data2"), ["data1", "data2"]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_mxnet(name):
    make, inputs, grads = CASES[name]
    c = _case(name)
    out, g = _run(make(), {k: c[k] for k in inputs}, grads, c["head"])
    np.testing.assert_allclose(out, c["out"], rtol=1e-5, atol=1e-6)
    for k in grads:
        np.testing.assert_allclose(g[k], c["grad_" + k], rtol=1e-4, atol=1e-5)


def test_batch_take_matches_mxnet_and_clips():
    c = _case("batch_take")
    got = mx.nd.batch_take(mx.nd.array(c["a"]), mx.nd.array(c["indices"], dtype="int32")).asnumpy()
    np.testing.assert_array_equal(got, c["out"])
    with pytest.raises(mx.base.MXNetError, match="rows"):
        mx.nd.batch_take(mx.nd.ones((3, 2)), mx.nd.array([0, 1], dtype="int32"))


def test_batch_take_passes_no_gradient():
    x = mx.nd.ones((4, 3))
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.batch_take(x, mx.nd.array([0, 1, 2, 0], dtype="int32")) * 2 + x.sum()
    y.backward()
    np.testing.assert_array_equal(x.grad.asnumpy(), np.full((4, 3), 4.0))  # only the sum's gradient


def test_bilinear_sampler_grid_gradient_by_finite_differences():
    rng = np.random.RandomState(3)
    img = rng.rand(1, 2, 4, 5)
    grid = rng.uniform(-0.9, 0.9, (1, 2, 3, 3))
    w = rng.rand(1, 2, 3, 3)  # loss = sum(w * out)

    def loss(g):
        out = mx.nd.BilinearSampler(mx.nd.array(img, dtype="float64"), mx.nd.array(g, dtype="float64"))
        return float((out.asnumpy() * w).sum())
    x = mx.nd.array(grid, dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        out = mx.nd.BilinearSampler(mx.nd.array(img, dtype="float64"), x)
    out.backward(mx.nd.array(w, dtype="float64"))
    eps, num = 1e-6, np.zeros_like(grid)
    for i in np.ndindex(grid.shape):
        gp, gm = grid.copy(), grid.copy()
        gp[i] += eps
        gm[i] -= eps
        num[i] = (loss(gp) - loss(gm)) / (2 * eps)
    np.testing.assert_allclose(x.grad.asnumpy(), num, rtol=1e-5, atol=1e-7)


def test_identity_transform_reproduces_the_image():
    img = np.random.rand(2, 3, 5, 6).astype("float32")
    loc = np.tile(np.array([1, 0, 0, 0, 1, 0], dtype="float32"), (2, 1))
    out = mx.nd.SpatialTransformer(mx.nd.array(img), mx.nd.array(loc), target_shape=(5, 6),
                                   transform_type="affine", sampler_type="bilinear")
    np.testing.assert_allclose(out.asnumpy(), img, rtol=1e-5, atol=1e-6)


def test_bad_input_is_a_clear_error():
    with pytest.raises(mx.base.MXNetError, match="target_shape"):
        mx.nd.GridGenerator(mx.nd.ones((1, 6)), transform_type="affine")
    with pytest.raises(mx.base.MXNetError, match="batch, 6"):
        mx.nd.GridGenerator(mx.nd.ones((1, 4)), transform_type="affine", target_shape=(3, 3))
    with pytest.raises(mx.base.MXNetError, match="grid"):
        mx.nd.BilinearSampler(mx.nd.ones((1, 1, 3, 3)), mx.nd.ones((1, 3, 2, 2)))
    with pytest.raises(mx.base.MXNetError, match="do not fit"):
        mx.nd.Correlation(mx.nd.ones((1, 1, 28, 28)), mx.nd.ones((1, 1, 28, 28)), kernel_size=27)
    with pytest.raises(mx.base.MXNetError, match="odd"):
        mx.nd.Correlation(mx.nd.ones((1, 1, 8, 8)), mx.nd.ones((1, 1, 8, 8)), kernel_size=2)
    with pytest.raises(mx.base.MXNetError, match="class index"):
        x = mx.nd.ones((2, 3))
        x.attach_grad()
        with mx.autograd.record():
            y = mx.nd.SVMOutput(x, mx.nd.array([0, 7]))
        y.backward()
