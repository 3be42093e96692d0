"""Issue 15: the Python bad-call sweep. Several hundred wrong calls (creation, shapes, dtypes,
ops, indexing, autograd, symbols, executors, iterators, files, threads; tests/python/bad_calls/
cases.py) must each end in a clear error of the expected type with a telling message, or in a
correct value. They run in a few subprocesses; a crash is recorded against the case that was
running (the runner reports each case as it ends), confirmed by re-running that case alone,
and the rest of its batch goes on in a fresh process."""
import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "bad_calls"))
import cases as _cases  # noqa: E402  (the table; importing it runs nothing)

from isolated import ROOT, describe_exit  # noqa: E402

RUNNER = os.path.join(HERE, "bad_calls", "runner.py")
BATCHES = 4
TIMEOUT = 240


def _run(indices):
    """Run cases in one subprocess: ({index: result}, exit description or None)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.join(ROOT, "python") + os.pathsep + os.path.join(HERE, "bad_calls")
    env.setdefault("OMP_NUM_THREADS", "1")
    env["MX_SWEEP_HANG_S"] = str(TIMEOUT - 30)
    try:
        p = subprocess.run([sys.executable, RUNNER, "cases"] + [str(i) for i in indices], capture_output=True,
                           text=True, timeout=TIMEOUT, env=env, cwd=ROOT)
        out, rc, err = p.stdout, p.returncode, p.stderr
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        stacks = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
        rc, err = None, "timed out after %d s; stacks:\n%s" % (TIMEOUT, stacks[-4000:])
    got = {}
    for line in out.splitlines():
        if line.startswith("{"):
            r = json.loads(line)
            got[r["i"]] = r
    exit_desc = None if rc == 0 else ("hang: " + err if rc is None else describe_exit(rc) + ": " + err[-4000:])
    return got, exit_desc


def _sweep():
    n = len(_cases.CASES)
    pending = [list(range(n))[b::BATCHES] for b in range(BATCHES)]
    results = {}
    while pending:
        batch = pending.pop(0)
        got, died = _run(batch)
        results.update(got)
        if died is None:
            continue
        rest = [i for i in batch if i not in got]
        if not rest:
            continue
        culprit = rest[0]  # reports are flushed as cases end: the first unreported one was running
        alone, died_alone = _run([culprit])
        if died_alone is not None and culprit not in alone:
            results[culprit] = {"status": "crash", "detail": died_alone}
        else:
            results[culprit] = alone.get(culprit, {"status": "crash", "detail": died})
            if results[culprit]["status"] == "pass":  # only crashed together with earlier cases
                results[culprit] = {"status": "crash", "detail": "crashed in its batch: " + died}
        if rest[1:]:
            pending.insert(0, rest[1:])
    return results


@pytest.fixture(scope="module")
def sweep():
    return _sweep()


def test_sweep_is_big_enough():
    assert len(_cases.CASES) >= 300
    groups = {c.group for c in _cases.CASES}
    for g in ("creation", "shapes", "dtypes", "ops", "indexing", "autograd", "symbols", "executors",
              "iterators", "files", "threads"):
        assert g in groups, g
    names = [c.name for c in _cases.CASES]
    assert len(set(names)) == len(names), "duplicate case names"


@pytest.mark.parametrize("index", range(len(_cases.CASES)), ids=[c.name for c in _cases.CASES])
def test_bad_call(sweep, index):
    r = sweep.get(index)
    assert r is not None, "case did not run"
    assert r["status"] == "pass", "%s: %s" % (r["status"], r["detail"])
