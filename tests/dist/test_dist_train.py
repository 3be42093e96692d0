"""2 and 3 workers training an MLP and a LeNet with Gluon (imperative and hybridized) and with
Module (dist_sync over MPI) end with the same parameters as one process training on the
concatenated batches, for SGD with momentum and Adam; every worker starts from different random
parameters (broadcast from rank 0). Gradient reduction overlapped with backward gives exactly
the synchronous path's parameters."""
import json

import numpy as np
import pytest

from dist_helpers import PY, check_timeline, launch, run_single

WORKER = "tests/dist/worker_train.py"


def load(prefix, rank):
    with np.load("%s.%d.npz" % (prefix, rank)) as f:
        return {k: f[k] for k in f.files}


def assert_same(got, want, what):
    assert sorted(got) == sorted(want), (what, sorted(got), sorted(want))
    for k in want:
        err = np.max(np.abs(got[k] - want[k]))
        assert err <= 1e-6, "%s: parameter %s differs by %g" % (what, k, err)


# (api, optimizer, workers, update_on_kvstore, model, extra worker flags). The LeNet cases use
# small fusion buckets (several per step) and overlap on, so gradients are reduced while
# backward still runs: imperative Gluon through autograd's per-variable notifications,
# Module through the executor's per-argument ones (hybridized Gluon: the bit-identity test).
CASES = [("gluon", "sgd", 2, None, "mlp", []), ("gluon", "adam", 3, None, "mlp", []),
         ("gluon", "sgd", 3, 0, "mlp", []), ("gluon", "adam", 2, 0, "mlp", []),
         ("module", "sgd", 3, None, "mlp", []), ("module", "adam", 2, None, "mlp", []),
         ("gluon", "adam", 3, None, "lenet", ["--bucket-bytes", "100", "--overlap", "1", "--timeline", "TL"]),
         ("module", "adam", 2, None, "lenet", ["--bucket-bytes", "100", "--overlap", "1"])]
# The module LeNet case also writes a timeline, asked for by MX_KVSTORE_TIMELINE.
ENV_TIMELINE = {("module", "lenet")}


def overlap_stats(prefix, n):
    """rank -> (buckets sent while backward ran, buckets sent, rounds), as the workers saw them."""
    st = {}
    for r in range(n):
        with open("%s.overlap.%d.json" % (prefix, r)) as f:
            d = json.load(f)
        st[r] = (d["buckets_during_backward"], d["buckets_sent"], d["rounds"])
    return st


@pytest.mark.parametrize("api,opt,n,uok,model,flags", CASES)
def test_dist_training_matches_one_process(tmp_path, api, opt, n, uok, model, flags):
    ref, dist = str(tmp_path / "ref"), str(tmp_path / "dist")
    common = ["--api", api, "--opt", opt, "--model", model]
    rc, out, _ = run_single([PY, WORKER] + common + ["--kvstore", "local", "--parts", str(n),
                                                     "--out", ref])
    assert rc == 0, out
    extra = [] if uok is None else ["--update-on-kvstore", str(uok)]
    timeline = str(tmp_path / "trace.json")
    flags = [timeline if f == "TL" else f for f in flags]
    env = {"MX_KVSTORE_TIMELINE": timeline} if (api, model) in ENV_TIMELINE else None
    rc, out, _ = launch(n, [PY, WORKER] + common + extra + flags + ["--out", dist], env=env)
    assert rc == 0, out
    if env or timeline in flags:
        check_timeline(tmp_path, n)
    want = load(ref, 0)
    for r in range(n):
        assert_same(load(dist, r), want, "%s/%s %d workers, rank %d" % (api, opt, n, r))
    # workers started from different parameters (the broadcast made them equal) and training
    # moved the parameters away from where they started
    inits = [load(dist + ".init", r) for r in range(n)]
    assert all(max(np.max(np.abs(i[k] - inits[0][k])) for k in want) > 1e-2 for i in inits[1:])
    assert max(np.max(np.abs(inits[0][k] - want[k])) for k in want) > 1e-3
    if "--bucket-bytes" in flags:
        # 20 steps: the first reduces synchronously and registers the gradients, the other 19
        # send every bucket (several per step) as backward produces its gradients
        for r, (during, sent, rounds) in overlap_stats(dist, n).items():
            assert rounds == 19 and sent > 19 * 2 and during == sent, (r, during, sent, rounds)


@pytest.mark.parametrize("api,uok,hyb", [("gluon", 0, True)])
def test_overlap_is_bit_identical_to_synchronous_reduction(tmp_path, api, uok, hyb):
    """3 workers, LeNet, small buckets: overlap on and off give exactly the same parameters
    (same buckets, same collectives), and only 'on' reduces during backward."""
    got = {}
    for ov in (1, 0):
        out_p = str(tmp_path / ("ov%d" % ov))
        cmd = [PY, WORKER, "--api", api, "--opt", "adam", "--model", "lenet",
               "--bucket-bytes", "100", "--overlap", str(ov), "--out", out_p]
        cmd += ([] if uok is None else ["--update-on-kvstore", str(uok)]) + (["--hybridize"] if hyb else [])
        rc, out, _ = launch(3, cmd)
        assert rc == 0, out
        st = overlap_stats(out_p, 3)
        if ov:
            assert all(s[0] > 19 and s[0] == s[1] and s[2] == 19 for s in st.values()), st
        else:
            assert all(s == (0, 0, 0) for s in st.values()), st
        got[ov] = [load(out_p, r) for r in range(3)]
    for r in range(3):
        for k in got[1][r]:
            assert np.array_equal(got[1][r][k], got[0][r][k]), (api, r, k)


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
