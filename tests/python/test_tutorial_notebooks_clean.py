"""The tutorial notebooks are committed without outputs (tests/notebooks executes them)."""
import glob
import json
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOTEBOOKS = sorted(glob.glob(os.path.join(ROOT, "docs", "tutorials", "*.ipynb")))


def test_there_are_tutorials():
    assert len(NOTEBOOKS) >= 5


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[os.path.basename(p) for p in NOTEBOOKS])
def test_notebook_is_stripped(path):
    with open(path, encoding="utf-8") as f:
        nb = json.load(f)
    assert nb["nbformat"] == 4
    assert nb["metadata"]["kernelspec"]["name"] in ("python3", "ir")
    for i, cell in enumerate(nb["cells"]):
        assert cell["cell_type"] in ("code", "markdown"), "cell %d" % i
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], "%s: cell %d has outputs; strip them before committing" % (path, i)
            assert cell["execution_count"] is None, "%s: cell %d has an execution count" % (path, i)
