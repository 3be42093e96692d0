"""Shape, data-movement and indexing operators: forward against numpy on many dtypes, exact adjoint
gradient checks in float64 (these ops are linear in their data inputs), MXNet's special reshape
codes, bad inputs, and NDArray indexing built on slice/take/_slice_assign."""
import numpy as np
import pytest

import mx
from mx import autograd, nd

DTYPES = ["float32", "float64", "float16", "bfloat16", "int32", "int64", "int8", "uint8", "bool"]
rng = np.random.RandomState(0)


def _data(shape, dtype):
    """Random values exactly representable in `dtype` (small integers; 0/1 for bool)."""
    if dtype == "bool":
        return rng.randint(0, 2, size=shape).astype(np.bool_)
    v = rng.randint(0, 100, size=shape)
    if dtype == "bfloat16":
        return v.astype(np.float32)
    return v.astype(dtype)


def _arr(x, dtype):
    return nd.array(x, dtype=dtype)


def _np(a):
    r = a.asnumpy()
    return r


def _check(out, ref):
    out = np.asarray(out)
    assert out.shape == ref.shape, (out.shape, ref.shape)
    np.testing.assert_array_equal(out.astype(np.float64), np.asarray(ref).astype(np.float64))


# ---------------------------------------------------------------- Reshape codes (MXNet docs examples)
RESHAPE_CASES = [
    ((2, 3, 4), (4, 0, 2), False, (4, 3, 2)),
    ((2, 3, 4), (2, 0, 0), False, (2, 3, 4)),
    ((2, 3, 4), (6, 1, -1), False, (6, 1, 4)),
    ((2, 3, 4), (3, -1, 8), False, (3, 1, 8)),
    ((2, 3, 4), (-1,), False, (24,)),
    ((2, 3, 4), (-2,), False, (2, 3, 4)),
    ((2, 3, 4), (2, -2), False, (2, 3, 4)),
    ((2, 3, 4), (-2, 1, 1), False, (2, 3, 4, 1, 1)),
    ((2, 3, 4), (-3, 4), False, (6, 4)),
    ((2, 3, 4, 5), (-3, -3), False, (6, 20)),
    ((2, 3, 4), (0, -3), False, (2, 12)),
    ((2, 3, 4), (-3, -2), False, (6, 4)),
    ((2, 3, 4), (-4, 1, 2, -2), False, (1, 2, 3, 4)),
    ((2, 3, 4), (2, -4, -1, 3, -2), False, (2, 1, 3, 4)),
    ((10, 5, 4), (-1, 0), False, (40, 5)),
    ((10, 5, 4), (-1, 0), True, (50, 4)),
]


@pytest.mark.parametrize("src,spec,rev,want", RESHAPE_CASES)
def test_reshape_special_codes(src, spec, rev, want):
    x = np.arange(np.prod(src), dtype=np.float32).reshape(src)
    for f in (nd.Reshape, nd.reshape):
        y = f(nd.array(x), shape=spec, reverse=rev)
        assert y.shape == want
        np.testing.assert_array_equal(y.asnumpy(), x.reshape(want))


def test_reshape_method_special_codes():
    a = nd.array(np.arange(24).reshape(2, 3, 4))
    assert a.reshape((0, -1)).shape == (2, 12)
    assert a.reshape(-3, -2).shape == (6, 4)
    assert a.reshape((-1, 0), reverse=True).shape == (6, 4)


@pytest.mark.parametrize("spec", [(5, -1), (-1, -1), (0, 0, 0, 0), (-4, 5, -1, -2), (7,)])
def test_reshape_bad(spec):
    with pytest.raises(ValueError) as e:
        nd.Reshape(nd.zeros((2, 3, 4)) if hasattr(nd, "zeros") else nd.array(np.zeros((2, 3, 4))), shape=spec)
    assert "Reshape" in str(e.value)


def test_reshape_like_and_flatten():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    _check(nd.reshape_like(nd.array(x), nd.array(np.zeros((4, 6)))).asnumpy(), x.reshape(4, 6))
    y = nd.reshape_like(nd.array(x), nd.array(np.zeros((6, 2))), lhs_begin=1, lhs_end=3, rhs_begin=0, rhs_end=2)
    assert y.shape == (2, 6, 2)
    assert nd.Flatten(nd.array(x)).shape == (2, 12)
    assert nd.flatten(nd.array(np.zeros(5))).shape == (5, 1)


