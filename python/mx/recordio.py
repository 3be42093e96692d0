"""RecordIO files (MXNet's .rec/.idx), byte-compatible with MXNet 1.x.

The container (magic words, chunking of records that contain the magic, padding) lives in the
core (mx_recordio_*); this module adds the .idx text index and the IRHeader byte layout.
"""
import numbers
import os
import struct
from collections import namedtuple

import numpy as np

from .base import check_call, ffi, lib, c_str

__all__ = ["MXRecordIO", "MXIndexedRecordIO", "IRHeader", "pack", "unpack", "pack_img", "unpack_img"]


class MXRecordIO:
    """Sequential reader ('r') or writer ('w') of a RecordIO file."""

    def __init__(self, uri, flag):
        self.uri = str(uri)
        if flag not in ("r", "w"):
            raise ValueError("MXRecordIO: flag must be 'r' or 'w', got %r" % (flag,))
        self.flag = flag
        self.handle = None
        self.is_open = False
        self.open()

    def open(self):
        h = ffi.new("mx_recordio_t *")
        if self.flag == "w":
            check_call(lib.mx_recordio_writer_new(c_str(self.uri, "path"), h))
            self.writable = True
        else:
            check_call(lib.mx_recordio_reader_new(c_str(self.uri, "path"), h))
            self.writable = False
        self.handle = h[0]
        self.is_open = True

    def close(self):
        if not self.is_open:
            return
        h, self.handle = self.handle, None
        self.is_open = False
        try:
            check_call(lib.mx_recordio_close(h))
        finally:
            lib.mx_recordio_free(h)

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - never raise from a finaliser
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __getstate__(self):
        d = self.__dict__.copy()
        d["handle"] = None
        d["is_open"] = False
        return d

    def __setstate__(self, d):
        self.__dict__.update(d)
        if self.flag == "r":
            self.open()

    def reset(self):
        """Rewind a reader; reopen (truncating) a writer."""
        self.close()
        self.open()

    def _check(self, writing):
        if not self.is_open:
            raise ValueError("MXRecordIO: '%s' is closed" % self.uri)
        if writing != self.writable:
            raise ValueError("MXRecordIO: '%s' is opened with flag %r" % (self.uri, self.flag))

    def write(self, buf):
        """Append one record (bytes-like)."""
        self._check(True)
        buf = bytes(buf) if not isinstance(buf, (bytes, bytearray, memoryview)) else buf
        check_call(lib.mx_recordio_write(self.handle, ffi.from_buffer(buf), len(buf)))

    def read(self):
        """The next record as bytes, or None at the end of the file."""
        self._check(False)
        p = ffi.new("const void **")
        n = ffi.new("size_t *")
        check_call(lib.mx_recordio_read(self.handle, p, n))
        if p[0] == ffi.NULL:
            return None
        return bytes(ffi.buffer(p[0], n[0]))

    def tell(self):
        """Byte offset of the next record (writer) or of the next read (reader)."""
        if not self.is_open:
            raise ValueError("MXRecordIO: '%s' is closed" % self.uri)
        out = ffi.new("uint64_t *")
        check_call(lib.mx_recordio_tell(self.handle, out))
        return int(out[0])

    def seek_pos(self, pos):
        self._check(False)
        check_call(lib.mx_recordio_seek(self.handle, int(pos)))


class MXIndexedRecordIO(MXRecordIO):
    """RecordIO with an .idx text index ("key\\toffset" lines) for random access."""

    def __init__(self, idx_path, uri, flag, key_type=int):
        self.idx_path = str(idx_path)
        self.idx = {}
        self.keys = []
        self.key_type = key_type
        self.fidx = None
        super().__init__(uri, flag)

    def open(self):
        super().open()
        self.idx = {}
        self.keys = []
        if self.flag == "w":
            self.fidx = open(self.idx_path, "w", encoding="utf-8")
        else:
            self.fidx = None
            if not os.path.exists(self.idx_path):
                raise FileNotFoundError("MXIndexedRecordIO: index file '%s' not found" % self.idx_path)
            with open(self.idx_path, encoding="utf-8") as f:
                for lineno, line in enumerate(f, 1):
                    line = line.strip()
                    if not line:
                        continue
                    parts = line.split("\t")
                    if len(parts) != 2:
                        raise ValueError("MXIndexedRecordIO: '%s' line %d: expected 'key<TAB>offset', got %r"
                                         % (self.idx_path, lineno, line[:80]))
                    try:
                        key, off = self.key_type(parts[0]), int(parts[1])
                    except ValueError:
                        raise ValueError("MXIndexedRecordIO: '%s' line %d: bad key or offset %r"
                                         % (self.idx_path, lineno, line[:80])) from None
                    self.idx[key] = off
                    self.keys.append(key)

    def close(self):
        if self.fidx is not None:
            f, self.fidx = self.fidx, None
            f.close()
        super().close()

    def __getstate__(self):
        d = super().__getstate__()
        d["fidx"] = None
        return d

    def seek(self, idx):
        """Position the reader at the record with key `idx`."""
        if idx not in self.idx:
            raise KeyError("MXIndexedRecordIO: key %r is not in '%s'" % (idx, self.idx_path))
        self.seek_pos(self.idx[idx])

    def read_idx(self, idx):
        self.seek(idx)
        return self.read()

    def write_idx(self, idx, buf):
        key = self.key_type(idx)
        pos = self.tell()
        self.write(buf)
        self.fidx.write("%s\t%d\n" % (str(key), pos))
        self.idx[key] = pos
        self.keys.append(key)


