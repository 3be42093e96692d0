"""RecordIO against Apache MXNet 1.9.1's fixture (tests/data/mxnet-1.9.1/recordio/): byte-identical
writes, every record read back, chunked records, .idx random access, corrupt files, IRHeader."""
import json
import os

import numpy as np
import pytest

import mx
from mx import recordio

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "mxnet-1.9.1", "recordio")


def _codec(fmt):
    flag = mx.base.ffi.new("int *")
    mx.base.check_call(mx.base.lib.mx_image_supported(fmt.encode(), flag))
    return bool(flag[0])


needs_codecs = pytest.mark.skipif(not (_codec("png") and _codec("jpeg")),
                                  reason="libmx built without libpng/libjpeg (Debian libpng-dev, libjpeg-dev)")


def _records():
    with open(os.path.join(DATA, "raw_records.json"), encoding="utf-8") as f:
        return json.load(f)["records"]


def _header(rec):
    h = rec["header"]
    if isinstance(h, str):
        import ast
        h = ast.literal_eval(h)
    return h


def test_write_is_byte_identical(tmp_path):
    idx, rec = str(tmp_path / "raw.idx"), str(tmp_path / "raw.rec")
    w = recordio.MXIndexedRecordIO(idx, rec, "w")
    for r in _records():
        h = _header(r)
        packed = recordio.pack(recordio.IRHeader(h["flag"], h["label"], h["id"], h["id2"]),
                               bytes.fromhex(r["payload_hex"]))
        assert packed == bytes.fromhex(r["record_hex"])
        w.write_idx(int(r["key"]), packed)
    w.close()
    with open(rec, "rb") as a, open(os.path.join(DATA, "raw.rec"), "rb") as b:
        assert a.read() == b.read()
    with open(idx) as a, open(os.path.join(DATA, "raw.idx")) as b:
        assert a.read() == b.read()


def test_span_bytes_per_record(tmp_path):
    for r in _records():
        p = str(tmp_path / ("r%s.rec" % r["key"]))
        with recordio.MXRecordIO(p, "w") as w:
            w.write(bytes.fromhex(r["record_hex"]))
        with open(p, "rb") as f:
            assert f.read() == bytes.fromhex(r["span_hex"])


def test_read_every_record_sequentially():
    rd = recordio.MXRecordIO(os.path.join(DATA, "raw.rec"), "r")
    for r in _records():
        s = rd.read()
        assert s == bytes.fromhex(r["record_hex"])
        header, payload = recordio.unpack(s)
        h = _header(r)
        assert payload == bytes.fromhex(r["payload_hex"])
        assert header.flag == h["flag"] and header.id == h["id"] and header.id2 == h["id2"]
        if h["flag"] > 0:
            np.testing.assert_array_equal(header.label, np.array(h["label"], np.float32))
        else:
            assert header.label == h["label"]
    assert rd.read() is None
    rd.reset()
    assert rd.read() == bytes.fromhex(_records()[0]["record_hex"])
    rd.close()


def test_indexed_random_access():
    rd = recordio.MXIndexedRecordIO(os.path.join(DATA, "raw.idx"), os.path.join(DATA, "raw.rec"), "r")
    recs = {int(r["key"]): bytes.fromhex(r["record_hex"]) for r in _records()}
    assert rd.keys == sorted(recs)
    for k in [5, 2, 0, 4, 3, 1, 2]:
        assert rd.read_idx(k) == recs[k]
    with pytest.raises(KeyError):
        rd.read_idx(99)
    rd.close()


def test_multi_chunk_roundtrip(tmp_path):
    magic = b"\x0a\x23\xd7\xce"
    payloads = [magic, magic * 3, b"ab" + magic + b"cd", b"abcd" + magic, magic + b"x" * 7 + magic + b"yz",
                b"", b"q" * 5, bytes(range(256)) * 3 + magic + b"end"]
    p = str(tmp_path / "m.rec")
    with recordio.MXRecordIO(p, "w") as w:
        for s in payloads:
            w.write(s)
    rd = recordio.MXRecordIO(p, "r")
    assert [rd.read() for _ in payloads] == payloads
    assert rd.read() is None
    # An aligned magic inside the payload never appears in the file except as chunk headers.
    raw = open(p, "rb").read()
    assert raw.count(magic) >= len(payloads) + 5


