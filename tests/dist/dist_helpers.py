"""Helpers for the dist suite: start a job through mx.tools.launch (so the launcher is tested
too) and collect its output. Jobs run with one CPU thread per worker."""
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PY = sys.executable


def _env(extra=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.join(ROOT, "python") + os.pathsep + env.get("PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = "1"
    env.update(extra or {})
    return env


def launch(n, program, timeout=120, env=None):
    """(returncode, combined output, seconds) of `python -m mx.tools.launch -n n program...`.
    On timeout the launcher gets SIGTERM (which it forwards to mpirun, stopping every worker)
    and the test fails."""
    cmd = [sys.executable, "-m", "mx.tools.launch", "-n", str(n)] + list(program)
    t0 = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=_env(env),
                         cwd=ROOT)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGTERM)
        try:
            out, _ = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
        raise AssertionError("job did not end within %d s:\n%s"
                             % (timeout, out.decode("utf-8", "replace")))
    return p.returncode, out.decode("utf-8", "replace"), time.time() - t0


def run_single(program, timeout=120, env=None):
    t0 = time.time()
    p = subprocess.run(list(program), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       env=_env(env), timeout=timeout, cwd=ROOT)
    return p.returncode, p.stdout.decode("utf-8", "replace"), time.time() - t0


def check_timeline(tmp_path, n, call=("allreduce_grads", "pushpull_grads")):
    """Each rank's Chrome trace (trace.rank<r>.json) is valid JSON with 20 backward passes, 20
    step-time calls (named in `call`), and per step several buckets whose ready/send/done times are ordered; the
    buckets sent during backward became ready inside a backward span (the overlap, visible)."""
    for r in range(n):
        with open(str(tmp_path / ("trace.rank%d.json" % r))) as f:
            ev = json.load(f)["traceEvents"]
        assert all(e["pid"] == r for e in ev)
        spans = lambda name: [e for e in ev if e["ph"] == "X" and e["name"] == name]
        back = spans("backward")
        assert len(back) == 20, (r, len(back))
        calls = [e for e in ev if e["ph"] == "X" and e["name"] in call]
        assert len(calls) == 20, (r, call, len(calls))
        buckets = [e for e in ev if e["ph"] == "X" and e["name"].startswith("bucket ")]
        readies = [e for e in ev if e["ph"] == "i" and e["name"].endswith(" ready")]
        early = [b for b in buckets if b["args"]["sent_during_backward"]]
        overlapped = [b for b in buckets if b["cat"] == "overlap"]  # the other: the registering step's
        assert len(early) > 19 * 2 and len(readies) == len(overlapped), (r, len(buckets), len(early), len(readies))
        for b in buckets:
            a = b["args"]
            assert a["ready_us"] <= a["send_us"] <= a["done_us"] and a["bytes"] > 0 and a["num_keys"] >= 1, b
            assert abs(b["ts"] - a["send_us"]) < 1 and abs(b["ts"] + b["dur"] - a["done_us"]) < 1, b
        for b in early:
            t = b["args"]["ready_us"]
            assert any(s["ts"] <= t <= s["ts"] + s["dur"] for s in back), ("ready outside backward", r, b)