# ---------------------------------------------------------------- forward against numpy, all dtypes
def _forward_cases():
    x = (2, 3, 4)
    return [
        ("transpose", lambda a: nd.transpose(a), lambda n: n.transpose()),
        ("transpose_axes", lambda a: nd.transpose(a, axes=(1, 0, 2)), lambda n: n.transpose(1, 0, 2)),
        ("swapaxes", lambda a: nd.swapaxes(a, dim1=0, dim2=2), lambda n: n.swapaxes(0, 2)),
        ("SwapAxis", lambda a: nd.SwapAxis(a, dim1=1, dim2=-1), lambda n: n.swapaxes(1, -1)),
        ("expand_dims", lambda a: nd.expand_dims(a, axis=-1), lambda n: n[..., None]),
        ("expand_dims0", lambda a: nd.expand_dims(a, axis=1), lambda n: n[:, None]),
        ("squeeze", lambda a: nd.squeeze(nd.expand_dims(a, axis=1)), lambda n: n),
        ("slice", lambda a: nd.slice(a, begin=(0, 1), end=(2, None)), lambda n: n[0:2, 1:]),
        ("slice_step", lambda a: nd.slice(a, begin=(None, None, -1), end=(None, None, None), step=(1, 2, -2)),
         lambda n: n[:, ::2, ::-2]),
        ("crop", lambda a: nd.crop(a, begin=(1, -2), end=(2, -1)), lambda n: n[1:2, -2:-1]),
        ("slice_axis", lambda a: nd.slice_axis(a, axis=2, begin=1, end=None), lambda n: n[:, :, 1:]),
        ("slice_axis_neg", lambda a: nd.slice_axis(a, axis=-2, begin=-2, end=-1), lambda n: n[:, -2:-1]),
        ("concat", lambda a: nd.concat(a, a, dim=1), lambda n: np.concatenate([n, n], 1)),
        ("Concat0", lambda a: nd.Concat(a, a, a, dim=0), lambda n: np.concatenate([n, n, n], 0)),
        ("stack", lambda a: nd.stack(a, a, axis=1), lambda n: np.stack([n, n], 1)),
        ("stack_neg", lambda a: nd.stack(a, a, axis=-1), lambda n: np.stack([n, n], -1)),
        ("tile", lambda a: nd.tile(a, reps=(2, 1, 3)), lambda n: np.tile(n, (2, 1, 3))),
        ("tile_short", lambda a: nd.tile(a, reps=(2,)), lambda n: np.tile(n, (2,))),
        ("tile_long", lambda a: nd.tile(a, reps=(2, 1, 1, 2)), lambda n: np.tile(n, (2, 1, 1, 2))),
        ("repeat", lambda a: nd.repeat(a, repeats=2, axis=1), lambda n: np.repeat(n, 2, 1)),
        ("repeat_flat", lambda a: nd.repeat(a, repeats=3), lambda n: np.repeat(n, 3)),
        ("flip", lambda a: nd.flip(a, axis=(0, 2)), lambda n: n[::-1, :, ::-1]),
        ("reverse", lambda a: nd.reverse(a, axis=1), lambda n: n[:, ::-1]),
        ("broadcast_axis", lambda a: nd.broadcast_axis(nd.slice_axis(a, axis=1, begin=0, end=1), axis=1, size=3),
         lambda n: np.broadcast_to(n[:, :1], (2, 3, 4))),
        ("broadcast_axes", lambda a: nd.broadcast_axes(nd.slice_axis(a, axis=0, begin=0, end=1), axis=(0,), size=(5,)),
         lambda n: np.broadcast_to(n[:1], (5, 3, 4))),
        ("pad_constant", lambda a: nd.Pad(a, mode="constant", pad_width=(0, 0, 1, 2, 2, 1), constant_value=0),
         lambda n: np.pad(n, ((0, 0), (1, 2), (2, 1)), mode="constant")),
        ("pad_edge", lambda a: nd.pad(a, mode="edge", pad_width=(0, 0, 1, 2, 2, 1)),
         lambda n: np.pad(n, ((0, 0), (1, 2), (2, 1)), mode="edge")),
        ("pad_reflect", lambda a: nd.Pad(a, mode="reflect", pad_width=(1, 1, 2, 2, 3, 3)),
         lambda n: np.pad(n, ((1, 1), (2, 2), (3, 3)), mode="reflect")),
        ("diag", lambda a: nd.diag(a, k=1, axis1=0, axis2=2), lambda n: np.diagonal(n, 1, 0, 2)),
        ("diag_neg", lambda a: nd.diag(a, k=-1, axis1=1, axis2=2), lambda n: np.diagonal(n, -1, 1, 2)),
        ("diag2d", lambda a: nd.diag(nd.slice_axis(a, axis=0, begin=0, end=1).reshape((3, 4)), k=0),
         lambda n: np.diag(n[0])),
        ("diag1d", lambda a: nd.diag(a.reshape((-1,)), k=-2), lambda n: np.diag(n.reshape(-1), -2)),
        ("take", lambda a: nd.take(a, nd.array([2, 0, 1, 1], dtype="int32"), axis=1),
         lambda n: np.take(n, [2, 0, 1, 1], axis=1)),
        ("take_float_idx", lambda a: nd.take(a, nd.array([[1.0, 0.0]]), axis=0),
         lambda n: np.take(n, [[1, 0]], axis=0)),
        ("take_clip", lambda a: nd.take(a, nd.array([-3, 7], dtype="int64"), axis=2),
         lambda n: np.take(n, [-3, 7], axis=2, mode="clip")),
        ("take_wrap", lambda a: nd.take(a, nd.array([-1, 5], dtype="int64"), axis=1, mode="wrap"),
         lambda n: np.take(n, [-1, 5], axis=1, mode="wrap")),
        ("where", lambda a: nd.where(nd.array(np.arange(24).reshape(2, 3, 4) % 3), a, nd.flip(a, axis=2)),
         lambda n: np.where(np.arange(24).reshape(2, 3, 4) % 3, n, n[:, :, ::-1])),
        ("where_rows", lambda a: nd.where(nd.array([0, 1]), a, nd.flip(a, axis=0)),
         lambda n: np.where(np.array([0, 1])[:, None, None], n, n[::-1])),
        ("slice_like", lambda a: nd.slice_like(a, nd.array(np.zeros((1, 2, 3)))), lambda n: n[:1, :2, :3]),
        ("slice_like_axes", lambda a: nd.slice_like(a, nd.array(np.zeros((1, 2, 3))), axes=(-1,)),
         lambda n: n[:, :, :3]),
        ("broadcast_like", lambda a: nd.broadcast_like(nd.slice_axis(a, axis=2, begin=0, end=1), a),
         lambda n: np.broadcast_to(n[:, :, :1], n.shape)),
        ("broadcast_like_axes",
         lambda a: nd.broadcast_like(nd.slice_axis(a, axis=0, begin=0, end=1), nd.array(np.zeros((7, 1))),
                                     lhs_axes=(0,), rhs_axes=(0,)),
         lambda n: np.broadcast_to(n[:1], (7, 3, 4))),
        ("gather_nd", lambda a: nd.gather_nd(a, nd.array([[1, 0, -1], [2, 0, 1]], dtype="int32")),
         lambda n: n[[1, 0, -1], [2, 0, 1]]),
        ("pick", lambda a: nd.pick(a, nd.array(np.array([[0, 3, 1], [2, 2, 0]])), axis=2),
         lambda n: np.take_along_axis(n, np.array([[0, 3, 1], [2, 2, 0]])[..., None], 2)[..., 0]),
        ("pick_keep", lambda a: nd.pick(a, nd.array(np.array([[0, 2, 1, 1], [1, 1, 0, 0]])), axis=1, keepdims=True),
         lambda n: np.take_along_axis(n, np.array([[0, 2, 1, 1], [1, 1, 0, 0]])[:, None], 1)),
        ("depth_space", lambda a: nd.depth_to_space(nd.space_to_depth(a.reshape((1, 2, 2, 6)), block_size=2),
                                                     block_size=2).reshape((2, 3, 4)), lambda n: n),
        ("sequence_reverse", lambda a: nd.SequenceReverse(a, nd.array([2, 3, 1]), use_sequence_length=True),
         lambda n: np.stack([n[[1, 0]][:, 0], n[[1, 0]][:, 1], n[:, 2]], 1)),
        ("sequence_last", lambda a: nd.SequenceLast(a, nd.array([1, 2, 2]), use_sequence_length=True),
         lambda n: np.stack([n[0, 0], n[1, 1], n[1, 2]])),
        ("sequence_last_nolen", lambda a: nd.SequenceLast(a), lambda n: n[-1]),
        ("sequence_last_axis1", lambda a: nd.SequenceLast(a, nd.array([3, 1]), use_sequence_length=True, axis=1),
         lambda n: np.stack([n[0, 2], n[1, 0]])),
    ]


