"""Shared pytest setup for tests/python.

- `import mx` resolves to the checkout's python/ (the in-place build of `make build`), so plain
  `pytest tests/python` works without PYTHONPATH. Set MX_TEST_INSTALLED=1 to test the installed
  package instead (e.g. a wheel in a fresh venv); MX_LIBRARY still selects another libmx build.
- Every test starts from the same random state (numpy and the core's Philox generator).
"""
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PYTHON_DIR = os.path.join(ROOT, "python")

if not os.environ.get("MX_TEST_INSTALLED") and PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)

SEED = 1234


def _seed_everything(seed):
    import numpy as np
    np.random.seed(seed)
    import mx
    mx.base.check_call(mx.base.lib.mx_random_seed(seed, -1))


@pytest.fixture(autouse=True)
def seed():
    """The fixed seed every test starts from (numpy's global RNG and MX's generator for all
    devices). Request it by name to know the value or to reseed."""
    _seed_everything(SEED)
    return SEED


@pytest.fixture
def repo_root():
    return ROOT


def pytest_unconfigure(config):
    """Under make test-asan (MX_LEAK_CHECK=1), LeakSanitizer looks for leaks at exit, and Python
    does not free what modules still hold then. Drop the test modules' globals (module-level
    arrays, symbols, cases) and collect, so that only handles nobody holds are reported."""
    if not os.environ.get("MX_LEAK_CHECK"):
        return
    import gc
    tests_dir = os.path.dirname(os.path.abspath(__file__))
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None) or ""
        if path.startswith(tests_dir) and module is not sys.modules.get(__name__):
            module.__dict__.clear()
    gc.collect()
