"""tests/gpu: checks that need a GPU (make test-gpu; not part of make test). run_gpu_tests.py
skips the whole directory with a clear message where no GPU is usable."""
import pytest

import mx


def pytest_collection_modifyitems(config, items):
    if mx.context.num_gpus() == 0:
        skip = pytest.mark.skip(reason="no GPU")
        for it in items:
            it.add_marker(skip)
