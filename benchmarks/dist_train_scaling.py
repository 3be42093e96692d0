"""Data-parallel training throughput, 1 -> 2 processes with one thread each (weak scaling: each
worker trains a batch of --batch samples per step), Gluon + kvstore 'dist_sync'.

    python benchmarks/dist_train_scaling.py [--model mlp|lenet] [--steps 30] [--workers 1 2]
        [--overlap both|on|off] [--bucket-mb 25] [--update-on-kvstore 0|1] [--timeline DIR]

Prints one JSON line per worker count and overlap setting (samples/s over all workers, ms per
step, the time spent in trainer.step = what is left of the gradient reduction + update) and the
scaling efficiency throughput(N) / (N * throughput(1)). "overlap on" reduces gradients while
backward runs (kv.set_overlap), "off" only in trainer.step; --overlap both runs each, alternating
(the difference in ms per step is what overlapping saves). Re-launches itself through
mx.tools.launch."""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def worker(a):
    import numpy as np
    import mx
    from mx import autograd, gluon, nd
    mx.random.seed(0)
    net = gluon.nn.HybridSequential()
    if a.model == "mlp":
        net.add(gluon.nn.Dense(512, activation="relu"), gluon.nn.Dense(512, activation="relu"),
                gluon.nn.Dense(10))
        shape = (a.batch, 784)
    else:
        net.add(gluon.nn.Conv2D(20, 5, activation="tanh"), gluon.nn.MaxPool2D(2, 2),
                gluon.nn.Conv2D(50, 5, activation="tanh"), gluon.nn.MaxPool2D(2, 2),
                gluon.nn.Flatten(), gluon.nn.Dense(500, activation="tanh"), gluon.nn.Dense(10))
        shape = (a.batch, 1, 28, 28)
    net.initialize(mx.init.Xavier())
    net.hybridize()
    x = nd.array(np.random.RandomState(1).uniform(-1, 1, shape).astype(np.float32))
    y = nd.array(np.random.RandomState(2).randint(0, 10, a.batch).astype(np.float32))
    net(x)  # shapes known before the Trainer broadcasts the parameters
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.01, "momentum": 0.9},
                            kvstore="dist_sync", update_on_kvstore=bool(a.update_on_kvstore))
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    kv = trainer._kvstore
    kv.set_overlap(a.overlap == "on")
    kv.set_bucket_size(int(a.bucket_mb * (1 << 20)))
    if a.timeline:  # one Chrome trace per rank (<name>.rank<r>.json), merged by main()
        kv.set_timeline(a.timeline)
    step_t = 0.0
    for i in range(a.steps + 3):
        if i == 3:  # warm-up done
            kv.barrier()
            t0, step_t = time.perf_counter(), 0.0
        with autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        s0 = time.perf_counter()
        trainer.step(a.batch * kv.num_workers)
        step_t += time.perf_counter() - s0
    nd.waitall()
    kv.barrier()
    total = time.perf_counter() - t0
    during = kv._config()["overlap_stats"]["buckets_during_backward"]
    if a.timeline:
        kv.set_timeline(None)  # writes it (and ends the overlap registration: read stats first)
    if kv.rank == 0:
        print("RESULT " + json.dumps({
            "model": a.model, "workers": kv.num_workers, "batch_per_worker": a.batch,
            "overlap": a.overlap, "bucket_mb": a.bucket_mb, "update_on_kvstore": a.update_on_kvstore,
            "buckets_during_backward": during,
            "ms_per_step": round(1e3 * total / a.steps, 2),
            "ms_in_trainer_step": round(1e3 * step_t / a.steps, 2),
            "samples_per_s": round(a.batch * kv.num_workers * a.steps / total, 1)}), flush=True)


def merge_timeline(path, n):
    """Merges the ranks' traces into `path` (one process row per rank) and measures the overlap:
    the share of rank 0's bucket-reduction time that ran while backward was still running
    (0 without overlap: then every bucket waits for trainer.step)."""
    events = []
    parts = [path] if n == 1 else [path[:-5] + ".rank%d.json" % r for r in range(n)]
    for f in parts:
        with open(f) as fh:
            events += json.load(fh)["traceEvents"]
        if f != path:
            os.remove(f)
    with open(path, "w") as fh:
        json.dump({"traceEvents": events, "displayTimeUnit": "ms"}, fh)
    mine = [e for e in events if e.get("pid") == 0 and e["ph"] == "X"]
    back = [(e["ts"], e["ts"] + e["dur"]) for e in mine if e["name"] == "backward"]
    buckets = [e for e in mine if e["name"].startswith("bucket ")]
    comm = sum(e["dur"] for e in buckets)
    inside = sum(max(0.0, min(e["ts"] + e["dur"], b1) - max(e["ts"], b0)) for e in buckets for b0, b1 in back)
    return {"timeline": path, "bucket_ms_per_step": round(comm / 1e3 / max(1, len(back)), 3),
            "comm_overlapped_with_backward": round(inside / comm, 3) if comm else 0.0}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", choices=["mlp", "lenet"], default="mlp")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--overlap", choices=["both", "on", "off"], default="both")
    p.add_argument("--bucket-mb", type=float, default=25.0)
    p.add_argument("--update-on-kvstore", type=int, default=0)
    p.add_argument("--repeats", type=int, default=1, help="alternate the settings this often")
    p.add_argument("--timeline", default=None, metavar="DIR",
                   help="write a Chrome trace of each run (all ranks merged) into DIR")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker:
        return worker(a)
    if a.timeline:
        os.makedirs(a.timeline, exist_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.path.join(os.path.dirname(HERE), "python") + os.pathsep + env.get("PYTHONPATH", "")
    settings = ["on", "off"] if a.overlap == "both" else [a.overlap]
    res = {}
    for _ in range(a.repeats):
        for n in a.workers:
            for ov in (settings if n > 1 else settings[:1]):
                trace = None
                if a.timeline:
                    trace = os.path.join(os.path.abspath(a.timeline), "%s_n%d_overlap-%s_%d.json" % (a.model, n, ov, _))
                out = subprocess.run([sys.executable, "-m", "mx.tools.launch", "-n", str(n), sys.executable,
                                      os.path.abspath(__file__), "--worker", "--model", a.model, "--batch",
                                      str(a.batch), "--steps", str(a.steps), "--overlap", ov,
                                      "--bucket-mb", str(a.bucket_mb), "--update-on-kvstore",
                                      str(a.update_on_kvstore)] + (["--timeline", trace] if trace else []),
                                     env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT).stdout.decode()
                line = [l for l in out.splitlines() if l.startswith("RESULT ")]
                if not line:
                    sys.exit("worker run failed:\n" + out)
                r = json.loads(line[0][7:])
                if trace:
                    r.update(merge_timeline(trace, n))
                print(json.dumps(r), flush=True)
                old = res.get((n, ov))
                if old is None or r["ms_per_step"] < old["ms_per_step"]:
                    res[(n, ov)] = r  # best of the repeats
    one = [r for (n, _), r in res.items() if n == 1]
    for (n, ov), r in sorted(res.items()):
        if n > 1:
            summary = {"model": a.model, "workers": n, "overlap": ov, "best_ms_per_step": r["ms_per_step"]}
            if one:
                summary["scaling_efficiency"] = round(r["samples_per_s"] / (n * one[0]["samples_per_s"]), 3)
            print("SUMMARY " + json.dumps(summary))


if __name__ == "__main__":
    main()
