"""Context managers that switch a setting for the length of a test block and restore it after."""
import contextlib
import os

import mx


@contextlib.contextmanager
def env(name, value):
    """Environment variable `name` set to `value` inside the block."""
    prev = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if prev is None:
            del os.environ[name]
        else:
            os.environ[name] = prev


@contextlib.contextmanager
def onednn(on):
    """oneDNN switched on/off inside the block (a build without oneDNN runs MX's kernels anyway)."""
    if not mx.runtime.onednn_status()[0]:
        yield
        return
    prev = mx.runtime.set_onednn_enabled(on)
    try:
        yield
    finally:
        mx.runtime.set_onednn_enabled(prev)
