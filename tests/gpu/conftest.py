"""tests/gpu: checks that need a GPU (make test-gpu; not part of make test). run_gpu_tests.py
skips the whole directory with a clear message where no GPU is usable."""
import os

import pytest

import mx

HERE = os.path.dirname(os.path.abspath(__file__))


def pytest_collection_modifyitems(config, items):
    # Session-wide hook: mark only this directory's tests.
    if mx.context.num_gpus() == 0:
        skip = pytest.mark.skip(reason="no GPU")
        for it in items:
            if str(it.fspath).startswith(HERE + os.sep):
                it.add_marker(skip)
