#!/usr/bin/env python3
"""Write the checked-in seed corpora of the libFuzzer harnesses (tests/fuzz/corpus/<harness>/).

    python3 tests/fuzz/make_corpus.py        # rewrites tests/fuzz/corpus/

Seeds are small valid files: real MXNet 1.9.1 fixture files from tests/data where there are
some (.nd, -symbol.json, .rec, .csv, the PNG/JPEG images inside the .rec files), plus small
hand-built files for the formats and corners the fixtures lack (safetensors, IDX, gzip, grey/alpha
/16-bit PNG, progressive and grey JPEG, JSON escapes). Needs numpy and Pillow (seed making only;
the harnesses and tests do not).
"""
import gzip
import io
import json
import os
import shutil
import struct

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIX = os.path.join(ROOT, "tests", "data", "mxnet-1.9.1")
OUT = os.path.join(HERE, "corpus")


def put(harness, name, data):
    d = os.path.join(OUT, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def copy(harness, src):
    with open(os.path.join(FIX, src), "rb") as f:
        put(harness, os.path.basename(src), f.read())


def records(path):
    """Payloads of a RecordIO file (single-chunk records: the fixtures' image records)."""
    data = open(path, "rb").read()
    out, pos = [], 0
    while pos + 8 <= len(data):
        magic, lrec = struct.unpack_from("<II", data, pos)
        assert magic == 0xCED7230A
        n = lrec & ((1 << 29) - 1)
        out.append(data[pos + 8:pos + 8 + n])
        pos += 8 + n + (-n % 4)
    return out


def safetensors(tensors, metadata=None):
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, (dtype, arr) in tensors.items():
        b = arr.tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def idx_images(n, rows, cols):
    pix = (np.arange(n * rows * cols) * 37 % 256).astype(np.uint8)
    return struct.pack(">IIII", 0x803, n, rows, cols) + pix.tobytes()


def idx_labels(n):
    return struct.pack(">II", 0x801, n) + bytes(i % 10 for i in range(n))


def image_bytes(img, fmt, **kw):
    b = io.BytesIO()
    img.save(b, fmt, **kw)
    return b.getvalue()


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)

    # .params / .nd (MXNet 1.9.1 files: V2 dict and list, V3 0-d, legacy V0/V1, GPU context, sparse)
    for f in ("dict.nd", "list.nd", "dict_np_shape.nd", "legacy_v0.nd", "legacy_v1_list.nd",
              "v2_gpu_context.nd", "sparse.nd"):
        copy("ndarray_file", "ndarray/" + f)

    # safetensors
    r = np.arange(6, dtype=np.float32).reshape(2, 3)
    put("safetensors", "dict.safetensors", safetensors({
        "a": ("F32", r), "b": ("F64", np.array([1.5, -2.0])), "c": ("I32", np.array([[1, 2]], np.int32)),
        "d": ("I64", np.array([2**40], np.int64)), "e": ("U8", np.array([1, 2, 3], np.uint8)),
        "f": ("F16", np.array([0.5, 1.0], np.float16)), "g": ("BOOL", np.array([True, False])),
        "h": ("I8", np.array([-1], np.int8))}))
    put("safetensors", "list.safetensors", safetensors(
        {"0": ("F32", r), "1": ("F32", np.zeros((0, 3), np.float32))}, {"mx.list": "true"}))
    put("safetensors", "scalar.safetensors", safetensors({"s": ("F32", np.array(3.0, np.float32))}))
    put("safetensors", "empty.safetensors", safetensors({}))
    put("ndarray_file", "dict.safetensors", safetensors({"w": ("F32", r)}))

    # -symbol.json (MXNet 1.9.1 Module and Gluon exports) and small graphs
    for f in ("module/mlp/mlp-symbol.json", "module/lenet/lenet-symbol.json", "gluon/hybrid_net-symbol.json"):
        copy("symbol_json", f)
    put("symbol_json", "var.json", json.dumps({
        "nodes": [{"op": "null", "name": "data", "inputs": []}],
        "arg_nodes": [0], "node_row_ptr": [0, 1], "heads": [[0, 0, 0]],
        "attrs": {"mxnet_version": ["int", 10901]}}).encode())
    put("symbol_json", "attrs.json", json.dumps({
        "nodes": [{"op": "null", "name": "data", "attrs": {"__shape__": "(4, 3)", "__dtype__": "0"}, "inputs": []},
                  {"op": "null", "name": "w", "inputs": []},
                  {"op": "FullyConnected", "name": "fc", "attrs": {"num_hidden": "5", "no_bias": "True"},
                   "inputs": [[0, 0, 0], [1, 0, 0]]},
                  {"op": "Reshape", "name": "r", "attrs": {"shape": "(-1, 0)"}, "inputs": [[2, 0, 0]]},
                  {"op": "sum", "name": "s", "attrs": {"axis": "(1,)", "keepdims": "1"}, "inputs": [[3, 0, 0]]}],
        "arg_nodes": [0, 1], "node_row_ptr": [0, 1, 2, 3, 4, 5], "heads": [[4, 0, 0], [2, 0, 0]],
        "attrs": {"mxnet_version": ["int", 10901]}}).encode())

    # RecordIO (MXNet 1.9.1 files: raw records incl. a split record, PNG and JPEG image records)
    for f in ("raw.rec", "images_png.rec", "images_jpeg.rec"):
        copy("recordio", "recordio/" + f)

    # CSV (MXNet 1.9.1 fixture files) and corners
    copy("csv", "csv/data.csv")
    copy("csv", "csv/label.csv")
    put("csv", "spaces.csv", b" 1 , 2,3\r\n4,5 ,6\r\n\r\n7,8,9")
    put("csv", "numbers.csv", b"1e38,-1e-38,nan\ninf,-0,0x10\n1.5e+3,+2,.5\n")

    # IDX (MNIST layout): harness input = uint32 LE label-file length, label file, image file
    def idx_input(labels, images):
        return struct.pack("<I", len(labels)) + labels + images
    put("idx", "mnist5x4x4", idx_input(idx_labels(5), idx_images(5, 4, 4)))
    put("idx", "mnist3x2x3", idx_input(idx_labels(3), idx_images(3, 2, 3)))
    put("idx", "mnist4x3x3.gz", idx_input(gzip.compress(idx_labels(4), mtime=0),
                                          gzip.compress(idx_images(4, 3, 3), mtime=0)))

    # images: the PNG/JPEG payloads of the MXNet .rec fixtures (after the 24-byte IRHeader)
    for rec in ("images_png.rec", "images_jpeg.rec"):
        for i, payload in enumerate(records(os.path.join(FIX, "recordio", rec))):
            flag = struct.unpack_from("<I", payload)[0]
            put("image", "%s_%d" % (rec.split(".")[0], i), payload[24 + 4 * flag:])
    rgb = Image.fromarray((np.arange(6 * 5 * 3) * 7 % 256).astype(np.uint8).reshape(6, 5, 3))
    put("image", "grey.png", image_bytes(rgb.convert("L"), "PNG"))
    put("image", "rgba.png", image_bytes(rgb.convert("RGBA"), "PNG"))
    put("image", "palette.png", image_bytes(rgb.convert("P"), "PNG"))
    put("image", "grey16.png", image_bytes(Image.fromarray(np.arange(12, dtype=np.uint16).reshape(3, 4) * 5000), "PNG"))
    put("image", "optimized.png", image_bytes(rgb, "PNG", optimize=True))
    put("image", "grey.jpg", image_bytes(rgb.convert("L"), "JPEG", quality=80))
    put("image", "progressive.jpg", image_bytes(rgb, "JPEG", progressive=True, quality=70))
    put("image", "cmyk.jpg", image_bytes(rgb.convert("CMYK"), "JPEG"))

    # JSON (the core parser): symbol files, hyperparameter objects, escapes and number forms
    copy("json", "module/mlp/mlp-symbol.json")
    put("json", "hparams.json", b'{"learning_rate": 0.1, "wd": 1e-4, "momentum": 0.9, "clip": null, "multi": true}')
    put("json", "escapes.json", '["a\\"b\\\\c\\/d", "\\u00e9\\ud83d\\ude00", "tab\\tnl\\n", "\u00fc"]'.encode())
    put("json", "numbers.json", b"[0, -0, 1.5e300, -2E-308, 123456789012345678, 1e-400, 0.1, -7]")
    put("json", "nested.json", b'{"a": [[[{"b": {}}]], []], "c": false, "d": ""}')


if __name__ == "__main__":
    main()
