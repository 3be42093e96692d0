"""DLPack: zero-copy exchange with numpy and torch (shared memory both ways), capsule
consumption rules, and lifetimes (the source may die before the view)."""
import gc

import numpy as np
import pytest

import mx
from mx.base import MXError

DTYPES = [np.float32, np.float64, np.float16, np.uint8, np.int8, np.int32, np.int64, np.bool_]


def _data(shape, dtype, seed=0):
    rng = np.random.RandomState(seed)
    if dtype == np.bool_:
        return rng.rand(*shape) > 0.5
    return (rng.randn(*shape) * 50).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_numpy_to_mx_shares_memory(dtype):
    a = _data((3, 4), dtype)
    m = mx.nd.from_dlpack(a)
    assert m.shape == a.shape and np.dtype(m.dtype) == a.dtype
    np.testing.assert_array_equal(m.asnumpy(), a)
    a[1, 2] = 1  # write through numpy, read through mx
    assert m.asnumpy()[1, 2] == a[1, 2]
    b = mx.nd.from_dlpack(a.__dlpack__())  # a raw capsule
    np.testing.assert_array_equal(b.asnumpy(), a)


def test_numpy_to_mx_write_through_mx():
    a = np.zeros((2, 3), np.float32)
    m = mx.nd.from_dlpack(a)
    m[:] = 5.0
    np.testing.assert_array_equal(a, np.full((2, 3), 5.0, np.float32))


@pytest.mark.parametrize("dtype", DTYPES)
def test_mx_to_numpy_shares_memory(dtype):
    ref = _data((2, 5), dtype)
    m = mx.nd.array(ref, dtype=ref.dtype)
    n = np.from_dlpack(m)
    assert n.shape == ref.shape and n.dtype == ref.dtype
    np.testing.assert_array_equal(n, ref)
    m[:] = 1  # write through mx, read through numpy
    np.testing.assert_array_equal(n, np.ones_like(ref))


def test_scalar_and_empty():
    s = np.array(2.5, np.float32)
    m = mx.nd.from_dlpack(s)
    assert m.shape == () and m.asnumpy() == 2.5
    n = np.from_dlpack(m)
    assert n.shape == () and n == 2.5
    z = np.zeros((2, 0), np.int32)
    m = mx.nd.from_dlpack(z)
    assert m.shape == (2, 0)
    assert np.from_dlpack(m).shape == (2, 0)


def test_views_and_slices():
    m = mx.nd.array(np.arange(12, dtype=np.float32).reshape(3, 4))
    row = m[1]  # a view with a byte offset
    n = np.from_dlpack(row)
    np.testing.assert_array_equal(n, [4, 5, 6, 7])
    a = np.arange(20, dtype=np.int64).reshape(4, 5)
    m2 = mx.nd.from_dlpack(a[1:3])  # contiguous rows of a bigger array
    np.testing.assert_array_equal(m2.asnumpy(), a[1:3])


def test_non_contiguous_refused():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    with pytest.raises(MXError) as e:
        mx.nd.from_dlpack(a.T)
    assert "strides" in str(e.value)
    # size-1 dimensions may carry any stride
    b = np.arange(4, dtype=np.float32).reshape(4, 1)[:, ::1]
    np.testing.assert_array_equal(mx.nd.from_dlpack(b).asnumpy(), b)


def test_unsupported_dtype_refused():
    with pytest.raises(TypeError):
        mx.nd.from_dlpack(np.zeros(3, np.uint16))
    with pytest.raises(TypeError):
        mx.nd.from_dlpack(np.zeros(3, np.complex64))


def test_capsule_consumed_once():
    m = mx.nd.array(np.arange(3, dtype=np.float32))
    cap = mx.nd.to_dlpack_for_read(m)
    a = mx.nd.from_dlpack(cap)
    np.testing.assert_array_equal(a.asnumpy(), [0, 1, 2])
    with pytest.raises(ValueError):
        mx.nd.from_dlpack(cap)
    cap2 = mx.nd.to_dlpack_for_write(m)
    b = mx.nd.from_dlpack(cap2)
    b[:] = 9.0
    np.testing.assert_array_equal(m.asnumpy(), [9, 9, 9])
    with pytest.raises(TypeError):
        mx.nd.from_dlpack(object())


def test_unconsumed_capsule_frees_view():
    # An unconsumed capsule's destructor calls the deleter; the array itself is unaffected.
    m = mx.nd.array(np.arange(4, dtype=np.float32))
    for _ in range(100):
        cap = m.__dlpack__()
        del cap
    gc.collect()
    np.testing.assert_array_equal(m.asnumpy(), [0, 1, 2, 3])


