"""No handle leaks: 100k NDArray create/free cycles and 100k small op calls leave the resident set
where a warm-up left it (within a few MB; a leak of one handle per call would be tens of MB).

RSS comes from /proc/self/statm (Linux). Each loop runs once as warm-up, so the storage pool,
the parameter cache and Python's allocators reach their steady state before measuring.
"""
import gc
import os

import numpy as np
import pytest

import mx
from mx import base

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc (Linux)")

N = 100_000
TOLERANCE_MB = 4.0
_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE / 2**20


def growth_mb(fn, n=N, warmup=None):
    """RSS growth over `n` calls of fn, measured after `warmup` calls (default n // 5)."""
    for _ in range(warmup if warmup is not None else max(n // 5, 1)):
        fn()
    gc.collect()
    before = rss_mb()
    for _ in range(n):
        fn()
    gc.collect()
    return rss_mb() - before


def test_ndarray_create_free_does_not_leak():
    def cycle():
        a = mx.nd.empty((4, 4))
        del a
    g = growth_mb(cycle)
    assert g < TOLERANCE_MB, "RSS grew %.1f MB over %d create/free cycles" % (g, N)


def test_ndarray_from_numpy_does_not_leak():
    x = np.arange(16, dtype=np.float32).reshape(4, 4)

    def cycle():
        a = mx.nd.array(x)
        a.asnumpy()
    g = growth_mb(cycle, n=N // 2)
    assert g < TOLERANCE_MB, "RSS grew %.1f MB over %d array()/asnumpy() cycles" % (g, N // 2)


def test_small_op_calls_do_not_leak():
    a = mx.nd.array(np.ones((4, 4), dtype=np.float32))
    b = mx.nd.array(np.full((4, 4), 2.0, dtype=np.float32))

    def call():
        c = mx.nd.elemwise_add(a, b)
        d = c + 1.5  # scalar op: parsed parameters through the cache
        del c, d
    g = growth_mb(call)
    assert g < TOLERANCE_MB, "RSS grew %.1f MB over %d op calls" % (g, 2 * N)


def test_views_do_not_leak():
    a = mx.nd.array(np.ones((8, 4), dtype=np.float32))

    def call():
        v = a[2:5]
        r = a.reshape((4, 8))
        del v, r
    g = growth_mb(call, n=N // 2)
    assert g < TOLERANCE_MB, "RSS grew %.1f MB over %d view cycles" % (g, N // 2)


def test_failing_calls_do_not_leak():
    a = mx.nd.array(np.ones((2, 3), dtype=np.float32))
    b = mx.nd.array(np.ones((3, 2), dtype=np.float32))

    def call():
        try:
            mx.nd.elemwise_add(a, b)
        except base.MXShapeError:
            pass
    g = growth_mb(call, n=N // 5)
    assert g < TOLERANCE_MB, "RSS grew %.1f MB over %d failing op calls" % (g, N // 5)


def test_autograd_record_does_not_leak():
    x = mx.nd.array(np.ones((4,), dtype=np.float32))
    x.attach_grad()

    def step():
        with mx.autograd.record():
            y = x * x + x
        y.backward()
    g = growth_mb(step, n=N // 10)
    assert g < TOLERANCE_MB, "RSS grew %.1f MB over %d record/backward steps" % (g, N // 10)
