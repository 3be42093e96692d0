"""Reference vectors, computed by Apache MXNet 1.9.1, for the second batch of MXNet 1.x operators MX
added for compatibility: the optimizer update operators (sgd_update ... ftml_update), ROIPooling,
ROIAlign, im2col/col2im, moments, histogram, ravel_multi_index/unravel_index, index_array and
amp_cast.

Run with the reference interpreter (never at test time):
    /opt/mxnet-venv/bin/python tests/data/legacy_ops/make_legacy_op_fixtures2.py
Writes legacy_op_refs2.npz next to this script, keys "<case>__<array>"."""
import os

import mxnet as mx
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

# op name, number of state arrays, keyword arguments (MXNet's own defaults otherwise)
UPDATES = [
    ("sgd_update", 0, dict(lr=0.1, wd=0.01, rescale_grad=0.5, clip_gradient=0.3)),
    ("sgd_update", 0, dict(lr=0.05)),
    ("sgd_mom_update", 1, dict(lr=0.1, momentum=0.9, wd=0.01, rescale_grad=0.5, clip_gradient=0.3)),
    ("nag_mom_update", 1, dict(lr=0.1, momentum=0.9, wd=0.01, rescale_grad=0.5)),
    ("signsgd_update", 0, dict(lr=0.1, wd=0.01, rescale_grad=0.5)),
    ("signum_update", 1, dict(lr=0.1, momentum=0.9, wd=0.01, wd_lh=0.02, rescale_grad=0.5, clip_gradient=0.3)),
    ("adam_update", 2, dict(lr=0.01, beta1=0.8, beta2=0.99, epsilon=1e-6, wd=0.01, rescale_grad=0.5,
                            clip_gradient=0.4)),
    ("rmsprop_update", 1, dict(lr=0.01, gamma1=0.9, epsilon=1e-6, wd=0.01, rescale_grad=0.5, clip_weights=0.6)),
    ("rmspropalex_update", 3, dict(lr=0.01, gamma1=0.9, gamma2=0.8, epsilon=1e-6, wd=0.01, rescale_grad=0.5)),
    ("ftrl_update", 2, dict(lr=0.1, lamda1=0.02, beta=1.5, wd=0.01, rescale_grad=0.5, clip_gradient=0.8)),
    ("ftml_update", 3, dict(lr=0.05, beta1=0.6, beta2=0.99, epsilon=1e-6, t=3, wd=0.01, rescale_grad=0.5,
                            clip_grad=0.8)),
]


def sym_run(sym, inputs, grad_names, seed):
    """Forward (train mode) and backward with a random head gradient on the first output."""
    rng = np.random.RandomState(seed)
    args = {k: mx.nd.array(v, dtype=v.dtype) for k, v in inputs.items()}
    grads = {k: mx.nd.zeros(v.shape, dtype=v.dtype) for k, v in inputs.items() if k in grad_names}
    reqs = {k: ("write" if k in grad_names else "null") for k in inputs}
    ex = sym.bind(mx.cpu(), args=args, args_grad=grads, grad_req=reqs)
    outs = [o.asnumpy() for o in ex.forward(is_train=True)]
    heads = [rng.uniform(-1, 1, o.shape).astype(o.dtype) for o in outs]
    res = {"out%d" % i: o for i, o in enumerate(outs)}
    if grad_names:
        ex.backward([mx.nd.array(h, dtype=h.dtype) for h in heads])
        res.update({"head%d" % i: h for i, h in enumerate(heads)})
        res.update({"grad_" + k: grads[k].asnumpy() for k in grad_names})
    res.update(inputs)
    return res


