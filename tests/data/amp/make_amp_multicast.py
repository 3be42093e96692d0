"""Makes amp_multicast.json: the output dtypes real MXNet 1.9.1 infers for amp_multicast over
input dtype combinations, with and without cast_narrow (symbolic type inference: MXNet's CPU
build cannot run float16 through MKLDNN here).
Run with /opt/mxnet-venv/bin/python tests/data/amp/make_amp_multicast.py (writes beside itself)."""
import itertools
import json
import os

import mxnet as mx
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DTYPES = ["float32", "float16", "float64", "int32", "uint8"]
cases = []
for n in (1, 2, 3):
    for combo in itertools.product(DTYPES, repeat=n):
        for narrow in (False, True):
            names = ["x%d" % i for i in range(n)]
            sym = mx.sym.amp_multicast(*[mx.sym.var(v) for v in names], num_outputs=n, cast_narrow=narrow)
            _, outs, _ = sym.infer_type(**dict(zip(names, combo)))
            cases.append({"in": list(combo), "cast_narrow": narrow, "out": [np.dtype(o).name for o in outs]})
with open(os.path.join(HERE, "amp_multicast.json"), "w") as f:
    json.dump({"dtypes": cases}, f)
print(len(cases), "cases")
