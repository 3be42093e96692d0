"""The ``>>>`` examples in the public docstrings run and print what they claim (doctest)."""
import doctest
import inspect

import numpy as np
import pytest

import mx

from test_docstrings import API  # the public names test_docstrings walks


def _with_examples():
    out = []
    for name, (obj, _) in sorted(API.items()):
        doc = inspect.getdoc(obj) or ""
        if ">>>" in doc:
            out.append((name, obj))
    return out


EXAMPLES = _with_examples()


def test_there_are_examples():
    assert len(EXAMPLES) >= 20


@pytest.mark.parametrize("name,obj", EXAMPLES, ids=[n for n, _ in EXAMPLES])
def test_docstring_example(name, obj, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    mx.random.seed(0)
    np.random.seed(0)
    parser = doctest.DocTestParser()
    test = parser.get_doctest(inspect.getdoc(obj), {"mx": mx, "np": np}, name, None, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    out = []
    runner.run(test, out=out.append)
    assert runner.failures == 0, "".join(out)
