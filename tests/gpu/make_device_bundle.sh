#!/usr/bin/env bash
# Packs what `make test-gpu` needs on a GPU machine that has no package registry and another
# Python (the device machines: Python 3.12 with numpy and pytest, no build dependencies) into
# .gpu_bundle/ (git-ignored, a few MB): the libmx.so that `make build` made here (a CUDA build),
# the shared libraries it links that such a machine may lack, and the cffi wheel for Python 3.12.
# Usage (repo root, after `make deps build`): tests/gpu/make_device_bundle.sh
# Then on the GPU machine, in the repo root: see /work/notes/cuda-gpu-check.md or
#   tests/gpu/run_from_bundle.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
lib=${MX_LIBRARY:-python/mx/libmx.so}
[ -f "$lib" ] || { echo "make_device_bundle: $lib missing: run make build first" >&2; exit 1; }
python3 - "$lib" <<'PY'
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
c, n, r = ctypes.c_int(), ctypes.c_int(), ctypes.c_char_p()
lib.mx_gpu_status(ctypes.byref(c), ctypes.byref(n), ctypes.byref(r))
if not c.value:
    sys.exit("make_device_bundle: %s has no CUDA backend (%s)" % (sys.argv[1], r.value.decode()))
PY
rm -rf .gpu_bundle && mkdir -p .gpu_bundle/stage
cp "$lib" .gpu_bundle/stage/libmx.so
# The libraries libmx resolves outside glibc/libstdc++ (OpenBLAS of the scipy-openblas32 wheel,
# the image codecs, OpenMP).
ldd "$lib" | awk '/=> \// {print $3}' | grep -E 'openblas|png|jpeg|gomp|libz\.' | while read -r so; do
  cp -L "$so" .gpu_bundle/stage/
done
tar -C .gpu_bundle/stage -cJf .gpu_bundle/libs.tar.xz .
rm -rf .gpu_bundle/stage
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .gpu_bundle "cffi>=1.17" pycparser
du -sh .gpu_bundle; ls -la .gpu_bundle
