#!/usr/bin/env python3
"""Turn the wheel pip built into a portable manylinux wheel (`make wheel`).

    python tools/repair_wheel.py RAW_DIR OUT_DIR

auditwheel copies every shared library libmx needs beyond the manylinux baseline (libpng, libjpeg,
libgomp; zlib is part of that baseline) into mx.libs/ inside the wheel, points the rpaths there
and retags the wheel.
libscipy_openblas stays out: it comes from the scipy-openblas32 dependency, found through libmx's
rpath $ORIGIN/../scipy_openblas32/lib. Prints the result's tag, size and bundled libraries.
"""
import glob
import os
import subprocess
import sys
import zipfile


def main(raw_dir, out_dir):
    raw = sorted(glob.glob(os.path.join(raw_dir, "mx-*.whl")))
    if len(raw) != 1:
        sys.exit("repair_wheel: expected one mx-*.whl in %s, found %s" % (raw_dir, raw or "none"))
    os.makedirs(out_dir, exist_ok=True)
    before = set(glob.glob(os.path.join(out_dir, "mx-*.whl")))
    print("repair_wheel: auditwheel repair %s" % raw[0], flush=True)
    subprocess.check_call([sys.executable, "-m", "auditwheel", "repair", "--exclude",
                           "libscipy_openblas.so", "-w", out_dir, raw[0]])
    made = sorted(set(glob.glob(os.path.join(out_dir, "mx-*.whl"))) - before) or \
        sorted(glob.glob(os.path.join(out_dir, "mx-*manylinux*.whl")))
    if not made:
        sys.exit("repair_wheel: auditwheel wrote no wheel into %s" % out_dir)
    whl = made[-1]
    with zipfile.ZipFile(whl) as z:
        bundled = sorted(os.path.basename(n) for n in z.namelist() if n.startswith("mx.libs/") and not n.endswith("/"))
    print("repair_wheel: %s (%.1f MB), bundled: %s"
          % (whl, os.path.getsize(whl) / 1e6, ", ".join(bundled) or "nothing"), flush=True)
    subprocess.check_call([sys.executable, "-m", "auditwheel", "show", whl])
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
