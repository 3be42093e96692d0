"""Make image lists and RecordIO files (MXNet's tools/im2rec.py).

    python -m mx.tools.im2rec --list [--recursive] PREFIX ROOT     # ROOT's images -> PREFIX.lst
    python -m mx.tools.im2rec [--resize N] [--quality Q] PREFIX ROOT  # PREFIX.lst -> PREFIX.rec/.idx

A .lst file has one line per image: index<TAB>label[<TAB>label...]<TAB>path relative to ROOT.
With --recursive every sub-folder of ROOT is one class (labels 0, 1, ... in sorted order).
"""
import argparse
import os
import random
import sys

import numpy as np

from .. import recordio
from ..base import check_call, ffi, lib

EXTS = (".jpeg", ".jpg", ".png")


def list_image(root, recursive, exts):
    """Yield (index, relative path, label) for the images under root."""
    i = 0
    if recursive:
        cat = {}
        for path, dirs, files in os.walk(root, followlinks=True):
            dirs.sort()
            for fname in sorted(files):
                fpath = os.path.join(path, fname)
                if os.path.isfile(fpath) and os.path.splitext(fname)[1].lower() in exts:
                    folder = os.path.relpath(path, root)
                    if folder not in cat:
                        cat[folder] = len(cat)
                    yield i, os.path.relpath(fpath, root), cat[folder]
                    i += 1
    else:
        for fname in sorted(os.listdir(root)):
            fpath = os.path.join(root, fname)
            if os.path.isfile(fpath) and os.path.splitext(fname)[1].lower() in exts:
                yield i, os.path.relpath(fpath, root), 0
                i += 1


def write_list(path_out, image_list):
    with open(path_out, "w", encoding="utf-8") as fout:
        for idx, rel, label in image_list:
            labels = label if isinstance(label, (list, tuple)) else [label]
            fout.write("%d\t%s\t%s\n" % (idx, "\t".join("%f" % float(l) for l in labels), rel))


def make_list(args):
    image_list = list(list_image(args.root, args.recursive, tuple(e.lower() for e in args.exts)))
    if args.shuffle:
        random.seed(100)
        random.shuffle(image_list)
    n = len(image_list)
    chunk = (n + args.chunks - 1) // args.chunks if n else 0
    written = []
    for c in range(args.chunks):
        part = image_list[c * chunk:(c + 1) * chunk]
        suffix = "_%d" % c if args.chunks > 1 else ""
        n_test = int(len(part) * args.test_ratio)
        n_train = int(len(part) * args.train_ratio)
        if args.test_ratio:
            write_list(args.prefix + suffix + "_test.lst", part[:n_test])
            written.append(args.prefix + suffix + "_test.lst")
        if args.train_ratio + args.test_ratio < 1.0:
            write_list(args.prefix + suffix + "_val.lst", part[n_test + n_train:])
            written.append(args.prefix + suffix + "_val.lst")
        name = args.prefix + suffix + ("_train.lst" if args.test_ratio or args.train_ratio < 1.0 else ".lst")
        write_list(name, part[n_test:n_test + n_train])
        written.append(name)
    return written


def read_list(path_in):
    with open(path_in, encoding="utf-8") as fin:
        for lineno, line in enumerate(fin, 1):
            line = line.strip()
            if not line:
                continue
            parts = [p for p in line.split("\t")]
            if len(parts) < 3:
                raise ValueError("im2rec: '%s' line %d: expected index<TAB>label(s)<TAB>path, got %r"
                                 % (path_in, lineno, line[:100]))
            try:
                yield int(float(parts[0])), [float(x) for x in parts[1:-1]], parts[-1]
            except ValueError:
                raise ValueError("im2rec: '%s' line %d: bad index or label in %r" % (path_in, lineno, line[:100])) from None


def _decode(buf, color):
    out = ffi.new("mx_ndarray_t *")
    check_call(lib.mx_image_decode(ffi.from_buffer(buf), len(buf), {1: 3, 0: 1, -1: 0}[color], 1, out))
    from ..ndarray.ndarray import _wrap
    return _wrap(out[0])