FORWARD = _forward_cases()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", FORWARD, ids=[c[0] for c in FORWARD])
def test_forward_dtypes(case, dtype):
    name, f, ref = case
    x = _data((2, 3, 4), dtype)
    out = f(_arr(x, dtype))
    want = ref(x)
    if dtype != "bfloat16":
        assert np.dtype(out.dtype) == np.dtype(dtype)
    _check(_np(out), want)


@pytest.mark.parametrize("dtype", DTYPES)
def test_split_dtypes(dtype):
    x = _data((2, 6, 2), dtype)
    outs = nd.split(_arr(x, dtype), num_outputs=3, axis=1)
    for o, r in zip(outs, np.split(x, 3, axis=1)):
        _check(o.asnumpy(), r)
    outs = nd.SliceChannel(_arr(x, dtype), num_outputs=2, axis=-1, squeeze_axis=True)
    _check(outs[0].asnumpy(), x[:, :, 0])
    _check(outs[1].asnumpy(), x[:, :, 1])


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int32", "int64", "uint8"])
def test_sort_argsort_topk(dtype):
    x = np.stack([rng.permutation(12) for _ in range(6)]).reshape(2, 3, 12).astype(dtype)
    a = nd.array(x, dtype=dtype)
    _check(nd.sort(a).asnumpy(), np.sort(x, -1))
    _check(nd.sort(a, is_ascend=False).asnumpy(), -np.sort(-x.astype(np.float64), -1))
    _check(nd.sort(a, axis=None).asnumpy(), np.sort(x, None))
    _check(nd.argsort(a, axis=2).asnumpy(), np.argsort(x, 2))
    assert nd.argsort(a).dtype == np.float32
    assert nd.argsort(a, dtype="int64").dtype == np.int64
    order = np.argsort(-x.astype(np.float64), -1)
    _check(nd.topk(a, k=3).asnumpy(), order[..., :3])
    v, i = nd.topk(a, k=2, ret_typ="both", is_ascend=True, dtype="int32")
    _check(v.asnumpy(), np.sort(x, -1)[..., :2])
    _check(i.asnumpy(), np.argsort(x, -1)[..., :2])
    assert i.dtype == np.int32
    _check(nd.topk(a, k=3, ret_typ="value", axis=1).asnumpy(), -np.sort(-x.astype(np.float64), 1)[:, :3])
    m = nd.topk(a, k=2, ret_typ="mask").asnumpy()
    want = np.zeros(x.shape)
    np.put_along_axis(want, order[..., :2], 1, -1)
    _check(m, want)
    assert nd.topk(a, k=0, ret_typ="value").shape == x.shape