def main():
    rng = np.random.RandomState(0)
    cases = {}
    for i, (op, nstates, kw) in enumerate(UPDATES):
        w = rng.uniform(-1, 1, (3, 4)).astype("float32")
        g = rng.uniform(-2, 2, (3, 4)).astype("float32")
        states = [rng.uniform(0.1, 1, (3, 4)).astype("float32") for _ in range(nstates)]
        nd_w, nd_states = mx.nd.array(w), [mx.nd.array(s) for s in states]
        getattr(mx.nd, op)(nd_w, mx.nd.array(g), *nd_states, out=nd_w, **kw)
        case = dict(weight=w, grad=g, out=nd_w.asnumpy())
        for k, (s, nds) in enumerate(zip(states, nd_states)):
            case["state%d" % k] = s
            case["new_state%d" % k] = nds.asnumpy()
        cases["upd%d" % i] = case
    data, rois = mx.sym.var("data"), mx.sym.var("rois")
    x = rng.rand(2, 3, 9, 8).astype("float32")
    r = np.array([[0, 1.1, 0.6, 5.2, 6.1], [1, 3.0, 2.2, 7.9, 8.4], [1, 0.0, 0.0, 1.0, 1.0],
                  [0, 6.5, 7.0, 4.0, 3.0]], dtype="float32")
    cases["roipool"] = sym_run(mx.sym.ROIPooling(data, rois, pooled_size=(3, 2), spatial_scale=0.9),
                               {"data": x, "rois": r}, ["data"], 1)
    cases["roialign"] = sym_run(mx.sym.contrib.ROIAlign(data, rois, pooled_size=(3, 2), spatial_scale=0.9),
                                {"data": x, "rois": r}, ["data"], 2)
    cases["roialign_sr2_aligned"] = sym_run(
        mx.sym.contrib.ROIAlign(data, rois, pooled_size=(2, 3), spatial_scale=0.8, sample_ratio=2, aligned=True),
        {"data": x, "rois": r[:3]}, ["data"], 3)  # aligned refuses an inverted ROI
    xps = rng.rand(2, 12, 6, 7).astype("float32")
    cases["roialign_ps"] = sym_run(
        mx.sym.contrib.ROIAlign(data, rois, pooled_size=(2, 3), spatial_scale=0.7, position_sensitive=True),
        {"data": xps, "rois": r}, ["data"], 4)
    img = rng.rand(2, 3, 7, 6).astype("float32")
    cases["im2col"] = sym_run(mx.sym.im2col(data, kernel=(3, 2), stride=(2, 1), dilate=(1, 2), pad=(1, 1)),
                              {"data": img}, ["data"], 5)
    col = rng.rand(2, 3 * 6, 4 * 6).astype("float32")
    cases["col2im"] = sym_run(mx.sym.col2im(data, output_size=(7, 6), kernel=(3, 2), stride=(2, 1), dilate=(1, 2),
                                            pad=(1, 1)), {"data": col}, ["data"], 6)
    m = rng.rand(3, 4, 5).astype("float64")
    cases["moments"] = sym_run(mx.sym.moments(data, axes=(0, 2), keepdims=True), {"data": m}, ["data"], 7)
    cases["moments_all"] = sym_run(mx.sym.moments(data, axes=(0, 1, 2)), {"data": m}, ["data"], 8)
    h = rng.normal(0, 1.5, (5, 7)).astype("float32")
    c1, b1 = mx.nd.histogram(mx.nd.array(h), bins=6, range=(-2.0, 2.5))
    edges = np.array([-1.0, 0.0, 0.5, 3.0], dtype="float32")
    c2, b2 = mx.nd.histogram(mx.nd.array(h), bins=mx.nd.array(edges))
    cases["histogram"] = dict(data=h, edges=edges, count_uniform=c1.asnumpy(), bins_uniform=b1.asnumpy(),
                              count_edges=c2.asnumpy(), bins_edges=b2.asnumpy())
    multi = np.array([[3, 6, 6, 0], [4, 5, 1, 2], [0, 2, 7, 1]], dtype="float32")
    flat = mx.nd.ravel_multi_index(mx.nd.array(multi), shape=(7, 6, 8))
    cases["ravel"] = dict(multi=multi, flat=flat.asnumpy(),
                          unravel=mx.nd.unravel_index(flat, shape=(7, 6, 8)).asnumpy())
    ia = mx.nd.contrib.index_array(mx.nd.zeros((2, 3, 4)), axes=(2, 0))
    cases["index_array"] = dict(out=ia.asnumpy())
    vals = np.array([1.0, -2.5, 65504.0, 70000.0, 1e-8, np.nan, -np.inf], dtype="float32")
    cases["amp_cast"] = dict(data=vals, out=mx.nd.amp_cast(mx.nd.array(vals), dtype="float16").asnumpy(),
                             int_out=mx.nd.amp_cast(mx.nd.array([1, 2], dtype="int32"), dtype="float16").asnumpy())
    flat_cases = {"%s__%s" % (c, k): v for c, d in cases.items() for k, v in d.items()}
    np.savez_compressed(os.path.join(HERE, "legacy_op_refs2.npz"), **flat_cases)
    print("wrote %d arrays" % len(flat_cases))


if __name__ == "__main__":
    main()
