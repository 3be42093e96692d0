#!/usr/bin/env bash
# On a GPU machine without the build environment (the device machines): unpack .gpu_bundle/
# (tests/gpu/make_device_bundle.sh made it) and run the GPU checks with that libmx in cffi's ABI
# mode. Output also goes to $OUT/gpu_check.log when OUT is set.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
b=/tmp/mx_gpu_bundle
rm -rf "$b" && mkdir -p "$b/lib" "$b/site"
tar -C "$b/lib" -xJf .gpu_bundle/libs.tar.xz || exit 1
# cffi (ABI mode opens libmx from the header): the machine's own, else the bundled wheels.
python3 -c 'import cffi, pycparser' 2>/dev/null ||
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$b/site" .gpu_bundle/*.whl || exit 1
# cuBLAS 13 for the GPU GEMMs, cuDNN 9 for convolution/pooling/BatchNorm and NCCL for the
# kvstore's GPU reductions: the machine's own pip wheels (nvidia-cublas, nvidia-cudnn-cu13,
# nvidia-nccl-cu13, as PyTorch uses).
cu=$(python3 -c 'import glob, os, nvidia; print(":".join(d for p in nvidia.__path__ for s in ("cu13", "cudnn", "nccl") for d in glob.glob(os.path.join(p, s, "lib"))))' 2>/dev/null || true)
export PYTHONPATH="$b/site:$PWD/python" LD_LIBRARY_PATH="$b/lib${cu:+:$cu}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export MX_LIBRARY="$b/lib/libmx.so" PYTHONUNBUFFERED=1
# `run_from_bundle.sh --bench [run_all.py args]`: the GPU benchmark section (MX vs PyTorch CUDA)
# instead of the tests; results also in $OUT/gpu_bench.json.
if [ "${1:-}" = "--bench" ]; then
  shift
  log=${OUT:-/tmp}/gpu_bench.log
  { nvidia-smi -L; timeout 540 python3 benchmarks/run_all.py --only gpu --rounds 3 --json "${OUT:-/tmp}/gpu_bench.json" "$@"; } 2>&1 | tee "$log"
  exit "${PIPESTATUS[0]}"
fi
log=${OUT:-/tmp}/gpu_check.log
{ nvidia-smi -L; python3 -c 'import numpy, sys; print("python", sys.version.split()[0], "numpy", numpy.__version__)';
  timeout 480 python3 tests/gpu/run_gpu_tests.py "$@"; } 2>&1 | tee "$log"
exit "${PIPESTATUS[0]}"
