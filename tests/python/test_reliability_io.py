"""Issue 15: tiny inputs claiming huge memory (IDX, PNG, JPEG, RecordIO images), atomic saves
(stale temporaries, permissions, symlinks, read-only targets) and misleading iterator messages.
The malicious files are made here, in a few bytes each."""
import gzip
import os
import signal
import struct
import subprocess
import sys
import time
import zlib

import numpy as np
import pytest

import mx
from isolated import ROOT, check_python


# ------------------------------------------------------------------ 9. bounded header claims
def _idx_images(n, rows, cols, payload):
    return struct.pack(">IIII", 0x803, n, rows, cols) + payload


def _labels(tmp_path, n=2):
    p = tmp_path / "labels"
    p.write_bytes(struct.pack(">II", 0x801, n) + bytes(range(n)))
    return str(p)


def test_mnistiter_on_dev_zero_fails_at_once(tmp_path):
    with pytest.raises(OSError, match="not a regular file"):
        mx.io.MNISTIter(image="/dev/zero", label=_labels(tmp_path), batch_size=1)
    imgs = tmp_path / "images"
    imgs.write_bytes(_idx_images(2, 1, 1, b"\x01\x02"))
    with pytest.raises(OSError, match="not a regular file"):
        mx.io.MNISTIter(image=str(imgs), label="/dev/zero", batch_size=1)


def test_mnistiter_gzip_bomb_is_refused_from_its_header(tmp_path):
    """A valid header claiming 4M images of 28x28 (3.1 GB) in a 3 KB gzip stream: the claim is
    checked against the stream's size (deflate expands at most ~1032:1) before decompressing."""
    bomb = tmp_path / "bomb.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as f:
        f.write(_idx_images(4000000, 28, 28, bytes(4 << 20)))
    assert bomb.stat().st_size < 20000
    code = """
import mx  # peak RSS from VmHWM: ru_maxrss keeps the forking parent's peak across exec
try:
    mx.io.MNISTIter(image=%r, label=%r, batch_size=1)
except ValueError as e:
    print("ERR", e)
print("MAXRSS_KB", [l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM")][0])
""" % (str(bomb), _labels(tmp_path))
    out = check_python(code)
    assert "ERR" in out and "declares 3136000000 bytes" in out and "gzip" in out, out
    rss_kb = int(out.split("MAXRSS_KB")[1])
    assert rss_kb < 600 * 1024, "the refused bomb still used %d MB" % (rss_kb // 1024)


def test_mnistiter_zero_filled_gzip_is_refused(tmp_path):
    """/dev/zero compressed: a header of zeros is no IDX header."""
    z = tmp_path / "zeros.gz"
    z.write_bytes(gzip.compress(bytes(1 << 22)))
    with pytest.raises(ValueError, match="magic"):
        mx.io.MNISTIter(image=str(z), label=_labels(tmp_path), batch_size=1)


def test_mnistiter_plain_file_claim_bounded_by_size(tmp_path):
    liar = tmp_path / "liar"
    liar.write_bytes(_idx_images(60000, 28, 28, bytes(64)))
    with pytest.raises(ValueError, match="declares 47040000 bytes.*holds only 64"):
        mx.io.MNISTIter(image=str(liar), label=_labels(tmp_path), batch_size=1)


def test_mnistiter_valid_gzip_still_reads(tmp_path):
    imgs = np.arange(2 * 3 * 4, dtype=np.uint8)
    ip = tmp_path / "i.gz"
    ip.write_bytes(gzip.compress(_idx_images(2, 3, 4, imgs.tobytes())))
    lp = tmp_path / "l.gz"
    lp.write_bytes(gzip.compress(struct.pack(">II", 0x801, 2) + bytes([7, 9])))
    b = next(iter(mx.io.MNISTIter(image=str(ip), label=str(lp), batch_size=2, shuffle=False, flat=True)))
    np.testing.assert_allclose(b.data[0].asnumpy(), imgs.reshape(2, 12) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(b.label[0].asnumpy(), [7, 9])


def _png(w, h, idat_raw=b"\x00" * 16, color=2):
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(idat_raw)) + chunk(b"IEND", b""))