def test_failed_import_leaves_capsule_usable():
    a = np.arange(6, dtype=np.float32).reshape(2, 3).T  # non-contiguous: mx refuses it
    cap = a.__dlpack__()
    with pytest.raises(MXError):
        mx.nd.from_dlpack(cap)
    np.testing.assert_array_equal(np.from_dlpack(_Holder(cap)), a)  # ownership stayed with the capsule


class _Holder:
    """Hands a ready capsule to np.from_dlpack."""

    def __init__(self, cap):
        self.cap = cap

    def __dlpack__(self, **kwargs):
        return self.cap

    def __dlpack_device__(self):
        return (1, 0)


def test_lifetime_numpy_source_dies_first():
    a = np.arange(1000, dtype=np.float64) * 3
    expect = a.copy()
    m = mx.nd.from_dlpack(a)
    del a
    gc.collect()
    _ = [np.ones(1000) for _ in range(10)]
    np.testing.assert_array_equal(m.asnumpy(), expect)
    v = m[2:5]
    del m
    gc.collect()
    np.testing.assert_array_equal(v.asnumpy(), expect[2:5])


def test_lifetime_mx_source_dies_first():
    ref = np.arange(1000, dtype=np.float32)
    m = mx.nd.array(ref)
    n = np.from_dlpack(m)
    del m
    gc.collect()
    _ = [mx.nd.array(np.zeros(1000, np.float32)) for _ in range(10)]  # reuse freed pool blocks
    np.testing.assert_array_equal(n, ref)


def test_mx_to_mx():
    m = mx.nd.array(np.arange(6, dtype=np.int32).reshape(2, 3), dtype=np.int32)
    v = mx.nd.from_dlpack(m)
    v[:] = 7
    np.testing.assert_array_equal(m.asnumpy(), np.full((2, 3), 7))


# ------------------------------------------------------------------ torch

TORCH_DTYPES = ["float32", "float64", "float16", "bfloat16", "uint8", "int8", "int32", "int64", "bool"]


@pytest.mark.parametrize("name", TORCH_DTYPES)
def test_torch_to_mx_and_back(name):
    torch = pytest.importorskip("torch", reason="torch is not installed (pip install torch)")
    dt = getattr(torch, name)
    t = (torch.arange(12) % 3).reshape(3, 4).to(dt)
    m = mx.nd.from_dlpack(t)
    assert m.shape == (3, 4)
    got = m.astype(np.float32).asnumpy() if name == "bfloat16" else m.asnumpy()
    np.testing.assert_array_equal(got, t.to(torch.float32).numpy() if name == "bfloat16" else t.numpy())
    t[0, 0] = 1  # torch writes, mx reads
    first = m[0].astype(np.float32).asnumpy()[0] if name == "bfloat16" else m.asnumpy()[0, 0]
    assert first == 1
    back = torch.from_dlpack(m)  # mx -> torch, same memory
    assert back.dtype == dt and back.data_ptr() == t.data_ptr()


def test_mx_to_torch_shares_memory_and_outlives():
    torch = pytest.importorskip("torch", reason="torch is not installed (pip install torch)")
    ref = np.arange(10, dtype=np.float32)
    m = mx.nd.array(ref)
    t = torch.from_dlpack(m)
    m[:] = 2.0
    assert torch.equal(t, torch.full((10,), 2.0))
    t[3] = -1.0  # torch writes, mx reads
    assert m.asnumpy()[3] == -1.0
    del m
    gc.collect()
    assert t[3].item() == -1.0 and t[0].item() == 2.0
    t2 = torch.from_dlpack(mx.nd.to_dlpack_for_read(mx.nd.array(ref)))
    assert torch.equal(t2, torch.from_numpy(ref))


def test_torch_source_dies_first():
    torch = pytest.importorskip("torch", reason="torch is not installed (pip install torch)")
    t = torch.arange(100, dtype=torch.int64) * 7
    expect = t.numpy().copy()
    m = mx.nd.from_dlpack(t)
    del t
    gc.collect()
    np.testing.assert_array_equal(m.asnumpy(), expect)


def test_torch_non_contiguous_refused():
    torch = pytest.importorskip("torch", reason="torch is not installed (pip install torch)")
    t = torch.arange(12.0).reshape(3, 4).t()
    with pytest.raises(MXError):
        mx.nd.from_dlpack(t)
    m = mx.nd.from_dlpack(t.contiguous())
    np.testing.assert_array_equal(m.asnumpy(), t.numpy())
