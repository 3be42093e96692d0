"""Subprocess side of the bad-call sweep: runs the cases whose indices are given on the command
line and prints one JSON line per case as soon as it ends (flushed), so the parent knows which
case a crash interrupted. Usage: python runner.py MODULE I J K ..."""
import importlib
import json
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main():
    import faulthandler
    faulthandler.enable()  # a crash prints the Python stack of the case to stderr
    hang = float(os.environ.get("MX_SWEEP_HANG_S", "0"))
    if hang:
        faulthandler.dump_traceback_later(hang, exit=False)  # a hang prints every thread's stack
    cases = importlib.import_module(sys.argv[1]).CASES
    for i in (int(a) for a in sys.argv[2:]):
        c = cases[i]
        try:
            status, detail = c.run()
        except BaseException as e:  # noqa: BLE001 - a harness bug must not hide the other cases
            status, detail = "fail", "harness error: %s\n%s" % (e, traceback.format_exc()[-1500:])
        sys.stdout.write(json.dumps({"i": i, "name": c.name, "status": status, "detail": detail}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