def _jpeg_header(w, h):
    """A real 16x16 JPEG (encoded by MX) whose frame header is patched to claim w x h."""
    img = np.zeros((16, 16, 3), np.uint8)
    buf = bytearray(mx.recordio.pack_img(mx.recordio.IRHeader(0, 0.0, 0, 0), img, img_fmt=".jpg")[24:])
    sof = buf.index(b"\xff\xc0")
    struct.pack_into(">HH", buf, sof + 5, h, w)
    return bytes(buf)


def _decode(buf):
    return mx.recordio.unpack_img(mx.recordio.pack(mx.recordio.IRHeader(0, 0.0, 0, 0), buf))[1]


def test_tiny_png_claiming_a_huge_image_is_refused():
    buf = _png(12000, 12000)  # 144M pixels: under the pixel limit, but not from 60 bytes
    assert len(buf) < 100
    with pytest.raises(ValueError, match="12000x12000.*cannot hold"):
        _decode(buf)
    with pytest.raises(ValueError, match="16384x16384.*exceeds the limit"):
        _decode(_png(16384, 16384))


def test_tiny_jpeg_claiming_a_huge_image_is_refused():
    buf = _jpeg_header(16384, 16384)
    assert len(buf) < 1000
    with pytest.raises(ValueError, match="16384x16384"):
        _decode(buf)
    with pytest.raises(ValueError, match="12000x12000"):  # under the limit, too big for its bytes
        _decode(_jpeg_header(12000, 12000))
    assert _decode(_jpeg_header(16, 16)).shape == (16, 16, 3)


def test_pixel_limit_is_configurable_and_checked_before_decoding():
    rows = b"".join(b"\x00" + bytes(3 * 64) for _ in range(64))  # a real 64x64 black RGB image
    buf = _png(64, 64, rows)
    assert _decode(buf).shape == (64, 64, 3)
    default = mx.recordio.max_image_pixels()
    assert default == 178956970  # Pillow's decompression-bomb threshold
    try:
        mx.recordio.set_max_image_pixels(64 * 63)
        with pytest.raises(ValueError, match="exceeds the limit of 4032"):
            _decode(buf)
    finally:
        mx.recordio.set_max_image_pixels(default)
    assert _decode(buf).shape == (64, 64, 3)
    out = check_python("import mx; print(mx.recordio.max_image_pixels())", env={"MX_MAX_IMAGE_PIXELS": "1000"})
    assert out.strip() == "1000"


def test_image_record_iter_with_bomb_records_stays_small(tmp_path):
    rec = str(tmp_path / "bombs.rec")
    w = mx.recordio.MXRecordIO(rec, "w")
    for i in range(4):
        w.write(mx.recordio.pack(mx.recordio.IRHeader(0, float(i), i, 0),
                                 _jpeg_header(16384, 16384) if i % 2 else _png(16384, 16384)))
    w.close()
    assert os.path.getsize(rec) < 4096
    code = """
import mx  # peak RSS from VmHWM: ru_maxrss keeps the forking parent's peak across exec
it = mx.io.ImageRecordIter(path_imgrec=%r, data_shape=(3, 8, 8), batch_size=2)
try:
    next(iter(it))
    print("NO ERROR")
except ValueError as e:
    print("ERR", e)
print("MAXRSS_KB", [l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM")][0])
""" % rec
    out = check_python(code)
    assert "ERR" in out and "16384x16384" in out, out
    assert int(out.split("MAXRSS_KB")[1]) < 600 * 1024


# ------------------------------------------------------------------ 10. atomic saves
def _temps(folder, name):
    return sorted(f for f in os.listdir(folder) if f.startswith(name + ".tmp."))


