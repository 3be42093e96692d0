"""Reference vectors for MX's contrib operators, made with real Apache MXNet 1.9.1: forward outputs
and gradients for random head gradients, in float64 (float32 where MXNet has no float64 kernel).
Run with an MXNet venv:

    /opt/mxnet-venv/bin/python tests/data/contrib/make_contrib_vectors.py tests/data/contrib/mxnet_contrib_vectors.npz
"""
import json
import sys

import mxnet as mx
import numpy as np

rng = np.random.RandomState(11)


def u(*shape):
    return rng.uniform(-1, 1, size=shape)


def cases():
    # (op, params, inputs, dtype, which inputs get gradients)
    yield "quadratic", {"a": 0.5, "b": -2.0, "c": 3.0}, [u(3, 4)], "float64", [0]
    yield "div_sqrt_dim", {}, [u(2, 3, 5)], "float64", [0]
    yield "gradientmultiplier", {"scalar": -0.5}, [u(4)], "float64", [0]
    yield "round_ste", {}, [u(6) * 4], "float64", [0]
    yield "sign_ste", {}, [u(6)], "float64", [0]
    yield "arange_like", {"start": 1.5, "step": 0.5, "repeat": 2}, [u(2, 3)], "float64", []
    yield "arange_like", {"axis": -1}, [u(2, 5)], "float64", []
    yield "index_copy", {}, [u(5, 3), np.array([4, 0, 2]), u(3, 3)], "float64", [0, 2]
    for heads in (1, 2):
        yield "interleaved_matmul_selfatt_qk", {"heads": heads}, [u(4, 3, 3 * heads * 2)], "float32", [0]
        yield "interleaved_matmul_selfatt_valatt", {"heads": heads}, [u(4, 3, 3 * heads * 2), u(3 * heads, 4, 4)], \
            "float32", [0, 1]
        yield "interleaved_matmul_encdec_qk", {"heads": heads}, [u(4, 3, heads * 2), u(5, 3, 2 * heads * 2)], \
            "float32", [0, 1]
        yield "interleaved_matmul_encdec_valatt", {"heads": heads}, [u(5, 3, 2 * heads * 2), u(3 * heads, 4, 5)], \
            "float32", [0, 1]
    for align in (True, False):
        yield "BilinearResize2D", {"height": 5, "width": 7, "align_corners": align}, [u(2, 2, 3, 4)], "float64", [0]
        yield "BilinearResize2D", {"height": 2, "width": 3, "align_corners": align}, [u(1, 2, 5, 7)], "float64", [0]
    yield "BilinearResize2D", {"scale_height": 1.5, "scale_width": 2.0}, [u(1, 1, 4, 3)], "float64", [0]
    yield "BilinearResize2D", {"mode": "odd_scale", "scale_height": 2.0, "scale_width": 0.5}, [u(1, 1, 5, 6)], \
        "float64", [0]
    yield "BilinearResize2D", {"mode": "to_even_up"}, [u(1, 2, 5, 4)], "float64", [0]
    yield "BilinearResize2D", {"mode": "like"}, [u(1, 2, 3, 3), u(1, 1, 6, 4)], "float64", [0]
    yield "AdaptiveAvgPooling2D", {"output_size": (2, 3)}, [u(2, 2, 5, 7)], "float64", [0]
    yield "AdaptiveAvgPooling2D", {"output_size": 4}, [u(1, 3, 4, 9)], "float64", [0]
    yield "AdaptiveAvgPooling2D", {}, [u(1, 2, 3, 3)], "float64", [0]


def main(path):
    manifest, arrays = [], {}
    for i, (op, params, inputs, dtype, grad_of) in enumerate(cases()):
        xs = [mx.nd.array(x, dtype=dtype) for x in inputs]
        for j in grad_of:
            xs[j].attach_grad()
        with mx.autograd.record():
            out = getattr(mx.nd.contrib, op)(*xs, **params)
        head = u(*out.shape)
        if grad_of:
            out.backward(mx.nd.array(head, dtype=dtype))
        manifest.append({"op": op, "params": params, "n_in": len(xs), "dtype": dtype, "grad_of": grad_of})
        for j, x in enumerate(inputs):
            arrays["%d_in%d" % (i, j)] = x
        for j in grad_of:
            arrays["%d_grad%d" % (i, j)] = xs[j].grad.asnumpy()
        arrays["%d_out" % i] = out.asnumpy()
        arrays["%d_head" % i] = head
    arrays["manifest"] = np.array(json.dumps(manifest))
    np.savez_compressed(path, **arrays)
    print("wrote %d cases to %s" % (len(manifest), path))


if __name__ == "__main__":
    main(sys.argv[1])
