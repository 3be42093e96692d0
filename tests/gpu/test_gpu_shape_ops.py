"""The shape family on the GPU against the CPU: reshapes, transpose/SwapAxis, slices (+ their
backward), Concat/stack/SliceChannel, tile/repeat/reverse, Pad, diag, broadcast_axis/like,
depth_to_space, clip, where, add_n and the creation ops. Forward values for float and integer
dtypes, gradients (autograd, so the backward ops run on the device) for float ones. These
kernels move data (no arithmetic but clip/add_n), so results must be identical."""
import numpy as np
import pytest

import mx

GPU = mx.gpu(0) if mx.context.num_gpus() > 0 else None
DTYPES = ["float32", "float64", "int32"]


def _x(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if dtype.startswith("float"):
        return rng.uniform(-2, 2, shape).astype(dtype)
    return rng.integers(-50, 50, shape).astype(dtype)


def _both(fn, arrays, grad=True):
    res = []
    for ctx in (mx.cpu(), GPU):
        xs = [mx.nd.array(a, ctx=ctx, dtype=a.dtype) for a in arrays]
        grad_here = grad and all(a.dtype.kind == "f" for a in arrays)
        for x in xs:
            if grad_here:
                x.attach_grad()
        with mx.autograd.record():
            y = fn(*xs)
        ys = list(y) if isinstance(y, (list, tuple)) else [y]
        if grad_here:
            heads = [mx.nd.array(np.random.default_rng(100 + k).uniform(-1, 1, o.shape), ctx=ctx, dtype=o.dtype)
                     for k, o in enumerate(ys)]
            mx.autograd.backward(ys, heads)
        for o in ys:
            assert o.context == ctx
        res.append([o.asnumpy() for o in ys] + ([x.grad.asnumpy() for x in xs] if grad_here else []))
    assert len(res[0]) == len(res[1])
    for c, g in zip(*res):
        assert c.dtype == g.dtype and c.shape == g.shape
        np.testing.assert_array_equal(g, c)


UNARY = {
    "Reshape": lambda x: mx.nd.Reshape(x, shape=(0, -1)),
    "reshape_neg": lambda x: mx.nd.reshape(x, shape=(-1, 3, 0), reverse=True),
    "Flatten": lambda x: mx.nd.Flatten(x),
    "expand_dims": lambda x: mx.nd.expand_dims(x, axis=1),
    "squeeze": lambda x: mx.nd.squeeze(mx.nd.expand_dims(x, axis=0), axis=0),
    "transpose": lambda x: mx.nd.transpose(x, axes=(2, 0, 1)),
    "transpose_rev": lambda x: mx.nd.transpose(x),
    "SwapAxis": lambda x: mx.nd.SwapAxis(x, dim1=0, dim2=2),
    "slice": lambda x: mx.nd.slice(x, begin=(1, None, 4), end=(3, None, 0), step=(1, 1, -2)),
    "slice_axis": lambda x: mx.nd.slice_axis(x, axis=2, begin=1, end=-1),
    "tile": lambda x: mx.nd.tile(x, reps=(2, 1, 3)),
    "repeat": lambda x: mx.nd.repeat(x, repeats=3, axis=1),
    "repeat_flat": lambda x: mx.nd.repeat(x, repeats=2),
    "reverse": lambda x: mx.nd.reverse(x, axis=(0, 2)),
    "SliceChannel": lambda x: mx.nd.SliceChannel(x, num_outputs=2, axis=2),
    "split_squeeze": lambda x: mx.nd.split(x, num_outputs=3, axis=1, squeeze_axis=True),
    "Pad_const": lambda x: mx.nd.Pad(mx.nd.expand_dims(x, 0), mode="constant", constant_value=2,
                                     pad_width=(0, 0, 0, 0, 1, 2, 0, 1)),
    "Pad_edge": lambda x: mx.nd.Pad(mx.nd.expand_dims(x, 0), mode="edge", pad_width=(0, 0, 0, 0, 2, 1, 1, 2)),
    "diag_extract": lambda x: mx.nd.diag(x, k=1, axis1=0, axis2=2),
    "broadcast_axis": lambda x: mx.nd.broadcast_axis(mx.nd.slice_axis(x, axis=1, begin=0, end=1), axis=1, size=4),
    "depth_to_space": lambda x: mx.nd.depth_to_space(mx.nd.Reshape(x, shape=(1, 4, 3, 6)), block_size=2),
    "space_to_depth": lambda x: mx.nd.space_to_depth(mx.nd.Reshape(x, shape=(1, 2, 6, 6)), block_size=2),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_shape_op(name, dtype):
    if name.startswith("Pad_edge") and dtype == "int32":
        pass  # edge padding's gradient is not taken for ints; forward still compared
    _both(UNARY[name], [_x((4, 3, 6), dtype, 1)])


def test_diag_from_vector():
    _both(lambda v: mx.nd.diag(v, k=-1), [_x((5,), "float32", 2)])


@pytest.mark.parametrize("dtype", DTYPES)
def test_reshape_like_slice_like_broadcast_like(dtype):
    a, b = _x((2, 3, 4), dtype, 3), _x((6, 4), dtype, 4)
    _both(lambda x, y: mx.nd.reshape_like(x, y), [a, b])
    _both(lambda x, y: mx.nd.slice_like(x, y, axes=(1,)), [_x((4, 5, 6), dtype, 5), _x((4, 2, 6), dtype, 6)])
    _both(lambda x, y: mx.nd.broadcast_like(x, y), [_x((1, 4), dtype, 7), _x((3, 4), dtype, 8)])


@pytest.mark.parametrize("dtype", DTYPES)
def test_concat_and_stack(dtype):
    a, b, c = _x((2, 3, 4), dtype, 9), _x((2, 5, 4), dtype, 10), _x((2, 1, 4), dtype, 11)
    _both(lambda x, y, z: mx.nd.Concat(x, y, z, dim=1), [a, b, c])
    _both(lambda x, y: mx.nd.concat(x, y, dim=0), [a, a + 1])
    _both(lambda x, y: mx.nd.stack(x, y, axis=2), [a, a * 2])


def test_slice_assign():
    base, val = _x((4, 6), "float32", 12), _x((2, 3), "float32", 13)
    _both(lambda x, v: mx.nd._internal._slice_assign(x, v, begin=(1, 0), end=(3, 6), step=(1, 2)), [base, val])
    _both(lambda x: mx.nd._internal._slice_assign_scalar(x, scalar=5.0, begin=(0, 1), end=(4, 3)), [base])


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "uint8"])
def test_clip(dtype):
    x = _x((7, 9), dtype if dtype != "uint8" else "int32", 14)
    if dtype == "uint8":
        x = np.abs(x).astype("uint8")
    _both(lambda a: mx.nd.clip(a, a_min=-1.0, a_max=10.5 if dtype == "uint8" else 1.2), [x])


