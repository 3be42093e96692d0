"""numpy's advanced indexing on NDArrays (several index arrays mixed with ints, slices, None and
Ellipsis; boolean masks), read and assigned, against numpy itself; gradients against np.add.at."""
import numpy as np
import pytest

import mx

SHAPE = (5, 6, 4, 3)
KEYS = [
    ([1, 1], [2, 3]),
    ([[1]], [[2]], [[3]], [[0]]),
    (slice(0, 2), [[1], [5]], slice(0, 2), slice(0, 3, 2)),
    ([[[[1]]]], [[1]], slice(0, 3), [1, 2]),
    ([[[[1]]]], 3, slice(0, 3), [0, 2]),
    ([1, 2], slice(3, 5), [2, 3], [0, 1]),
    ([1, 2], slice(3, 5), (2, 3), [0, 1]),
    ([1, 2], slice(3, 5), None, None, [0, 2]),
    (slice(None), slice(3, 5), None, [2, 3], None, [0, 1]),
    (None, slice(None), None, slice(3, 5), [2, 3], None, [0, 1]),
    ([2, 3, 4], None, [3, 4, 5], None, slice(1, 2), None, [0, 1, 2]),
    (Ellipsis, [0, 2]),
    (1, Ellipsis, [2, 0], slice(None)),
    ([-1, 0], slice(None, None, -1), [-2, 1]),
    (np.array([[0, 4], [2, 1]]), 2, slice(1, 3)),
    (slice(1, 4), np.array([True, False, True, True, False, True])),
    (np.array([[True] * 6, [False] * 6, [True, False] * 3, [False] * 6, [False, True] * 3]),),
]


def _np_key(key):
    return tuple(k.asnumpy() if isinstance(k, mx.nd.NDArray) else k for k in key)


@pytest.mark.parametrize("key", KEYS, ids=[str(i) for i in range(len(KEYS))])
def test_getitem_matches_numpy(key):
    base = np.arange(np.prod(SHAPE), dtype=np.float32).reshape(SHAPE)
    want = base[_np_key(key)]
    got = mx.nd.array(base)[key]
    np.testing.assert_array_equal(got.asnumpy(), want if want.ndim else want.reshape(1))


@pytest.mark.parametrize("key", KEYS, ids=[str(i) for i in range(len(KEYS))])
def test_setitem_matches_numpy(key):
    rng = np.random.RandomState(0)
    base = rng.uniform(size=SHAPE).astype(np.float32)
    region = base[_np_key(key)].shape
    for value in (rng.uniform(size=region).astype(np.float32), 7.5):
        want = base.copy()
        want[_np_key(key)] = value
        x = mx.nd.array(base)
        x[key] = mx.nd.array(value) if isinstance(value, np.ndarray) else value
        np.testing.assert_array_equal(x.asnumpy(), want)


def test_setitem_broadcasts_the_value_and_repeated_tuples_keep_the_last():
    base = np.zeros((4, 3), np.float32)
    x = mx.nd.array(base)
    x[[0, 2], :] = mx.nd.array([1.0, 2.0, 3.0])
    base[[0, 2], :] = [1.0, 2.0, 3.0]
    np.testing.assert_array_equal(x.asnumpy(), base)
    x[[1, 1], [0, 0]] = mx.nd.array([5.0, 6.0])
    assert x.asnumpy()[1, 0] == 6.0
    x[mx.nd.array([3], dtype="int64")] = 9
    np.testing.assert_array_equal(x.asnumpy()[3], [9, 9, 9])


@pytest.mark.parametrize("key", KEYS[:11], ids=[str(i) for i in range(11)])
def test_gradient_scatters_back(key):
    base = np.random.RandomState(1).uniform(size=SHAPE).astype(np.float32)
    x = mx.nd.array(base)
    x.attach_grad()
    with mx.autograd.record():
        y = x[key]
        loss = (y * y).sum()
    loss.backward()
    want = np.zeros_like(base)
    np.add.at(want, _np_key(key), 2 * base[_np_key(key)])
    np.testing.assert_allclose(x.grad.asnumpy(), want, rtol=1e-6)


def test_bad_indices_raise_index_errors():
    x = mx.nd.zeros(SHAPE)
    with pytest.raises(IndexError, match="out of bounds"):
        x[[0, 5], [1, 1]]
    with pytest.raises(IndexError, match="out of bounds"):
        x[[0, 1], [1, -7]] = 1
    with pytest.raises(IndexError, match="integer"):
        x[[0.5, 1], [1, 1]]
    with pytest.raises(IndexError, match="too many"):
        x[[0], [0], [0], [0], [0]]
    with pytest.raises(IndexError, match="boolean index"):
        x[np.array([True, False]), [1]]
    with pytest.raises(ValueError, match="broadcast"):
        x[[0, 1], [1, 2]] = mx.nd.ones((3, 4, 3))
