"""Which registered ops have a GPU kernel (registry has_gpu_kernel; needs a CUDA build of libmx).

    PYTHONPATH=python python3 tools/gpu_op_coverage.py [--cpu-only] [--hidden]

Prints the counts and the CPU-only op names (public ones; --hidden adds the _-prefixed ones).
docs/GPU.md quotes its output."""
import argparse

import mx
from mx.ndarray.register import _ops


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hidden", action="store_true", help="include ops whose names start with _")
    args = ap.parse_args()
    if not mx.runtime.Features().is_enabled("CUDA"):
        raise SystemExit("this libmx has no CUDA backend: every op is CPU-only")
    names = [n for n in _ops.list_ops() if args.hidden or not n.startswith("_")]
    gpu = [n for n in names if _ops.op_schema(n)["has_gpu_kernel"]]
    cpu = sorted(set(names) - set(gpu), key=str.lower)
    print("%d ops with a GPU kernel, %d CPU-only%s" % (len(gpu), len(cpu), "" if args.hidden else " (public names)"))
    print("CPU-only:", " ".join(cpu))


if __name__ == "__main__":
    main()
