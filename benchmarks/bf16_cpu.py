"""bfloat16 against float32 on the CPU: model-zoo ResNet-18 (10 classes, 32x32, batch 64) inference
and SGD training steps, MX (net.cast('bfloat16'), Trainer multi_precision) and, when given,
Apache MXNet 1.9.1 (mx.contrib.amp.convert_hybrid_block(target_dtype='bfloat16'): for inference with
bf16 parameters (cast_optional_params=True); for training with float32 parameters and the casts in
the graph, since its SGD update refuses bf16 weights, "Unknown type enum 12"). One thread by
default; every (framework, dtype, task) runs in its own process, rounds alternate, medians.

    python benchmarks/bf16_cpu.py [--rounds 3] [--threads 1] [--mxnet-python /opt/mxnet-venv/bin/python]

Prints wall and CPU milliseconds per batch (CPU time is steadier on a busy machine)."""
import argparse
import json
import os
import subprocess
import sys

WORKER = r"""
import json, sys, time
import numpy as np
fw, dtype, task, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if fw == "mx":
    import mx
    mx.set_num_threads(threads)
else:
    import mxnet as mx
import importlib
from_zoo = importlib.import_module(mx.__name__ + ".gluon.model_zoo.vision")
nd, autograd, gluon = mx.nd, mx.autograd, mx.gluon
mx.random.seed(0)
net = from_zoo.resnet18_v1(classes=10)
net.initialize(mx.init.Xavier())
x = nd.random.uniform(shape=(64, 3, 32, 32))
lab = nd.array(np.arange(64) % 10)
net(x)
if dtype == "bfloat16":
    if fw == "mx":
        net.cast("bfloat16")
        x, lab = x.astype("bfloat16"), lab.astype("bfloat16")
    else:
        from mxnet.contrib import amp
        net.hybridize(static_alloc=True)
        net(x)
        net = amp.convert_hybrid_block(net, target_dtype="bfloat16", cast_optional_params=(task == "inference"), ctx=mx.cpu())
net.hybridize(static_alloc=True)
loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.01, "momentum": 0.9,
                                                      "multi_precision": dtype == "bfloat16"})
def step():
    if task == "inference":
        net(x).wait_to_read()
        return
    with autograd.record():
        loss = loss_fn(net(x), lab)
    loss.backward()
    trainer.step(64)
    loss.wait_to_read()
for _ in range(3):
    step()
n = 10 if task == "inference" else 4
t0, c0 = time.perf_counter(), time.process_time()
for _ in range(n):
    step()
print(json.dumps({"wall_ms": (time.perf_counter() - t0) / n * 1e3, "cpu_ms": (time.process_time() - c0) / n * 1e3}))
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--mxnet-python", default=None, help="a Python with Apache MXNet 1.9.1 (mkldnn build)")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), MX_NUM_THREADS=str(a.threads))
    env["PYTHONPATH"] = os.path.join(here, "..", "python") + os.pathsep + env.get("PYTHONPATH", "")
    runs = [("mx", sys.executable)] + ([("mxnet", a.mxnet_python)] if a.mxnet_python else [])
    res = {}
    for _ in range(a.rounds):
        for fw, py in runs:
            for dtype in ("float32", "bfloat16"):
                for task in ("inference", "training"):
                    out = subprocess.run([py, "-c", WORKER, fw, dtype, task, str(a.threads)], env=env,
                                         capture_output=True, text=True)
                    if out.returncode != 0:
                        print("%s %s %s failed: %s" % (fw, dtype, task, out.stderr.strip().splitlines()[-1]))
                        continue
                    r = json.loads(out.stdout.strip().splitlines()[-1])
                    res.setdefault("%s %s %s" % (fw, dtype, task), []).append(r)
    med = {}
    for k, v in res.items():
        med[k] = {m: sorted(r[m] for r in v)[len(v) // 2] for m in ("wall_ms", "cpu_ms")}
        print("%-32s wall %7.1f ms  cpu %7.1f ms  (median of %d)" % (k, med[k]["wall_ms"], med[k]["cpu_ms"], len(v)))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(med, f, indent=1)


if __name__ == "__main__":
    main()