IRHeader = namedtuple("HEADER", ["flag", "label", "id", "id2"])
"""Image record header: flag (number of float labels that follow, 0 for a single label), label
(float, or the labels when flag > 0), id, id2."""

_IR_FORMAT = "<IfQQ"
_IR_SIZE = struct.calcsize(_IR_FORMAT)  # 24


def pack(header, s):
    """Pack a header and a byte string into one record. A label that is a sequence (or array) is
    written as `flag` floats in front of the payload, with flag = its length."""
    header = IRHeader(*header)
    if isinstance(header.label, numbers.Number):
        hdr = struct.pack(_IR_FORMAT, 0, float(header.label), int(header.id), int(header.id2))
        return hdr + bytes(s)
    label = np.asarray(header.label, dtype=np.float32).ravel()
    hdr = struct.pack(_IR_FORMAT, label.size, 0.0, int(header.id), int(header.id2))
    return hdr + label.tobytes() + bytes(s)


def unpack(s):
    """Split a record into (IRHeader, payload bytes); multi-float labels come back as a float32
    numpy array."""
    s = bytes(s)
    if len(s) < _IR_SIZE:
        raise ValueError("unpack: a record of %d bytes is too short for the %d-byte IRHeader" % (len(s), _IR_SIZE))
    flag, label, id1, id2 = struct.unpack(_IR_FORMAT, s[:_IR_SIZE])
    s = s[_IR_SIZE:]
    if flag > 0:
        if len(s) < 4 * flag:
            raise ValueError("unpack: header declares %d float labels but only %d bytes follow" % (flag, len(s)))
        label = np.frombuffer(s[:4 * flag], dtype=np.float32).copy()
        s = s[4 * flag:]
    return IRHeader(flag, label, id1, id2), s


def _have_pillow():
    try:
        import PIL.Image  # noqa: F401
        return True
    except ImportError:
        return False


def pack_img(header, img, quality=95, img_fmt=".jpg"):
    """Encode an image (HWC uint8, BGR channel order as in MXNet/OpenCV, or HW grey) and pack it.
    Uses the core's libpng/libjpeg encoder, or Pillow when the core lacks the format."""
    img = np.ascontiguousarray(img)
    if img.dtype != np.uint8:
        raise TypeError("pack_img: img must be uint8, got %s" % img.dtype)
    if img.ndim == 2:
        img = img[:, :, None]
    if img.ndim != 3 or img.shape[2] not in (1, 3):
        raise ValueError("pack_img: img must be HxW or HxWx{1,3}, got shape %s" % (img.shape,))
    fmt = img_fmt.lower()
    if fmt not in (".jpg", ".jpeg", ".png"):
        raise ValueError("pack_img: img_fmt must be '.jpg' or '.png', got %r" % img_fmt)
    flag = ffi.new("int *")
    check_call(lib.mx_image_supported(c_str(fmt), flag))
    if flag[0]:
        p = ffi.new("const void **")
        n = ffi.new("size_t *")
        h, w, c = img.shape
        check_call(lib.mx_image_encode(ffi.from_buffer(img), h, w, c, 1, c_str(fmt), int(quality), p, n))
        buf = bytes(ffi.buffer(p[0], n[0]))
    elif _have_pillow():
        import io
        import PIL.Image
        rgb = img[:, :, ::-1] if img.shape[2] == 3 else img[:, :, 0]
        out = io.BytesIO()
        if fmt == ".png":
            PIL.Image.fromarray(np.ascontiguousarray(rgb)).save(out, format="PNG")
        else:
            PIL.Image.fromarray(np.ascontiguousarray(rgb)).save(out, format="JPEG", quality=int(quality))
        buf = out.getvalue()
    else:
        raise RuntimeError("pack_img: this build of MX cannot encode %s (built without libpng/libjpeg) and Pillow "
                           "is not installed (pip install Pillow)" % fmt)
    return pack(header, buf)


def unpack_img(s, iscolor=-1):
    """Unpack a record into (IRHeader, image): HWC uint8 in BGR order (MXNet/OpenCV convention).
    iscolor: 1 colour, 0 grey (HxW... as HxWx1 squeezed to HxW), -1 as stored."""
    from .ndarray.ndarray import _wrap
    header, buf = unpack(s)
    channels = {1: 3, 0: 1, -1: 0}.get(int(iscolor))
    if channels is None:
        raise ValueError("unpack_img: iscolor must be 1, 0 or -1, got %r" % (iscolor,))
    out = ffi.new("mx_ndarray_t *")
    check_call(lib.mx_image_decode(ffi.from_buffer(buf), len(buf), channels, 1, out))
    img = _wrap(out[0]).asnumpy()
    if img.shape[2] == 1:
        img = img[:, :, 0]
    return header, img


def max_image_pixels():
    """The largest width*height that image decoding (unpack_img, ImageRecordIter) accepts.
    Checked from the header before any pixel memory is allocated; the default is the
    MX_MAX_IMAGE_PIXELS environment variable, else 178956970 (Pillow's decompression-bomb limit)."""
    n = ffi.new("int64_t *")
    check_call(lib.mx_image_max_pixels(n))
    return int(n[0])


def set_max_image_pixels(pixels):
    """Set the pixel limit of image decoding for this process (a positive int)."""
    check_call(lib.mx_image_set_max_pixels(int(pixels)))
