"""Core data iterators (CSVIter, MNISTIter, ImageRecordIter, NDArrayIter over arrays) and
python -m mx.tools.im2rec, against MXNet 1.9.1's fixtures where they exist."""
import gzip
import os
import struct

import numpy as np
import pytest

import mx
from mx import recordio
from mx.base import check_call, ffi, lib

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "mxnet-1.9.1")
CSV = os.path.join(DATA, "csv")
REC = os.path.join(DATA, "recordio")
FASHION = "/usr/share/datasets/fashion-mnist"


def _codec(fmt):
    flag = mx.base.ffi.new("int *")
    mx.base.check_call(mx.base.lib.mx_image_supported(fmt.encode(), flag))
    return bool(flag[0])


needs_codecs = pytest.mark.skipif(not (_codec("png") and _codec("jpeg")),
                                  reason="libmx built without libpng/libjpeg (Debian libpng-dev, libjpeg-dev)")


# ---------------------------------------------------------------- CSVIter
@pytest.mark.parametrize("round_batch", [True, False])
def test_csviter_fixture(round_batch):
    z = np.load(os.path.join(CSV, "csviter_round_batch_%s.npz" % str(round_batch).lower()))
    it = mx.io.CSVIter(data_csv=os.path.join(CSV, "data.csv"), data_shape=(3,),
                       label_csv=os.path.join(CSV, "label.csv"), label_shape=(1,), batch_size=4,
                       round_batch=round_batch)
    assert it.provide_data[0].shape == (4, 3) and it.provide_label[0].shape == (4,)
    assert it.provide_data[0].name == "data" and it.provide_label[0].name == "softmax_label"
    for epoch in range(2):
        got = list(it)
        n = len([k for k in z.files if k.startswith("e%d_" % epoch) and k.endswith("_pad")])
        assert len(got) == n
        for b, batch in enumerate(got):
            key = "e%d_b%d_" % (epoch, b)
            np.testing.assert_array_equal(batch.data[0].asnumpy(), z[key + "data"])
            np.testing.assert_array_equal(batch.label[0].asnumpy(), z[key + "label"])
            assert batch.pad == int(z[key + "pad"])
        it.reset()
    # getdata()/getlabel() give the current batch's single arrays, as MXNet's MXDataIter
    assert it.iter_next()
    np.testing.assert_array_equal(it.getdata().asnumpy(), z["e0_b0_data"])
    np.testing.assert_array_equal(it.getlabel().asnumpy(), z["e0_b0_label"])


def test_csviter_arrays_are_fresh():
    it = mx.io.CSVIter(data_csv=os.path.join(CSV, "data.csv"), data_shape=(3,), batch_size=4)
    b0 = it.next()
    first = b0.data[0].asnumpy().copy()
    it.next()
    np.testing.assert_array_equal(b0.data[0].asnumpy(), first)
    np.testing.assert_array_equal(b0.label[0].asnumpy(), np.zeros(4, np.float32))  # no label_csv


def test_csviter_bad_inputs(tmp_path):
    with pytest.raises(mx.base.MXIOError):
        mx.io.CSVIter(data_csv=str(tmp_path / "missing.csv"), data_shape=(3,), batch_size=2)
    with pytest.raises(mx.base.MXShapeError, match="data_shape"):
        mx.io.CSVIter(data_csv=os.path.join(CSV, "data.csv"), data_shape=(4,), batch_size=2)
    with pytest.raises(mx.base.MXValueError, match="batch_size"):
        mx.io.CSVIter(data_csv=os.path.join(CSV, "data.csv"), data_shape=(3,))
    with pytest.raises(mx.base.MXValueError, match="bogus"):
        mx.io.CSVIter(data_csv=os.path.join(CSV, "data.csv"), data_shape=(3,), batch_size=2, bogus=1)
    p = tmp_path / "bad.csv"
    p.write_text("1,2,3\n4,x,6\n")
    with pytest.raises(mx.base.MXFormatError, match="line 2"):
        mx.io.CSVIter(data_csv=str(p), data_shape=(3,), batch_size=2)
    p.write_text("1,2,3\n4,5,6\n")
    with pytest.raises(mx.base.MXShapeError, match="rows"):
        mx.io.CSVIter(data_csv=str(p), data_shape=(3,), label_csv=os.path.join(CSV, "label.csv"), batch_size=2)


