#!/usr/bin/env python3
"""make test-gpu: the GPU checks of tests/gpu, < 8 minutes on one GPU.

Without a usable GPU (no CUDA build, no driver, no device) it prints why and exits 0: this
target is not part of make test, and a machine without a GPU has nothing to check here."""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    import mx
    from mx import base
    compiled, count, reason = base.ffi.new("int *"), base.ffi.new("int *"), base.ffi.new("const char **")
    base.check_call(base.lib.mx_gpu_status(compiled, count, reason))
    if count[0] == 0:
        print("==== make test-gpu: no GPU: skipped (%s)" % base.ffi.string(reason[0]).decode())
        return 0
    free, total = mx.context.gpu_memory_info(0)
    print("==== make test-gpu: %d GPU(s); gpu(0) has %.1f of %.1f GiB free" % (count[0], free / 2**30, total / 2**30))
    args = [HERE, "-q", "-p", "no:cacheprovider", "-rs"] + sys.argv[1:]
    return pytest.main(args)


if __name__ == "__main__":
    sys.exit(main())
