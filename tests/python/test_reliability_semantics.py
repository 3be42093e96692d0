"""Issue 15: wrong or unsafe behaviour that did not crash: NUL in paths, NaN in sorts, fancy
indexing out of range, malformed symbol attributes."""
import os

import numpy as np
import pytest

import mx

NUL_PATH = "victim.nd\x00.x"


# ------------------------------------------------------------------ 5. NUL inside a path
def _saves(tmp):
    """Every API that writes or reads a file, with a path holding a NUL."""
    p = os.path.join(tmp, NUL_PATH)
    net = mx.gluon.nn.Dense(2, in_units=3)
    net.initialize()
    sym = mx.sym.var("x") * 2
    trainer = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    return {
        "nd.save": lambda: mx.nd.save(p, [mx.nd.ones(2)]),
        "nd.save dict": lambda: mx.nd.save(p, {"a": mx.nd.ones(2)}),
        "nd.save bytes path": lambda: mx.nd.save(p.encode(), [mx.nd.ones(2)]),
        "nd.load": lambda: mx.nd.load(p),
        "safetensors": lambda: mx.nd.save(p + ".safetensors", {"a": mx.nd.ones(2)}),
        "Symbol.save": lambda: sym.save(p),
        "sym.load": lambda: mx.sym.load(p),
        "RecordIO writer": lambda: mx.recordio.MXRecordIO(p, "w"),
        "RecordIO reader": lambda: mx.recordio.MXRecordIO(p, "r"),
        "save_parameters": lambda: net.save_parameters(p),
        "load_parameters": lambda: net.load_parameters(p),
        "save_checkpoint": lambda: mx.model.save_checkpoint(p, 1, sym, {}, {}),
        "load_checkpoint": lambda: mx.model.load_checkpoint(p, 1),
        "trainer.save_states": lambda: trainer.save_states(p),
        "trainer.load_states": lambda: trainer.load_states(p),
    }


@pytest.mark.parametrize("api", sorted(_saves("/tmp")))
def test_nul_in_path_is_rejected(api, tmp_path):
    call = _saves(str(tmp_path))[api]
    with pytest.raises(ValueError, match="null"):
        call()
    assert os.listdir(tmp_path) == [], "a file was written: %s" % os.listdir(tmp_path)


def test_nul_in_path_inside_json_params_is_rejected_by_the_core(tmp_path):
    """Iterator paths travel inside JSON, where \\u0000 is legal: the core checks every path."""
    good = tmp_path / "d.csv"
    good.write_text("1,2,3\n")
    with pytest.raises(ValueError, match="NUL"):
        mx.io.CSVIter(data_csv=str(good) + "\x00.x", data_shape=(3,), batch_size=1)
    with pytest.raises(ValueError, match="NUL"):
        mx.io.MNISTIter(image=str(good) + "\x00", label=str(good), batch_size=1)


# ------------------------------------------------------------------ 6. sort / argsort / topk with NaN
def _nan_data(shape, seed=0):
    r = np.random.RandomState(seed)
    x = r.randint(0, 5, size=shape).astype(np.float32)  # ties, to check stability too
    x[r.rand(*shape) < 0.3] = np.nan
    return x


@pytest.mark.parametrize("axis", [-1, 0])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sort_and_argsort_put_nan_last(axis, dtype):
    x = _nan_data((6, 9)).astype(dtype)
    a = mx.nd.array(x, dtype=dtype)
    np.testing.assert_array_equal(mx.nd.sort(a, axis=axis).asnumpy(), np.sort(x, axis=axis))
    np.testing.assert_array_equal(mx.nd.argsort(a, axis=axis).asnumpy(),
                                  np.argsort(x, axis=axis, kind="stable"))


def test_descending_puts_nan_first():
    """Descending is the mirror of numpy's ascending order: NaN first (as np.sort(x)[::-1] and
    torch.topk, which treat NaN as the largest value)."""
    x = _nan_data((40,), seed=3)
    a = mx.nd.array(x)
    want = np.sort(x)[::-1]
    np.testing.assert_array_equal(mx.nd.sort(a, is_ascend=False).asnumpy(), want)
    idx = mx.nd.argsort(a, is_ascend=False).asnumpy().astype(np.int64)
    np.testing.assert_array_equal(x[idx], want)
    top = mx.nd.topk(a, k=5, ret_typ="value").asnumpy()
    np.testing.assert_array_equal(top, want[:5])
    low = mx.nd.topk(a, k=5, ret_typ="value", is_ascend=True).asnumpy()
    np.testing.assert_array_equal(low, np.sort(x)[:5])
    mask = mx.nd.topk(a, k=3, ret_typ="mask", is_ascend=True).asnumpy()
    want_mask = np.zeros(40, np.float32)
    want_mask[np.argsort(x, kind="stable")[:3]] = 1
    np.testing.assert_array_equal(mask, want_mask)


