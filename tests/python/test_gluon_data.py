"""mx.gluon.data: datasets, samplers, DataLoader (in-thread, worker processes, worker threads),
vision datasets read from local files, and vision transforms against numpy references."""
import gc
import gzip
import multiprocessing
import os
import struct
import time

import numpy as np
import pytest

import mx
from mx import recordio
from mx.gluon.data import (ArrayDataset, BatchSampler, DataLoader, Dataset, IntervalSampler, RandomSampler,
                           RecordFileDataset, SequentialSampler, SimpleDataset)
from mx.gluon.data import vision
from mx.gluon.data.dataloader import DataLoaderTimeoutError
from mx.gluon.data.vision import transforms as T

FASHION = "/usr/share/datasets/fashion-mnist"


# ---------------------------------------------------------------------- datasets

def test_array_dataset_items_types_and_values():
    X = np.arange(24, dtype=np.float32).reshape(6, 4)
    ds = ArrayDataset(mx.nd.array(X), np.arange(6) * 10, mx.nd.arange(6), [1.5] * 6)
    assert len(ds) == 6
    a, b, c, d = ds[4]
    assert isinstance(a, mx.nd.NDArray) and a.shape == (4,)
    np.testing.assert_array_equal(a.asnumpy(), X[4])
    assert isinstance(b, np.integer) and b == 40
    assert isinstance(c, np.float32) and c == 4.0  # a 1-D NDArray is served as numpy (MXNet)
    assert d == 1.5
    np.testing.assert_array_equal(ds[-1][0].asnumpy(), X[5])
    one = ArrayDataset(X)
    assert isinstance(one[2], np.ndarray) and one[2].tolist() == X[2].tolist()


def test_array_dataset_errors():
    with pytest.raises(ValueError, match=r"array\[0\] has length 6 while array\[1\] has length 5"):
        ArrayDataset(np.zeros(6), np.zeros(5))
    with pytest.raises(ValueError, match="at least one"):
        ArrayDataset()
    ds = ArrayDataset(np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(IndexError, match="index 3 is out of range for a dataset of 3"):
        ds[3]
    with pytest.raises(IndexError, match="must be integers, got str"):
        ds["a"]
    with pytest.raises(TypeError):
        ds[1.0]


def test_transform_laziness_and_transform_first():
    calls = []

    def f(x, y):
        calls.append(x)
        return x * 2, y + 1

    base = ArrayDataset(np.arange(5), np.arange(5) * 10)
    lazy = base.transform(f)
    assert calls == [] and len(lazy) == 5
    assert lazy[3] == (6, 31) and calls == [3]
    calls.clear()
    eager = base.transform(f, lazy=False)
    assert isinstance(eager, SimpleDataset) and calls == [0, 1, 2, 3, 4]
    assert eager[4] == (8, 41) and len(calls) == 5
    first = base.transform_first(lambda x: -x)
    assert first[2] == (-2, 20)
    single = SimpleDataset([1, 2, 3]).transform_first(lambda x: x * 100)
    assert [single[i] for i in range(3)] == [100, 200, 300]
    with pytest.raises(TypeError, match="callable"):
        base.transform(3)


def test_filter_shard_take_sample():
    ds = SimpleDataset(list(range(10)))
    assert [x for x in ds.filter(lambda x: x % 3 == 0)] == [0, 3, 6, 9]
    shards = [list(ds.shard(4, i)) for i in range(4)]
    assert shards == [[0, 1, 2], [3, 4, 5], [6, 7], [8, 9]]
    assert list(ds.take(3)) == [0, 1, 2] and len(ds.take(50)) == 10 and len(ds.take(None)) == 10
    assert list(ds.sample(IntervalSampler(10, 4))) == [0, 4, 8, 1, 5, 9, 2, 6, 3, 7]
    with pytest.raises(ValueError, match="index must be"):
        ds.shard(3, 3)
    with pytest.raises(IndexError):
        ds.take(2)[2]


def test_record_file_dataset(tmp_path):
    rec, idx = str(tmp_path / "d.rec"), str(tmp_path / "d.idx")
    w = recordio.MXIndexedRecordIO(idx, rec, "w")
    payloads = [bytes([i]) * (i + 1) for i in range(5)]
    for i, p in enumerate(payloads):
        w.write_idx(i, p)
    w.close()
    ds = RecordFileDataset(rec)
    assert len(ds) == 5 and [ds[i] for i in range(5)] == payloads and ds[-1] == payloads[-1]
    with pytest.raises(FileNotFoundError, match="nope.idx"):
        RecordFileDataset(str(tmp_path / "nope.rec"))
    os.remove(idx)
    with pytest.raises(FileNotFoundError, match="d.idx"):
        RecordFileDataset(rec)


# ---------------------------------------------------------------------- samplers

def test_samplers_orders():
    assert list(SequentialSampler(4)) == [0, 1, 2, 3] and list(SequentialSampler(3, start=5)) == [5, 6, 7]
    r = list(RandomSampler(50))
    assert sorted(r) == list(range(50)) and r != list(range(50)) and len(RandomSampler(50)) == 50
    assert list(IntervalSampler(7, 3, rollover=False)) == [0, 3, 6]
    with pytest.raises(ValueError, match="length"):
        SequentialSampler(-1)


def test_random_sampler_follows_mx_seed():
    mx.random.seed(11)
    a = list(RandomSampler(30))
    b = list(RandomSampler(30))
    mx.random.seed(11)
    assert list(RandomSampler(30)) == a and list(RandomSampler(30)) == b and a != b
    mx.random.seed(11)
    assert a == mx.nd.random.shuffle(mx.nd.arange(30, dtype="int64")).asnumpy().tolist()


def test_batch_sampler_last_batch_modes():
    s = SequentialSampler(10)
    keep = BatchSampler(s, 3)
    assert list(keep) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]] and len(keep) == 4
    disc = BatchSampler(s, 3, "discard")
    assert list(disc) == [[0, 1, 2], [3, 4, 5], [6, 7, 8]] and len(disc) == 3
    roll = BatchSampler(s, 3, "rollover")
    assert list(roll) == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert len(roll) == 3  # (1 carried + 10) // 3
    assert list(roll) == [[9, 0, 1], [2, 3, 4], [5, 6, 7]]
    assert len(roll) == 4  # (2 carried + 10) // 3
    with pytest.raises(ValueError, match="last_batch must be one of 'keep', 'discard', or 'rollover'"):
        BatchSampler(s, 3, "pad")
    with pytest.raises(ValueError, match="batch_size"):
        BatchSampler(s, 0)


