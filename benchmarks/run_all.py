"""Run the benchmarks side by side: MX, PyTorch (CPU) and Apache MXNet 1.9.1, alternating
frameworks round by round in one time window and reporting medians and ratios.

    python benchmarks/run_all.py [--rounds 5] [--only dispatch,matmul,mlp] [--json out.json] [--busy N]
    python benchmarks/run_all.py --only gpu      # the GPU section: MX on gpu(0) vs PyTorch CUDA

PyTorch comes from this Python (pip install torch==2.13.0); MXNet 1.9.1 from the Python named by
$MXNET_PYTHON, else .venv-mxnet/bin/python or /opt/mxnet-venv/bin/python (create one with
`python -m venv .venv-mxnet && .venv-mxnet/bin/pip install mxnet==1.9.1 numpy==1.23.5`).
A framework that is not installed is reported as missing, never silently dropped.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# bench -> (frameworks, higher_is_better, reference framework for "ratio")
BENCHES = {
    "dispatch": (["mx", "torch", "mxnet"], False),
    "matmul": (["mx", "blas", "torch", "mxnet"], True),
    "mlp": (["mx", "torch", "mxnet"], True),
    "conv_small_fwd": (["mx", "torch", "mxnet"], False),
    "conv_small_fwdbwd": (["mx", "torch", "mxnet"], False),
    "conv_large_fwd": (["mx", "torch", "mxnet"], False),
    "conv_large_fwdbwd": (["mx", "torch", "mxnet"], False),
    "lenet": (["mx", "torch", "mxnet"], True),
    # mx_imperative: MX's own imperative mode on the same iterator, ops and optimizer, so the
    # ratio against it is symbolic (executor) vs imperative (autograd).
    "module_mlp": (["mx", "mx_imperative", "mxnet"], True),
    "module_lenet": (["mx", "mx_imperative", "mxnet"], True),
    # model-zoo networks (workers.ZOO), images/s: inference, and "_train" SGD-momentum steps
    "resnet18": (["mx", "torch", "mxnet"], True),
    "resnet18_train": (["mx", "torch", "mxnet"], True),
    "resnet18_224": (["mx", "torch", "mxnet"], True),
    "resnet18_224_train": (["mx", "torch", "mxnet"], True),
    "mobilenetv2": (["mx", "torch", "mxnet"], True),
    "mobilenetv2_train": (["mx", "torch", "mxnet"], True),
    "resnet50": (["mx", "torch", "mxnet"], True),
    "resnet50_train": (["mx", "torch", "mxnet"], True),
    # Gluon training, imperative and hybridized (PyTorch eager is the reference for both)
    "gluon_mlp": (["mx", "torch", "mxnet"], True),
    "gluon_mlp_hybrid": (["mx", "torch", "mxnet"], True),
    "gluon_lenet": (["mx", "torch", "mxnet"], True),
    "gluon_lenet_hybrid": (["mx", "torch", "mxnet"], True),
    # issue 18's CNN (batch 128, Adam), ms per training step
    "gluon_cnn_hybrid": (["mx", "torch", "mxnet"], False),
    # 2-layer LSTM language model (T=35, batch 64, H=512, SGD), ms per training step
    "lstm_lm": (["mx", "torch", "mxnet"], False),
    # GPU section (issue 12; benchmarks/gpu_workers.py): MX on gpu(0) against PyTorch CUDA eager.
    # Needs a CUDA GPU; MXNet 1.9.1's PyPI build has no CUDA.
    "gpu_dispatch": (["mx", "torch"], False),
    "gpu_matmul_fp32": (["mx", "torch"], True),
    "gpu_matmul_tf32": (["mx", "torch"], True),
    "gpu_matmul_fp16": (["mx", "torch"], True),
    "gpu_mlp": (["mx", "torch"], True),
    "gpu_mlp_hybrid": (["mx", "torch"], True),
    "gpu_resnet18_train": (["mx", "torch"], True),
    "gpu_resnet50_train": (["mx", "torch"], True),
    "gpu_resnet50_train_fp16": (["mx", "torch"], True),
    "gpu_lstm": (["mx", "torch"], True),
}
GPU_BENCHES = [b for b in BENCHES if b.startswith("gpu_")]
DEFAULT = ["dispatch", "matmul", "mlp"]


def mxnet_python():
    for cand in [os.environ.get("MXNET_PYTHON"), os.path.join(ROOT, ".venv-mxnet", "bin", "python"),
                 "/opt/mxnet-venv/bin/python"]:
        if cand and os.path.exists(cand):
            return cand
    return None


def python_for(fw):
    if fw == "mxnet":
        return mxnet_python()
    if fw == "mx_imperative":
        return sys.executable
    if fw == "torch":
        try:
            import torch  # noqa: F401
        except ImportError:
            return None
    return sys.executable


def run_one(fw, bench):
    py = python_for(fw)
    if py is None:
        return None
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", str(os.cpu_count()))
    worker = "gpu_workers.py" if bench.startswith("gpu_") else "workers.py"
    r = subprocess.run([py, os.path.join(HERE, worker), fw, bench], capture_output=True, text=True,
                       env=env, timeout=600)
    if r.returncode != 0:
        print("  %s/%s failed: %s" % (fw, bench, r.stderr.strip().splitlines()[-1:] or r.returncode))
        return None
    return json.loads(r.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--only", default=",".join(DEFAULT), help="comma list, 'all' (CPU benches) or 'gpu' (the GPU section): %s" % ", ".join(BENCHES))
    ap.add_argument("--json", default=None)
    ap.add_argument("--busy", type=int, default=0,
                    help="run N competing busy-loop processes meanwhile (oversubscription: one per core)")
    args = ap.parse_args()
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
    try:
        run(args)
    finally:
        for p in busy:
            p.kill()
            p.wait()


def _conv_gflops(bench, med, results):
    """Prints and returns each framework's GFLOP/s on a convolution bench, against the sgemm
    figure of the BLAS MX links at 2048^2 (this CPU's attainable dense float32 rate; measured
    once per run, with the same thread count)."""
    sys.path.insert(0, HERE)
    import workers
    if "_peak" not in results:
        r = run_one("blas", "matmul_peak")
        results["_peak"] = {"unit": "GFLOP/s", "sgemm_2048": r["value"] if r else None}
    peak = results["_peak"]["sgemm_2048"]
    work = workers.conv_gflop(bench)
    out = {}
    for fw, ms in med.items():
        out[fw] = work / (ms / 1e3)
        share = " = %.0f%% of sgemm's %.0f GFLOP/s" % (100 * out[fw] / peak, peak) if peak else ""
        print("  %-13s %10.1f GFLOP/s%s" % (fw, out[fw], share))
    return out


def run(args):
    results = {}
    names = {"all": [b for b in BENCHES if b not in GPU_BENCHES], "gpu": GPU_BENCHES}
    for bench in names.get(args.only) or args.only.split(","):
        fws, higher = BENCHES[bench]
        samples = {fw: [] for fw in fws}
        unit = ""
        for _ in range(args.rounds):
            for fw in fws:  # alternate frameworks inside each round
                r = run_one(fw, bench)
                if r:
                    samples[fw].append(r["value"])
                    unit = r["unit"]
        med = {fw: statistics.median(v) for fw, v in samples.items() if v}
        results[bench] = {"unit": unit, "median": med, "samples": samples, "higher_is_better": higher}
        print("\n%s (%s, median of %d, %s is better)" % (bench, unit, args.rounds, "higher" if higher else "lower"))
        for fw in fws:
            if fw not in med:
                print("  %-13s missing (not installed or failed)" % fw)
                continue
            ratio = ""
            if "mx" in med and fw != "mx":
                r = med["mx"] / med[fw] if higher else med[fw] / med["mx"]
                ratio = "   MX is %.2fx %s" % (r, "of it" if higher else "faster" if r >= 1 else "(slower)")
            print("  %-13s %10.2f%s" % (fw, med[fw], ratio))
        if bench.startswith("conv_") and med:
            results[bench]["gflops"] = _conv_gflops(bench, med, results)
        if args.json:  # after every bench, so a run stopped at its time limit keeps what it measured
            with open(args.json, "w") as f:
                json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
