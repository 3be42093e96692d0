"""Sparse records in MXNet's .params/.nd format, both directions, against files written by real
MXNet 1.9.1 (tests/data/sparse/make_sparse_fixtures.py): MX reads MXNet's files, and what MX
writes is byte-identical to MXNet's file for the same arrays (so MXNet loads it). safetensors:
sparse arrays as documented component tensors, round trip and hostile metadata."""
import json
import os

import numpy as np
import pytest
import scipy.sparse as sp

import mx
from mx.base import MXFormatError

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "sparse")
NAMES = ["csr", "csr_f64", "csr_empty", "rsp", "rsp3d", "rsp_empty", "dense"]


def fix(name):
    return os.path.join(HERE, name)


@pytest.fixture(scope="module")
def expected():
    with np.load(fix("expected.npz")) as z:
        return {k: z[k] for k in z.files}


def _build(name, e):
    """The array `name` built in MX from the parts MXNet reported (not from MX's reader)."""
    stype = str(e[name + "/stype"])
    dense = e[name + "/dense"]
    if stype == "default":
        return mx.nd.array(dense, dtype=dense.dtype)
    if stype == "csr":
        return mx.nd.sparse.csr_matrix((e[name + "/data"], e[name + "/indices"], e[name + "/indptr"]),
                                       shape=dense.shape, dtype=dense.dtype)
    return mx.nd.sparse.row_sparse_array((e[name + "/data"], e[name + "/indices"]), shape=dense.shape,
                                         dtype=dense.dtype)


def test_mx_reads_mxnet_sparse_params(expected):
    got = mx.nd.load(fix("mxnet_sparse.params"))
    assert list(got) == NAMES
    for k in NAMES:
        a = got[k]
        assert a.stype == str(expected[k + "/stype"]), k
        assert a.dtype == expected[k + "/dense"].dtype, k
        np.testing.assert_array_equal(a.asnumpy(), expected[k + "/dense"], err_msg=k)
        if a.stype != "default":
            np.testing.assert_array_equal(a.data.asnumpy(), expected[k + "/data"], err_msg=k)
            np.testing.assert_array_equal(a.indices.asnumpy(), expected[k + "/indices"], err_msg=k)
        if a.stype == "csr":
            np.testing.assert_array_equal(a.indptr.asnumpy(), expected[k + "/indptr"], err_msg=k)


def test_mx_writes_mxnet_bytes(tmp_path, expected):
    arrays = {k: _build(k, expected) for k in NAMES}
    out = str(tmp_path / "mx.params")
    mx.nd.save(out, arrays)
    with open(out, "rb") as f, open(fix("mxnet_sparse.params"), "rb") as g:
        assert f.read() == g.read()
    out = str(tmp_path / "mx_list.nd")
    mx.nd.save(out, [arrays["csr"], arrays["rsp"]])
    with open(out, "rb") as f, open(fix("mxnet_sparse_list.nd"), "rb") as g:
        assert f.read() == g.read()


def test_load_then_save_is_byte_identical(tmp_path):
    for name in ("mxnet_sparse.params", "mxnet_sparse_list.nd"):
        out = str(tmp_path / name)
        mx.nd.save(out, mx.nd.load(fix(name)))
        with open(out, "rb") as f, open(fix(name), "rb") as g:
            assert f.read() == g.read(), name


def test_stale_storage_shape_from_sparse_retain(expected):
    # MXNet wrote storage shape (0, 2) but one stored row: the indices decide the row count.
    (a,) = mx.nd.load(fix("mxnet_stale_rsp.nd"))
    assert a.stype == "row_sparse"
    np.testing.assert_array_equal(a.asnumpy(), expected["stale_dense"])


def _record_offsets(buf):
    """Byte offset of the first record's csr indices in mxnet_sparse_list.nd (csr 5x7 first)."""
    import struct
    p = 24 + 4 + 4  # list header, magic, stype
    sd = struct.unpack_from("<i", buf, p)[0]
    nnz = struct.unpack_from("<q", buf, p + 4)[0]
    p += 4 + 8 * sd
    nd = struct.unpack_from("<i", buf, p)[0]
    rows = struct.unpack_from("<q", buf, p + 4)[0]
    p += 4 + 8 * nd + 8 + 4  # shape, context, type flag
    p += 2 * (4 + 4 + 8)  # two aux flags + 1-d shapes
    p += nnz * 4  # float32 values
    return p, p + (rows + 1) * 8, nnz, rows  # indptr offset, indices offset


