"""Optimizers on a kvstore holding a row_sparse weight (a row_sparse Parameter's or Module
weight's home): sgd (with/without momentum) and adam with lazy_update=False move every row
(MXNet's standard update), with lazy_update=True only the pushed rows. Reference: MXNet 1.9.1
(tests/data/sparse/make_kvstore_rsp_weight_fixtures.py)."""
import json
import os
import sys

import numpy as np
import pytest

import mx

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "sparse")
sys.path.insert(0, DATA)
from make_kvstore_rsp_weight_fixtures import CASES, COLS, ROWS  # noqa: E402

VEC = np.load(os.path.join(DATA, "kvstore_rsp_weight_vectors.npz"))


@pytest.mark.parametrize("k", range(len(CASES)))
def test_optimizer_on_kvstore_held_row_sparse_weight(k):
    opt, kw = CASES[k]
    assert (str(VEC["%d/opt" % k]), json.loads(str(VEC["%d/kwargs" % k]))) == (opt, kw)
    kv = mx.kv.create("local")
    kv.set_optimizer(mx.optimizer.create(opt, **kw))
    kv.init("emb", mx.nd.array(VEC["%d/w0" % k]).tostype("row_sparse"))
    for step in range(3):
        kv.push("emb", mx.nd.array(VEC["%d/g%d" % (k, step)]).tostype("row_sparse"))
        out = mx.nd.sparse.zeros("row_sparse", (ROWS, COLS))
        kv.row_sparse_pull("emb", out=out, row_ids=mx.nd.arange(0, ROWS, dtype="int64"))
        np.testing.assert_allclose(out.asnumpy(), VEC["%d/w%d" % (k, step + 1)], rtol=1e-5, atol=1e-6,
                                   err_msg="%s %s step %d" % (opt, kw, step))
