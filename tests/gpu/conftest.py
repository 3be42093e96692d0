"""tests/gpu: checks that need a GPU (make test-gpu; not part of make test). run_gpu_tests.py
skips the whole directory with a clear message where no GPU is usable."""
import os

import pytest

import mx

HERE = os.path.dirname(os.path.abspath(__file__))

# MX_GPU_TESTS_ON_CPU=1: run the test bodies with gpu(0) replaced by cpu(0) (machines without a
# GPU check the tests' own code this way; the kernels compared are then both the CPU's). Only
# tests comparing GPU to CPU results make sense so: run the files named in docs/GPU.md.
if os.environ.get("MX_GPU_TESTS_ON_CPU") == "1" and mx.context.num_gpus() == 0:
    mx.gpu = lambda device_id=0: mx.cpu(device_id)
    mx.context.gpu = mx.gpu
    mx.context.num_gpus = lambda: 1


def pytest_collection_modifyitems(config, items):
    # Session-wide hook: mark only this directory's tests.
    if mx.context.num_gpus() == 0:
        skip = pytest.mark.skip(reason="no GPU")
        for it in items:
            if str(it.fspath).startswith(HERE + os.sep):
                it.add_marker(skip)
