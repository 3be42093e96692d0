"""Image datasets read from local files (MXNet 1.x ``gluon.data.vision.datasets``).

MX never downloads: MNIST, FashionMNIST, CIFAR10 and CIFAR100 read the original files from
`root`, and a missing file is an error naming the paths looked for.
"""
import gzip
import os
import struct
import warnings

import numpy as np

from .... import ndarray as nd
from .... import recordio
from ....base import check_call, ffi, lib
from ..dataset import Dataset, RecordFileDataset, _check_index

__all__ = ["MNIST", "FashionMNIST", "CIFAR10", "CIFAR100", "ImageFolderDataset", "ImageRecordDataset", "imdecode"]


def imdecode(buf, flag=1, to_rgb=True):
    """Decode PNG or JPEG bytes into an HxWxC uint8 NDArray (RGB as mx.image.imdecode; BGR with
    to_rgb=False). flag: 1 colour (C=3), 0 greyscale (C=1), -1 as stored."""
    channels = 3 if flag > 0 else (1 if flag == 0 else 0)
    data = bytes(buf) if not isinstance(buf, (bytes, bytearray, memoryview)) else buf
    if len(data) == 0:
        raise ValueError("imdecode: empty image buffer")
    out = ffi.new("mx_ndarray_t *")
    check_call(lib.mx_image_decode(ffi.from_buffer(data), len(data), channels, 0 if to_rgb else 1, out))
    from ....ndarray.ndarray import _wrap
    return _wrap(out[0])


class _DownloadedDataset(Dataset):
    """Samples (data[i], label[i]) held in memory; transform(data, label) if given."""

    def __init__(self, root, transform):
        if transform is not None and not callable(transform):
            raise TypeError("%s: transform must be callable (data, label) -> ..., got %s"
                            % (type(self).__name__, type(transform).__name__))
        self._root = os.path.expanduser(str(root))
        self._transform = transform
        self._data = None
        self._label = None
        self._get_data()

    def __getitem__(self, idx):
        i = _check_index(idx, len(self._label), type(self).__name__)
        if self._transform is not None:
            return self._transform(self._data[i], self._label[i])
        return self._data[i], self._label[i]

    def __len__(self):
        return len(self._label)

    def _get_data(self):
        raise NotImplementedError


def _no_download(who, root, missing, hint=""):
    return FileNotFoundError(
        "%s: dataset file(s) not found in '%s': looked for %s. MX cannot download datasets; put the files "
        "there or pass root=<folder holding them>%s" % (who, root, "; ".join(missing), hint))


# ---------------------------------------------------------------------- MNIST

DEBIAN_FASHION_MNIST = "/usr/share/datasets/fashion-mnist"


def _mxnet_home():
    return os.environ.get("MXNET_HOME", os.path.join("~", ".mxnet"))


def _read_idx(path, ndim):
    """The uint8 array of an IDX file (gzip-compressed when the name ends in .gz)."""
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            with open(path, "rb") as f:
                raw = f.read()
    except (OSError, EOFError) as e:
        raise ValueError("cannot read IDX file '%s': %s" % (path, e)) from None
    head = 4 + 4 * ndim
    if len(raw) < head or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08 or raw[3] != ndim:
        raise ValueError("'%s' is not an IDX file of unsigned bytes with %d dimensions (header bytes %s; "
                         "expected 00 00 08 %02x)" % (path, ndim, raw[:4].hex(" ") if raw else "none", ndim))
    dims = struct.unpack(">%dI" % ndim, raw[4:head])
    size = int(np.prod(dims, dtype=np.int64))
    if len(raw) - head != size:
        raise ValueError("IDX file '%s' is corrupt: its header gives dimensions %s (%d bytes of data) but it "
                         "holds %d bytes of data" % (path, "x".join(map(str, dims)), size, len(raw) - head))
    return np.frombuffer(raw, dtype=np.uint8, offset=head).reshape(dims)