# ---------------------------------------------------------------------- DataLoader

def _xy(n=23):
    X = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int32) * 2
    return X, y


def test_default_batchify_dtypes_and_structure():
    X, y = _xy()
    b = next(iter(DataLoader(ArrayDataset(mx.nd.array(X), y, [0.5] * len(y)), batch_size=4)))
    assert isinstance(b, list) and len(b) == 3
    assert b[0].dtype == np.float32 and b[0].shape == (4, 3)
    assert b[1].dtype == np.int32 and b[1].asnumpy().tolist() == [0, 2, 4, 6]
    assert b[2].dtype == np.float64 and b[2].asnumpy().tolist() == [0.5] * 4
    b = next(iter(DataLoader(SimpleDataset([3, 4, 5]), batch_size=3)))
    assert isinstance(b, mx.nd.NDArray) and b.asnumpy().tolist() == [3, 4, 5]
    with pytest.raises(ValueError, match="different shapes"):
        next(iter(DataLoader(SimpleDataset([mx.nd.zeros(2), mx.nd.zeros(3)]), batch_size=2)))


@pytest.mark.parametrize("last_batch,sizes", [("keep", [5, 5, 5, 5, 3]), ("discard", [5, 5, 5, 5]),
                                              ("rollover", [5, 5, 5, 5])])
def test_dataloader_batches_in_order(last_batch, sizes):
    X, y = _xy()
    loader = DataLoader(ArrayDataset(X, y), batch_size=5, last_batch=last_batch)
    assert len(loader) == len(sizes)
    got = list(loader)
    assert [b[0].shape[0] for b in got] == sizes
    np.testing.assert_array_equal(np.concatenate([b[0].asnumpy() for b in got]), X[:sum(sizes)])
    np.testing.assert_array_equal(np.concatenate([b[1].asnumpy() for b in got]), y[:sum(sizes)])