@pytest.mark.parametrize("dtype", DTYPES)
def test_where(dtype):
    cond = (np.random.default_rng(15).uniform(size=(5, 4)) > 0.5).astype("float32")
    x, y = _x((5, 4), dtype, 16), _x((5, 4), dtype, 17)
    _both(lambda c, a, b: mx.nd.where(c, a, b), [cond, x, y])
    _both(lambda c, a, b: mx.nd.where(c, a, b), [np.array([1, 0, 0, 1, 1], dtype="int32"), x, y])


@pytest.mark.parametrize("dtype", DTYPES)
def test_add_n(dtype):
    arrays = [_x((3, 8), dtype, 20 + k) for k in range(4)]
    _both(lambda *xs: mx.nd.add_n(*xs), arrays)
    _both(lambda x: mx.nd.add_n(x), arrays[:1])


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "uint8"])
def test_creation_ops(dtype):
    for f in (lambda ctx: mx.nd.zeros((3, 4), ctx=ctx, dtype=dtype),
              lambda ctx: mx.nd.ones((3, 4), ctx=ctx, dtype=dtype),
              lambda ctx: mx.nd.full((2, 5), 7, ctx=ctx, dtype=dtype),
              lambda ctx: mx.nd.arange(2, 20, 3, repeat=2, ctx=ctx, dtype=dtype),
              lambda ctx: mx.nd.eye(4, 6, k=1, ctx=ctx, dtype=dtype),
              lambda ctx: mx.nd._internal._linspace(start=0, stop=10, num=7, ctx=ctx, dtype=dtype)):
        c, g = f(mx.cpu()), f(GPU)
        assert g.context == GPU and g.dtype == c.dtype
        np.testing.assert_array_equal(g.asnumpy(), c.asnumpy())