@pytest.mark.parametrize("dtype", DTYPES)
def test_add_n_and_sequence_mask(dtype):
    x = _data((3, 2, 2), dtype)
    y = _data((3, 2, 2), dtype)
    if dtype not in ("bool", "uint8", "int8"):
        _check(nd.add_n(_arr(x, dtype), _arr(y, dtype), _arr(x, dtype)).asnumpy(), x + y + x)
        _check(nd.ElementWiseSum(_arr(x, dtype)).asnumpy(), x)
    m = nd.SequenceMask(_arr(x, dtype), nd.array([1, 3]), use_sequence_length=True, value=1).asnumpy()
    want = x.copy()
    want[1:, 0] = 1
    _check(m, want)
    _check(nd.SequenceMask(_arr(x, dtype)).asnumpy(), x)
    m = nd.SequenceMask(_arr(x, dtype), nd.array([2, 1, 0], dtype="int32"), use_sequence_length=True, axis=1)
    want = x.copy()
    want[1, 1:] = 0
    want[2, :] = 0
    _check(m.asnumpy(), want)


@pytest.mark.parametrize("dtype", DTYPES)
def test_scatter_nd_one_hot_embedding(dtype):
    data = _data((3, 2), dtype)
    idx = np.array([[0, 2, 4], [1, 0, 3]])
    out = nd.scatter_nd(_arr(data, dtype), nd.array(idx, dtype="int64"), shape=(5, 4, 2))
    want = np.zeros((5, 4, 2), dtype=data.dtype)
    want[idx[0], idx[1]] = data
    _check(out.asnumpy(), want)
    if dtype not in ("bool",):
        oh = nd.one_hot(_arr(np.array([[1, 0], [3, 7]]), dtype), depth=4, on_value=5, off_value=-1, dtype="int32")
        want = np.full((2, 2, 4), -1)
        for (i, j), v in np.ndenumerate(np.array([[1, 0], [3, 7]])):
            if v < 4:
                want[i, j, v] = 5
        assert oh.dtype == np.int32
        _check(oh.asnumpy(), want)
    w = _data((5, 3), dtype)
    e = nd.Embedding(nd.array([[0, 4], [9, 2]]), _arr(w, dtype), input_dim=5, output_dim=3,
                     **({} if dtype == "bool" else {"dtype": dtype}))
    _check(e.asnumpy(), w[np.clip([[0, 4], [9, 2]], 0, 4)])