def _err(fn):
    with pytest.raises(mx.base.MXError) as e:
        fn()
    return e.value


def test_truncated_and_corrupt(tmp_path):
    good = open(os.path.join(DATA, "raw.rec"), "rb").read()
    # truncated inside the payload of record 4 (which starts at offset 436)
    p = tmp_path / "trunc.rec"
    p.write_bytes(good[:500])
    rd = recordio.MXRecordIO(str(p), "r")
    for _ in range(4):
        rd.read()
    e = _err(rd.read)
    assert isinstance(e, mx.base.MXFormatError) and "436" in str(e) and "truncated" in str(e)
    # truncated inside a header
    p.write_bytes(good[:42])
    rd = recordio.MXRecordIO(str(p), "r")
    rd.read()
    e = _err(rd.read)
    assert isinstance(e, mx.base.MXFormatError) and "40" in str(e)
    # truncated in the middle of a multi-chunk record (record 2 spans 72..132)
    p.write_bytes(good[:104])
    rd = recordio.MXRecordIO(str(p), "r")
    rd.read(), rd.read()
    assert isinstance(_err(rd.read), mx.base.MXFormatError)
    # bad magic
    bad = bytearray(good)
    bad[40] ^= 0xFF
    p.write_bytes(bytes(bad))
    rd = recordio.MXRecordIO(str(p), "r")
    rd.read()
    e = _err(rd.read)
    assert isinstance(e, mx.base.MXFormatError) and "offset 40" in str(e) and "magic" in str(e)
    # a continuation chunk without a first chunk
    bad = bytearray(good)
    bad[44 + 3] = (bad[44 + 3] & 0x1F) | (2 << 5)
    p.write_bytes(bytes(bad))
    rd = recordio.MXRecordIO(str(p), "r")
    rd.read()
    assert isinstance(_err(rd.read), mx.base.MXFormatError)
    # a huge declared length
    bad = bytearray(good)
    bad[4:8] = (0x1FFFFFFF).to_bytes(4, "little")
    p.write_bytes(bytes(bad))
    assert isinstance(_err(recordio.MXRecordIO(str(p), "r").read), mx.base.MXFormatError)
    # random garbage never crashes
    rng = np.random.RandomState(0)
    for i in range(50):
        b = bytearray(good)
        for j in rng.randint(0, len(b), size=4):
            b[j] = rng.randint(0, 256)
        p.write_bytes(bytes(b[:rng.randint(1, len(b))]))
        rd = recordio.MXRecordIO(str(p), "r")
        try:
            while rd.read() is not None:
                pass
        except mx.base.MXFormatError:
            pass


def test_missing_file_and_bad_seek(tmp_path):
    assert isinstance(_err(lambda: recordio.MXRecordIO(str(tmp_path / "nope.rec"), "r")), mx.base.MXIOError)
    rd = recordio.MXRecordIO(os.path.join(DATA, "raw.rec"), "r")
    assert isinstance(_err(lambda: rd.seek_pos(3)), mx.base.MXValueError)
    assert isinstance(_err(lambda: rd.seek_pos(10 ** 9)), mx.base.MXValueError)
    with pytest.raises(ValueError):
        rd.write(b"x")
    with pytest.raises(ValueError):
        recordio.MXRecordIO(str(tmp_path / "x.rec"), "a")


def test_pack_unpack_headers():
    h = recordio.IRHeader(0, 3.5, 7, 9)
    s = recordio.pack(h, b"payload")
    assert len(s) == 24 + 7
    h2, p = recordio.unpack(s)
    assert h2 == (0, 3.5, 7, 9) and p == b"payload"
    labels = [1.0, -2.0, 0.25]
    s = recordio.pack(recordio.IRHeader(0, labels, 1, 2), b"xy")
    assert len(s) == 24 + 12 + 2
    h3, p = recordio.unpack(s)
    assert h3.flag == 3 and h3.id == 1 and h3.id2 == 2 and p == b"xy"
    np.testing.assert_array_equal(h3.label, np.array(labels, np.float32))
    s = recordio.pack(recordio.IRHeader(0, np.arange(5, dtype=np.float64), 0, 0), b"")
    assert recordio.unpack(s)[0].flag == 5
    with pytest.raises(ValueError):
        recordio.unpack(b"short")
    with pytest.raises(ValueError):
        recordio.unpack(recordio.pack(recordio.IRHeader(0, [1.0, 2.0], 0, 0), b"")[:28])


