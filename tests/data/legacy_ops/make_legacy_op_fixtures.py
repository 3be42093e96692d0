"""Reference vectors for MXNet 1.x operators MX added for compatibility (SVMOutput, batch_take,
GridGenerator, BilinearSampler, SpatialTransformer, Correlation), computed by Apache MXNet 1.9.1.

Run with the reference interpreter (never at test time):
    /opt/mxnet-venv/bin/python tests/data/legacy_ops/make_legacy_op_fixtures.py
Writes legacy_op_refs.npz next to this script: for each case its inputs, head gradient, output
and input gradients."""
import os

import mxnet as mx
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def run(sym, inputs, grad_names, seed):
    """Forward (train mode) and backward with a random head gradient."""
    rng = np.random.RandomState(seed)
    args = {k: mx.nd.array(v, dtype=v.dtype) for k, v in inputs.items()}
    grads = {k: mx.nd.zeros(v.shape, dtype=v.dtype) for k, v in inputs.items() if k in grad_names}
    reqs = {k: ("write" if k in grad_names else "null") for k in inputs}
    ex = sym.bind(mx.cpu(), args=args, args_grad=grads, grad_req=reqs)
    out = ex.forward(is_train=True)[0].asnumpy()
    head = rng.uniform(-1, 1, out.shape).astype(out.dtype)
    ex.backward(mx.nd.array(head))
    res = {"out": out, "head": head}
    for k in grad_names:
        res["grad_" + k] = grads[k].asnumpy()
    return res


def main():
    rng = np.random.RandomState(0)
    cases = {}
    data = mx.sym.var("data")
    # SVMOutput: scores near the margins, labels one per row (of the flattened leading axes)
    x = rng.uniform(-2, 2, (4, 3, 5)).astype("float32")
    lab = rng.randint(0, 5, (4, 3)).astype("float32")
    for name, kw in (("svm_l2", dict(margin=1.0, regularization_coefficient=0.7)),
                     ("svm_l1", dict(margin=0.5, regularization_coefficient=1.5, use_linear=True))):
        sym = mx.sym.SVMOutput(data, mx.sym.var("label"), **kw)
        cases[name] = dict(run(sym, {"data": x, "label": lab}, ["data"], 1), data=x, label=lab)
    # batch_take (forward only: MXNet gives it no gradient); out-of-range indices are clipped
    a = rng.rand(6, 4).astype("float32")
    idx = np.array([0, 3, 5, -2, 1, 2], dtype="int32")
    cases["batch_take"] = dict(a=a, indices=idx, out=mx.nd.batch_take(mx.nd.array(a), mx.nd.array(idx, dtype="int32")).asnumpy())
    # GridGenerator
    aff = rng.uniform(-1, 1, (2, 6)).astype("float32")
    cases["grid_affine"] = dict(run(mx.sym.GridGenerator(data, transform_type="affine", target_shape=(4, 5)),
                                    {"data": aff}, ["data"], 2), data=aff)
    flow = rng.uniform(-3, 3, (2, 2, 4, 5)).astype("float32")
    cases["grid_warp"] = dict(run(mx.sym.GridGenerator(data, transform_type="warp"), {"data": flow}, ["data"], 3),
                              data=flow)
    # BilinearSampler: grid partly outside [-1, 1] (zero padding)
    img = rng.rand(2, 3, 5, 6).astype("float32")
    grid = rng.uniform(-1.2, 1.2, (2, 2, 4, 7)).astype("float32")
    cases["bilinear"] = dict(run(mx.sym.BilinearSampler(data, mx.sym.var("grid")), {"data": img, "grid": grid},
                                 ["data", "grid"], 4), data=img, grid=grid)
    # SpatialTransformer: near-identity affine transforms
    loc = (np.array([1, 0, 0, 0, 1, 0], dtype="float32") + rng.uniform(-0.3, 0.3, (2, 6))).astype("float32")
    st = mx.sym.SpatialTransformer(data, mx.sym.var("loc"), target_shape=(4, 5), transform_type="affine",
                                   sampler_type="bilinear")
    cases["spatial_transformer"] = dict(run(st, {"data": img, "loc": loc}, ["data", "loc"], 5), data=img, loc=loc)
    # Correlation: multiplicative with padding and strides, absolute differences without
    c1 = rng.rand(2, 3, 7, 8).astype("float32")
    c2 = rng.rand(2, 3, 7, 8).astype("float32")
    d1, d2 = mx.sym.var("data1"), mx.sym.var("data2")
    corr_mul = mx.sym.Correlation(d1, d2, kernel_size=3, max_displacement=2, stride1=2, stride2=1, pad_size=2,
                                  is_multiply=True)
    cases["corr_mul"] = dict(run(corr_mul, {"data1": c1, "data2": c2}, ["data1", "data2"], 6), data1=c1, data2=c2)
    corr_abs = mx.sym.Correlation(d1, d2, kernel_size=1, max_displacement=2, stride1=1, stride2=2, pad_size=0,
                                  is_multiply=False)
    cases["corr_abs"] = dict(run(corr_abs, {"data1": c1, "data2": c2}, ["data1", "data2"], 7), data1=c1, data2=c2)
    flat = {"%s__%s" % (c, k): v for c, d in cases.items() for k, v in d.items()}
    np.savez_compressed(os.path.join(HERE, "legacy_op_refs.npz"), **flat)
    print("wrote %d arrays" % len(flat))


if __name__ == "__main__":
    main()