def _resize(arr, h, w):
    out = ffi.new("mx_ndarray_t *")
    check_call(lib.mx_image_resize(arr.handle, int(h), int(w), out))
    from ..ndarray.ndarray import _wrap
    return _wrap(out[0])


def image_record(args, root, idx, labels, rel):
    """The packed record for one .lst entry."""
    fullpath = os.path.join(root, rel)
    header = recordio.IRHeader(0, labels[0] if len(labels) == 1 and not args.pack_label_array else labels, idx, 0)
    with open(fullpath, "rb") as f:
        raw = f.read()
    if args.pass_through:
        return recordio.pack(header, raw)
    img = _decode(raw, args.color)
    h, w = img.shape[:2]
    if args.center_crop and h != w:
        s = min(h, w)
        y0, x0 = (h - s) // 2, (w - s) // 2
        a = img.asnumpy()[y0:y0 + s, x0:x0 + s]
        from ..ndarray import array
        img = array(np.ascontiguousarray(a), dtype=np.uint8)
        h, w = s, s
    if args.resize:
        if h > w:
            nw, nh = args.resize, h * args.resize // w
        else:
            nh, nw = args.resize, w * args.resize // h
        img = _resize(img, nh, nw)
    return recordio.pack_img(header, img.asnumpy(), quality=args.quality, img_fmt=args.encoding)


def pack(args, lst):
    prefix = os.path.splitext(lst)[0]
    rec = recordio.MXIndexedRecordIO(prefix + ".idx", prefix + ".rec", "w")
    count = 0
    try:
        for idx, labels, rel in read_list(lst):
            rec.write_idx(idx, image_record(args, args.root, idx, labels, rel))
            count += 1
    finally:
        rec.close()
    return prefix + ".rec", count


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Create an image list or a RecordIO file (MXNet's im2rec).",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("prefix", help="prefix of the .lst/.rec files, or a .lst file")
    p.add_argument("root", help="folder holding the images")
    g = p.add_argument_group("list options")
    g.add_argument("--list", action="store_true", help="make a .lst file instead of a .rec")
    g.add_argument("--exts", nargs="+", default=list(EXTS), help="image extensions")
    g.add_argument("--chunks", type=int, default=1)
    g.add_argument("--train-ratio", type=float, default=1.0)
    g.add_argument("--test-ratio", type=float, default=0.0)
    g.add_argument("--recursive", action="store_true", help="each sub-folder is a class")
    g.add_argument("--no-shuffle", dest="shuffle", action="store_false", help="keep the sorted order")
    g = p.add_argument_group("pack options")
    g.add_argument("--pass-through", action="store_true", help="store the files' bytes unchanged")
    g.add_argument("--resize", type=int, default=0, help="resize the shorter edge to this size")
    g.add_argument("--center-crop", action="store_true", help="crop the centre square first")
    g.add_argument("--quality", type=int, default=95, help="JPEG quality (1-100)")
    g.add_argument("--encoding", default=".jpg", choices=[".jpg", ".png"])
    g.add_argument("--color", type=int, default=1, choices=[-1, 0, 1], help="1 colour, 0 grey, -1 as stored")
    g.add_argument("--pack-label", dest="pack_label_array", action="store_true",
                   help="always store labels as a float array (flag > 0)")
    g.add_argument("--num-thread", type=int, default=1, help="accepted for compatibility")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    args.root = os.path.abspath(args.root)
    if args.list:
        for f in make_list(args):
            print("wrote %s" % f)
        return 0
    if os.path.isfile(args.prefix) and args.prefix.endswith(".lst"):
        lsts = [args.prefix]
    else:
        d = os.path.dirname(args.prefix) or "."
        base = os.path.basename(args.prefix)
        lsts = sorted(os.path.join(d, f) for f in os.listdir(d) if f.startswith(base) and f.endswith(".lst"))
    if not lsts:
        print("im2rec: no .lst file matches '%s'" % args.prefix, file=sys.stderr)
        return 1
    for lst in lsts:
        out, n = pack(args, lst)
        print("wrote %s (%d records)" % (out, n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