def test_topk_indices_with_nan_match_numpy():
    x = np.array([3.0, np.nan, 1.0, 2.0, np.nan, 0.5], np.float32)
    got = mx.nd.topk(mx.nd.array(x), k=4, is_ascend=True).asnumpy().astype(np.int64)
    np.testing.assert_array_equal(got, np.argsort(x, kind="stable")[:4])


# ------------------------------------------------------------------ 7. fancy indexing
def test_out_of_range_integer_array_index_raises_index_error():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    a = mx.nd.array(x)
    for key in ([0, 10], [0, -4], np.array([3]), mx.nd.array([0, 3]), mx.nd.array([0, 3], dtype="int64")):
        with pytest.raises(IndexError, match="out of bounds"):
            a[key]
        with pytest.raises(IndexError):
            x[np.asarray(key.asnumpy() if isinstance(key, mx.nd.NDArray) else key).astype(np.int64)]
    with pytest.raises(IndexError, match="out of bounds"):
        a[:, [0, 4]]
    np.testing.assert_array_equal(a[[0, -1, -3]].asnumpy(), x[[0, -1, -3]])
    np.testing.assert_array_equal(a[:, [3, -4]].asnumpy(), x[:, [3, -4]])
    np.testing.assert_array_equal(a[mx.nd.array([2, 0])].asnumpy(), x[[2, 0]])


def test_boolean_mask_must_match_the_axis_length():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    a = mx.nd.array(x)
    for mask in ([True, False], np.array([True, False, True, True]), mx.nd.array([1, 0], dtype="bool")):
        with pytest.raises(IndexError, match="boolean index"):
            a[mask]
        with pytest.raises(IndexError):
            x[np.asarray(mask.asnumpy() if isinstance(mask, mx.nd.NDArray) else mask)]
    m = np.array([True, False, True])
    np.testing.assert_array_equal(a[m].asnumpy(), x[m])
    np.testing.assert_array_equal(a[list(m)].asnumpy(), x[list(m)])
    np.testing.assert_array_equal(a[mx.nd.array(m, dtype="bool")].asnumpy(), x[m])
    np.testing.assert_array_equal(a[:, np.array([False, True, True, False])].asnumpy(),
                                  x[:, np.array([False, True, True, False])])
    m2 = x % 3 == 0
    np.testing.assert_array_equal(a[m2].asnumpy(), x[m2])
    with pytest.raises(IndexError):
        a[np.ones((2, 2), bool)]


# ------------------------------------------------------------------ 8. malformed symbol attributes
@pytest.mark.parametrize("value", ["(4, 3.5)", "(4, x)", "((4, 3)", "(4, -3)", "four"])
def test_malformed_shape_attribute_is_a_format_error(value):
    x = mx.sym.var("x", attr={"__shape__": value})
    with pytest.raises(mx.base.MXFormatError) as info:
        (x * 2).infer_shape()
    msg = str(info.value)
    assert "__shape__" in msg and value in msg and "'x'" in msg
    assert isinstance(info.value, ValueError)


def test_malformed_dtype_attribute_is_a_format_error():
    x = mx.sym.var("x", attr={"__dtype__": "float99"})
    with pytest.raises(mx.base.MXFormatError, match="__dtype__.*float99"):
        (x * 2).infer_type()
    y = mx.sym.var("y", attr={"__dtype__": "77"})
    with pytest.raises(mx.base.MXFormatError, match="__dtype__"):
        (y * 2).infer_type()
    z = mx.sym.var("z", attr={"__dtype__": "1"})  # a valid code: float64
    _, outs, _ = (z * 2).infer_type()
    assert outs == [np.float64]


def test_shape_attribute_from_json_file_is_a_format_error(tmp_path):
    js = mx.sym.var("w", shape=(2, 3)).tojson().replace("(2, 3)", "(2, 3e)")
    sym = mx.sym.load_json(js)
    with pytest.raises(mx.base.MXFormatError, match="__shape__"):
        sym.infer_shape()
