#!/usr/bin/env python3
"""Turn the wheel pip built into a portable manylinux wheel (`make wheel`).

    python tools/repair_wheel.py RAW_DIR OUT_DIR

auditwheel copies every shared library libmx needs beyond the manylinux baseline (libpng, libjpeg,
libgomp, and the scipy-openblas32 BLAS it was built against; zlib is part of that baseline) into
mx.libs/ inside the wheel, points the rpaths there and retags the wheel, so it loads on systems
that have none of them. Prints the result's tag, size and bundled libraries.
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
    # libmx finds OpenBLAS through an rpath into the scipy_openblas32 package, which does not exist
    # inside the unpacked wheel; auditwheel looks it up on LD_LIBRARY_PATH instead.
    import scipy_openblas32
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = os.pathsep.join(
        [scipy_openblas32.get_lib_dir()] + [p for p in env.get("LD_LIBRARY_PATH", "").split(os.pathsep) if p])
    subprocess.check_call([sys.executable, "-m", "auditwheel", "repair", "-w", out_dir, raw[0]], env=env)
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
