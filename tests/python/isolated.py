"""Run a snippet in a fresh Python process, so a crash (segfault, SIGFPE, abort) fails the test
that caused it instead of killing the pytest process."""
import os
import signal
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_python(code, timeout=120, env=None):
    """(returncode, stdout, stderr) of `python -c code` with the checkout's python/ first on the
    path. A negative returncode is the signal that killed it."""
    e = dict(os.environ)
    e["PYTHONPATH"] = os.path.join(ROOT, "python") + os.pathsep + e.get("PYTHONPATH", "")
    e.setdefault("OMP_NUM_THREADS", "1")
    e.update(env or {})
    p = subprocess.run([sys.executable, "-X", "faulthandler", "-c", code], capture_output=True, text=True,
                       timeout=timeout, env=e, cwd=ROOT)
    return p.returncode, p.stdout, p.stderr


def describe_exit(rc):
    if rc < 0:
        try:
            return "killed by %s" % signal.Signals(-rc).name
        except ValueError:
            return "killed by signal %d" % -rc
    return "exit status %d" % rc


def check_python(code, timeout=120, env=None):
    """Run code in a subprocess; assert it exits 0 and return its stdout."""
    rc, out, err = run_python(code, timeout, env)
    assert rc == 0, "subprocess %s\n--- code:\n%s\n--- stderr:\n%s" % (describe_exit(rc), code, err[-3000:])
    return out
