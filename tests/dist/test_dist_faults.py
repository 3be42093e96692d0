"""Faults in a dist_sync job end it with clear errors, never a hang."""
import re

from dist_helpers import PY, launch, run_single

WORKER = "tests/dist/worker_fault.py"


def test_killed_worker_stops_the_job():
    rc, out, secs = launch(3, [PY, WORKER, "kill"], timeout=90)
    assert rc != 0, out
    assert secs < 60, (secs, out)
    # mpirun names the dead worker and how it died
    assert re.search(r"rank 1 .*(signal 9|Killed)", out, re.S), out
    assert "WORKER-NOERROR" not in out, out


def test_hanging_worker_times_out_with_a_clear_error():
    rc, out, secs = launch(2, [PY, WORKER, "hang"], timeout=90, env={"MX_KVSTORE_TIMEOUT": "5"})
    assert rc != 0, out
    assert secs < 60, (secs, out)
    assert "WORKER-ERROR 0" in out and "no answer from the other workers after 5 s" in out, out


def error_of(out, rank):
    """The error message a worker printed (lines of two workers may share a line)."""
    m = re.search(r"WORKER-ERROR %d (.*?)(?=WORKER-|\n|$)" % rank, out)
    assert m, out
    return m.group(1)


def test_shape_mismatch_names_the_key_on_every_worker():
    rc, out, _ = launch(2, [PY, WORKER, "shape"], timeout=90)
    assert rc == 0, out
    for r in (0, 1):
        assert "'fc_weight'" in error_of(out, r), out
    assert "(3, 5)" in out and "(3, 4)" in out, out


def test_dtype_mismatch_names_the_key_on_every_worker():
    rc, out, _ = launch(2, [PY, WORKER, "dtype"], timeout=90)
    assert rc == 0, out
    for r in (0, 1):
        assert "'bias'" in error_of(out, r), out
    assert "float64" in out, out


def test_missing_mpi_is_a_clear_error():
    code = ("import mx\ntry:\n    mx.kv.create('dist_sync')\nexcept mx.base.MXNotSupportedError as e:"
            "\n    print('ERR', e)\n")
    rc, out, _ = run_single([PY, "-c", code], env={"MX_MPI_LIBRARY": "/nonexistent/libmpi.so.40"})
    assert rc == 0, out
    assert "ERR" in out and "libmpi" in out and "openmpi-bin" in out, out