# ---------------------------------------------------------------- MNISTIter
def _write_idx(tmp_path, n=10, rows=4, cols=5, gz=False):
    rng = np.random.RandomState(3)
    imgs = rng.randint(0, 256, size=(n, rows, cols)).astype(np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    ib = struct.pack(">IIII", 0x803, n, rows, cols) + imgs.tobytes()
    lb = struct.pack(">II", 0x801, n) + labels.tobytes()
    suffix = ".gz" if gz else ""
    ip, lp = str(tmp_path / ("img" + suffix)), str(tmp_path / ("lab" + suffix))
    opener = gzip.open if gz else open
    with opener(ip, "wb") as f:
        f.write(ib)
    with opener(lp, "wb") as f:
        f.write(lb)
    return ip, lp, imgs, labels


@pytest.mark.parametrize("gz", [False, True])
def test_mnistiter_small(tmp_path, gz):
    ip, lp, imgs, labels = _write_idx(tmp_path, gz=gz)
    try:
        it = mx.io.MNISTIter(image=ip, label=lp, batch_size=3, shuffle=False)
    except mx.base.MXNotSupportedError as e:
        pytest.skip("libmx built without zlib: %s" % e)
    assert it.provide_data[0].shape == (3, 1, 4, 5) and it.provide_label[0].shape == (3,)
    batches = list(it)
    assert len(batches) == 3  # the incomplete last batch is dropped, as in MXNet
    for b, batch in enumerate(batches):
        np.testing.assert_allclose(batch.data[0].asnumpy(),
                                   imgs[3 * b:3 * b + 3, None].astype(np.float32) / 255, rtol=1e-6)
        np.testing.assert_array_equal(batch.label[0].asnumpy(), labels[3 * b:3 * b + 3])
        assert batch.pad == 0
    it.reset()
    assert len(list(it)) == 3
    flat = mx.io.MNISTIter(image=ip, label=lp, batch_size=5, shuffle=False, flat=True)
    assert flat.next().data[0].shape == (5, 20)


def test_mnistiter_shuffle_and_parts(tmp_path):
    ip, lp, imgs, labels = _write_idx(tmp_path, n=12)
    a = [b.label[0].asnumpy() for b in mx.io.MNISTIter(image=ip, label=lp, batch_size=4, shuffle=True, seed=7)]
    b = [b.label[0].asnumpy() for b in mx.io.MNISTIter(image=ip, label=lp, batch_size=4, shuffle=True, seed=7)]
    np.testing.assert_array_equal(np.concatenate(a), np.concatenate(b))
    assert sorted(np.concatenate(a).tolist()) == sorted(labels.astype(np.float32).tolist())
    parts = [np.concatenate([x.label[0].asnumpy() for x in
                             mx.io.MNISTIter(image=ip, label=lp, batch_size=2, shuffle=False, num_parts=3,
                                             part_index=k)]) for k in range(3)]
    np.testing.assert_array_equal(np.concatenate(parts), labels)


def test_mnistiter_bad_inputs(tmp_path):
    ip, lp, _, _ = _write_idx(tmp_path)
    with pytest.raises(mx.base.MXIOError):
        mx.io.MNISTIter(image=str(tmp_path / "nope"), label=lp, batch_size=2)
    with pytest.raises(mx.base.MXFormatError, match="magic"):
        mx.io.MNISTIter(image=lp, label=lp, batch_size=2)
    raw = open(ip, "rb").read()
    (tmp_path / "trunc").write_bytes(raw[:100])
    with pytest.raises(mx.base.MXFormatError, match="declares"):
        mx.io.MNISTIter(image=str(tmp_path / "trunc"), label=lp, batch_size=2)
    (tmp_path / "bad.gz").write_bytes(gzip.compress(raw)[:60])
    with pytest.raises(mx.base.MXFormatError):
        mx.io.MNISTIter(image=str(tmp_path / "bad.gz"), label=lp, batch_size=2)


@pytest.mark.skipif(not os.path.isdir(FASHION), reason="Fashion-MNIST not installed (Debian dataset-fashion-mnist)")
def test_fashion_mnist():
    ip, lp = os.path.join(FASHION, "t10k-images-idx3-ubyte.gz"), os.path.join(FASHION, "t10k-labels-idx1-ubyte.gz")
    with gzip.open(ip) as f:
        raw = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(lp) as f:
        lab = np.frombuffer(f.read(), np.uint8, offset=8)
    it = mx.io.MNISTIter(image=ip, label=lp, batch_size=1000, shuffle=False, flat=True)
    batches = list(it)
    assert len(batches) == 10
    np.testing.assert_allclose(batches[3].data[0].asnumpy(),
                               raw[3000:4000].reshape(1000, 784).astype(np.float32) / 255, rtol=1e-6)
    np.testing.assert_array_equal(batches[9].label[0].asnumpy(), lab[9000:])


# ---------------------------------------------------------------- ImageRecordIter
@needs_codecs
def test_imagerecorditer_fixture():
    z = np.load(os.path.join(REC, "images_png.npz"))
    it = mx.io.ImageRecordIter(path_imgrec=os.path.join(REC, "images_png.rec"), data_shape=(3, 8, 8), batch_size=4,
                               shuffle=False)
    assert it.provide_data[0].shape == (4, 3, 8, 8) and it.provide_label[0].shape == (4,)
    b = it.next()
    np.testing.assert_array_equal(b.data[0].asnumpy(), z["imagerecorditer_data"])
    np.testing.assert_array_equal(b.label[0].asnumpy(), z["imagerecorditer_label"])
    assert b.pad == 0
    with pytest.raises(StopIteration):
        it.next()
    it.reset()
    np.testing.assert_array_equal(it.next().data[0].asnumpy(), z["imagerecorditer_data"])
    # with the index, normalisation, fewer threads
    it = mx.io.ImageRecordIter(path_imgrec=os.path.join(REC, "images_png.rec"),
                               path_imgidx=os.path.join(REC, "images_png.idx"), data_shape=(3, 8, 8), batch_size=3,
                               mean_r=10, mean_g=20, mean_b=30, std_r=2, std_g=4, std_b=8, scale=0.5,
                               preprocess_threads=1)
    b = it.next()
    mean = np.array([10, 20, 30], np.float32)[:, None, None]
    std = np.array([2, 4, 8], np.float32)[:, None, None]
    np.testing.assert_allclose(b.data[0].asnumpy(), (z["imagerecorditer_data"][:3] - mean) / std * 0.5, rtol=1e-6)
    b = it.next()  # round_batch: wraps to the first record
    assert b.pad == 2
    np.testing.assert_array_equal(b.label[0].asnumpy(), z["labels"][[3, 0, 1]])


@needs_codecs
def test_imagerecorditer_augment_deterministic():
    kw = dict(path_imgrec=os.path.join(REC, "images_png.rec"), data_shape=(3, 6, 6), batch_size=4, rand_crop=True,
              rand_mirror=True, shuffle=True, seed=5)
    a = mx.io.ImageRecordIter(preprocess_threads=1, **kw).next()
    b = mx.io.ImageRecordIter(preprocess_threads=4, **kw).next()
    np.testing.assert_array_equal(a.data[0].asnumpy(), b.data[0].asnumpy())
    np.testing.assert_array_equal(a.label[0].asnumpy(), b.label[0].asnumpy())
    z = np.load(os.path.join(REC, "images_png.npz"))
    # every output is a (possibly mirrored) 6x6 crop of its source image
    for img, lab in zip(a.data[0].asnumpy(), a.label[0].asnumpy()):
        src = z["imagerecorditer_data"][int(lab)]
        found = any(np.array_equal(img, c[..., ::m]) for y in range(3) for x in range(3)
                    for c in [src[:, y:y + 6, x:x + 6]] for m in (1, -1))
        assert found
    r = mx.io.ImageRecordIter(path_imgrec=os.path.join(REC, "images_png.rec"), data_shape=(3, 4, 4), batch_size=4,
                              resize=4).next()
    assert r.data[0].shape == (4, 3, 4, 4)


@needs_codecs
def test_imagerecorditer_multi_label_and_grey(tmp_path):
    p = str(tmp_path / "m.rec")
    w = recordio.MXRecordIO(p, "w")
    rng = np.random.RandomState(0)
    imgs = [rng.randint(0, 256, size=(5, 5, 3)).astype(np.uint8) for _ in range(3)]
    for i, img in enumerate(imgs):
        w.write(recordio.pack_img(recordio.IRHeader(0, [i, 10 + i, 20 + i], i, 0), img, img_fmt=".png"))
    w.close()
    it = mx.io.ImageRecordIter(path_imgrec=p, data_shape=(1, 5, 5), batch_size=3, label_width=2)
    assert it.provide_label[0].shape == (3, 2)
    b = it.next()
    np.testing.assert_array_equal(b.label[0].asnumpy(), [[0, 10], [1, 11], [2, 12]])
    assert b.data[0].shape == (3, 1, 5, 5)
    with pytest.raises(mx.base.MXShapeError, match="label_width"):
        mx.io.ImageRecordIter(path_imgrec=p, data_shape=(3, 5, 5), batch_size=3, label_width=4).next()


@needs_codecs
def test_imagerecorditer_bad_inputs(tmp_path):
    rec = os.path.join(REC, "images_png.rec")
    with pytest.raises(mx.base.MXIOError):
        mx.io.ImageRecordIter(path_imgrec=str(tmp_path / "none.rec"), data_shape=(3, 8, 8), batch_size=2)
    with pytest.raises(mx.base.MXShapeError, match="data_shape"):
        mx.io.ImageRecordIter(path_imgrec=rec, data_shape=(8, 8), batch_size=2)
    with pytest.raises(mx.base.MXShapeError, match="smaller"):
        mx.io.ImageRecordIter(path_imgrec=rec, data_shape=(3, 16, 16), batch_size=2).next()
    with pytest.raises(mx.base.MXValueError, match="required"):
        mx.io.ImageRecordIter(data_shape=(3, 8, 8), batch_size=2)
    bad = tmp_path / "bad.rec"
    bad.write_bytes(open(rec, "rb").read()[:300])
    with pytest.raises(mx.base.MXFormatError, match="truncated"):
        mx.io.ImageRecordIter(path_imgrec=str(bad), data_shape=(3, 8, 8), batch_size=2)
    w = recordio.MXRecordIO(str(tmp_path / "junk.rec"), "w")
    w.write(recordio.pack(recordio.IRHeader(0, 1.0, 0, 0), b"\x89PNG\r\n\x1a\n garbage garbage"))
    w.close()
    it = mx.io.ImageRecordIter(path_imgrec=str(tmp_path / "junk.rec"), data_shape=(3, 8, 8), batch_size=1)
    with pytest.raises(mx.base.MXFormatError, match="offset 0"):
        it.next()


# ---------------------------------------------------------------- NDArrayIter in the core (R/Julia)
def _core_ndarray_iter(data, label, batch_size, last):
    d = mx.nd.array(data)
    l = mx.nd.array(label)
    h = ffi.new("mx_dataiter_t *")
    check_call(lib.mx_dataiter_new_arrays(1, ffi.new("mx_ndarray_t[1]", [d.handle]), 1,
                                          ffi.new("mx_ndarray_t[1]", [l.handle]), batch_size, 0,
                                          last.encode(), h))
    it = mx.io.CoreDataIter.__new__(mx.io.CoreDataIter)
    mx.io.DataIter.__init__(it, batch_size)
    it._handle = h[0]
    it._init_provide()
    return it


@pytest.mark.parametrize("last", ["pad", "discard", "roll_over"])
@pytest.mark.parametrize("batch_size", [4, 25])  # 25 > 10 samples: a padded batch wraps around twice
def test_core_ndarray_iter_matches_python(last, batch_size):
    data = np.arange(30, dtype=np.float32).reshape(10, 3)
    label = np.arange(10, dtype=np.float32)
    core = _core_ndarray_iter(data, label, batch_size, last)
    py = mx.io.NDArrayIter(data, label, batch_size=batch_size, last_batch_handle=last)
    if last == "pad":
        first = next(iter(py))
        np.testing.assert_array_equal(first.label[0].asnumpy(), np.resize(label, batch_size))
        py.reset()
    for _ in range(3):
        a, b = list(core), list(py)
        assert len(a) == len(b)
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x.data[0].asnumpy(), y.data[0].asnumpy())
            np.testing.assert_array_equal(x.label[0].asnumpy(), y.label[0].asnumpy())
            assert x.pad == y.pad
        core.reset()
        py.reset()


