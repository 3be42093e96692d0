#!/usr/bin/env python3
"""Measure how much of Apache MXNet 1.9.1's own Python unit-test suite passes against MX.

MXNet's tests are read from a directory given on the command line (they are never copied into
this repository). Each test file runs in its own pytest process with:
  - an `mxnet` -> `mx` import alias (a tiny `mxnet` package that installs an import hook, so
    `import mxnet.ndarray` yields the very module `mx.ndarray`; `--target mxnet` leaves the real
    MXNet alone to measure the denominator),
  - a minimal `nose` shim (MXNet 1.x's common.py imports nose.tools; pytest runs the tests),
  - a per-test timeout (SIGALRM) and a per-file wall-clock limit (the process is killed),
  - results streamed to a JSON-lines file, so a crash mid-file still leaves the counts so far.

Usage:
  python3 tools/mxnet_compat/run_mxnet_unittests.py /work/mxnet-1.9.1-tests/tests/python/unittest
  python3 tools/mxnet_compat/run_mxnet_unittests.py DIR --target mxnet --python /opt/mxnet-venv/bin/python
  ... --files ndarray,autograd --timeout 60 --json out.json --reasons 20
"""
import argparse
import collections
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

# The files named by issue 11 (MXNet's tests for the 1.x API surface MX follows).
DEFAULT_FILES = ["ndarray", "autograd", "operator", "symbol", "executor", "module", "gluon",
                 "gluon_trainer", "rnn", "gluon_rnn", "gluon_data", "io", "init", "loss", "metric",
                 "optimizer", "random", "kvstore", "recordio", "dlpack"]

ALIAS_PACKAGE = '''"""`import mxnet` gives MX: every `mxnet.X` is the module `mx.X` (same object)."""
import importlib
import importlib.abc
import importlib.util
import sys


class _MxnetAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path, target=None):
        if fullname.startswith("mxnet."):
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        return importlib.import_module("mx" + spec.name[len("mxnet"):])

    def exec_module(self, module):
        pass


sys.meta_path.insert(0, _MxnetAlias())
import mx  # noqa: E402
sys.modules["mxnet"] = mx
'''

NOSE_INIT = '''"""Just enough of nose for MXNet 1.x's test helpers (pytest runs the tests)."""
import unittest
SkipTest = unittest.SkipTest


def runmodule(*args, **kwargs):
    raise SystemExit("nose.runmodule is not available under this harness")
'''

NOSE_TOOLS = '''import functools
import unittest

_tc = unittest.TestCase("__init__")
assert_raises = _tc.assertRaises
assert_equal = _tc.assertEqual
assert_true = _tc.assertTrue
assert_false = _tc.assertFalse
assert_almost_equal = _tc.assertAlmostEqual


def ok_(expr, msg=None):
    if not expr:
        raise AssertionError(msg)


def eq_(a, b, msg=None):
    if not a == b:
        raise AssertionError(msg or "%r != %r" % (a, b))


def make_decorator(func):
    def decorate(newfunc):
        newfunc = functools.wraps(func)(newfunc)
        return newfunc
    return decorate


def raises(*exceptions):
    def decorate(func):
        @functools.wraps(func)
        def newfunc(*args, **kwargs):
            try:
                func(*args, **kwargs)
            except exceptions:
                return
            raise AssertionError("%s did not raise %s" % (func.__name__, exceptions))
        return newfunc
    return decorate
'''

