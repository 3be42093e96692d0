"""Exhaustive checks of the one float16/bfloat16 <-> float32 conversion (libmx/src/base/half_bits.h,
used by the storage types, the both-sides element types and the sort keys): every one of the
65536 bit patterns of each type, and every rounding tie between neighbours, against numpy
(float16) and an independent float64 nearest-even rounding (bfloat16, which numpy lacks)."""
import numpy as np

from mx import nd

ALL16 = np.arange(65536, dtype=np.uint32).astype(np.uint16)


def _bits32(a):
    return np.asarray(a, dtype=np.float32).view(np.uint32)


def test_float16_to_float32_every_pattern():
    h = ALL16.view(np.float16)
    got = nd.array(h, dtype="float16").astype("float32").asnumpy()
    want = h.astype(np.float32)
    nan = np.isnan(want)
    assert np.array_equal(np.isnan(got), nan)
    # numpy keeps the NaN payload shifted into the float32 mantissa; so does MX
    np.testing.assert_array_equal(_bits32(got), _bits32(want))


def _float16_ties():
    """Every finite float16, the midpoints between neighbours (ties: round to even) and one float32
    ulp either side of each midpoint, plus the overflow and underflow edges."""
    h = ALL16.view(np.float16)
    f = h[np.isfinite(h)].astype(np.float32)
    f = np.unique(f)
    mid = ((f[:-1].astype(np.float64) + f[1:].astype(np.float64)) / 2).astype(np.float32)
    up = np.nextafter(mid, np.float32(np.inf))
    down = np.nextafter(mid, np.float32(-np.inf))
    edges = np.array([65504, 65519.996, 65520, 70000, 2.0 ** -25, 2.0 ** -26, 1e-9, np.inf, -np.inf],
                     dtype=np.float32)
    return np.concatenate([f, mid, up, down, edges, -edges])


def test_float32_to_float16_rounding():
    x = _float16_ties()
    got = nd.array(x, dtype="float32").astype("float16").asnumpy()
    with np.errstate(over="ignore"):  # the overflow edges: numpy rounds them to inf as MX does
        want = x.astype(np.float16)
    np.testing.assert_array_equal(got.view(np.uint16), want.view(np.uint16))


def test_float32_to_float16_nan_stays_nan():
    x = np.array([np.nan, -np.nan], dtype=np.float32)
    got = nd.array(x, dtype="float32").astype("float16").asnumpy()
    assert np.isnan(got).all()


def _bf16_reference(x):
    """Round float32 values to bfloat16 (nearest, ties to even) in float64: the two bfloat16
    neighbours of x are its upper 16 bits truncated and that plus one bfloat16 ulp."""
    x = np.asarray(x, dtype=np.float32)
    b = x.view(np.uint32)
    lo_bits = b & np.uint32(0xFFFF0000)
    hi_bits = lo_bits + np.uint32(0x10000)
    lo = lo_bits.view(np.float32).astype(np.float64)
    with np.errstate(invalid="ignore"):  # hi of the infinities is a NaN pattern (replaced below)
        hi = hi_bits.view(np.float32).astype(np.float64)
    # past the largest finite bfloat16 the upper neighbour is 2^128 (IEEE overflow rounds to inf)
    over = (hi_bits & np.uint32(0x7FFFFFFF)) == np.uint32(0x7F800000)
    hi[over] = np.copysign(2.0 ** 128, x[over].astype(np.float64))
    xd = x.astype(np.float64)
    lo_even = ((lo_bits >> np.uint32(16)) & np.uint32(1)) == 0
    with np.errstate(invalid="ignore"):
        dlo, dhi = np.abs(xd - lo), np.abs(hi - xd)
        pick_hi = (dhi < dlo) | ((dhi == dlo) & ~lo_even)
    out = np.where(pick_hi, hi_bits, lo_bits) >> np.uint32(16)
    inf = np.isinf(x)
    out[inf] = (b[inf] >> np.uint32(16))
    return out.astype(np.uint16)


def test_bfloat16_to_float32_every_pattern():
    want = (ALL16.astype(np.uint32) << np.uint32(16)).view(np.float32)
    got = nd.array(want, dtype="float32").astype("bfloat16").astype("float32").asnumpy()
    nan = np.isnan(want)
    assert np.array_equal(np.isnan(got), nan)
    np.testing.assert_array_equal(_bits32(got)[~nan], _bits32(want)[~nan])


def test_float32_to_bfloat16_rounding():
    f = (ALL16.astype(np.uint32) << np.uint32(16)).view(np.float32)
    f = np.unique(f[np.isfinite(f)])
    mid = ((f[:-1].astype(np.float64) + f[1:].astype(np.float64)) / 2).astype(np.float32)
    x = np.concatenate([f, mid, np.nextafter(mid, np.float32(np.inf)), np.nextafter(mid, np.float32(-np.inf)),
                        np.array([3.4e38, np.float32(np.finfo(np.float32).max), np.inf, -np.inf], np.float32)])
    got = nd.array(x, dtype="float32").astype("bfloat16").astype("float32").asnumpy()
    want = (_bf16_reference(x).astype(np.uint32) << np.uint32(16))
    np.testing.assert_array_equal(_bits32(got), want)


def test_float32_to_bfloat16_nan_stays_nan():
    x = np.array([np.nan, -np.nan], dtype=np.float32)
    got = nd.array(x, dtype="float32").astype("bfloat16").astype("float32").asnumpy()
    assert np.isnan(got).all()


def test_sort_reads_float16_keys_through_the_same_conversion():
    # sort's keys (ops/sort_kernels.h) read 16-bit data with half_bits_to_float: every finite
    # float16 sorted must come back in numpy's order
    h = ALL16.view(np.float16)
    h = h[np.isfinite(h)]
    rng = np.random.RandomState(0)
    h = h[rng.permutation(h.size)]
    got = nd.sort(nd.array(h, dtype="float16")).asnumpy()
    np.testing.assert_array_equal(got.astype(np.float32), np.sort(h).astype(np.float32))
