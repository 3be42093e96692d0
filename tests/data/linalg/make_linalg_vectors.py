"""Reference vectors for the linalg_* operators, made with real Apache MXNet 1.9.1 (float64):
forward outputs and the gradients for random head gradients. Run with an MXNet venv:

    /opt/mxnet-venv/bin/python tests/data/linalg/make_linalg_vectors.py tests/data/linalg/mxnet_linalg_vectors.npz
"""
import json
import sys

import mxnet as mx
import numpy as np

rng = np.random.RandomState(7)


def spd(batch, n):
    b = rng.uniform(-1, 1, size=batch + (n, n))
    return b @ np.swapaxes(b, -1, -2) + n * np.eye(n)


def triangular(batch, n, lower):
    a = rng.uniform(-1, 1, size=batch + (n, n)) + 3 * np.eye(n)
    return np.tril(a) if lower else np.triu(a)


def general(*shape):
    return rng.uniform(-1, 1, size=shape)


def cases():
    yield "linalg_potrf", {}, [spd((2,), 3)]
    yield "linalg_potrf", {}, [spd((), 4)]
    yield "linalg_potri", {}, [triangular((2,), 3, True)]
    for transpose in (False, True):
        for rightside in (False, True):
            for lower in (False, True):
                p = {"transpose": transpose, "rightside": rightside, "lower": lower, "alpha": 1.5}
                b = general(2, 4, 3) if rightside else general(2, 3, 4)
                yield "linalg_trmm", p, [triangular((2,), 3, lower), b]
                yield "linalg_trsm", p, [triangular((2,), 3, lower), b]
    for transpose in (False, True):
        yield "linalg_syrk", {"transpose": transpose, "alpha": 0.7}, [general(2, 3, 4)]
    yield "linalg_gelqf", {}, [general(2, 3, 5)]
    yield "linalg_gelqf", {}, [general(4, 4)]
    a = general(2, 4, 4)
    yield "linalg_syevd", {}, [a + np.swapaxes(a, -1, -2)]
    yield "linalg_inverse", {}, [general(2, 3, 3) + 2 * np.eye(3)]
    yield "linalg_det", {}, [general(3, 3, 3) + np.eye(3)]
    yield "linalg_det", {}, [general(4, 4)]
    yield "linalg_slogdet", {}, [general(3, 3, 3) + np.eye(3)]
    yield "linalg_sumlogdiag", {}, [np.abs(general(2, 3, 3)) + np.eye(3)]
    for offset in (-1, 0, 2):
        yield "linalg_extractdiag", {"offset": offset}, [general(2, 4, 4)]
        yield "linalg_makediag", {"offset": offset}, [general(2, 3)]
        for lower in (False, True):
            yield "linalg_extracttrian", {"offset": offset, "lower": lower}, [general(2, 4, 4)]
    for offset, lower, n in ((0, True, 6), (0, False, 6), (1, True, 3), (-2, True, 3)):
        yield "linalg_maketrian", {"offset": offset, "lower": lower}, [general(2, n)]


def main(path):
    manifest, arrays = [], {}
    for i, (op, params, inputs) in enumerate(cases()):
        xs = [mx.nd.array(x, dtype="float64") for x in inputs]
        for x in xs:
            x.attach_grad()
        with mx.autograd.record():
            out = getattr(mx.nd.linalg, op[len("linalg_"):])(*xs, **params)
        outs = out if isinstance(out, (list, tuple)) else [out]
        heads = [mx.nd.array(general(*o.shape), dtype="float64") for o in outs]
        mx.autograd.backward(outs, heads)
        manifest.append({"op": op, "params": params, "n_in": len(xs), "n_out": len(outs)})
        for j, x in enumerate(inputs):
            arrays["%d_in%d" % (i, j)] = x
            arrays["%d_grad%d" % (i, j)] = xs[j].grad.asnumpy()
        for j, (o, h) in enumerate(zip(outs, heads)):
            arrays["%d_out%d" % (i, j)] = o.asnumpy()
            arrays["%d_head%d" % (i, j)] = h.asnumpy()
    arrays["manifest"] = np.array(json.dumps(manifest))
    np.savez_compressed(path, **arrays)
    print("wrote %d cases to %s" % (len(manifest), path))


if __name__ == "__main__":
    main(sys.argv[1])