PLUGIN = '''"""pytest plugin: per-test timeout and streamed results (MXCOMPAT_RESULTS, MXCOMPAT_TIMEOUT)."""
import json
import os
import signal

import pytest

_OUT = os.environ["MXCOMPAT_RESULTS"]
_TIMEOUT = float(os.environ.get("MXCOMPAT_TIMEOUT", "60"))


class TestTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise TestTimeout("test exceeded %.0f s" % _TIMEOUT)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    with open(_OUT, "a") as f:
        f.write(json.dumps({"start": item.nodeid}) + "\\n")
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, _TIMEOUT)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _reason(report):
    lr = report.longrepr
    if lr is None:
        return ""
    crash = getattr(lr, "reprcrash", None)
    if crash is not None:
        return crash.message.splitlines()[0][:300] if crash.message else ""
    if isinstance(lr, tuple):  # skip: (file, line, reason)
        return str(lr[-1])[:300]
    return str(lr).strip().splitlines()[-1][:300] if str(lr).strip() else ""


def pytest_runtest_logreport(report):
    if report.when == "call" or report.outcome != "passed":
        with open(_OUT, "a") as f:
            f.write(json.dumps({"id": report.nodeid, "when": report.when, "outcome": report.outcome,
                                "reason": _reason(report)}) + "\\n")


def pytest_collectreport(report):
    if report.outcome == "failed":
        with open(_OUT, "a") as f:
            f.write(json.dumps({"collect_error": report.nodeid, "reason": _reason(report)}) + "\\n")
'''


def make_shims(target, python):
    d = tempfile.mkdtemp(prefix="mxcompat_")
    os.makedirs(os.path.join(d, "nose"))
    with open(os.path.join(d, "nose", "__init__.py"), "w") as f:
        f.write(NOSE_INIT)
    with open(os.path.join(d, "nose", "tools.py"), "w") as f:
        f.write(NOSE_TOOLS)
    with open(os.path.join(d, "mxcompat_plugin.py"), "w") as f:
        f.write(PLUGIN)
    with open(os.path.join(d, "pytest.ini"), "w") as f:
        f.write("[pytest]\n")
    if target == "mx":
        os.makedirs(os.path.join(d, "mxnet"))
        with open(os.path.join(d, "mxnet", "__init__.py"), "w") as f:
            f.write(ALIAS_PACKAGE)
    # An interpreter without pytest (the reference venv) borrows this interpreter's copy.
    if subprocess.call([python, "-c", "import pytest"], stderr=subprocess.DEVNULL) != 0:
        import pytest
        site = os.path.dirname(os.path.dirname(pytest.__file__))
        for name in ("pytest", "_pytest", "pluggy", "iniconfig", "packaging", "pygments", "py.py"):
            src = os.path.join(site, name)
            if os.path.exists(src):
                os.symlink(src, os.path.join(d, name))
    return d


def run_file(path, shim, args):
    results = os.path.join(shim, "results_%s.jsonl" % os.path.basename(path))
    if os.path.exists(results):
        os.remove(results)
    env = dict(os.environ)
    pp = [shim] + ([args.mx_path] if args.target == "mx" else []) + list(args.extra_path)
    if env.get("PYTHONPATH") and args.target == "mx":
        pp.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(pp)
    env["MXCOMPAT_RESULTS"] = results
    env["MXCOMPAT_TIMEOUT"] = str(args.timeout)
    env.setdefault("OMP_NUM_THREADS", "1")
    cmd = ["nice", "-n", "10", args.python, "-m", "pytest", path, "-q", "-p", "no:cacheprovider",
           "-p", "mxcompat_plugin", "-c", os.path.join(shim, "pytest.ini"), "--rootdir", shim,
           "-o", "python_files=test_*.py", "--tb=no", "-W", "ignore::DeprecationWarning"]
    if args.k:
        cmd += ["-k", args.k]
    t0 = time.time()
    killed = False
    log = open(os.path.join(shim, "log_%s.txt" % os.path.basename(path)), "w")
    try:
        proc = subprocess.run(cmd, cwd=os.path.dirname(path), env=env, stdout=log, stderr=subprocess.STDOUT,
                              timeout=args.file_timeout)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        rc, killed = "killed", True
    log.close()
    r = parse(results, rc, killed, time.time() - t0)
    r["log"] = log.name
    return r