@needs_codecs
def test_unpack_img_fixture_png():
    z = np.load(os.path.join(DATA, "images_png.npz"))
    rd = recordio.MXIndexedRecordIO(os.path.join(DATA, "images_png.idx"), os.path.join(DATA, "images_png.rec"), "r")
    for i in range(4):
        h, img = recordio.unpack_img(rd.read_idx(i))
        assert h.label == z["labels"][i]
        np.testing.assert_array_equal(img[:, :, ::-1], z["pixels_hwc_rgb"][i])  # BGR like MXNet
        _, grey = recordio.unpack_img(rd.read_idx(i), iscolor=0)
        assert grey.shape == (8, 8)


@needs_codecs
def test_unpack_img_fixture_jpeg():
    z = np.load(os.path.join(DATA, "images_jpeg.npz"))
    rd = recordio.MXIndexedRecordIO(os.path.join(DATA, "images_jpeg.idx"), os.path.join(DATA, "images_jpeg.rec"), "r")
    for i, k in enumerate(rd.keys):
        h, img = recordio.unpack_img(rd.read_idx(k))
        assert h.label == z["labels"][i]
        diff = np.abs(img[:, :, ::-1].astype(int) - z["mxnet_imdecode_hwc_rgb"][i].astype(int))
        assert diff.max() <= 3  # JPEG decoders may differ by a few grey levels


@needs_codecs
def test_pack_img_roundtrip():
    rng = np.random.RandomState(1)
    img = rng.randint(0, 256, size=(5, 7, 3)).astype(np.uint8)
    s = recordio.pack_img(recordio.IRHeader(0, 2.0, 3, 0), img, img_fmt=".png")
    h, back = recordio.unpack_img(s)
    assert h.label == 2.0 and h.id == 3
    np.testing.assert_array_equal(back, img)
    smooth = np.tile(np.linspace(0, 255, 16).astype(np.uint8)[None, :, None], (16, 1, 3))
    _, back = recordio.unpack_img(recordio.pack_img(recordio.IRHeader(0, 1.0, 0, 0), smooth, quality=95))
    assert back.shape == (16, 16, 3) and np.abs(back.astype(int) - smooth).max() <= 8


@needs_codecs
def test_unpack_img_corrupt():
    s = recordio.pack(recordio.IRHeader(0, 1.0, 0, 0), b"\x89PNG\r\n\x1a\n" + b"\0" * 30)
    with pytest.raises(mx.base.MXFormatError):
        recordio.unpack_img(s)
    with pytest.raises(mx.base.MXNotSupportedError):
        recordio.unpack_img(recordio.pack(recordio.IRHeader(0, 1.0, 0, 0), b"GIF89a....."))
    jpg = recordio.pack_img(recordio.IRHeader(0, 1.0, 0, 0), np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(mx.base.MXFormatError):
        recordio.unpack_img(jpg[:40])


@needs_codecs
def test_image_decoders_survive_corruption():
    rng = np.random.RandomState(5)
    blobs = []
    for name in ("images_png", "images_jpeg"):
        rd = recordio.MXIndexedRecordIO(os.path.join(DATA, name + ".idx"), os.path.join(DATA, name + ".rec"), "r")
        blobs.append(rd.read_idx(rd.keys[0]))
        rd.close()
    for s in blobs:
        header, payload = recordio.unpack(s)
        for _ in range(150):
            b = bytearray(payload)
            for j in rng.randint(8, len(b), size=rng.randint(1, 6)):
                b[j] = rng.randint(0, 256)
            b = bytes(b[:rng.randint(8, len(b) + 1)])
            try:
                recordio.unpack_img(recordio.pack(header, b))
            except (mx.base.MXFormatError, mx.base.MXNotSupportedError):
                pass
