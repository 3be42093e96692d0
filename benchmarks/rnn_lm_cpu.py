"""LSTM/GRU language-model training step on the CPU (benchmarks/lm_model.py: T=35, N=64, emb 256,
H=512, 2 layers, V=1000) for CPU-time A/B runs of one framework: prints the median CPU time per
step (process_time) over `reps` steps after two warm-up steps. argv: fw (mx|torch) cell (lstm|gru)
reps. Run it at one thread (OMP_NUM_THREADS=1 MX_NUM_THREADS=1, PYTHONPATH=python for mx),
frameworks or libraries (MX_LIBRARY) alternating."""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lm_model import gluon_lm_step, torch_lm_step  # noqa: E402

fw, cell, reps = sys.argv[1], sys.argv[2], int(sys.argv[3])
if fw == "mx":
    import mx
    train = gluon_lm_step(mx, cell)

    def step():
        train()
        mx.nd.waitall()
else:
    import torch
    torch.set_num_threads(1)
    step = torch_lm_step(cell)
for _ in range(2):
    step()
ts = []
for _ in range(reps):
    t0 = time.process_time()
    step()
    ts.append(time.process_time() - t0)
print("%s %s %.4f" % (fw, cell, float(np.median(ts))))