def test_killed_save_leaves_temp_that_the_next_save_removes(tmp_path):
    target = str(tmp_path / "big.params")
    mx.nd.save(target, [mx.nd.ones(3)])
    code = """
import mx, sys
a = mx.nd.ones((16, 1024, 1024))  # 64 MB: the save takes long enough to be killed midway
print("ready", flush=True)
while True:
    mx.nd.save(%r, [a])
""" % target
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, env=env, text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        deadline = time.time() + 60
        while not _temps(tmp_path, "big.params") and time.time() < deadline:
            time.sleep(0.01)
        assert _temps(tmp_path, "big.params"), "never saw the temporary file"
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    left = _temps(tmp_path, "big.params")
    assert left, "the kill landed between saves; the temporary file is gone already"
    mx.nd.save(target, [mx.nd.array([4.0, 5.0])])  # cleans the dead process's temporary
    assert _temps(tmp_path, "big.params") == []
    np.testing.assert_array_equal(mx.nd.load(target)[0].asnumpy(), [4.0, 5.0])


def test_stale_temp_of_a_live_process_is_kept(tmp_path):
    target = str(tmp_path / "x.nd")
    live = target + ".tmp.%d.%016x" % (os.getppid(), 7)  # our parent is alive: maybe still writing
    other = str(tmp_path / ("y.nd.tmp.%d.%016x" % (2**22 + 99, 7)))  # another target's: not ours
    dead = target + ".tmp.%d.%016x" % (2**22 + 98, 7)  # no such pid (above the default pid_max)
    for f in (live, other, dead):
        open(f, "wb").write(b"junk")
    mx.nd.save(target, [mx.nd.ones(1)])
    assert os.path.exists(live) and os.path.exists(other) and not os.path.exists(dead)


def test_save_keeps_permission_bits(tmp_path):
    p = str(tmp_path / "m.params")
    mx.nd.save(p, [mx.nd.ones(1)])
    for mode in (0o600, 0o640, 0o604):
        os.chmod(p, mode)
        mx.nd.save(p, [mx.nd.ones(2)])
        assert os.stat(p).st_mode & 0o777 == mode
    mx.sym.var("x").save(p)  # the symbol writer goes through the same code
    assert os.stat(p).st_mode & 0o777 == 0o604


def test_save_through_symlink_writes_the_target(tmp_path):
    real = tmp_path / "real.params"
    link = tmp_path / "link.params"
    mx.nd.save(str(real), [mx.nd.ones(1)])
    os.symlink("real.params", link)  # relative link
    mx.nd.save(str(link), [mx.nd.array([3.0])])
    assert os.path.islink(link)
    np.testing.assert_array_equal(mx.nd.load(str(real))[0].asnumpy(), [3.0])
    dangling = tmp_path / "dangling.params"
    os.symlink(str(tmp_path / "new.params"), dangling)
    mx.nd.save(str(dangling), [mx.nd.array([4.0])])
    assert os.path.islink(dangling)
    np.testing.assert_array_equal(mx.nd.load(str(tmp_path / "new.params"))[0].asnumpy(), [4.0])


def test_read_only_target_is_refused_and_kept(tmp_path):
    p = str(tmp_path / "ro.params")
    mx.nd.save(p, [mx.nd.ones(1)])
    before = open(p, "rb").read()
    os.chmod(p, 0o444)
    try:
        with pytest.raises(OSError, match="read-only"):
            mx.nd.save(p, [mx.nd.ones(5)])
        with pytest.raises(OSError, match="read-only"):
            mx.sym.var("x").save(p)
        assert open(p, "rb").read() == before
        assert _temps(tmp_path, "ro.params") == []
    finally:
        os.chmod(p, 0o644)


# ------------------------------------------------------------------ 11. messages
def test_csviter_on_dev_zero_names_the_problem():
    with pytest.raises(OSError) as info:
        mx.io.CSVIter(data_csv="/dev/zero", data_shape=(3,), batch_size=1)
    assert "Success" not in str(info.value)
    assert "not a regular file" in str(info.value)


def test_batch_size_too_large_is_reported_as_such(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("1,2,3\n")
    for bs in (2**40, 2**31):
        with pytest.raises(ValueError) as info:
            mx.io.CSVIter(data_csv=str(p), data_shape=(3,), batch_size=bs)
        assert "too large" in str(info.value) and str(bs) in str(info.value)
        assert "positive" not in str(info.value)
    with pytest.raises(ValueError, match="positive"):
        mx.io.CSVIter(data_csv=str(p), data_shape=(3,), batch_size=-2)
