"""CPU time (ms, median of 7 calls) of element-wise math on 4M float32 values, one call at a time:
exp, expm1, the logarithms and the activations built on them, forward and backward.

    OMP_NUM_THREADS=1 MX_NUM_THREADS=1 python benchmarks/elementwise_math.py out.json          # MX
    OMP_NUM_THREADS=1 python benchmarks/elementwise_math.py out.json --torch                    # PyTorch

For an A/B of two libmx builds point MX_LIBRARY at each in turn (both arms, so both use cffi's
ABI mode) and alternate the runs. CPU time (time.process_time), so a busy machine inflates the
figures less than wall time would."""
import json
import sys
import time

import numpy as np

N = 1 << 22


def mx_cases():
    import mx
    rng = np.random.default_rng(0)
    x = mx.nd.array(rng.uniform(-5, 5, N).astype(np.float32))
    xp = mx.nd.array(rng.uniform(1e-3, 10, N).astype(np.float32))
    g = mx.nd.array(rng.uniform(-1, 1, N).astype(np.float32))
    out = mx.nd.zeros((N,))
    internal = mx.nd._internal
    ys = {t: mx.nd.Activation(x, act_type=t) for t in ("softrelu", "sigmoid")}

    def act(t):
        return lambda: mx.nd.Activation(x, act_type=t, out=out)

    def act_bwd(t):
        return lambda: internal._backward_Activation(g, x, ys[t], act_type=t, out=out)

    def leaky(t):
        return lambda: mx.nd.LeakyReLU(x, act_type=t, slope=1.0)

    def leaky_bwd(t):
        return lambda: internal._backward_LeakyReLU(g, x, act_type=t, slope=1.0, out=out)

    cases = {
        "exp": lambda: mx.nd.exp(x, out=out), "expm1": lambda: mx.nd.expm1(x, out=out),
        "log": lambda: mx.nd.log(xp, out=out), "log1p": lambda: mx.nd.log1p(xp, out=out),
        "log2": lambda: mx.nd.log2(xp, out=out), "log10": lambda: mx.nd.log10(xp, out=out),
        "softrelu": act("softrelu"), "softrelu_bwd": act_bwd("softrelu"),
        "sigmoid": act("sigmoid"), "sigmoid_bwd": act_bwd("sigmoid"), "tanh": act("tanh"),
        "erf": lambda: mx.nd.erf(x, out=out), "erf_bwd": lambda: internal._backward_erf(g, x, out=out),
        "elu": leaky("elu"), "elu_bwd": leaky_bwd("elu"), "selu": leaky("selu"), "selu_bwd": leaky_bwd("selu"),
        "gelu": leaky("gelu"), "gelu_bwd": leaky_bwd("gelu"),
    }
    return cases, mx.nd.waitall


def torch_cases():
    import torch
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.uniform(-5, 5, N).astype(np.float32))
    xp = torch.from_numpy(rng.uniform(1e-3, 10, N).astype(np.float32))
    g = torch.from_numpy(rng.uniform(-1, 1, N).astype(np.float32))
    out = torch.empty(N)
    F, aten = torch.nn.functional, torch.ops.aten
    y_sig = torch.sigmoid(x)
    cases = {
        "exp": lambda: torch.exp(x, out=out), "expm1": lambda: torch.expm1(x, out=out),
        "log": lambda: torch.log(xp, out=out), "log1p": lambda: torch.log1p(xp, out=out),
        "log2": lambda: torch.log2(xp, out=out), "log10": lambda: torch.log10(xp, out=out),
        "softrelu": lambda: F.softplus(x), "softrelu_bwd": lambda: aten.softplus_backward(g, x, 1, 20),
        "sigmoid": lambda: torch.sigmoid(x, out=out), "sigmoid_bwd": lambda: aten.sigmoid_backward(g, y_sig),
        "tanh": lambda: torch.tanh(x, out=out), "erf": lambda: torch.erf(x, out=out),
        "elu": lambda: F.elu(x), "elu_bwd": lambda: aten.elu_backward(g, 1.0, 1.0, 1.0, False, x),
        "selu": lambda: F.selu(x), "gelu": lambda: F.gelu(x), "gelu_bwd": lambda: aten.gelu_backward(g, x),
    }
    return cases, lambda: None


def main():
    cases, sync = torch_cases() if "--torch" in sys.argv else mx_cases()
    res = {}
    for name, f in cases.items():
        f()
        sync()
        ts = []
        for _ in range(7):
            t0 = time.process_time()
            f()
            sync()
            ts.append(time.process_time() - t0)
        res[name] = float(np.median(ts) * 1e3)
    with open(sys.argv[1], "w") as fh:
        json.dump(res, fh, indent=1)


if __name__ == "__main__":
    main()
