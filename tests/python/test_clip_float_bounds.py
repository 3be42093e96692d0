"""clip on float32 decides each element as a float64 comparison would: bounds that are not
float32 numbers (0.1), bounds beyond float32's range, NaN inputs, and values exactly at the
rounded bounds. Reference: numpy in float64, the result rounded to float32."""
import numpy as np
import pytest

import mx


@pytest.mark.parametrize("lo,hi", [(0.1, 0.7), (-0.3, 1e39), (-1e39, -1e-40), (0.0, 6.0)])
def test_clip_float32_matches_float64_decisions(lo, hi):
    with np.errstate(over="ignore"):  # float32(1e39) is inf, as intended
        _check(lo, hi)


def _check(lo, hi):
    rng = np.random.RandomState(0)
    x = np.concatenate([rng.randn(5000).astype(np.float32) * 3,
                        np.array([np.float32(lo), np.float32(hi), np.nextafter(np.float32(lo), np.float32(-np.inf)),
                                  np.nextafter(np.float32(lo), np.float32(np.inf)), np.nan, np.inf, -np.inf,
                                  -0.0, 3.4e38], np.float32)])
    got = mx.nd.clip(mx.nd.array(x), lo, hi).asnumpy()
    x64 = x.astype(np.float64)
    ref = np.where(x64 < lo, np.float32(lo), np.where(x64 > hi, np.float32(hi), x))
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, ref.astype(np.float32))