def test_shape_size_array():
    a = nd.array(np.zeros((2, 3, 4)))
    s = nd.shape_array(a)
    assert s.dtype == np.int64
    np.testing.assert_array_equal(s.asnumpy(), [2, 3, 4])
    np.testing.assert_array_equal(nd.size_array(a).asnumpy(), [24])


def test_squeeze_variants():
    a = nd.array(np.zeros((1, 3, 1, 2)))
    assert nd.squeeze(a).shape == (3, 2)
    assert nd.squeeze(a, axis=2).shape == (1, 3, 2)
    assert nd.squeeze(a, axis=(0, -2)).shape == (3, 2)
    assert nd.squeeze(nd.array(np.zeros((1, 1)))).shape == (1,)


def test_slice_python_semantics():
    x = np.arange(60, dtype=np.float64).reshape(3, 4, 5)
    a = nd.array(x, dtype="float64")
    cases = [
        ((None, None, None), (None, None, None), (-1, -1, -1)),
        ((5, -10, 2), (-10, 10, None), (-1, 1, 2)),
        ((0,), (100,), (3,)),
        ((2, 1), (0, 3), (-1, 1)),
        ((1, 3), (1, 3), ()),
    ]
    for b, e, s in cases:
        sl = tuple(slice(bb, ee, ss) for bb, ee, ss in zip(b, e, s or (None,) * len(b)))
        _check(nd.slice(a, begin=b, end=e, step=s).asnumpy(), x[sl])


# ---------------------------------------------------------------- gradients: exact adjoint checks
def _adjoint_check(f, shapes, extra=None):
    """For linear f: <f(x), w> == sum_i <x_i, grad_i> with grad from backward(w)."""
    xs = [nd.array(rng.randn(*s), dtype="float64") for s in shapes]
    for x in xs:
        x.attach_grad()
    with autograd.record():
        y = f(*xs)
    ys = y if isinstance(y, list) else [y]
    ws = [nd.array(rng.randn(*o.shape), dtype="float64") for o in ys]
    autograd.backward(ys, ws)
    lhs = sum(float((o.asnumpy() * w.asnumpy()).sum()) for o, w in zip(ys, ws))
    rhs = sum(float((x.asnumpy() * x.grad.asnumpy()).sum()) for x in xs)
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10, atol=1e-10)
    return xs, ws


