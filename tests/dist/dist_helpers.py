"""Helpers for the dist suite: start a job through mx.tools.launch (so the launcher is tested
too) and collect its output. Jobs run with one CPU thread per worker."""
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
