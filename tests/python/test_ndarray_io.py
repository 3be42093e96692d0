"""mx.nd.save / mx.nd.load: MXNet 1.9.1 fixture files (every layout), byte-identical re-saves,
round trips in both formats for every dtype (0-d and zero-size included), atomic saves, and
hostile (truncated, corrupted) files failing with the right exception types."""
import os
import random
import struct

import numpy as np
import pytest

import mx
from mx.base import MXError, MXFormatError, MXIOError, MXNotSupportedError
from mx.ndarray import utils as nd_utils

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "data", "mxnet-1.9.1", "ndarray")

DTYPES = ["float32", "float64", "float16", "bfloat16", "uint8", "int8", "int32", "int64", "bool"]


def fix(name):
    return os.path.join(FIX, name)


def npz(name):
    with np.load(fix(name)) as z:
        return {k: z[k] for k in z.files}


def arr(x):
    return mx.nd.array(x, dtype=x.dtype)


def assert_exact(mx_arr, ref):
    assert mx_arr.shape == ref.shape
    assert np.dtype(mx_arr.dtype) == ref.dtype
    got = mx_arr.asnumpy()
    # bit-exact (NaN-safe) comparison
    assert got.tobytes() == np.ascontiguousarray(ref).tobytes()


def make(shape, dtype, seed=0):
    """An MX array of any dtype and shape (0-d included) with varied values, plus its numpy
    reference (bfloat16: a float32 reference of bfloat16-exact values)."""
    rng = np.random.RandomState(seed)
    n = int(np.prod(shape)) if len(shape) else 1
    if dtype == "bool":
        ref = rng.rand(n) > 0.5
    elif dtype in ("float32", "float64", "float16"):
        ref = (rng.randn(n) * 100).astype(dtype)
    elif dtype == "bfloat16":
        ref = (rng.randint(-256, 256, n) / 8.0).astype(np.float32)  # exact in bfloat16
    else:
        info = np.iinfo(dtype)
        ref = rng.randint(max(info.min, -2**62), min(info.max, 2**62), n, dtype=np.int64).astype(dtype)
    ref = np.ascontiguousarray(ref.reshape(shape))
    view = mx.nd.from_dlpack(ref.copy())
    arr = view.astype("bfloat16") if dtype == "bfloat16" else view.copy()
    return arr, ref


def assert_same(a, b):
    assert a.shape == b.shape
    assert a.dtype == b.dtype
    if a.dtype is mx.nd.bfloat16:
        a, b = a.astype(np.float32), b.astype(np.float32)
    assert a.asnumpy().tobytes() == b.asnumpy().tobytes()


# ------------------------------------------------------------------ fixtures


@pytest.mark.parametrize("nd_name,npz_name,kind", [
    ("dict.nd", "dict.npz", "dict"),
    ("list.nd", "list.npz", "list"),
    ("dict_np_shape.nd", "dict_np_shape.npz", "dict"),
    ("legacy_v0.nd", "legacy.npz", "dict"),
    ("legacy_v1_list.nd", "legacy.npz", "list"),
    ("v2_gpu_context.nd", "legacy.npz", "dict"),
])
def test_fixture_loads_exactly(nd_name, npz_name, kind):
    ref = npz(npz_name)
    got = mx.nd.load(fix(nd_name))
    if kind == "dict":
        assert isinstance(got, dict)
        assert list(got) == list(ref)
        for k, v in ref.items():
            assert_exact(got[k], v)
            assert got[k].context == mx.cpu()
    else:
        assert isinstance(got, list)
        vals = list(ref.values())
        if npz_name == "list.npz":
            vals = [ref["arr_%d" % i] for i in range(len(ref))]
        assert len(got) == len(vals)
        for g, v in zip(got, vals):
            assert_exact(g, v)


def test_fixture_from_buffer():
    with open(fix("dict.nd"), "rb") as f:
        got = nd_utils.load_frombuffer(f.read())
    for k, v in npz("dict.npz").items():
        assert_exact(got[k], v)