class MNIST(_DownloadedDataset):
    """MNIST handwritten digits from the IDX files in root (train-images-idx3-ubyte[.gz],
    train-labels-idx1-ubyte[.gz], t10k-...). Samples: (uint8 NDArray HxWx1, int32 label).
    transform, if given, is called as transform(data, label)."""

    _train_files = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
    _test_files = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    _hint = ("; Debian's dataset-fashion-mnist package installs Fashion-MNIST in /usr/share/datasets/fashion-mnist "
             "(FashionMNIST(root='/usr/share/datasets/fashion-mnist'))")

    def __init__(self, root=None, train=True, transform=None):
        self._train = bool(train)
        if root is None:  # as MXNet: $MXNET_HOME/datasets/mnist (MXNET_HOME defaults to ~/.mxnet)
            root = os.path.join(_mxnet_home(), "datasets", "mnist")
        super().__init__(root, transform)

    def _find(self, name):
        cands = [os.path.join(self._root, name + ".gz"), os.path.join(self._root, name)]
        for c in cands:
            if os.path.isfile(c):
                return c, cands
        return None, cands

    def _get_data(self):
        names = self._train_files if self._train else self._test_files
        found, missing = [], []
        for name in names:
            path, cands = self._find(name)
            if path is None:
                missing.append(" or ".join("'%s'" % c for c in cands))
            found.append(path)
        if missing:
            raise _no_download(type(self).__name__, self._root, missing, self._hint)
        images = _read_idx(found[0], 3)
        labels = _read_idx(found[1], 1)
        if images.shape[0] != labels.shape[0]:
            raise ValueError("%s: '%s' holds %d images but '%s' holds %d labels"
                             % (type(self).__name__, found[0], images.shape[0], found[1], labels.shape[0]))
        self._data = nd.array(images.reshape(images.shape + (1,)), dtype=np.uint8)
        self._label = labels.astype(np.int32)


class FashionMNIST(MNIST):
    """Fashion-MNIST (same file names and format as MNIST).

    root=None (the default) uses $MXNET_HOME/datasets/fashion-mnist (MXNET_HOME defaults to
    ~/.mxnet) when it holds the files, else Debian's dataset-fashion-mnist directory
    /usr/share/datasets/fashion-mnist; an explicit root is used as given."""

    def __init__(self, root=None, train=True, transform=None):
        if root is None:
            home = os.path.join(_mxnet_home(), "datasets", "fashion-mnist")
            name = (self._train_files if train else self._test_files)[0]
            has = lambda d: any(os.path.isfile(os.path.join(os.path.expanduser(d), name + ext))  # noqa: E731
                                for ext in ("", ".gz"))
            root = home if has(home) or not has(DEBIAN_FASHION_MNIST) else DEBIAN_FASHION_MNIST
        super().__init__(root, train, transform)


# ---------------------------------------------------------------------- CIFAR

class CIFAR10(_DownloadedDataset):
    """CIFAR-10 from the binary version's files (data_batch_1.bin .. data_batch_5.bin, test_batch.bin)
    in root/cifar-10-batches-bin or root. Samples: (uint8 NDArray 32x32x3, int32 label)."""

    _folder = "cifar-10-batches-bin"
    _nlabels = 1

    def __init__(self, root=os.path.join("~", ".mxnet", "datasets", "cifar10"), train=True, transform=None):
        self._train = bool(train)
        super().__init__(root, transform)

    def _files(self):
        if self._train:
            return ["data_batch_%d.bin" % i for i in range(1, 6)]
        return ["test_batch.bin"]

    def _label_column(self):
        return 0

    def _locate(self):
        found, missing = [], []
        for name in self._files():
            cands = [os.path.join(self._root, self._folder, name), os.path.join(self._root, name)]
            path = next((c for c in cands if os.path.isfile(c)), None)
            if path is None:
                missing.append(" or ".join("'%s'" % c for c in cands))
            found.append(path)
        if missing:
            raise _no_download(type(self).__name__, self._root, missing)
        return found

    def _read_batch(self, path):
        rec = self._nlabels + 3 * 32 * 32
        with open(path, "rb") as f:
            raw = f.read()
        if len(raw) == 0 or len(raw) % rec:
            raise ValueError("%s: '%s' is not a CIFAR binary file: its size %d is not a positive multiple of the "
                             "%d-byte record (%d label byte(s) + 3x32x32 pixels)"
                             % (type(self).__name__, path, len(raw), rec, self._nlabels))
        data = np.frombuffer(raw, dtype=np.uint8).reshape(-1, rec)
        return data[:, self._nlabels:], data[:, self._label_column()].astype(np.int32)

    def _get_data(self):
        parts = [self._read_batch(p) for p in self._locate()]
        pixels = np.concatenate([p[0] for p in parts]) if len(parts) > 1 else parts[0][0]
        labels = np.concatenate([p[1] for p in parts]) if len(parts) > 1 else parts[0][1]
        chw = nd.array(pixels.reshape(-1, 3, 32, 32), dtype=np.uint8)
        self._data = nd.transpose(chw, axes=(0, 2, 3, 1))  # the files are CHW; samples are HWC
        self._label = labels