def test_dataloader_shuffle_is_seeded_permutation():
    X, y = _xy()
    loader = DataLoader(ArrayDataset(X, y), batch_size=4, shuffle=True)
    mx.random.seed(3)
    e1 = np.concatenate([b[1].asnumpy() for b in loader])
    e2 = np.concatenate([b[1].asnumpy() for b in loader])
    assert sorted(e1.tolist()) == y.tolist() and e1.tolist() != y.tolist() and e1.tolist() != e2.tolist()
    mx.random.seed(3)
    assert np.concatenate([b[1].asnumpy() for b in loader]).tolist() == e1.tolist()
    # rows stay paired with their labels
    for xb, yb in loader:
        np.testing.assert_array_equal(xb.asnumpy(), X[yb.asnumpy() // 2])


def test_dataloader_argument_validation():
    ds = SimpleDataset(list(range(10)))
    bs = BatchSampler(SequentialSampler(10), 2)
    with pytest.raises(ValueError, match="batch_size must be specified"):
        DataLoader(ds)
    with pytest.raises(ValueError, match="must not be specified if batch_sampler"):
        DataLoader(ds, batch_size=2, batch_sampler=bs)
    with pytest.raises(ValueError, match="must not be specified if batch_sampler"):
        DataLoader(ds, batch_sampler=bs, last_batch="keep")
    with pytest.raises(ValueError, match="shuffle must not be specified if sampler"):
        DataLoader(ds, batch_size=2, shuffle=True, sampler=SequentialSampler(10))
    with pytest.raises(ValueError, match="last_batch must be one of"):
        DataLoader(ds, batch_size=2, last_batch="bogus")
    with pytest.raises(ValueError, match="timeout"):
        DataLoader(ds, batch_size=2, timeout=0)
    got = [b.asnumpy().tolist() for b in DataLoader(ds, batch_sampler=bs)]
    assert got == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]
    got = [b.asnumpy().tolist() for b in DataLoader(ds, batch_size=4, sampler=IntervalSampler(10, 5))]
    assert got == [[0, 5, 1, 6], [2, 7, 3, 8], [4, 9]]


def _relu_shift(x, y):  # nd ops inside the worker
    return mx.nd.relu(x - 20.0) * 2, y


@pytest.mark.parametrize("thread_pool", [False, True])
def test_dataloader_workers_match_single_thread(thread_pool):
    X, y = _xy(37)
    ds = ArrayDataset(mx.nd.array(X), y).transform(_relu_shift)
    ref = [(b[0].asnumpy(), b[1].asnumpy()) for b in DataLoader(ds, batch_size=4)]
    np.testing.assert_allclose(np.concatenate([r[0] for r in ref]), np.maximum(X - 20, 0) * 2)
    loader = DataLoader(ds, batch_size=4, num_workers=2, thread_pool=thread_pool)
    for _ in range(2):  # two epochs
        got = [(b[0].asnumpy(), b[1].asnumpy()) for b in loader]
        assert len(got) == len(ref) == 10
        for (a, b), (c, d) in zip(got, ref):
            np.testing.assert_array_equal(a, c)
            np.testing.assert_array_equal(b, d)
            assert b.dtype == np.int32


def test_dataloader_worker_processes_custom_batchify_and_prefetch():
    X, y = _xy(10)

    def batchify(samples):
        return {"x": mx.nd.stack(*[mx.nd.array(s[0]) for s in samples]), "n": len(samples),
                "y": (mx.nd.array([s[1] for s in samples], dtype="int64"),)}

    loader = DataLoader(ArrayDataset(X, y), batch_size=3, num_workers=2, prefetch=1, batchify_fn=batchify)
    got = list(loader)
    assert [b["n"] for b in got] == [3, 3, 3, 1]
    assert isinstance(got[0]["x"], mx.nd.NDArray) and got[0]["y"][0].dtype == np.int64
    np.testing.assert_array_equal(np.concatenate([b["x"].asnumpy() for b in got]), X)
    np.testing.assert_array_equal(np.concatenate([b["y"][0].asnumpy() for b in got]), y)


def _fails_on_7(x):
    if x == 7:
        raise ValueError("sample seven is broken")
    return x


@pytest.mark.parametrize("thread_pool", [False, True])
def test_dataloader_worker_exception_propagates(thread_pool):
    ds = SimpleDataset(list(range(12))).transform(_fails_on_7)
    loader = DataLoader(ds, batch_size=2, num_workers=2, thread_pool=thread_pool)
    seen = []
    with pytest.raises(ValueError, match="sample seven is broken") as ei:
        for b in loader:
            seen.append(b.asnumpy().tolist())
    assert seen == [[0, 1], [2, 3], [4, 5]]  # batches before the failing one arrive in order
    if not thread_pool:
        assert "_fails_on_7" in str(ei.value) and "worker traceback" in str(ei.value)


def _sleepy(x):
    time.sleep(3)
    return x


def test_dataloader_timeout_is_an_error_not_a_hang():
    loader = DataLoader(SimpleDataset([1, 2]).transform(_sleepy), batch_size=1, num_workers=1, timeout=0.3)
    t0 = time.time()
    with pytest.raises(DataLoaderTimeoutError, match="timeout=0.3") as ei:
        list(loader)
    assert isinstance(ei.value, multiprocessing.TimeoutError) and time.time() - t0 < 2.9


def test_dataloader_worker_crash_is_reported():
    def die(x):
        os._exit(3)

    with pytest.raises(RuntimeError, match="exited with code 3"):
        list(DataLoader(SimpleDataset([1, 2]).transform(die), batch_size=1, num_workers=1))


def test_dataloader_workers_exit_when_done_or_collected():
    X, y = _xy(40)
    loader = DataLoader(ArrayDataset(X, y), batch_size=2, num_workers=2)
    it = iter(loader)
    procs = list(it._procs)
    assert all(p.is_alive() for p in procs)
    list(it)
    assert not any(p.is_alive() for p in procs)
    it = iter(loader)
    next(it)
    procs = list(it._procs)
    del it
    gc.collect()
    assert not any(p.is_alive() for p in procs)


def _random_flip(x):
    return T.RandomFlipLeftRight()(x)


def test_dataloader_worker_randomness_follows_mx_seed():
    imgs = mx.nd.array(np.arange(8 * 2 * 3 * 1).reshape(8, 2, 3, 1), dtype="uint8")
    loader = DataLoader(ArrayDataset(imgs).transform(_random_flip), batch_size=1, num_workers=2)
    mx.random.seed(21)
    a = [b.asnumpy() for b in loader]
    mx.random.seed(21)
    b = [b.asnumpy() for b in loader]
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    flipped = [not np.array_equal(u[0], imgs[i].asnumpy()) for i, u in enumerate(a)]
    for i, u in enumerate(a):  # each output is the image or its mirror
        assert np.array_equal(u[0], imgs[i].asnumpy()) or np.array_equal(u[0], imgs[i].asnumpy()[:, ::-1])
    assert any(flipped) and not all(flipped)


def test_dataloader_pin_memory():
    b = next(iter(DataLoader(SimpleDataset([1.0, 2.0]), batch_size=2, pin_memory=True)))
    assert b.context == mx.context.cpu_pinned(0) and b.asnumpy().tolist() == [1.0, 2.0]


# ---------------------------------------------------------------------- MNIST / Fashion-MNIST

def _write_idx(path, arr, gz):
    arr = np.asarray(arr, dtype=np.uint8)
    raw = bytes([0, 0, 8, arr.ndim]) + struct.pack(">%dI" % arr.ndim, *arr.shape) + arr.tobytes()
    if gz:
        with gzip.open(path + ".gz", "wb") as f:
            f.write(raw)
    else:
        with open(path, "wb") as f:
            f.write(raw)


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_from_tiny_idx(tmp_path, gz):
    rng = np.random.RandomState(0)
    imgs = rng.randint(0, 256, size=(5, 4, 3)).astype(np.uint8)
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    _write_idx(str(tmp_path / "t10k-images-idx3-ubyte"), imgs, gz)
    _write_idx(str(tmp_path / "t10k-labels-idx1-ubyte"), labels, gz)
    ds = vision.MNIST(root=str(tmp_path), train=False)
    assert len(ds) == 5
    x, y = ds[2]
    assert isinstance(x, mx.nd.NDArray) and x.shape == (4, 3, 1) and x.dtype == np.uint8
    np.testing.assert_array_equal(x.asnumpy()[:, :, 0], imgs[2])
    assert isinstance(y, np.int32) and y == 4
    tds = vision.MNIST(root=str(tmp_path), train=False, transform=lambda d, l: (d.astype("float32") / 255, l * 10))
    d, l = tds[4]
    np.testing.assert_allclose(d.asnumpy()[:, :, 0], imgs[4] / 255.0, rtol=1e-6)
    assert l == 50
    b = next(iter(DataLoader(ds, batch_size=5)))
    assert b[0].shape == (5, 4, 3, 1) and b[1].dtype == np.int32 and b[1].asnumpy().tolist() == labels.tolist()


def test_mnist_errors(tmp_path):
    with pytest.raises(FileNotFoundError) as ei:
        vision.MNIST(root=str(tmp_path), train=True)
    msg = str(ei.value)
    for f in ("train-images-idx3-ubyte.gz", "train-images-idx3-ubyte'", "train-labels-idx1-ubyte.gz"):
        assert f in msg
    assert "cannot download" in msg and "/usr/share/datasets/fashion-mnist" in msg
    bad = tmp_path / "t10k-images-idx3-ubyte"
    bad.write_bytes(b"\x00\x00\x08\x01" + b"\x00" * 20)  # 1-D header where 3-D is expected
    _write_idx(str(tmp_path / "t10k-labels-idx1-ubyte"), np.zeros(2), False)
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte.*not an IDX file"):
        vision.MNIST(root=str(tmp_path), train=False)
    bad.write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">3I", 2, 4, 4) + b"\x00" * 10)
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte.*corrupt"):
        vision.MNIST(root=str(tmp_path), train=False)
    _write_idx(str(bad), np.zeros((3, 2, 2)), False)
    with pytest.raises(ValueError, match="3 images .* 2 labels"):
        vision.MNIST(root=str(tmp_path), train=False)


