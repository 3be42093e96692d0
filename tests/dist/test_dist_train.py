"""2 and 3 workers training an MLP with Gluon and with Module (dist_sync over MPI) end with the
same parameters as one process training on the concatenated batches, for SGD with momentum
and Adam; every worker starts from different random parameters (broadcast from rank 0)."""
import numpy as np
import pytest

from dist_helpers import PY, launch, run_single

WORKER = "tests/dist/worker_train.py"


def load(prefix, rank):
    with np.load("%s.%d.npz" % (prefix, rank)) as f:
        return {k: f[k] for k in f.files}


def assert_same(got, want, what):
    assert sorted(got) == sorted(want), (what, sorted(got), sorted(want))
    for k in want:
        err = np.max(np.abs(got[k] - want[k]))
        assert err <= 1e-6, "%s: parameter %s differs by %g" % (what, k, err)


CASES = [("gluon", "sgd", 2, None), ("gluon", "adam", 3, None), ("gluon", "sgd", 3, 0),
         ("gluon", "adam", 2, 0), ("module", "sgd", 3, None), ("module", "adam", 2, None)]


@pytest.mark.parametrize("api,opt,n,uok", CASES)
def test_dist_training_matches_one_process(tmp_path, api, opt, n, uok):
    ref, dist = str(tmp_path / "ref"), str(tmp_path / "dist")
    common = ["--api", api, "--opt", opt]
    rc, out, _ = run_single([PY, WORKER] + common + ["--kvstore", "local", "--parts", str(n),
                                                     "--out", ref])
    assert rc == 0, out
    extra = [] if uok is None else ["--update-on-kvstore", str(uok)]
    rc, out, _ = launch(n, [PY, WORKER] + common + extra + ["--out", dist])
    assert rc == 0, out
    want = load(ref, 0)
    for r in range(n):
        assert_same(load(dist, r), want, "%s/%s %d workers, rank %d" % (api, opt, n, r))
    # workers started from different parameters (the broadcast made them equal) and training
    # moved the parameters away from where they started
    inits = [load(dist + ".init", r) for r in range(n)]
    assert all(max(np.max(np.abs(i[k] - inits[0][k])) for k in want) > 1e-2 for i in inits[1:])
    assert max(np.max(np.abs(inits[0][k] - want[k])) for k in want) > 1e-3


def test_rank0_checkpoint_resumes_in_one_process(tmp_path):
    """2 workers train 10 steps (Adam) and rank 0 saves parameters and trainer states; one
    process resumes for steps 10-19 and matches one process training all 20 steps."""
    ref, ck, res = str(tmp_path / "ref"), str(tmp_path / "ck"), str(tmp_path / "res")
    common = ["--api", "gluon", "--opt", "adam"]
    rc, out, _ = launch(2, [PY, WORKER] + common + ["--steps", "10", "--save-at", "10",
                                                     "--out", ck])
    assert rc == 0, out
    rc, out, _ = run_single([PY, WORKER] + common + ["--kvstore", "local", "--parts", "2",
                                                     "--resume", ck, "--start", "10",
                                                     "--out", res])
    assert rc == 0, out
    rc, out, _ = run_single([PY, WORKER] + common + ["--kvstore", "local", "--parts", "2",
                                                     "--out", ref])
    assert rc == 0, out
    assert_same(load(res, 0), load(ref, 0), "resumed from rank-0 checkpoint")