class CIFAR100(CIFAR10):
    """CIFAR-100 from the binary version's train.bin / test.bin in root/cifar-100-binary or root;
    fine_label selects the 100 fine classes instead of the 20 coarse ones."""

    _folder = "cifar-100-binary"
    _nlabels = 2

    def __init__(self, root=os.path.join("~", ".mxnet", "datasets", "cifar100"), fine_label=False, train=True,
                 transform=None):
        self._fine_label = bool(fine_label)
        super().__init__(root, train, transform)

    def _files(self):
        return ["train.bin"] if self._train else ["test.bin"]

    def _label_column(self):
        return 1 if self._fine_label else 0


# ---------------------------------------------------------------------- image files

def _decode_named(buf, flag, where, who):
    try:
        return imdecode(buf, flag)
    except Exception as e:  # noqa: BLE001 - re-raised with the file named
        try:
            err = type(e)("%s: cannot decode %s: %s" % (who, where, e))
        except Exception:  # noqa: BLE001
            err = ValueError("%s: cannot decode %s: %s" % (who, where, e))
        raise err from None


class ImageFolderDataset(Dataset):
    """Images in class folders: root/<class>/<image>.{jpg,jpeg,png}. synsets lists the class
    folder names (label i is synsets[i]); items lists (path, label). Samples: (uint8 NDArray
    HxWxC in RGB, int label); flag 1 colour, 0 greyscale. transform(data, label) if given."""

    def __init__(self, root, flag=1, transform=None):
        self._root = os.path.expanduser(str(root))
        self._flag = flag
        self._transform = transform
        self._exts = [".jpg", ".jpeg", ".png"]
        if not os.path.isdir(self._root):
            raise FileNotFoundError("ImageFolderDataset: root folder '%s' not found" % self._root)
        self._list_images(self._root)

    def _list_images(self, root):
        self.synsets = []
        self.items = []
        for folder in sorted(os.listdir(root)):
            path = os.path.join(root, folder)
            if not os.path.isdir(path):
                warnings.warn("Ignoring %s, which is not a directory." % path, stacklevel=3)
                continue
            label = len(self.synsets)
            self.synsets.append(folder)
            for filename in sorted(os.listdir(path)):
                filename = os.path.join(path, filename)
                ext = os.path.splitext(filename)[1]
                if ext.lower() not in self._exts:
                    warnings.warn("Ignoring %s of type %s. Only support %s" % (filename, ext, ", ".join(self._exts)),
                                  stacklevel=3)
                    continue
                self.items.append((filename, label))

    def __getitem__(self, idx):
        path, label = self.items[_check_index(idx, len(self.items), "ImageFolderDataset")]
        with open(path, "rb") as f:
            img = _decode_named(f.read(), self._flag, "'%s'" % path, "ImageFolderDataset")
        if self._transform is not None:
            return self._transform(img, label)
        return img, label

    def __len__(self):
        return len(self.items)


class ImageRecordDataset(RecordFileDataset):
    """Images in a RecordIO file (mx.recordio.pack_img / im2rec), indexed by the .idx beside it.
    Samples: (uint8 NDArray HxWxC in RGB, label from the record header)."""

    def __init__(self, filename, flag=1, transform=None):
        super().__init__(filename)
        self._flag = flag
        self._transform = transform

    def __getitem__(self, idx):
        record = super().__getitem__(idx)
        header, buf = recordio.unpack(record)
        img = _decode_named(buf, self._flag, "record %d of '%s'" % (idx, self.filename), "ImageRecordDataset")
        if self._transform is not None:
            return self._transform(img, header.label)
        return img, header.label