@pytest.mark.skipif(not os.path.isdir(FASHION), reason="%s is absent (Debian package dataset-fashion-mnist)" % FASHION)
def test_fashion_mnist_matches_raw_idx_bytes():
    ds = vision.FashionMNIST(root=FASHION, train=False)
    with gzip.open(os.path.join(FASHION, "t10k-images-idx3-ubyte.gz"), "rb") as f:
        raw_img = f.read()
    with gzip.open(os.path.join(FASHION, "t10k-labels-idx1-ubyte.gz"), "rb") as f:
        raw_lbl = f.read()
    n, h, w = struct.unpack(">3I", raw_img[4:16])
    images = np.frombuffer(raw_img, np.uint8, offset=16).reshape(n, h, w)
    labels = np.frombuffer(raw_lbl, np.uint8, offset=8)
    assert len(ds) == n == 10000 and (h, w) == (28, 28)
    for i in (0, 1, 9999):
        x, y = ds[i]
        assert x.shape == (28, 28, 1) and x.dtype == np.uint8 and y.dtype == np.int32
        np.testing.assert_array_equal(x.asnumpy()[:, :, 0], images[i])
        assert int(y) == int(labels[i])
    xb, yb = next(iter(DataLoader(ds, batch_size=16, num_workers=2)))
    np.testing.assert_array_equal(xb.asnumpy()[:, :, :, 0], images[:16])
    np.testing.assert_array_equal(yb.asnumpy(), labels[:16])