def test_sparse_fixture_loads_as_sparse_arrays():
    # More sparse file cases (byte-identical writes, corrupt parts): test_sparse_files.py.
    got = mx.nd.load(fix("sparse.nd"))
    ref = npz("sparse.npz")
    assert got["csr"].stype == "csr" and got["rsp"].stype == "row_sparse"
    for k in ("csr", "rsp"):
        np.testing.assert_array_equal(got[k].asnumpy(), ref[k + "_dense"])
        np.testing.assert_array_equal(got[k].data.asnumpy(), ref[k + "_data"])
        np.testing.assert_array_equal(got[k].indices.asnumpy(), ref[k + "_indices"])
    np.testing.assert_array_equal(got["csr"].indptr.asnumpy(), ref["csr_indptr"])


@pytest.mark.parametrize("name", ["dict.nd", "list.nd", "dict_np_shape.nd"])
def test_resave_is_byte_identical(tmp_path, name):
    data = mx.nd.load(fix(name))
    out = str(tmp_path / name)
    mx.nd.save(out, data)
    with open(fix(name), "rb") as a, open(out, "rb") as b:
        assert a.read() == b.read()


def test_legacy_resave_writes_v2(tmp_path):
    # Old layouts load and are written back in the current (V2) layout, loading the same.
    data = mx.nd.load(fix("legacy_v0.nd"))
    out = str(tmp_path / "x.params")
    mx.nd.save(out, data)
    with open(out, "rb") as f:
        raw = f.read()
    assert struct.unpack_from("<I", raw, 24)[0] == 0xF993FAC9
    again = mx.nd.load(out)
    for k, v in npz("legacy.npz").items():
        assert_exact(again[k], v)
    # the GPU-context file holds the same arrays: re-saved from the CPU, the bytes agree
    out2 = str(tmp_path / "y.params")
    mx.nd.save(out2, mx.nd.load(fix("v2_gpu_context.nd")))
    with open(out2, "rb") as f:
        assert f.read() == raw


# ------------------------------------------------------------------ round trips


