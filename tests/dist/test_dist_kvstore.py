"""Every KVStore method of a dist_sync store against numpy, with 1, 2 and 3 workers on mpirun
(tests/dist/worker_kvstore_methods.py holds the checks)."""
import pytest

from dist_helpers import PY, launch

WORKER = "tests/dist/worker_kvstore_methods.py"


@pytest.mark.parametrize("n", [1, 2, 3])
def test_kvstore_methods(n):
    rc, out, _ = launch(n, [PY, WORKER, "dist_sync"])
    assert rc == 0, out
    for r in range(n):
        assert "WORKER-OK %d" % r in out, out


def test_horovod_alias_two_workers():
    rc, out, _ = launch(2, [PY, WORKER, "horovod"])
    assert rc == 0, out
    assert "WORKER-OK 0" in out and "WORKER-OK 1" in out, out