# ---------------------------------------------------------------------- CIFAR

def test_cifar10_and_cifar100_from_synthetic_binaries(tmp_path):
    rng = np.random.RandomState(1)
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    parts = []
    for name in ["data_batch_%d.bin" % i for i in range(1, 6)] + ["test_batch.bin"]:
        lab = rng.randint(0, 10, size=(2, 1)).astype(np.uint8)
        pix = rng.randint(0, 256, size=(2, 3072)).astype(np.uint8)
        (folder / name).write_bytes(np.concatenate([lab, pix], axis=1).tobytes())
        parts.append((lab[:, 0], pix.reshape(2, 3, 32, 32)))
    train = vision.CIFAR10(root=str(tmp_path), train=True)
    test = vision.CIFAR10(root=str(tmp_path), train=False)
    assert len(train) == 10 and len(test) == 2
    x, y = train[7]  # batch 4, record 1
    assert x.shape == (32, 32, 3) and x.dtype == np.uint8 and isinstance(y, np.int32)
    np.testing.assert_array_equal(x.asnumpy(), parts[3][1][1].transpose(1, 2, 0))
    assert y == parts[3][0][1]
    np.testing.assert_array_equal(test[0][0].asnumpy(), parts[5][1][0].transpose(1, 2, 0))

    lab = np.array([[1, 71], [19, 5]], dtype=np.uint8)
    pix = rng.randint(0, 256, size=(2, 3072)).astype(np.uint8)
    (tmp_path / "test.bin").write_bytes(np.concatenate([lab, pix], axis=1).tobytes())
    coarse = vision.CIFAR100(root=str(tmp_path), train=False)
    fine = vision.CIFAR100(root=str(tmp_path), fine_label=True, train=False)
    assert [int(coarse[i][1]) for i in range(2)] == [1, 19] and [int(fine[i][1]) for i in range(2)] == [71, 5]
    np.testing.assert_array_equal(fine[1][0].asnumpy(), pix[1].reshape(3, 32, 32).transpose(1, 2, 0))

    (folder / "test_batch.bin").write_bytes(b"\x00" * 100)
    with pytest.raises(ValueError, match="test_batch.bin.*not a CIFAR binary"):
        vision.CIFAR10(root=str(tmp_path), train=False)
    with pytest.raises(FileNotFoundError, match="train.bin"):
        vision.CIFAR100(root=str(tmp_path), train=True)


# ---------------------------------------------------------------------- image files

def _png_bytes(img_rgb):
    _, buf = recordio.unpack(recordio.pack_img((0, 0, 0, 0), img_rgb[:, :, ::-1], img_fmt=".png"))
    return buf