# ---------------------------------------------------------------- im2rec
def _write_png(path, img):
    p = ffi.new("const void **")
    n = ffi.new("size_t *")
    img = np.ascontiguousarray(img)
    check_call(lib.mx_image_encode(ffi.from_buffer(img), img.shape[0], img.shape[1], 3, 0, b".png", 95, p, n))
    with open(path, "wb") as f:
        f.write(bytes(ffi.buffer(p[0], n[0])))


@needs_codecs
def test_im2rec_roundtrip(tmp_path):
    from mx.tools import im2rec
    root = tmp_path / "imgs"
    rng = np.random.RandomState(2)
    want = {}
    for cls in ("cat", "dog"):
        (root / cls).mkdir(parents=True)
        for i in range(3):
            img = rng.randint(0, 256, size=(6 + i, 9, 3)).astype(np.uint8)
            _write_png(str(root / cls / ("%d.png" % i)), img)
            want[os.path.join(cls, "%d.png" % i)] = img
    prefix = str(tmp_path / "data")
    assert im2rec.main(["--list", "--recursive", "--no-shuffle", prefix, str(root)]) == 0
    lines = [l.split("\t") for l in open(prefix + ".lst").read().splitlines()]
    assert len(lines) == 6
    assert [float(l[1]) for l in lines] == [0, 0, 0, 1, 1, 1]
    assert im2rec.main([prefix, str(root), "--encoding", ".png"]) == 0
    rd = recordio.MXIndexedRecordIO(prefix + ".idx", prefix + ".rec", "r")
    assert rd.keys == list(range(6))
    for idx, lab, rel in lines:
        h, img = recordio.unpack_img(rd.read_idx(int(idx)))
        assert h.label == float(lab) and h.id == int(idx)
        np.testing.assert_array_equal(img[:, :, ::-1], want[rel])
    rd.close()
    # resize the shorter edge, JPEG, then read through ImageRecordIter
    assert im2rec.main([prefix + ".lst", str(root), "--resize", "4", "--quality", "90"]) == 0
    rd = recordio.MXIndexedRecordIO(prefix + ".idx", prefix + ".rec", "r")
    _, img = recordio.unpack_img(rd.read_idx(0))
    assert img.shape == (4, 6, 3)
    rd.close()
    it = mx.io.ImageRecordIter(path_imgrec=prefix + ".rec", data_shape=(3, 4, 4), batch_size=6)
    b = it.next()
    np.testing.assert_array_equal(b.label[0].asnumpy(), [0, 0, 0, 1, 1, 1])
    # pass-through keeps the PNG bytes
    assert im2rec.main([prefix, str(root), "--pass-through"]) == 0
    rd = recordio.MXIndexedRecordIO(prefix + ".idx", prefix + ".rec", "r")
    _, payload = recordio.unpack(rd.read_idx(0))
    assert payload == open(os.path.join(str(root), lines[0][2]), "rb").read()
