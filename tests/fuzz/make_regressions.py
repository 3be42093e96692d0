#!/usr/bin/env python3
"""Write the hand-made regression inputs of tests/fuzz/regressions/ (issue 15's audit findings:
tiny files whose headers claim huge images). Inputs the fuzzers find are copied there as they are.

    python3 tests/fuzz/make_regressions.py

(The core bounds image headers by a pixel limit, so these run as regressions.)
"""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def put(harness, name, data):
    d = os.path.join(HERE, "regressions", harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_claiming(width, height):
    """A PNG whose IHDR claims width x height RGB pixels but whose IDAT holds one short row."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\x00" * 4))
            + png_chunk(b"IEND", b""))


def jpeg_claiming(jpeg, width, height):
    """A small valid JPEG with its SOF frame size patched to width x height."""
    b = bytearray(jpeg)
    i = 2
    while i + 4 < len(b):
        marker, length = b[i + 1], struct.unpack(">H", b[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            b[i + 5:i + 9] = struct.pack(">HH", height, width)
            return bytes(b)
        i += 2 + length
    raise ValueError("no SOF marker")


def rec(payloads):
    """RecordIO file with one image record (IRHeader flag 0, label i) per payload."""
    out = b""
    for i, p in enumerate(payloads):
        data = struct.pack("<IfQQ", 0, float(i), i, 0) + p
        out += struct.pack("<II", 0xCED7230A, len(data)) + data + b"\x00" * (-len(data) % 4)
    return out


def main():
    png = png_claiming(16384, 16384)  # ~800 MB of RGB pixels claimed by ~70 bytes
    put("image", "png_claims_16384x16384", png)
    with open(os.path.join(HERE, "corpus", "image", "grey.jpg"), "rb") as f:
        jpg = jpeg_claiming(f.read(), 16384, 16384)  # 1.5 GB claimed by < 1 KB
    put("image", "jpeg_claims_16384x16384", jpg)
    put("recordio", "four_image_bombs.rec", rec([png, jpg, png, jpg]))


if __name__ == "__main__":
    main()