def _jpg_bytes(img_rgb):
    _, buf = recordio.unpack(recordio.pack_img((0, 0, 0, 0), img_rgb[:, :, ::-1], quality=100, img_fmt=".jpg"))
    return buf


def test_image_folder_dataset(tmp_path):
    rng = np.random.RandomState(2)
    a = rng.randint(0, 256, size=(5, 6, 3)).astype(np.uint8)
    b = rng.randint(0, 256, size=(4, 3, 3)).astype(np.uint8)
    ramp = np.linspace(40, 200, 8)
    smooth = np.stack([np.tile(ramp, (8, 1)), np.full((8, 8), 120.0), np.tile(ramp[::-1, None], (1, 8))],
                      axis=2).astype(np.uint8)
    (tmp_path / "cat").mkdir()
    (tmp_path / "dog").mkdir()
    (tmp_path / "cat" / "a.png").write_bytes(_png_bytes(a))
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    (tmp_path / "dog" / "b.PNG").write_bytes(_png_bytes(b))
    (tmp_path / "dog" / "c.jpg").write_bytes(_jpg_bytes(smooth))
    (tmp_path / "readme.md").write_text("x")
    with pytest.warns(UserWarning, match="Ignoring"):
        ds = vision.ImageFolderDataset(str(tmp_path))
    assert ds.synsets == ["cat", "dog"] and len(ds) == 3
    assert [(os.path.basename(p), l) for p, l in ds.items] == [("a.png", 0), ("b.PNG", 1), ("c.jpg", 1)]
    x, y = ds[0]
    assert x.dtype == np.uint8 and y == 0
    np.testing.assert_array_equal(x.asnumpy(), a)  # PNG is lossless; RGB order
    np.testing.assert_array_equal(ds[1][0].asnumpy(), b)
    jpg = ds[2][0].asnumpy().astype(int)
    assert jpg.shape == (8, 8, 3) and np.abs(jpg - smooth).mean() < 4 and np.abs(jpg - smooth).max() <= 20
    with pytest.warns(UserWarning):
        grey_ds = vision.ImageFolderDataset(str(tmp_path), flag=0)
    assert grey_ds[0][0].shape == (5, 6, 1)
    grey = grey_ds[2][0].asnumpy().astype(float)
    assert grey.shape == (8, 8, 1)
    lum = smooth.astype(float) @ np.array([0.299, 0.587, 0.114])  # BT.601 luma
    assert np.abs(grey[:, :, 0] - lum).max() <= 3
    # a colour PNG read as grey: BT.601 luma of the exact pixels, rounded
    png_grey = grey_ds[0][0].asnumpy()[:, :, 0].astype(int)
    np.testing.assert_array_equal(png_grey, np.floor(a.astype(float) @ np.array([0.299, 0.587, 0.114]) + 0.5))
    with pytest.warns(UserWarning):
        tds = vision.ImageFolderDataset(str(tmp_path), transform=lambda d, l: (d.shape, l + 1))
    assert tds[1] == ((4, 3, 3), 2)
    with pytest.raises(FileNotFoundError, match="missing_root"):
        vision.ImageFolderDataset(str(tmp_path / "missing_root"))
    (tmp_path / "dog" / "broken.png").write_bytes(b"\x89PNG garbage")
    with pytest.warns(UserWarning):
        ds = vision.ImageFolderDataset(str(tmp_path))
    assert os.path.basename(ds.items[2][0]) == "broken.png"
    with pytest.raises(ValueError, match="broken.png"):
        ds[2]