@pytest.mark.parametrize("ext", [".nd", ".safetensors"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_roundtrip_every_dtype(tmp_path, ext, dtype):
    shapes = [(2, 3), (), (0,), (2, 0, 3), (1,), (3, 1, 2, 2)]
    arrays = {"a%d" % i: make(s, dtype, seed=i)[0] for i, s in enumerate(shapes)}
    path = str(tmp_path / ("f" + ext))
    mx.nd.save(path, arrays)
    got = mx.nd.load(path)
    assert list(got) == list(arrays)
    for k in arrays:
        assert_same(got[k], arrays[k])
    # unnamed list
    lst = list(arrays.values())
    mx.nd.save(path, lst)
    got = mx.nd.load(path)
    assert isinstance(got, list) and len(got) == len(lst)
    for g, a in zip(got, lst):
        assert_same(g, a)


def test_values_match_numpy(tmp_path):
    for dtype in DTYPES:
        arr, ref = make((4, 5), dtype, seed=3)
        for ext in (".nd", ".safetensors"):
            p = str(tmp_path / (dtype + ext))
            mx.nd.save(p, {"x": arr})
            got = mx.nd.load(p)["x"]
            if dtype == "bfloat16":
                np.testing.assert_array_equal(got.astype(np.float32).asnumpy(), ref)
            else:
                assert_exact(got, ref)


def test_long_list_order_in_safetensors(tmp_path):
    lst = [arr(np.full((1,), i, np.float32)) for i in range(23)]
    p = str(tmp_path / "l.safetensors")
    mx.nd.save(p, lst)
    got = mx.nd.load(p)
    assert [float(g.asnumpy()[0]) for g in got] == [float(i) for i in range(23)]


def test_single_array_and_empty(tmp_path):
    p = str(tmp_path / "one.nd")
    a = arr(np.ones((2, 2), np.float32))
    mx.nd.save(p, a)
    got = mx.nd.load(p)
    assert isinstance(got, list) and len(got) == 1
    assert_same(got[0], a)
    mx.nd.save(p, [])
    assert mx.nd.load(p) == []
    p = str(tmp_path / "e.safetensors")
    mx.nd.save(p, [])
    assert mx.nd.load(p) == []
    mx.nd.save(p, {})
    assert mx.nd.load(p) == {}


def test_names_with_odd_characters(tmp_path):
    names = ["arg:fc1_weight", "aux:bn_moving_mean", "quote\"and\\slash", "unicodé ✓", "", "tab\tnew\nline"]
    data = {n: arr(np.full((2,), i, np.float32)) for i, n in enumerate(names)}
    for ext in (".params", ".safetensors"):
        p = str(tmp_path / ("n" + ext))
        mx.nd.save(p, data)
        got = mx.nd.load(p)
        assert list(got) == names
        for n in names:
            assert_same(got[n], data[n])


def test_safetensors_layout(tmp_path):
    """Header: 8-byte little-endian length, JSON, padded to 8 bytes; offsets relative to the data."""
    import json
    p = str(tmp_path / "x.safetensors")
    a, _ = make((2, 3), "float32")
    b, _ = make((4,), "int64")
    mx.nd.save(p, {"a": a, "b": b})
    raw = open(p, "rb").read()
    n = struct.unpack_from("<Q", raw)[0]
    assert (8 + n) % 8 == 0
    head = json.loads(raw[8:8 + n])
    assert head["a"] == {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}
    assert head["b"] == {"dtype": "I64", "shape": [4], "data_offsets": [24, 56]}
    assert len(raw) == 8 + n + 56
    assert raw[8 + n:8 + n + 24] == a.asnumpy().tobytes()


def test_safetensors_interop_with_reference(tmp_path):
    st = pytest.importorskip("safetensors.numpy", reason="the reference safetensors package is not installed")
    ref = {"w": np.arange(12, dtype=np.float32).reshape(3, 4), "i": np.array([1, -2], dtype=np.int64),
           "h": np.ones((2, 2), np.float16), "b": np.array([True, False]), "s": np.array(3.5, np.float64),
           "z": np.zeros((0, 2), np.uint8)}
    p = str(tmp_path / "ref.safetensors")
    st.save_file(ref, p, metadata={"format": "np"})
    got = mx.nd.load(p)
    for k, v in ref.items():
        assert_exact(got[k], v)
    q = str(tmp_path / "mx.safetensors")
    mx.nd.save(q, got)
    back = st.load_file(q)
    for k, v in ref.items():
        assert back[k].dtype == v.dtype and back[k].shape == v.shape
        assert back[k].tobytes() == v.tobytes()
    mx.nd.save(q, list(got.values()))
    assert sorted(st.load_file(q)) == sorted(str(i) for i in range(len(ref)))


# ------------------------------------------------------------------ atomic save, errors


def test_save_into_missing_dir_raises_oserror(tmp_path):
    with pytest.raises(OSError) as e:
        mx.nd.save(str(tmp_path / "nope" / "x.nd"), [arr(np.ones((2,), np.float32))])
    assert isinstance(e.value, MXIOError)
    assert "nope" in str(e.value)


def test_failed_save_keeps_old_file(tmp_path):
    p = str(tmp_path / "ckpt.safetensors")
    mx.nd.save(p, {"w": arr(np.ones((3,), np.float32))})
    before = open(p, "rb").read()
    # '__metadata__' cannot name a tensor: the save fails after the temporary file exists
    with pytest.raises(MXError):
        mx.nd.save(p, {"__metadata__": arr(np.zeros((3,), np.float32))})
    assert open(p, "rb").read() == before
    assert os.listdir(str(tmp_path)) == ["ckpt.safetensors"]  # no temporary left behind


def test_save_over_directory_fails_cleanly(tmp_path):
    d = tmp_path / "adir"
    d.mkdir()
    (d / "inner").write_text("x")
    with pytest.raises(OSError):
        mx.nd.save(str(d), [arr(np.ones((2,), np.float32))])
    assert sorted(os.listdir(str(tmp_path))) == ["adir"]
    assert os.listdir(str(d)) == ["inner"]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores folder permissions")
def test_save_into_readonly_dir_keeps_old_file(tmp_path):
    d = tmp_path / "ro"
    d.mkdir()
    p = str(d / "x.nd")
    mx.nd.save(p, [arr(np.ones((2,), np.float32))])
    before = open(p, "rb").read()
    os.chmod(str(d), 0o500)
    try:
        with pytest.raises(OSError):
            mx.nd.save(p, [arr(np.zeros((5,), np.float32))])
    finally:
        os.chmod(str(d), 0o700)
    assert open(p, "rb").read() == before


def test_save_overwrites(tmp_path):
    p = str(tmp_path / "x.nd")
    mx.nd.save(p, [arr(np.ones((2,), np.float32))])
    mx.nd.save(p, {"a": arr(np.zeros((3,), np.float32))})
    got = mx.nd.load(p)
    assert list(got) == ["a"] and got["a"].shape == (3,)
    assert os.listdir(str(tmp_path)) == ["x.nd"]


def test_missing_file_raises_oserror(tmp_path):
    p = str(tmp_path / "missing.params")
    with pytest.raises(OSError) as e:
        mx.nd.load(p)
    assert p in str(e.value) and "No such file" in str(e.value)


def test_bad_arguments():
    with pytest.raises(TypeError):
        mx.nd.save("x.nd", {"a": np.ones(2)})
    with pytest.raises(TypeError):
        mx.nd.save("x.nd", 3)


@pytest.mark.parametrize("name", ["dict.nd", "dict_np_shape.nd", "legacy_v0.nd", "legacy_v1_list.nd"])
def test_truncated_files_raise_format_error(name):
    raw = open(fix(name), "rb").read()
    for k in range(len(raw)):
        with pytest.raises(MXFormatError) as e:
            nd_utils.load_frombuffer(raw[:k])
        assert isinstance(e.value, ValueError)
        if k >= 8:
            assert "byte" in str(e.value)


def test_truncated_safetensors_raise_format_error(tmp_path):
    p = str(tmp_path / "t.safetensors")
    mx.nd.save(p, {"a": make((3, 2), "float32")[0], "b": make((2,), "int8")[0]})
    raw = open(p, "rb").read()
    for k in range(len(raw)):
        with pytest.raises(MXFormatError):
            nd_utils.load_frombuffer(raw[:k])
    # the same on disk, through the path-based loader
    q = str(tmp_path / "cut.safetensors")
    with open(q, "wb") as f:
        f.write(raw[:-1])
    with pytest.raises(MXFormatError) as e:
        mx.nd.load(q)
    assert "cut.safetensors" in str(e.value)


def test_corrupted_files_raise_mx_errors():
    rng = random.Random(1234)
    for name in ["dict.nd", "list.nd", "dict_np_shape.nd", "legacy_v0.nd"]:
        raw = bytearray(open(fix(name), "rb").read())
        for _ in range(400):
            m = bytearray(raw)
            for _ in range(rng.randint(1, 4)):
                m[rng.randrange(len(m))] = rng.randrange(256)
            try:
                out = nd_utils.load_frombuffer(bytes(m))
            except MXError as e:
                assert isinstance(e, (ValueError, TypeError, NotImplementedError)), type(e)
            else:
                assert isinstance(out, (list, dict))


@pytest.mark.parametrize("header,exc", [
    (b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', MXFormatError),   # size mismatch
    (b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}}', MXFormatError),   # past the data
    (b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
     b'"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}', MXFormatError),     # overlap
    (b'{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', MXFormatError),
    (b'{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}', MXFormatError),
    (b'{"a":{"dtype":"X9","shape":[1],"data_offsets":[0,4]}}', MXFormatError),
    (b'{"a":{"dtype":"U16","shape":[2],"data_offsets":[0,4]}}', TypeError),        # valid, unsupported
    (b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],'
     b'"data_offsets":[4,8]}}', MXFormatError),                                   # duplicate
    (b'{"__metadata__":{"k":1}}', MXFormatError),
    (b'{"a":[[[[[[1]]]]]]}', MXFormatError),
    (b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}', MXFormatError),    # unterminated
])
def test_bad_safetensors_headers(header, exc):
    pad = header + b" " * (-len(header) % 8)
    raw = struct.pack("<Q", len(pad)) + pad + b"\0" * 8
    with pytest.raises(exc):
        nd_utils.load_frombuffer(raw)


def test_not_a_known_format():
    with pytest.raises(MXFormatError):
        nd_utils.load_frombuffer(b"hello world, not an ndarray file")
    with pytest.raises(MXFormatError):
        mx.nd.load(fix("dict.npz"))


def test_non_utf8_names_round_trip(tmp_path):
    p = str(tmp_path / "n.nd")
    mx.nd.save(p, {"ab": arr(np.ones((2,), np.float32))})
    raw = open(p, "rb").read()
    assert raw.endswith(b"ab")
    bad = raw[:-2] + b"\xff\xfe"
    got = nd_utils.load_frombuffer(bad)
    (name,) = got
    q = str(tmp_path / "m.nd")
    mx.nd.save(q, got)
    assert open(q, "rb").read() == bad