GRAD_CASES = [
    ("Reshape", lambda x: nd.Reshape(x, shape=(-3, 0)), [(2, 3, 4)]),
    ("reshape_like", lambda x: nd.reshape_like(x, nd.array(np.zeros((6, 4)))), [(2, 3, 4)]),
    ("Flatten", lambda x: nd.Flatten(x), [(2, 3, 4)]),
    ("expand_dims", lambda x: nd.expand_dims(x, axis=1), [(2, 3)]),
    ("squeeze", lambda x: nd.squeeze(x), [(2, 1, 3)]),
    ("transpose", lambda x: nd.transpose(x, axes=(2, 0, 1)), [(2, 3, 4)]),
    ("SwapAxis", lambda x: nd.SwapAxis(x, dim1=0, dim2=2), [(2, 3, 4)]),
    ("Concat", lambda x, y: nd.Concat(x, y, dim=1), [(2, 3, 4), (2, 1, 4)]),
    ("stack", lambda x, y: nd.stack(x, y, axis=2), [(2, 3), (2, 3)]),
    ("split", lambda x: nd.split(x, num_outputs=2, axis=2), [(2, 3, 4)]),
    ("split_squeeze", lambda x: nd.split(x, num_outputs=3, axis=1, squeeze_axis=True), [(2, 3, 4)]),
    ("slice", lambda x: nd.slice(x, begin=(None, 2), end=(None, 0), step=(1, -1)), [(2, 3, 4)]),
    ("slice_axis", lambda x: nd.slice_axis(x, axis=1, begin=1, end=3), [(2, 3, 4)]),
    ("slice_like", lambda x: nd.slice_like(x, nd.array(np.zeros((2, 2))), axes=(1,)), [(2, 3)]),
    ("_slice_assign", lambda x, y: nd._internal._slice_assign(x, y, begin=(1,), end=(3,)), [(4, 3), (2, 3)]),
    ("_slice_assign_scalar", lambda x: nd._internal._slice_assign_scalar(x, begin=(0, 1), end=(2, 3), scalar=0),
     [(3, 4)]),
    ("take", lambda x: nd.take(x, nd.array([1, 1, 0, 2]), axis=1), [(2, 3, 2)]),
    ("take_wrap", lambda x: nd.take(x, nd.array([-1, 4]), axis=0, mode="wrap"), [(3, 2)]),
    ("pick", lambda x: nd.pick(x, nd.array([0, 2, 1]), axis=1), [(3, 4)]),
    ("gather_nd", lambda x: nd.gather_nd(x, nd.array([[0, 1, 1], [2, 0, 0]])), [(2, 3, 2)]),
    ("scatter_nd", lambda x: nd.scatter_nd(x, nd.array([[0, 1], [2, 0]]), shape=(2, 3, 2)), [(2, 2)]),
    ("tile", lambda x: nd.tile(x, reps=(2, 1, 3)), [(3, 2)]),
    ("repeat", lambda x: nd.repeat(x, repeats=3, axis=0), [(2, 3)]),
    ("repeat_flat", lambda x: nd.repeat(x, repeats=2), [(2, 3)]),
    ("broadcast_like", lambda x: nd.broadcast_like(x, nd.array(np.zeros((2, 3, 4)))), [(2, 1, 4)]),
    ("broadcast_axis", lambda x: nd.broadcast_axis(x, axis=(0, 2), size=(3, 5)), [(1, 2, 1)]),
    ("where", lambda x, y: nd.where(nd.array([[1, 0, 2], [0, 0, 1]]), x, y), [(2, 3), (2, 3)]),
    ("pad_constant", lambda x: nd.Pad(x, mode="constant", pad_width=(0, 0, 1, 2, 3, 0)), [(1, 2, 3)]),
    ("pad_edge", lambda x: nd.Pad(x, mode="edge", pad_width=(0, 0, 0, 0, 2, 3, 1, 2)), [(1, 2, 3, 2)]),
    ("pad_reflect", lambda x: nd.Pad(x, mode="reflect", pad_width=(0, 0, 1, 1, 2, 2)), [(1, 3, 4)]),
    ("flip", lambda x: nd.flip(x, axis=(0, 1)), [(2, 3)]),
    ("sort", lambda x: nd.sort(x, axis=0, is_ascend=False), [(4, 3)]),
    ("sort_none", lambda x: nd.sort(x, axis=None), [(4, 3)]),
    ("topk_value", lambda x: nd.topk(x, k=2, ret_typ="value"), [(3, 5)]),
    ("topk_both", lambda x: nd.topk(x, k=2, ret_typ="both", axis=0)[0], [(3, 5)]),
    ("diag", lambda x: nd.diag(x, k=1), [(3, 4)]),
    ("diag1d", lambda x: nd.diag(x, k=-1), [(3,)]),
    ("diag3d", lambda x: nd.diag(x, axis1=2, axis2=0), [(3, 2, 4)]),
    ("depth_to_space", lambda x: nd.depth_to_space(x, block_size=2), [(1, 8, 2, 3)]),
    ("space_to_depth", lambda x: nd.space_to_depth(x, block_size=2), [(1, 2, 4, 6)]),
    ("SequenceMask", lambda x: nd.SequenceMask(x, nd.array([1, 3]), use_sequence_length=True), [(3, 2, 2)]),
    ("SequenceLast", lambda x: nd.SequenceLast(x, nd.array([1, 3]), use_sequence_length=True), [(3, 2, 2)]),
    ("SequenceReverse", lambda x: nd.SequenceReverse(x, nd.array([1, 3]), use_sequence_length=True), [(3, 2, 2)]),
    ("add_n", lambda x, y, z: nd.add_n(x, y, z), [(2, 3)] * 3),
    ("Embedding", lambda w: nd.Embedding(nd.array([[0, 3], [3, 3]]), w, input_dim=4, output_dim=2, dtype="float64"),
     [(4, 2)]),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradient_adjoint(case):
    _adjoint_check(case[1], case[2])


def test_gradient_explicit_values():
    x = nd.array(np.arange(6.0).reshape(2, 3), dtype="float64")
    x.attach_grad()
    with autograd.record():
        y = nd.take(x, nd.array([0, 0, 2]), axis=1)
    y.backward(nd.array(np.ones((2, 3)), dtype="float64"))
    np.testing.assert_array_equal(x.grad.asnumpy(), [[2, 0, 1], [2, 0, 1]])
    w = nd.array(np.zeros((4, 2)), dtype="float64")
    w.attach_grad()
    with autograd.record():
        e = nd.Embedding(nd.array([1, 1, 3, 9]), w, input_dim=4, output_dim=2, dtype="float64")
    e.backward(nd.array(np.ones((4, 2)), dtype="float64"))
    np.testing.assert_array_equal(w.grad.asnumpy(), [[0, 0], [2, 2], [0, 0], [2, 2]])


def test_gradient_finite_difference():
    x0 = rng.randn(2, 5)

    def f(xn):
        return float((nd.topk(nd.array(xn, dtype="float64"), k=2, ret_typ="value").asnumpy() ** 2).sum())

    x = nd.array(x0, dtype="float64")
    x.attach_grad()
    with autograd.record():
        v = nd.topk(x, k=2, ret_typ="value")
        y = v * v
    y.backward(nd.array(np.ones(y.shape), dtype="float64"))
    num = np.zeros_like(x0)
    eps = 1e-6
    for i in np.ndindex(*x0.shape):
        d = np.zeros_like(x0)
        d[i] = eps
        num[i] = (f(x0 + d) - f(x0 - d)) / (2 * eps)
    np.testing.assert_allclose(x.grad.asnumpy(), num, rtol=1e-5, atol=1e-7)


def test_second_order_through_slice():
    x = nd.array(rng.randn(4, 3), dtype="float64")
    x.attach_grad()
    with autograd.record():
        y = nd.slice(x, begin=(1,), end=(3,)) ** 2
        g = autograd.grad([y], [x], head_grads=[nd.array(np.ones((2, 3)), dtype="float64")], create_graph=True)[0]
        z = (g * g)
    z.backward(nd.array(np.ones((4, 3)), dtype="float64"))
    want = np.zeros((4, 3))
    want[1:3] = 8 * x.asnumpy()[1:3]
    np.testing.assert_allclose(x.grad.asnumpy(), want)


# ---------------------------------------------------------------- bad inputs
BAD = [
    ("expand_dims", lambda a: nd.expand_dims(a, axis=4), "axis"),
    ("squeeze", lambda a: nd.squeeze(a, axis=1), "axis"),
    ("transpose", lambda a: nd.transpose(a, axes=(0, 0, 1)), "axes"),
    ("slice", lambda a: nd.slice(a, begin=(0, 0, 0, 0), end=(1, 1, 1, 1)), "begin"),
    ("slice_step0", lambda a: nd.slice(a, begin=(0,), end=(1,), step=(0,)), "step"),
    ("slice_axis", lambda a: nd.slice_axis(a, axis=1, begin=2, end=1), "end"),
    ("slice_axis_begin", lambda a: nd.slice_axis(a, axis=0, begin=5, end=None), "begin"),
    ("take_raise", lambda a: nd.take(a, nd.array([5]), mode="raise"), "index 5"),
    ("take_mode", lambda a: nd.take(a, nd.array([0]), mode="bogus"), "mode"),
    ("split", lambda a: nd.split(a, num_outputs=2, axis=1), "num_outputs"),
    ("concat", lambda a: nd.concat(a, nd.array(np.zeros((3, 3, 4))), dim=1), "Concat"),
    ("Pad", lambda a: nd.Pad(a, mode="constant", pad_width=(1, 1)), "pad_width"),
    ("Pad_reflect", lambda a: nd.Pad(a, mode="reflect", pad_width=(0, 0, 0, 0, 4, 4)), "pad_width"),
    ("topk_k", lambda a: nd.topk(a, k=9), "'k'"),
    ("gather_nd", lambda a: nd.gather_nd(a, nd.array([[2], [0]])), "out of bounds"),
    ("tile", lambda a: nd.tile(a, reps=(-1,)), "reps"),
    ("diag", lambda a: nd.diag(a, axis1=1, axis2=1), "axis"),
    ("reshape", lambda a: nd.reshape(a, shape=(-1, -1)), "-1"),
    ("depth", lambda a: nd.depth_to_space(a.reshape((1, 2, 3, 4)), block_size=2), "block_size"),
    ("where", lambda a: nd.where(nd.array([1, 0, 1]), a, a), "condition"),
    ("SequenceMask", lambda a: nd.SequenceMask(a, nd.array([1, 2]), use_sequence_length=True, axis=2), "axis"),
    ("stack", lambda a: nd.stack(a, nd.array(np.zeros((2, 3))), axis=0), "stack"),
]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_inputs(case):
    name, f, word = case
    a = nd.array(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError) as e:
        f(a)
    assert word in str(e.value), str(e.value)


# ---------------------------------------------------------------- NDArray indexing
def test_getitem_basic():
    x = np.arange(60, dtype=np.float32).reshape(3, 4, 5)
    a = nd.array(x)
    keys = [1, -1, slice(1, 3), (slice(1, 3), slice(None, None, 2)), (slice(None), 1), (Ellipsis, None),
            (None, 1), (slice(None, None, -1),), (slice(None), slice(None, None, -2), slice(3, 0, -1)),
            (Ellipsis, 2), (1, Ellipsis, None, slice(1, 4)), (-2, slice(-3, None), -1),
            (slice(5, 1, -1), slice(-100, 100))]
    for k in keys:
        _check(a[k].asnumpy(), x[k])


def test_getitem_array_index():
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    a = nd.array(x)
    _check(a[nd.array([3, 0, 1])].asnumpy(), x[[3, 0, 1]])
    _check(a[[0, 2]].asnumpy(), x[[0, 2]])
    _check(a[np.array([[1, 1], [0, 3]])].asnumpy(), x[np.array([[1, 1], [0, 3]])])
    _check(a[:, [2, 0]].asnumpy(), x[:, [2, 0]])


def test_getitem_recording_gradient():
    a = nd.array(np.arange(12.0).reshape(3, 4), dtype="float64")
    a.attach_grad()
    with autograd.record():
        y = a[1:3, ::-2]
    y.backward(nd.array(np.ones(y.shape), dtype="float64"))
    want = np.zeros((3, 4))
    want[1:3, ::-2] = 1
    np.testing.assert_array_equal(a.grad.asnumpy(), want)


def test_getitem_errors():
    a = nd.array(np.zeros((2, 3)))
    with pytest.raises(IndexError):
        a[2]
    with pytest.raises(IndexError):
        a[0, 0, 0]
    with pytest.raises(IndexError):
        a[:, 5]


def _setitem_cases():
    return [
        ((slice(1, 3), slice(None, None, 2)), 7.0),
        ((slice(None), 1), -1),
        ((Ellipsis, -1), np.arange(4, dtype=np.float32)),
        ((slice(None, None, -1), slice(None), slice(4, 1, -2)), 5.5),
        ((1, slice(None), 0), np.array([9, 8, 7, 6], dtype=np.float64)),
        ((slice(0, 2),), nd.array(np.ones((2, 4, 5)) * 3)),
        ((slice(None), slice(None, None, 3)), nd.array(np.arange(5.0))),
        (2, 4),
        (-1, np.arange(20).reshape(4, 5)),
        (slice(1, 2), 8),
        (slice(None), 0),
        ((0, 0, 0), 42),
        (Ellipsis, 1.5),
    ]


@pytest.mark.parametrize("i", range(len(_setitem_cases())))
def test_setitem(i):
    key, value = _setitem_cases()[i]
    x = np.arange(60, dtype=np.float32).reshape(3, 4, 5)
    a = nd.array(x)
    a[key] = value
    x[key] = value.asnumpy() if isinstance(value, mx.nd.NDArray) else value
    _check(a.asnumpy(), x)


@pytest.mark.parametrize("dtype", ["int32", "float16", "bfloat16", "uint8", "bool"])
def test_setitem_dtypes(dtype):
    x = _data((3, 4), dtype)
    a = _arr(x, dtype)
    a[1:, ::2] = 1
    a[0] = np.ones(4)
    x = x.copy()
    x[1:, ::2] = 1
    x[0] = 1
    _check(a.asnumpy(), x)


def test_setitem_view_shares_storage():
    a = nd.array(np.zeros((3, 4)))
    b = a[1]
    b[:] = 5
    assert a.asnumpy()[1].tolist() == [5] * 4
