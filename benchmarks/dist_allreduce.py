"""Allreduce of float32 buffers between local processes: MX's dist_sync kvstore (pushpull in
place) against mpi4py's Allreduce and torch.distributed (gloo), alternating in one job so the
three see the same machine state. Run it through the launcher:

    python -m mx.tools.launch -n 2 python benchmarks/dist_allreduce.py [--sizes-mb 1 100]

Rank 0 prints one JSON line per size: median milliseconds per allreduce for each library and
MX's ratio to the best of the others (>= 1 means MX is at least as fast). MX is timed twice:
`kv.pushpull` in place (MXNet's semantics: the store keeps a copy of the sum, which costs a copy
of the buffer) and `kv.allreduce` (Horovod's in-place allreduce, what gluon.Trainer calls when it
updates its own weights: no store copy)."""
import argparse
import json
import os
import time

import numpy as np

p = argparse.ArgumentParser()
p.add_argument("--sizes-mb", type=float, nargs="+", default=[1, 100])
p.add_argument("--reps", type=int, default=10)
a = p.parse_args()

try:
    from mpi4py import MPI  # initialises MPI first; MX then shares it
except ImportError:
    MPI = None
import mx
from mx import nd

kv = mx.kv.create("dist_sync")
rank, size = kv.rank, kv.num_workers

tdist = None
try:
    import torch
    import torch.distributed as tdist
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29533")
    tdist.init_process_group("gloo", rank=rank, world_size=size)
except Exception as e:  # noqa: BLE001 - report and go on without torch
    if rank == 0:
        print("torch.distributed unavailable: %s" % e)
    tdist = None


def timed(fn, reps):
    fn()  # warm-up (allocations, connections)
    kv.barrier()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts)) * 1e3


for mb in a.sizes_mb:
    n = int(mb * (1 << 20) // 4)
    x = np.ones(n, np.float32)
    reps = a.reps if mb < 50 else max(3, a.reps // 3)
    res = {"size_mb": mb, "workers": size, "reps": reps}
    arr = nd.array(x)
    key = "b%g" % mb
    kv.init(key, nd.zeros((n,)))
    for round_ in range(2):  # alternate the libraries twice, keep each one's best median
        ms = timed(lambda: kv.pushpull(key, arr), reps)
        res["mx_ms"] = min(res.get("mx_ms", 1e9), ms)
        ms = timed(lambda: kv.allreduce(key, arr), reps)
        res["mx_allreduce_ms"] = min(res.get("mx_allreduce_ms", 1e9), ms)
        if MPI is not None:
            buf = x.copy()
            ms = timed(lambda: MPI.COMM_WORLD.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM), reps)
            res["mpi4py_ms"] = min(res.get("mpi4py_ms", 1e9), ms)
        if tdist is not None:
            t = torch.from_numpy(x.copy())
            ms = timed(lambda: tdist.all_reduce(t), reps)
            res["torch_gloo_ms"] = min(res.get("torch_gloo_ms", 1e9), ms)
    others = [v for k, v in res.items() if k in ("mpi4py_ms", "torch_gloo_ms")]
    if others:
        res["mx_speed_vs_best"] = round(min(others) / res["mx_ms"], 3)
        res["mx_allreduce_speed_vs_best"] = round(min(others) / res["mx_allreduce_ms"], 3)
    if rank == 0:
        print(json.dumps(res), flush=True)
kv.barrier()
if tdist is not None:
    tdist.destroy_process_group()