def test_image_record_dataset(tmp_path):
    rng = np.random.RandomState(3)
    imgs = [rng.randint(0, 256, size=(3 + i, 4, 3)).astype(np.uint8) for i in range(3)]
    rec, idx = str(tmp_path / "imgs.rec"), str(tmp_path / "imgs.idx")
    w = recordio.MXIndexedRecordIO(idx, rec, "w")
    for i, im in enumerate(imgs):
        w.write_idx(i, recordio.pack_img(recordio.IRHeader(0, float(i) + 0.5, i, 0), im[:, :, ::-1], img_fmt=".png"))
    w.close()
    ds = vision.ImageRecordDataset(rec)
    assert len(ds) == 3
    for i, im in enumerate(imgs):
        x, y = ds[i]
        np.testing.assert_array_equal(x.asnumpy(), im)
        assert y == i + 0.5
    loader = DataLoader(ds.transform_first(T.Compose([T.CenterCrop((4, 3)), T.ToTensor()])), batch_size=3,
                        num_workers=2)
    xb, yb = next(iter(loader))
    assert xb.shape == (3, 3, 3, 4)
    for i, im in enumerate(imgs):
        y0 = (im.shape[0] - 3) // 2
        np.testing.assert_allclose(xb[i].asnumpy(), im[y0:y0 + 3].transpose(2, 0, 1) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(yb.asnumpy(), [0.5, 1.5, 2.5])


# ---------------------------------------------------------------------- transforms

def _img(h=7, w=10, c=3, seed=0):
    return np.random.RandomState(seed).randint(0, 256, size=(h, w, c)).astype(np.uint8)


def _bilinear_ref(a, oh, ow):
    """Half-pixel-centre bilinear resize in numpy (OpenCV's INTER_LINEAR convention), in float32
    with halves rounded away from zero."""
    h, w = a.shape[:2]

    def coords(n_out, n_in):
        f = np.maximum((np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5, 0)
        i0 = np.minimum(f.astype(int), n_in - 1)
        return i0, np.minimum(i0 + 1, n_in - 1), (f - i0).astype(np.float32)

    y0, y1, fy = coords(oh, h)
    x0, x1, fx = coords(ow, w)
    a = a.astype(np.float32)
    one = np.float32(1)
    fx3, fy3 = fx[None, :, None], fy[:, None, None]
    top = a[y0][:, x0] * (one - fx3) + a[y0][:, x1] * fx3
    bot = a[y1][:, x0] * (one - fx3) + a[y1][:, x1] * fx3
    v = top * (one - fy3) + bot * fy3
    return np.clip(np.floor(v + np.float32(0.5)), 0, 255).astype(np.uint8)


def test_to_tensor_normalize_cast():
    a = _img()
    t = T.ToTensor()(mx.nd.array(a, dtype="uint8"))
    assert t.shape == (3, 7, 10) and t.dtype == np.float32
    np.testing.assert_allclose(t.asnumpy(), a.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    batch = T.ToTensor()(mx.nd.array(np.stack([a, a[::-1]]), dtype="uint8"))
    np.testing.assert_allclose(batch.asnumpy()[1], a[::-1].transpose(2, 0, 1) / 255.0, rtol=1e-6)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    n = T.Normalize(mean, std)(t)
    ref = (a.transpose(2, 0, 1) / 255.0 - np.array(mean)[:, None, None]) / np.array(std)[:, None, None]
    np.testing.assert_allclose(n.asnumpy(), ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(T.Normalize(0.5, 0.25)(batch).asnumpy(), (batch.asnumpy() - 0.5) / 0.25, rtol=1e-5)
    c = T.Cast("float16")(mx.nd.array(a, dtype="uint8"))
    assert c.dtype == np.float16 and c.asnumpy().tolist() == a.astype(np.float16).tolist()
    assert T.Cast()(mx.nd.array(a, dtype="uint8")).dtype == np.float32
    net = mx.gluon.nn.HybridSequential()
    net.add(T.ToTensor(), T.Normalize(mean, std))
    net.hybridize()
    np.testing.assert_allclose(net(mx.nd.array(a, dtype="uint8")).asnumpy(), ref, rtol=1e-5, atol=1e-5)


def test_resize_against_numpy_bilinear():
    a = _img(7, 10)
    x = mx.nd.array(a, dtype="uint8")
    r = T.Resize(5)(x)
    assert r.shape == (5, 5, 3) and r.dtype == np.uint8
    np.testing.assert_array_equal(r.asnumpy(), _bilinear_ref(a, 5, 5))
    np.testing.assert_array_equal(T.Resize((4, 6))(x).asnumpy(), _bilinear_ref(a, 6, 4))  # (w, h)
    assert T.Resize(6, keep_ratio=True)(x).shape == (6, 8, 3)  # shorter side 6, 10 * 6 // 7 = 8
    assert T.Resize(6, keep_ratio=True)(mx.nd.array(a.transpose(1, 0, 2), dtype="uint8")).shape == (8, 6, 3)
    up = T.Resize((13, 9))(x)
    np.testing.assert_array_equal(up.asnumpy(), _bilinear_ref(a, 9, 13))
    nb = T.Resize(4)(mx.nd.array(np.stack([a, a[::-1]]), dtype="uint8"))
    np.testing.assert_array_equal(nb.asnumpy()[1], _bilinear_ref(a[::-1], 4, 4))


def test_center_crop():
    a = _img(7, 10)
    x = mx.nd.array(a, dtype="uint8")
    np.testing.assert_array_equal(T.CenterCrop(4)(x).asnumpy(), a[1:5, 3:7])
    np.testing.assert_array_equal(T.CenterCrop((6, 3))(x).asnumpy(), a[2:5, 2:8])
    # larger than the image: the largest centred window of that aspect, resized up
    big = T.CenterCrop((20, 14))(x)  # 10x7 window fits exactly -> full image resized
    np.testing.assert_array_equal(big.asnumpy(), _bilinear_ref(a, 14, 20))


def test_random_resized_crop():
    a = _img(8, 8)
    x = mx.nd.array(a, dtype="uint8")
    full = T.RandomResizedCrop(4, scale=(1.0, 1.0), ratio=(1.0, 1.0))(x)
    np.testing.assert_array_equal(full.asnumpy(), _bilinear_ref(a, 4, 4))
    t = T.RandomResizedCrop((5, 3))
    mx.random.seed(4)
    outs = [t(x).asnumpy() for _ in range(5)]
    mx.random.seed(4)
    again = [t(x).asnumpy() for _ in range(5)]
    assert all(o.shape == (3, 5, 3) for o in outs)
    for u, v in zip(outs, again):
        np.testing.assert_array_equal(u, v)
    assert any(not np.array_equal(outs[0], o) for o in outs[1:])
    # a crop of exactly the output size is a window of the input, no resampling
    t = T.RandomResizedCrop(4, scale=(0.25, 0.25), ratio=(1.0, 1.0))
    o = t(x).asnumpy()
    assert any(np.array_equal(o, a[i:i + 4, j:j + 4]) for i in range(5) for j in range(5))


def test_random_crop_with_pad():
    a = _img(5, 6)
    x = mx.nd.array(a, dtype="uint8")
    padded = np.pad(a, ((2, 2), (2, 2), (0, 0)), constant_values=7)
    t = T.RandomCrop(4, pad=2, pad_value=7)
    seen = set()
    for _ in range(8):
        o = t(x).asnumpy()
        pos = [(i, j) for i in range(6) for j in range(7) if np.array_equal(o, padded[i:i + 4, j:j + 4])]
        assert pos
        seen.add(pos[0])
    assert len(seen) > 1
    np.testing.assert_array_equal(T.RandomCrop((6, 5))(x).asnumpy(), a)


@pytest.mark.parametrize("cls,axis", [(T.RandomFlipLeftRight, 1), (T.RandomFlipTopBottom, 0)])
def test_random_flips(cls, axis):
    a = _img(4, 5)
    x = mx.nd.array(a, dtype="uint8")
    t = cls()
    mx.random.seed(9)
    outs = [t(x).asnumpy() for _ in range(16)]
    flips = [np.array_equal(o, np.flip(a, axis)) for o in outs]
    assert all(f or np.array_equal(o, a) for f, o in zip(flips, outs))
    assert 0 < sum(flips) < 16
    mx.random.seed(9)
    assert [np.array_equal(t(x).asnumpy(), np.flip(a, axis)) for _ in range(16)] == flips


def test_compose_pipeline():
    a = _img(9, 12)
    t = T.Compose([T.Resize(6), T.CenterCrop(4), T.ToTensor(), T.Normalize(0.5, 0.5)])
    assert isinstance(t, mx.gluon.Block) and len(t) == 4
    ref = _bilinear_ref(a, 6, 6)[1:5, 1:5].transpose(2, 0, 1) / 255.0
    np.testing.assert_allclose(t(mx.nd.array(a, dtype="uint8")).asnumpy(), (ref - 0.5) / 0.5, rtol=1e-5, atol=1e-6)


def test_transform_errors():
    x = mx.nd.array(_img(), dtype="uint8")
    with pytest.raises(ValueError, match="expected an image of 3 or 4 dimensions"):
        T.ToTensor()(mx.nd.zeros((3, 4)))
    with pytest.raises(ValueError, match="mean has 2 values but the input has 3 channels"):
        T.Normalize((0.1, 0.2), 1.0)(T.ToTensor()(x))
    with pytest.raises(ValueError, match="std must not contain 0"):
        T.Normalize(0.0, (1.0, 0.0, 1.0))
    with pytest.raises(TypeError, match="only uint8 images can be resized"):
        T.Resize(4)(x.astype("float32"))
    with pytest.raises(ValueError, match="size must be"):
        T.CenterCrop((0, 3))
    with pytest.raises(ValueError, match="scale"):
        T.RandomResizedCrop(4, scale=(0.9, 0.1))
    with pytest.raises(TypeError, match="expected an NDArray"):
        T.RandomFlipLeftRight()(np.zeros((2, 2, 3)))
    with pytest.raises(TypeError, match="not callable"):
        T.Compose([T.ToTensor(), 5])


def test_dataset_base_is_abstract():
    with pytest.raises(NotImplementedError):
        Dataset()[0]
