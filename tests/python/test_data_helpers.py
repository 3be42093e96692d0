"""Local data helpers: FashionMNIST() finds Debian's data set by default, gluon.utils.download
works offline with file:// URLs and a local cache, pretrained=True reads MXNET_HOME/models."""
import gzip
import hashlib
import os
import struct

import numpy as np
import pytest

import mx
from mx.gluon.data.vision import datasets
from mx.gluon.utils import download
from mx.gluon.model_zoo import vision

DEBIAN = datasets.DEBIAN_FASHION_MNIST


@pytest.mark.skipif(not os.path.isfile(os.path.join(DEBIAN, "t10k-labels-idx1-ubyte.gz")),
                    reason="Debian's dataset-fashion-mnist is not installed (make deps installs it)")
def test_fashion_mnist_default_root_is_debian(tmp_path, monkeypatch):
    monkeypatch.setenv("MXNET_HOME", str(tmp_path))  # an empty MXNet home
    test = datasets.FashionMNIST(train=False)
    assert test._root == DEBIAN
    with gzip.open(os.path.join(DEBIAN, "t10k-labels-idx1-ubyte.gz")) as f:
        raw = f.read()
    labels = np.frombuffer(raw, dtype=np.uint8, offset=8)
    assert len(test) == len(labels) == 10000
    img, lab = test[17]
    assert img.shape == (28, 28, 1) and lab == labels[17]


def _write_idx(folder, prefix, n):
    os.makedirs(folder, exist_ok=True)
    imgs = np.arange(n * 28 * 28, dtype=np.uint32).astype(np.uint8).reshape(n, 28, 28)
    with open(os.path.join(folder, prefix + "-images-idx3-ubyte"), "wb") as f:
        f.write(struct.pack(">4B3I", 0, 0, 8, 3, n, 28, 28) + imgs.tobytes())
    with open(os.path.join(folder, prefix + "-labels-idx1-ubyte"), "wb") as f:
        f.write(struct.pack(">4BI", 0, 0, 8, 1, n) + bytes(range(n)))


def test_fashion_mnist_prefers_mxnet_home(tmp_path, monkeypatch):
    monkeypatch.setenv("MXNET_HOME", str(tmp_path))
    _write_idx(str(tmp_path / "datasets" / "fashion-mnist"), "t10k", 3)
    d = datasets.FashionMNIST(train=False)
    assert len(d) == 3 and d[2][1] == 2


def test_download_file_url_and_cache(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"hello mx")
    sha = hashlib.sha1(b"hello mx").hexdigest()
    out = download("file://" + str(src), path=str(tmp_path / "cache") + os.sep, sha1_hash=sha)
    assert out == str(tmp_path / "cache" / "src.bin")
    assert open(out, "rb").read() == b"hello mx"
    src.write_bytes(b"changed")  # the cached copy is returned while its hash matches
    assert open(download("file://" + str(src), path=out, sha1_hash=sha), "rb").read() == b"hello mx"
    assert open(download("file://" + str(src), path=out, overwrite=True), "rb").read() == b"changed"
    with pytest.raises(ValueError, match="SHA-1"):
        download("file://" + str(src), path=str(tmp_path / "x.bin"), sha1_hash=sha)
    assert not (tmp_path / "x.bin").exists()
    with pytest.raises(OSError, match="network"):
        download("https://example.com/a.params", path=str(tmp_path / "a.params"))
    with pytest.raises(FileNotFoundError, match="no such file"):
        download("file://" + str(tmp_path / "missing.bin"), path=str(tmp_path))


def test_pretrained_reads_mxnet_home_models(tmp_path, monkeypatch):
    monkeypatch.setenv("MXNET_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "models" / "squeezenet1.1")):
        vision.get_model("squeezenet1.1", pretrained=True)
    net = vision.get_model("squeezenet1.1")
    net.initialize(mx.init.Xavier())
    x = mx.nd.array(np.random.RandomState(0).uniform(size=(1, 3, 224, 224)))
    y = net(x).asnumpy()
    os.makedirs(tmp_path / "models")
    net.save_parameters(str(tmp_path / "models" / "squeezenet1.1-264ba497.params"))
    loaded = vision.get_model("squeezenet1.1", pretrained=True)
    np.testing.assert_allclose(loaded(x).asnumpy(), y, rtol=1e-6)


def test_mnist_default_root_follows_mxnet_home(tmp_path, monkeypatch):
    monkeypatch.setenv("MXNET_HOME", str(tmp_path))
    _write_idx(str(tmp_path / "datasets" / "mnist"), "train", 4)
    d = datasets.MNIST()
    assert len(d) == 4 and d[3][1] == 3
    monkeypatch.setenv("MXNET_HOME", str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "empty" / "datasets" / "mnist")):
        datasets.MNIST()