def test_corrupt_sparse_parts_are_format_errors(tmp_path):
    with open(fix("mxnet_sparse_list.nd"), "rb") as f:
        buf = bytearray(f.read())
    import struct
    indptr_at, indices_at, nnz, rows = _record_offsets(buf)
    assert struct.unpack_from("<q", buf, indptr_at)[0] == 0
    for at, value, word in [(indices_at, 7, "out of bounds"),  # column 7 of a 7-column matrix
                            (indices_at, -1, "out of bounds"),
                            (indptr_at, 3, "indptr"),
                            (indptr_at + 8 * rows, nnz + 5, "indptr"),
                            (indptr_at + 8, 1 << 40, "indptr")]:  # a middle entry past the data
        bad = bytearray(buf)
        struct.pack_into("<q", bad, at, value)
        p = str(tmp_path / "bad.nd")
        with open(p, "wb") as f:
            f.write(bad)
        with pytest.raises(MXFormatError, match=word):
            mx.nd.load(p)
    # every truncation is a format error, never a crash
    for cut in range(0, len(buf), 7):
        with pytest.raises(MXFormatError):
            mx.nd.utils.load_frombuffer(bytes(buf[:cut]))


def _st_header(path):
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        return json.loads(f.read(n))


def test_safetensors_sparse_components_round_trip(tmp_path):
    rng = np.random.RandomState(7)
    c = sp.random(4, 6, density=0.4, format="csr", random_state=rng, dtype=np.float32)
    r = np.zeros((5, 2, 3))
    r[[1, 4]] = rng.uniform(-1, 1, (2, 2, 3))
    arrays = {"c": mx.nd.sparse.csr_matrix(c), "r": mx.nd.sparse.row_sparse_array(r, dtype="float64"),
              "d": mx.nd.ones((2,)), "e": mx.nd.sparse.zeros("row_sparse", (3, 2))}
    path = str(tmp_path / "x.safetensors")
    mx.nd.save(path, arrays)
    h = _st_header(path)
    # the documented naming: NAME.data / NAME.indices (/ NAME.indptr) + __metadata__ mx.sparse:NAME
    assert json.loads(h["__metadata__"]["mx.sparse:c"]) == {"stype": "csr", "shape": [4, 6]}
    assert json.loads(h["__metadata__"]["mx.sparse:r"]) == {"stype": "row_sparse", "shape": [5, 2, 3]}
    assert h["c.indptr"]["shape"] == [5] and h["c.indptr"]["dtype"] == "I64"
    assert h["r.data"]["shape"] == [2, 2, 3] and h["r.indices"]["shape"] == [2]
    assert "c" not in h and "d" in h
    back = mx.nd.load(path)
    assert sorted(back) == ["c", "d", "e", "r"]
    assert back["c"].stype == "csr" and back["r"].stype == "row_sparse" and back["r"].dtype == np.float64
    np.testing.assert_array_equal(back["c"].asnumpy(), c.toarray())
    np.testing.assert_array_equal(back["c"].indptr.asnumpy(), c.indptr)
    np.testing.assert_array_equal(back["r"].asnumpy(), r)
    np.testing.assert_array_equal(back["r"].indices.asnumpy(), [1, 4])
    assert back["e"].stype == "row_sparse" and back["e"].shape == (3, 2)
    # an unnamed list keeps its order
    mx.nd.save(path, [arrays["d"], arrays["c"]])
    lst = mx.nd.load(path)
    assert isinstance(lst, list) and lst[1].stype == "csr"
    np.testing.assert_array_equal(lst[1].asnumpy(), c.toarray())
    with pytest.raises(ValueError, match="duplicate name 'c.data'"):
        mx.nd.save(path, {"c": arrays["c"], "c.data": mx.nd.ones((1,))})


def _write_st(path, header, payload):
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little") + h + payload)


def test_safetensors_sparse_hostile_metadata(tmp_path):
    path = str(tmp_path / "bad.safetensors")
    idx = np.array([0, 3], np.int64).tobytes()
    data = np.ones((2, 2), np.float32).tobytes()
    comp = {"r.data": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
            "r.indices": {"dtype": "I64", "shape": [2], "data_offsets": [16, 32]}}
    for meta, word in [({"stype": "row_sparse", "shape": [3, 2]}, "out of bounds"),   # row 3 of 3
                       ({"stype": "coo", "shape": [4, 2]}, "stype"),
                       ({"stype": "row_sparse", "shape": [-4, 2]}, "shape"),
                       ({"stype": "row_sparse", "shape": [4, 3]}, "shape"),
                       ({"stype": "csr", "shape": [4, 2]}, "r.indptr")]:
        _write_st(path, dict(comp, __metadata__={"mx.sparse:r": json.dumps(meta)}), data + idx)
        with pytest.raises(MXFormatError, match=word):
            mx.nd.load(path)
    _write_st(path, dict(comp, __metadata__={"mx.sparse:r": "{not json"}), data + idx)
    with pytest.raises(MXFormatError, match="JSON"):
        mx.nd.load(path)
    # without the metadata entry, the components are plain tensors
    _write_st(path, comp, data + idx)
    assert sorted(mx.nd.load(path)) == ["r.data", "r.indices"]