def parse(results, rc, killed, seconds):
    started, outcomes, reasons, collect = [], {}, {}, []
    if os.path.exists(results):
        with open(results) as f:
            for line in f:
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                if "start" in r:
                    started.append(r["start"])
                elif "collect_error" in r:
                    collect.append(r["reason"])
                else:
                    prev = outcomes.get(r["id"])
                    # a teardown error after a pass makes the test an error; keep the worst
                    if prev in (None, "passed") or r["outcome"] == "failed" and prev == "skipped":
                        outcomes[r["id"]] = "error" if (r["when"] != "call" and r["outcome"] == "failed") \
                            else r["outcome"]
                        if r["outcome"] != "passed":
                            reasons[r["id"]] = r["reason"]
    crashed = None
    if started and started[-1] not in outcomes and (killed or rc not in (0, 1, 5)):
        crashed = started[-1]
        outcomes[crashed] = "crashed"
        reasons[crashed] = "process %s during this test" % ("killed (file time limit)" if killed else
                                                           "exited with status %s" % rc)
    c = collections.Counter(outcomes.values())
    return {"passed": c["passed"], "failed": c["failed"], "error": c["error"], "skipped": c["skipped"],
            "crashed": c["crashed"], "collect_errors": collect, "rc": rc, "seconds": round(seconds, 1),
            "outcomes": outcomes, "reasons": reasons}


def normalise(reason):
    """Group similar failure messages: numbers and quoted values vary between tests."""
    r = re.sub(r"0x[0-9a-f]+", "0x?", reason)
    r = re.sub(r"\(\d+(, *\d+)*,?\)", "(shape)", r)
    r = re.sub(r"\b\d+(\.\d+)?(e-?\d+)?\b", "N", r)
    return r[:160]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tests_dir", help="MXNet's tests/python/unittest directory")
    ap.add_argument("--target", choices=["mx", "mxnet"], default="mx")
    ap.add_argument("--python", default=sys.executable, help="interpreter that runs pytest")
    ap.add_argument("--mx-path", default=os.path.join(REPO, "python"), help="directory holding the mx package")
    ap.add_argument("--extra-path", action="append", default=[],
                    help="more import directories (e.g. scipy for the reference venv, installed with "
                         "pip install --target DIR scipy==1.10.1)")
    ap.add_argument("--files", default=",".join(DEFAULT_FILES), help="comma-separated names (test_X.py)")
    ap.add_argument("--timeout", type=float, default=60, help="seconds per test")
    ap.add_argument("--file-timeout", type=float, default=1800, help="seconds per test file")
    ap.add_argument("-k", default=None, help="pytest -k expression")
    ap.add_argument("--json", default=None, help="write all outcomes and reasons here")
    ap.add_argument("--reasons", type=int, default=0, help="print the N most common failure reasons")
    args = ap.parse_args()

    shim = make_shims(args.target, args.python)
    files = [f.strip() for f in args.files.split(",") if f.strip()]
    total = collections.Counter()
    report = {}
    print("%-16s %6s %6s %6s %6s %6s %7s" % ("file", "pass", "fail", "error", "skip", "crash", "secs"), flush=True)
    for name in files:
        path = os.path.join(os.path.abspath(args.tests_dir), "test_%s.py" % name)
        if not os.path.exists(path):
            print("%-16s missing" % name)
            continue
        r = run_file(path, shim, args)
        report[name] = r
        for k in ("passed", "failed", "error", "skipped", "crashed"):
            total[k] += r[k]
        note = ""
        if r["collect_errors"]:
            note = "  import error: %s" % r["collect_errors"][0][:100]
        elif not r["outcomes"] and r["rc"] not in (0, 5):
            note = "  no results (rc %s), see %s" % (r["rc"], r["log"])
        print("%-16s %6d %6d %6d %6d %6d %7.0f%s" % (name, r["passed"], r["failed"], r["error"], r["skipped"],
                                                     r["crashed"], r["seconds"], note), flush=True)
    print("%-16s %6d %6d %6d %6d %6d" % ("TOTAL", total["passed"], total["failed"], total["error"],
                                         total["skipped"], total["crashed"]))
    print("(logs in %s)" % shim)
    if args.reasons:
        c = collections.Counter()
        for r in report.values():
            for reason in list(r["reasons"].values()) + r["collect_errors"]:
                c[normalise(reason)] += 1
        print("\nmost common failure reasons:")
        for reason, n in c.most_common(args.reasons):
            print("%5d  %s" % (n, reason))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"target": args.target, "files": report}, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
